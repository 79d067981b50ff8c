"""Record through the runtime against a strict-auth stand-in for Bedrock, then replay offline, in another order.

Every operation is recorded and replayed through real sockets and read by unmodified boto3, which is the judge of
what a replayed answer is: the same parsed result, the same stream events, the same errors.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import ClientError

from mistral_bedrock.engines.cassette import RecordMode, ReplayEngine, ReplaySettings
from mistral_bedrock.engines.relay import RelayRequest
from mistral_bedrock.engines.scripted import ScriptedEngine
from mistral_bedrock.protocol.operations import OPERATIONS, OperationName, model_path
from mistral_bedrock.runtime import ServerThread, parse_fault_spec

from .conftest import CREDENTIALS, REGION, Served, boto_client

TEXT_MODEL = "mistral.mistral-7b-instruct-v0:2"
CHAT_MODEL = "mistral.mistral-large-2407-v1:0"


def messages(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def native(prompt: str) -> str:
    return json.dumps({"prompt": f"<s>[INST] {prompt} [/INST]", "max_tokens": 40})


def without_metadata(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "ResponseMetadata"}


# Each call, and what of its answer a test compares: boto3's parsed result, less the per-request metadata.
CALLS: dict[str, Callable[[Any], Any]] = {
    "converse": lambda c: without_metadata(c.converse(modelId=CHAT_MODEL, messages=messages("Name a river"))),
    "converse-other": lambda c: without_metadata(c.converse(modelId=CHAT_MODEL, messages=messages("Name a hill"))),
    "converse-stream": lambda c: list(
        c.converse_stream(modelId=CHAT_MODEL, messages=messages("Stream a poem"))["stream"]
    ),
    "invoke": lambda c: json.loads(c.invoke_model(modelId=TEXT_MODEL, body=native("Say hi"))["body"].read()),
    "invoke-stream": lambda c: [
        json.loads(event["chunk"]["bytes"])
        for event in c.invoke_model_with_response_stream(modelId=TEXT_MODEL, body=native("Count"))["body"]
    ],
    "count-tokens": lambda c: without_metadata(
        c.count_tokens(modelId=CHAT_MODEL, input={"converse": {"messages": messages("How many?")}})
    ),
}


def test_the_stand_in_refuses_the_clients_dummy_key(upstream: ServerThread) -> None:
    with pytest.raises(ClientError) as refused:
        boto_client(upstream.url).converse(modelId=CHAT_MODEL, messages=messages("hi"))
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_every_operation_records_and_replays_equal_in_reverse_order(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], upstream: ServerThread, cassette: Path
) -> None:
    recording = serving(recorder())
    recorded = {name: call(recording.client) for name, call in CALLS.items()}
    # The stand-in accepted each request: the recorder signed with the real credentials, not the client's.
    assert len(upstream.app.state.journal.entries()) == len(CALLS)
    assert all(entry.status == 200 for entry in upstream.app.state.journal.entries())
    assert len(list(cassette.glob("*.yaml"))) == len(CALLS)

    replay = ReplayEngine(ReplaySettings(cassette))
    replaying = serving(replay)
    replayed = {name: CALLS[name](replaying.client) for name in reversed(CALLS)}
    assert replayed == recorded
    assert replay.unused() == [] and replay.misses == []
    assert len(upstream.app.state.journal.entries()) == len(CALLS)  # replay never went upstream


def test_recorded_errors_replay_as_the_same_error(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], upstream: ServerThread, cassette: Path
) -> None:
    upstream.app.state.faults.add_all([parse_fault_spec("throttle:count=1")])
    recording = serving(recorder())
    with pytest.raises(ClientError) as first:
        CALLS["converse"](recording.client)
    assert first.value.response["Error"]["Code"] == "ThrottlingException"
    answered = CALLS["converse"](recording.client)  # the retry a client makes, recorded after the refusal

    replaying = serving(ReplayEngine(ReplaySettings(cassette)))
    with pytest.raises(ClientError) as again:
        CALLS["converse"](replaying.client)
    assert again.value.response["Error"] == first.value.response["Error"]
    assert again.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert CALLS["converse"](replaying.client) == answered
    entries = replaying.server.app.state.journal.entries()
    assert [(e.status, e.error_code) for e in entries] == [(429, "ThrottlingException"), (200, None)]


def test_a_refusal_bedrock_makes_but_the_runtime_would_not_is_replayed(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], upstream: ServerThread, cassette: Path
) -> None:
    upstream.app.state.config = upstream.app.state.config.__class__(count_tokens=False)
    try:
        with pytest.raises(ClientError) as refused:
            CALLS["count-tokens"](serving(recorder()).client)
    finally:
        upstream.app.state.config = upstream.app.state.config.__class__()
    replaying = serving(ReplayEngine(ReplaySettings(cassette)))
    with pytest.raises(ClientError) as replayed:
        CALLS["count-tokens"](replaying.client)
    assert replayed.value.response["Error"] == refused.value.response["Error"]


def test_a_request_bedrock_would_refuse_is_refused_locally_and_never_recorded(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], upstream: ServerThread, cassette: Path
) -> None:
    recording = serving(recorder())
    with pytest.raises(ClientError) as refused:
        recording.client.converse(modelId=CHAT_MODEL, messages=messages("hi"), inferenceConfig={"maxTokens": 10**9})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert upstream.app.state.journal.entries() == []
    assert not cassette.exists() or not list(cassette.iterdir())


def test_repeated_requests_replay_in_recorded_order_and_the_last_repeats(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], upstream: ServerThread, cassette: Path
) -> None:
    upstream.app.state.engine = ScriptedEngine({"rules": [{"sequence": [{"text": "first"}, {"text": "second"}]}]})
    recording = serving(recorder())
    texts = [CALLS["converse"](recording.client)["output"]["message"]["content"][0]["text"] for _ in range(2)]
    assert texts == ["first", "second"]
    names = {p.name for p in cassette.iterdir()}
    first = min(names, key=len)
    assert names == {first, first.replace(".yaml", "-2.yaml")}

    replaying = serving(ReplayEngine(ReplaySettings(cassette)))
    again = [CALLS["converse"](replaying.client)["output"]["message"]["content"][0]["text"] for _ in range(3)]
    assert again == ["first", "second", "second"]


def test_a_miss_is_a_400_naming_the_nearest_recording_and_the_first_difference(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
) -> None:
    CALLS["converse"](serving(recorder()).client)
    replay = ReplayEngine(ReplaySettings(cassette))
    client = serving(replay).client
    with pytest.raises(ClientError) as missed:
        client.converse(modelId=CHAT_MODEL, messages=messages("Name a lake"))
    error = missed.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ValidationException"
    (recorded,) = cassette.iterdir()
    assert recorded.name in error["Error"]["Message"]
    assert 'messages[0].content[0].text: sent "Name a lake", recorded "Name a river"' in error["Error"]["Message"]
    assert replay.misses == [error["Error"]["Message"]]
    assert replay.unused() == [recorded.name]


def test_ignored_fields_do_not_take_part_in_matching(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
) -> None:
    serving(recorder()).client.converse(
        modelId=CHAT_MODEL, messages=messages("hi"), inferenceConfig={"temperature": 0.2}
    )
    strict = serving(ReplayEngine(ReplaySettings(cassette))).client
    with pytest.raises(ClientError, match=r"inferenceConfig\.temperature: sent 0\.9, recorded 0\.2"):
        strict.converse(modelId=CHAT_MODEL, messages=messages("hi"), inferenceConfig={"temperature": 0.9})
    lenient = serving(ReplayEngine(ReplaySettings(cassette, ignore=("inferenceConfig.temperature",)))).client
    lenient.converse(modelId=CHAT_MODEL, messages=messages("hi"), inferenceConfig={"temperature": 0.9})


def test_an_arn_matches_a_recording_made_under_the_model_id(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
) -> None:
    answer = CALLS["converse"](serving(recorder()).client)
    client = serving(ReplayEngine(ReplaySettings(cassette))).client
    arn = f"arn:aws:bedrock:{REGION}::foundation-model/{CHAT_MODEL}"
    replayed = client.converse(modelId=arn, messages=messages("Name a river"))
    assert without_metadata(replayed) == answer


class TestModes:
    def test_none_needs_the_cassette_to_exist(self, cassette: Path) -> None:
        with pytest.raises(ValueError, match="does not exist"):
            ReplayEngine(ReplaySettings(cassette))

    def test_none_never_reads_credentials(self, cassette: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        cassette.mkdir()
        monkeypatch.setattr("botocore.session.Session.get_credentials", _forbidden)
        ReplayEngine(ReplaySettings(cassette))

    def test_a_record_mode_without_credentials_is_refused_at_once(self, cassette: Path) -> None:
        with pytest.raises(ValueError, match="needs AWS credentials"):
            ReplayEngine(ReplaySettings(cassette, RecordMode.NEW_EPISODES, upstream_url="http://127.0.0.1:9"))

    def test_once_records_into_an_empty_cassette_then_only_replays(
        self,
        recorder: Callable[..., ReplayEngine],
        serving: Callable[..., Served],
        upstream: ServerThread,
    ) -> None:
        first = serving(recorder(RecordMode.ONCE)).client
        CALLS["converse"](first)
        CALLS["invoke"](first)
        assert len(upstream.app.state.journal.entries()) == 2
        second = serving(recorder(RecordMode.ONCE)).client
        CALLS["converse"](second)
        with pytest.raises(ClientError, match="mode once"):
            CALLS["converse-other"](second)
        assert len(upstream.app.state.journal.entries()) == 2

    def test_new_episodes_replays_what_it_has_and_records_the_rest(
        self,
        recorder: Callable[..., ReplayEngine],
        serving: Callable[..., Served],
        upstream: ServerThread,
        cassette: Path,
    ) -> None:
        CALLS["converse"](serving(recorder()).client)
        engine = recorder(RecordMode.NEW_EPISODES)
        client = serving(engine).client
        CALLS["converse"](client)
        assert len(upstream.app.state.journal.entries()) == 1
        CALLS["converse-other"](client)
        assert len(upstream.app.state.journal.entries()) == 2
        assert len(list(cassette.iterdir())) == 2 and engine.problems == []

    def test_all_goes_to_bedrock_every_time_and_rewrites_the_recording(
        self,
        recorder: Callable[..., ReplayEngine],
        serving: Callable[..., Served],
        upstream: ServerThread,
        cassette: Path,
    ) -> None:
        first = serving(recorder()).client
        for _ in range(3):  # three recordings of one request: …, …-2, …-3
            CALLS["converse"](first)
        assert len(list(cassette.iterdir())) == 3
        upstream.app.state.engine = ScriptedEngine({"default": {"text": "rewritten"}})
        CALLS["converse"](serving(recorder()).client)
        assert len(upstream.app.state.journal.entries()) == 4
        (recorded,) = cassette.iterdir()  # the rewrite replaced all three
        assert "rewritten" in recorded.read_text()
        assert CALLS["converse"](serving(ReplayEngine(ReplaySettings(cassette))).client)["output"]["message"][
            "content"
        ] == [{"text": "rewritten"}]


def _forbidden(*_: object) -> None:
    raise AssertionError("mode none must not read credentials")


class TestTiming:
    def replayed_waits(self, cassette: Path, serving: Callable[..., Served], timing: str) -> list[float]:
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        settings = ReplaySettings.parse(f"{cassette}?timing={timing}")
        CALLS["converse-stream"](serving(ReplayEngine(settings, sleep=sleep)).client)
        return waits

    def test_instant_never_waits_and_recorded_waits_for_the_recorded_times(
        self, recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
    ) -> None:
        CALLS["converse-stream"](serving(recorder()).client)
        (recorded,) = cassette.iterdir()
        document = yaml.safe_load(recorded.read_text())
        for index, frame in enumerate(document["response"]["events"]):
            frame["t_ms"] = 1000.0 + 10 * index  # well after the replay starts
        recorded.write_text(yaml.safe_dump(document))
        assert self.replayed_waits(cassette, serving, "instant") == []
        waits = self.replayed_waits(cassette, serving, "recorded")
        assert waits and waits[0] > 0.9
        scaled = self.replayed_waits(cassette, serving, "scaled:0.01")
        assert scaled and all(wait < 0.1 for wait in scaled)


def test_an_edited_cassette_replays_the_edit_with_valid_frames(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
) -> None:
    CALLS["invoke-stream"](serving(recorder()).client)
    CALLS["converse-stream"](serving(recorder()).client)
    for path in cassette.iterdir():
        text = path.read_text()
        assert text.count("stop_reason: null") or text.count("event: contentBlockDelta")  # readable, one per line
        path.write_text(text.replace("text: ' engine'", "text: ' EDITED'"))
    client = serving(ReplayEngine(ReplaySettings(cassette))).client
    chunks = CALLS["invoke-stream"](client)
    assert " EDITED" in "".join(chunk["outputs"][0]["text"] for chunk in chunks)
    events = CALLS["converse-stream"](client)
    assert " EDITED" in "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)


def test_stream_faults_apply_to_replayed_streams(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
) -> None:
    CALLS["converse-stream"](serving(recorder()).client)
    replaying = serving(ReplayEngine(ReplaySettings(cassette)), faults=("stream-error:after_frames=2,count=1",))
    stream = replaying.client.converse_stream(modelId=CHAT_MODEL, messages=messages("Stream a poem"))["stream"]
    events = iter(stream)
    assert "messageStart" in next(events) and "contentBlockDelta" in next(events)
    with pytest.raises(ClientError) as broken:
        next(events)
    assert broken.value.response["Error"]["Code"] == "modelStreamErrorException"
    stream.close()
    assert len(CALLS["converse-stream"](replaying.client)) > 2  # the rule is used up: the whole stream again


def test_unreachable_bedrock_is_a_service_unavailable_error(serving: Callable[..., Served], cassette: Path) -> None:
    engine = ReplayEngine(
        ReplaySettings(cassette, RecordMode.ALL, upstream_url="http://127.0.0.1:9"), credentials=CREDENTIALS
    )
    with pytest.raises(ClientError) as failed:
        CALLS["converse"](serving(engine).client)
    assert failed.value.response["Error"]["Code"] == "ServiceUnavailableException"
    assert not cassette.exists()


def test_a_refusal_of_the_recording_credentials_is_not_recorded(
    upstream: ServerThread, serving: Callable[..., Served], cassette: Path
) -> None:
    wrong = ReadOnlyCredentials(CREDENTIALS.access_key, "not-the-secret-0123456789", CREDENTIALS.token)
    settings = ReplaySettings(cassette, RecordMode.ONCE, upstream_url=upstream.url, region=REGION)
    engine = ReplayEngine(settings, credentials=wrong)
    with pytest.raises(ClientError) as refused:
        CALLS["converse"](serving(engine).client)
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"  # the client sees it
    assert not cassette.exists() or list(cassette.iterdir()) == []  # a later run with good credentials records
    (problem,) = engine.problems
    assert "refused the recording credentials (InvalidSignatureException)" in problem


def test_recording_everything_anew_leaves_nothing_unused(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served]
) -> None:
    CALLS["converse"](serving(recorder()).client)
    again = recorder()
    assert again.unused() == []  # mode all plays nothing, so nothing is left unplayed
    CALLS["invoke"](serving(again).client)
    assert again.unused() == []


def test_a_missing_cassette_is_empty_when_allowed(cassette: Path, serving: Callable[..., Served]) -> None:
    engine = ReplayEngine(ReplaySettings(cassette), missing_ok=True)
    assert engine.unused() == []
    with pytest.raises(ClientError, match="the cassette is empty"):
        CALLS["converse"](serving(engine).client)


def test_a_cassette_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is not a directory"):
        ReplayEngine(ReplaySettings(tmp_path / "file"), missing_ok=True)


def test_recording_passes_each_frame_on_as_it_arrives(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], upstream: ServerThread
) -> None:
    # 40 deltas, 250 ms apart: the upstream's stream lasts ten seconds, and is journalled only when it ends.
    upstream.app.state.engine = ScriptedEngine({"default": {"text": " ".join(["word"] * 40), "token_latency_ms": 250}})
    engine = recorder()
    stream = serving(engine).client.converse_stream(modelId=CHAT_MODEL, messages=messages("Go slowly"))["stream"]
    events = iter(stream)
    assert "messageStart" in next(events) and "contentBlockDelta" in next(events)
    assert upstream.app.state.journal.entries() == []  # the upstream's stream is still going
    stream.close()  # the client leaves: the recorder lets go of Bedrock, and records nothing


def test_bedrocks_header_parameters_take_part_in_matching(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
) -> None:
    def invoke(client: Any, **parameters: str) -> Any:
        return client.invoke_model(modelId=TEXT_MODEL, body=native("Say hi"), **parameters)["body"].read()

    invoke(serving(recorder()).client, trace="ENABLED")
    document = yaml.safe_load(next(cassette.iterdir()).read_text())
    assert document["request"]["parameters"] == {"trace": "ENABLED"}
    client = serving(ReplayEngine(ReplaySettings(cassette))).client
    invoke(client, trace="ENABLED")
    with pytest.raises(ClientError, match="No recording"):
        invoke(client)  # no trace: another request


def test_the_recording_goes_to_the_region_the_client_signed_for(
    upstream: ServerThread, serving: Callable[..., Served], cassette: Path
) -> None:
    settings = ReplaySettings(cassette, RecordMode.ALL, upstream_url=upstream.url)  # no Region pinned
    CALLS["converse"](serving(ReplayEngine(settings, credentials=CREDENTIALS)).client)  # a us-west-2 client
    assert yaml.safe_load(next(cassette.iterdir()).read_text())["recorded"]["region"] == REGION


def test_a_new_episode_replays_within_the_run_that_recorded_it(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], upstream: ServerThread, cassette: Path
) -> None:
    cassette.mkdir()
    engine = recorder(RecordMode.NEW_EPISODES)
    client = serving(engine).client
    first = CALLS["converse"](client)
    assert CALLS["converse"](client) == first
    assert len(upstream.app.state.journal.entries()) == 1 and len(list(cassette.iterdir())) == 1
    assert engine.unused() == []


def test_once_with_recordings_needs_no_credentials(
    recorder: Callable[..., ReplayEngine], cassette: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = recorder(RecordMode.ALL)
    asyncio.run(_record_one(engine))
    monkeypatch.setattr("botocore.session.Session.get_credentials", _forbidden)
    assert ReplayEngine(ReplaySettings(cassette, RecordMode.ONCE)).unused() != []


async def _record_one(engine: ReplayEngine) -> None:
    operation = OPERATIONS[OperationName.CONVERSE]
    body = json.dumps({"messages": messages("one")}).encode()
    request = RelayRequest(operation, CHAT_MODEL, model_path(CHAT_MODEL, operation.name), REGION, body, {})
    await engine.relay(request)


def test_a_lone_surrogate_is_matched_and_recorded_as_the_runtime_reads_it(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
) -> None:
    body = b'{"prompt": "<s>[INST] a \\ud800 b [/INST]", "max_tokens": 20}'
    answer = serving(recorder()).client.invoke_model(modelId=TEXT_MODEL, body=body)["body"].read()
    assert "a \ufffd b" in next(cassette.iterdir()).read_text()
    replayed = serving(ReplayEngine(ReplaySettings(cassette))).client.invoke_model(modelId=TEXT_MODEL, body=body)
    assert replayed["body"].read() == answer


def test_count_tokens_invoke_model_bodies_are_matched_as_json(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
) -> None:
    def count(client: Any, body: bytes) -> Any:
        return client.count_tokens(modelId=CHAT_MODEL, input={"invokeModel": {"body": body}})["inputTokens"]

    compact = json.dumps({"prompt": "<s>[INST] x [/INST]"}, separators=(",", ":")).encode()
    counted = count(serving(recorder()).client, compact)
    assert "prompt: <s>[INST] x [/INST]" in next(cassette.iterdir()).read_text()  # readable, not base64
    spaced = json.dumps({"prompt": "<s>[INST] x [/INST]"}, indent=2).encode()
    assert count(serving(ReplayEngine(ReplaySettings(cassette))).client, spaced) == counted
