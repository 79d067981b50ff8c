"""No secret reaches a cassette: secrets planted in requests and answers are found plain and base64, and redacted
or refused as configured; user patterns and hooks clean prompts, and the cleaned recording still matches."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mistral_bedrock.engines.cassette import RecordMode, ReplayEngine, ReplaySettings
from mistral_bedrock.engines.relay import RelayRequest
from mistral_bedrock.engines.scripted import ScriptedEngine
from mistral_bedrock.protocol.operations import OPERATIONS, OperationName, model_path
from mistral_bedrock.runtime import ServerThread

from .conftest import CREDENTIALS, KEY_ID, REGION, SECRET, TOKEN, Served

MODEL = "mistral.mistral-large-2407-v1:0"
OTHER_KEY_ID = "ASIAQWERTYUIOPASDFGH"
ACCOUNT = "123456789012"


def every_form(secret: str) -> list[str]:
    """The secret, and the part of its base64 that any blob holding it contains, at each of the three alignments."""
    forms = [secret]
    for prefix in range(3):
        encoded = base64.b64encode(b"\0" * prefix + secret.encode()).decode()
        # The first characters mix in the prefix, the last ones what follows: the middle is always there.
        forms.append(encoded[4 * ((prefix + 2) // 3) : -4])
    return forms


def converse(client: Any, text: str) -> str:
    answer = client.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": text}]}])
    return str(answer["output"]["message"]["content"][0]["text"])


PLANTED = (
    f"key {KEY_ID} secret {SECRET} token {TOKEN} other {OTHER_KEY_ID} "
    f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/x "
    f"blob {base64.b64encode(('xx' + SECRET).encode()).decode()}"
)


def test_planted_secrets_are_redacted_in_every_form(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], upstream: ServerThread, cassette: Path
) -> None:
    # The stand-in answers with the secrets too, so that the response side is checked as well as the request.
    upstream.app.state.engine = ScriptedEngine({"default": {"text": "echo " + PLANTED}})
    engine = recorder()
    converse(serving(engine).client, PLANTED)
    assert engine.problems == []
    (recorded,) = cassette.iterdir()
    text = recorded.read_text()
    for secret in (KEY_ID, SECRET, TOKEN, OTHER_KEY_ID, f":{ACCOUNT}:"):
        for form in every_form(secret):
            assert form not in text, f"a form of {secret[:4]}… is in the cassette"
    assert "AKIDDUMMYKEY" not in text and "Authorization" not in text and "X-Amz" not in text
    assert "REDACTED-secret-access-key" in text and f"{REGION}:000000000000:inference-profile" in text


def test_with_secrets_refuse_nothing_is_written_and_the_engine_says_why(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
) -> None:
    engine = recorder(secrets="refuse")
    answer = converse(serving(engine).client, "my secret is " + SECRET)
    assert answer  # the client still gets Bedrock's answer
    assert not cassette.exists() or list(cassette.iterdir()) == []
    (problem,) = engine.problems
    assert "secret access key" in problem and SECRET not in problem


def test_a_clean_request_is_written_under_refuse(
    recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
) -> None:
    engine = recorder(secrets="refuse")
    converse(serving(engine).client, "nothing to hide")
    assert engine.problems == [] and len(list(cassette.iterdir())) == 1


def test_redact_patterns_and_hooks_clean_prompts_and_replay_still_matches(
    upstream: ServerThread, serving: Callable[..., Served], cassette: Path
) -> None:
    def drop_names(document: dict[str, Any]) -> dict[str, Any]:
        return json.loads(json.dumps(document).replace("Alice", "NAME"))

    settings = ReplaySettings(
        cassette, RecordMode.ALL, upstream_url=upstream.url, region=REGION, redact=(r"\b\d{4}-\d{4}\b",)
    )
    recording = ReplayEngine(settings, credentials=CREDENTIALS, redactors=[drop_names])
    answer = converse(serving(recording).client, "Alice's card is 1234-5678")
    text = next(cassette.iterdir()).read_text()
    assert "1234-5678" not in text and "Alice" not in text and "NAME's card is REDACTED" in text

    assert "Alice's card is 1234-5678" in answer  # the client got Bedrock's answer as it was

    replay = ReplayEngine(ReplaySettings(cassette, redact=settings.redact), redactors=[drop_names])
    replayed = converse(serving(replay).client, "Alice's card is 1234-5678")
    assert replayed == answer.replace("Alice", "NAME").replace("1234-5678", "REDACTED")  # the answer as written
    assert converse(serving(replay).client, "Alice's card is 9999-0000") == replayed  # cleaned, one request


def test_a_stream_the_client_leaves_is_not_recorded_and_is_reported(
    recorder: Callable[..., ReplayEngine], cassette: Path
) -> None:
    engine = recorder()
    asyncio.run(leave_after_one_frame(engine))
    assert not cassette.exists() or list(cassette.iterdir()) == []
    (problem,) = engine.problems
    assert "did not reach its end" in problem


async def leave_after_one_frame(engine: ReplayEngine) -> None:
    operation = OPERATIONS[OperationName.CONVERSE_STREAM]
    body = {"messages": [{"role": "user", "content": [{"text": "a long story"}]}]}
    request = RelayRequest(operation, MODEL, model_path(MODEL, operation.name), REGION, json.dumps(body).encode(), {})
    answer = await engine.relay(request)
    assert answer.frames is not None
    await anext(answer.frames)
    await answer.frames.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize("secret", [KEY_ID, SECRET, TOKEN])
def test_every_active_credential_is_known_to_the_recorder(
    secret: str, recorder: Callable[..., ReplayEngine], serving: Callable[..., Served], cassette: Path
) -> None:
    converse(serving(recorder()).client, f"x{secret}x")
    text = next(cassette.iterdir()).read_text()
    assert secret not in text


@pytest.mark.parametrize("policy", ["redact", "refuse"])
def test_a_secret_streamed_a_few_characters_per_frame_is_caught(
    policy: str,
    recorder: Callable[..., ReplayEngine],
    serving: Callable[..., Served],
    upstream: ServerThread,
    cassette: Path,
) -> None:
    upstream.app.state.engine = ScriptedEngine({"default": {"text": f"The key is {SECRET} and that is all."}})
    engine = recorder(secrets=policy)
    stream = serving(engine).client.converse_stream(
        modelId=MODEL, messages=[{"role": "user", "content": [{"text": "What is the key?"}]}]
    )["stream"]
    deltas = [e["contentBlockDelta"]["delta"]["text"] for e in stream if "contentBlockDelta" in e]
    assert len(deltas) > 3 and not any(SECRET in delta for delta in deltas)  # in no one frame
    if policy == "refuse":
        assert not cassette.exists() or list(cassette.iterdir()) == []
        assert "secret access key" in engine.problems[0]
        return
    document = yaml.safe_load(next(cassette.iterdir()).read_text())
    events = document["response"]["events"]
    text = "".join(e["payload"]["delta"]["text"] for e in events if e["event"] == "contentBlockDelta")
    assert text == "The key is REDACTED-secret-access-key and that is all."
