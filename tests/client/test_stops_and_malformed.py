"""Every stop reason reaches the client's result with its meaning; a malformed 200 answer is a typed error.

Two servers on real loopback sockets:

* the real runtime, answered by :class:`StopsWith` — an engine that ends its answer with whatever stop reason
  the question names — so each reason goes engine → runtime writer → wire → client reader, in every dialect,
  whole and streamed, through the sync and the async client;
* :class:`MisbehavingBedrock`, a stand-in for a Bedrock that answers 200 with a body of the wrong shape. The
  runtime never does that (it writes through the same formats the client reads with), so the malformed answers
  come from this purpose-built server, which replies with canned bytes.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from mistral_bedrock.client import AsyncMistralBedrock, MistralBedrock, Result
from mistral_bedrock.conversation import StopReason, Usage
from mistral_bedrock.engines import EngineEvent, Stop, TextDelta
from mistral_bedrock.errors import MalformedResponseError, StreamError
from mistral_bedrock.formats import ParsedRequest, chat, chat_openai, converse, text
from mistral_bedrock.formats.stops import STOP_REASONS, StopTable
from mistral_bedrock.protocol.eventstream import encode_event
from mistral_bedrock.runtime import ServerThread, create_app
from tests.client.client_support import FAST_RETRY

KEYS = {"region": "us-east-1", "aws_access_key_id": "AKID", "aws_secret_access_key": "s", "retry": FAST_RETRY}
WRITTEN: list[StopReason] = [reason for reason in STOP_REASONS if reason != "unknown"]
ANSWER = "Sorry, this answer was stopped."


class StopsWith:
    """An engine whose answer stops with the reason the last user turn names: ``reason:guardrail_intervened``."""

    name = "stops-with"

    async def generate(self, request: ParsedRequest) -> AsyncIterator[EngineEvent]:
        question = [m.content for m in request.messages if m.role == "user"][-1]
        reason: StopReason = question.partition("reason:")[2].strip()  # type: ignore[assignment]
        yield TextDelta(ANSWER)
        yield Stop(reason, Usage(5, 7))


@pytest.fixture(scope="module")
def stops_server() -> Iterator[ServerThread]:
    with ServerThread(create_app(engine=StopsWith())) as server:
        yield server


@pytest.fixture
def stops_client(stops_server: ServerThread) -> Iterator[MistralBedrock]:
    with MistralBedrock(endpoint_url=stops_server.url, **KEYS) as client:
        yield client


# dialect → (model, the table its wire spelling comes from)
DIALECTS: dict[str, tuple[str, StopTable[str]]] = {
    "text": ("mistral-7b", text.STOPS),
    "chat": ("mistral-large-2402", chat.STOPS),
    "chat-openai": ("pixtral-large", chat_openai.STOPS),
    "converse": ("mistral-large-2402", converse.STOPS),
}
# Converse has no word for a model error: it is written as Bedrock's nearest (see formats.converse).
LOSSY = {("converse", "error"): "malformed_model_output"}


def _whole(client: MistralBedrock, dialect: str, question: str) -> Result:
    model = DIALECTS[dialect][0]
    if dialect == "converse":
        return client.converse(question, model=model)
    if dialect == "text":
        return client.complete_text(question, model=model)
    return client.complete_chat(question, model=model)


def _streamed(client: MistralBedrock, dialect: str, question: str) -> Result:
    model = DIALECTS[dialect][0]
    if dialect == "converse":
        opened = client.converse_stream(question, model=model)
    elif dialect == "text":
        opened = client.stream_text(question, model=model)
    else:
        opened = client.stream_chat(question, model=model)
    with opened as stream:
        return stream.result()


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize("reason", WRITTEN)
def test_each_reason_keeps_its_meaning(stops_client: MistralBedrock, dialect: str, reason: StopReason) -> None:
    table = DIALECTS[dialect][1]
    expected = LOSSY.get((dialect, reason), reason)
    for result in (
        _whole(stops_client, dialect, f"reason:{reason}"),
        _streamed(stops_client, dialect, f"reason:{reason}"),
    ):
        assert (result.stop_reason, result.raw_stop_reason) == (expected, table.write(reason))
        assert result.text.strip() == ANSWER


@pytest.mark.parametrize(
    ("dialect", "reason", "raw"),
    [
        ("converse", "guardrail_intervened", "guardrail_intervened"),
        ("converse", "content_filtered", "content_filtered"),
        ("converse", "model_context_window_exceeded", "model_context_window_exceeded"),
        ("converse", "length", "max_tokens"),
        ("chat-openai", "content_filtered", "content_filter"),
        ("chat-openai", "model_context_window_exceeded", "model_length"),
        ("text", "guardrail_intervened", "guardrail_intervened"),
    ],
)
def test_bedrocks_own_reasons_are_not_read_as_stop(
    stops_client: MistralBedrock, dialect: str, reason: StopReason, raw: str
) -> None:
    result = _whole(stops_client, dialect, f"reason:{reason}")
    assert (result.stop_reason, result.raw_stop_reason) == (reason, raw)
    assert result.response_body is not None and raw in json.dumps(result.response_body)


def test_async_client_keeps_the_reasons_too(stops_server: ServerThread) -> None:
    async def scenario() -> list[tuple[str | None, str | None]]:
        async with AsyncMistralBedrock(endpoint_url=stops_server.url, **KEYS) as client:
            out = []
            whole = await client.converse("reason:guardrail_intervened")
            out.append((whole.stop_reason, whole.raw_stop_reason))
            async with client.converse_stream("reason:content_filtered") as stream:
                streamed = await stream.result()
            out.append((streamed.stop_reason, streamed.raw_stop_reason))
            async with client.stream_chat("reason:content_filtered", model="pixtral-large") as stream:
                native = await stream.result()
            out.append((native.stop_reason, native.raw_stop_reason))
            chatted = await client.complete_chat("reason:malformed_tool_use")
            out.append((chatted.stop_reason, chatted.raw_stop_reason))
            return out

    assert asyncio.run(scenario()) == [
        ("guardrail_intervened", "guardrail_intervened"),
        ("content_filtered", "content_filtered"),
        ("content_filtered", "content_filter"),
        ("malformed_tool_use", "malformed_tool_use"),
    ]


# -- a misbehaving Bedrock ----------------------------------------------------------------------------------------
class MisbehavingBedrock:
    """A stand-in for a Bedrock that answers 200 with a canned body of the wrong shape (the runtime never does).

    Attributes:
        body: The bytes every request is answered with.
        stream: Send them as an AWS event stream (``application/vnd.amazon.eventstream``).
        headers: Extra response headers.
        requests: How many requests arrived (a malformed 200 must not be retried).
    """

    def __init__(self) -> None:
        self.body = b"{}"
        self.stream = False
        self.headers: list[tuple[bytes, bytes]] = []
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        while (await receive()).get("more_body"):
            pass
        self.requests += 1
        kind = b"application/vnd.amazon.eventstream" if self.stream else b"application/json"
        headers = [(b"content-type", kind), (b"x-amzn-requestid", b"req-malformed"), *self.headers]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


@pytest.fixture(scope="module")
def misbehaving_server() -> Iterator[tuple[ServerThread, MisbehavingBedrock]]:
    app = MisbehavingBedrock()
    with ServerThread(app) as server:
        yield server, app


@pytest.fixture
def bad(
    misbehaving_server: tuple[ServerThread, MisbehavingBedrock],
) -> Iterator[tuple[MistralBedrock, MisbehavingBedrock]]:
    server, app = misbehaving_server
    app.requests, app.stream, app.headers = 0, False, []
    with MistralBedrock(endpoint_url=server.url, **KEYS) as client:
        yield client, app


def _chunk(payload: object) -> bytes:
    """A native stream event: the model's JSON chunk, base64 in ``bytes``."""
    return encode_event(
        "chunk", json.dumps({"bytes": base64.b64encode(json.dumps(payload).encode()).decode()}).encode()
    )


def _event(event_type: str, payload: object) -> bytes:
    return encode_event(event_type, json.dumps(payload).encode())


@pytest.mark.parametrize(
    ("dialect", "body", "names"),
    [
        ("converse", b"{}", "output is missing"),
        ("converse", b"[]", "the response body is an array"),
        ("converse", b'"ok"', "the response body is a string"),
        ("converse", b"42", "the response body is a number"),
        ("converse", b"<html>502</html>", "not valid JSON"),
        ("converse", b'{"output":{"message":{"role":"assistant","content":[]}}}', "stopReason is missing"),
        (
            "converse",
            b'{"output":{"message":{"role":"assistant","content":[]}},"stopReason":"end_turn","metrics":{"latencyMs":1}}',
            "usage is missing",
        ),
        ("text", b'{"outputs":[]}', "outputs is empty"),
        ("text", b'{"outputs":{"text":"x"}}', "outputs is an object"),
        ("text", b'{"outputs":[{"stop_reason":"stop"}]}', r"outputs\[0\].text is missing"),
        ("text", b"[1, 2]", "the response body is an array"),
        ("chat", b'{"choices":[{"stop_reason":"stop"}]}', r"choices\[0\].message is missing"),
        ("chat", b'{"choices":null}', "choices is missing"),
        ("chat-openai", b'{"choices":[{"message":{"content":"Hi"}}]}', "finish_reason is missing"),
        ("chat-openai", b'{"id":"x","usage":{"prompt_tokens":1,"completion_tokens":1}}', "choices is missing"),
    ],
)
def test_a_malformed_whole_answer_is_a_typed_error(
    bad: tuple[MistralBedrock, MisbehavingBedrock], dialect: str, body: bytes, names: str
) -> None:
    client, app = bad
    app.body = body
    with pytest.raises(MalformedResponseError, match=names) as info:
        _whole(client, dialect, "Hi")
    assert (info.value.body, info.value.request_id) == (body, "req-malformed")
    assert app.requests == 1  # a 200 is not retried: it went through


@pytest.mark.parametrize(
    ("headers", "names"),
    [
        ({b"x-amzn-bedrock-input-token-count": b"5"}, "output-token-count header is missing"),
        ({b"x-amzn-bedrock-input-token-count": b"-5", b"x-amzn-bedrock-output-token-count": b"3"}, "not a whole"),
        ({b"x-amzn-bedrock-input-token-count": b"5", b"x-amzn-bedrock-output-token-count": b"3.5"}, "not a whole"),
    ],
)
def test_token_count_headers_must_be_whole_counts(
    bad: tuple[MistralBedrock, MisbehavingBedrock], headers: dict[bytes, bytes], names: str
) -> None:
    client, app = bad
    app.body = b'{"outputs":[{"text":"Hi","stop_reason":"stop"}]}'
    app.headers = list(headers.items())
    with pytest.raises(MalformedResponseError, match=names):
        client.complete_text("Hi", model="mistral.mistral-7b-instruct-v0:2")


@pytest.mark.parametrize(
    ("dialect", "frames", "names"),
    [
        ("text", [_chunk([1, 2])], "a stream event is an array"),
        ("text", [_chunk({"outputs": []})], "outputs is empty"),
        ("text", [encode_event("chunk", b'{"bytes":"%%%not base64"}')], "chunk.bytes is not base64"),
        ("text", [encode_event("chunk", b'{"p":"abc"}')], "chunk.bytes is missing"),
        ("text", [encode_event("chunk", b"not json")], "a stream event is not valid JSON"),
        ("chat", [_chunk({"choices": [{"stop_reason": "stop"}]})], r"choices\[0\].message is missing"),
        ("chat-openai", [_chunk({"choices": [{"delta": "x"}]})], r"choices\[0\].delta is a string"),
        (
            "converse",
            [_event("messageStart", {"role": "assistant"}), _event("messageStop", {})],
            "stopReason is missing",
        ),
        (
            "converse",
            [_event("messageStop", {"stopReason": "end_turn"}), _event("metadata", {"usage": {"inputTokens": 1}})],
            "metadata.metrics is missing",
        ),
        ("converse", [_event("contentBlockDelta", ["x"])], "a stream event is an array"),
    ],
)
def test_a_malformed_stream_event_is_a_typed_error(
    bad: tuple[MistralBedrock, MisbehavingBedrock], dialect: str, frames: list[bytes], names: str
) -> None:
    client, app = bad
    app.body, app.stream = b"".join(frames), True
    with pytest.raises(MalformedResponseError, match=names) as info:
        _streamed(client, dialect, "Hi")
    assert info.value.request_id == "req-malformed" and isinstance(info.value.body, bytes)


def test_text_before_a_malformed_event_is_kept_for_diagnosis(bad: tuple[MistralBedrock, MisbehavingBedrock]) -> None:
    client, app = bad
    app.body = _chunk({"outputs": [{"text": "Hello", "stop_reason": None}]}) + _chunk({"outputs": "oops"})
    app.stream = True
    with pytest.raises(MalformedResponseError) as info, client.stream_text("Hi", model="mistral-7b") as stream:
        for _ in stream:
            pass
    assert info.value.partial_text == "Hello"


def test_unknown_stop_reasons_are_unknown_not_stop(bad: tuple[MistralBedrock, MisbehavingBedrock]) -> None:
    client, app = bad
    app.body = json.dumps(
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}},
            "stopReason": "refusal",
            "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            "metrics": {"latencyMs": 1},
        }
    ).encode()
    result = client.converse("Hi")
    assert (result.text, result.stop_reason, result.raw_stop_reason) == ("Hi", "unknown", "refusal")
    app.body, app.stream = _chunk({"outputs": [{"text": "Hi", "stop_reason": "finished"}]}), True
    with client.stream_text("Hi", model="mistral-7b") as stream:
        streamed = stream.result()
    assert (streamed.stop_reason, streamed.raw_stop_reason) == ("unknown", "finished")


def test_a_stream_without_a_stop_reason_is_still_a_stream_error(bad: tuple[MistralBedrock, MisbehavingBedrock]) -> None:
    client, app = bad
    app.body, app.stream = _chunk({"outputs": [{"text": "Hi", "stop_reason": None}]}), True
    with (
        pytest.raises(StreamError, match="without a stop reason"),
        client.stream_text("Hi", model="mistral-7b") as stream,
    ):
        stream.result()


def test_async_client_types_malformed_answers_the_same(
    misbehaving_server: tuple[ServerThread, MisbehavingBedrock],
) -> None:
    server, app = misbehaving_server

    async def scenario() -> list[str]:
        messages = []
        async with AsyncMistralBedrock(endpoint_url=server.url, **KEYS) as client:
            app.body, app.stream = b"[]", False
            try:
                await client.converse("Hi")
            except MalformedResponseError as exc:
                messages.append(str(exc))
            app.body, app.stream = _event("messageStop", {"stopReason": ["end_turn"]}), True
            try:
                async with client.converse_stream("Hi") as stream:
                    await stream.result()
            except MalformedResponseError as exc:
                messages.append(str(exc))
        return messages

    assert asyncio.run(scenario()) == [
        "Malformed response: the response body is an array, not an object.",
        "Malformed response: stopReason is an array, not a string.",
    ]


def test_malformed_errors_are_not_aws_errors() -> None:
    from mistral_bedrock.errors import BedrockError, MistralBedrockError

    error: Any = MalformedResponseError("m", body=b"{}")
    assert isinstance(error, MistralBedrockError) and not isinstance(error, BedrockError)
    assert not FAST_RETRY.retryable(error)


def test_boto3_reads_the_reasons_the_runtime_writes(stops_server: ServerThread) -> None:
    import boto3

    bedrock = boto3.client(
        "bedrock-runtime",
        endpoint_url=stops_server.url,
        region_name="us-east-1",
        aws_access_key_id="AKID",
        aws_secret_access_key="s",
    )
    messages = [{"role": "user", "content": [{"text": "reason:guardrail_intervened"}]}]
    whole = bedrock.converse(modelId="mistral.mistral-large-2402-v1:0", messages=messages)
    assert whole["stopReason"] == "guardrail_intervened"
    events = bedrock.converse_stream(modelId="mistral.mistral-large-2402-v1:0", messages=messages)["stream"]
    assert [e["messageStop"]["stopReason"] for e in events if "messageStop" in e] == ["guardrail_intervened"]
    native = bedrock.invoke_model(
        modelId="mistral.mistral-7b-instruct-v0:2",
        body=json.dumps({"prompt": "[INST] reason:content_filtered [/INST]"}),
    )
    assert json.loads(native["body"].read())["outputs"][0]["stop_reason"] == "content_filtered"
