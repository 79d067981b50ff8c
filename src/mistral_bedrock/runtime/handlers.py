"""One handler per operation: parse → ask the engine → serialize, in the operation's wire shape.

Engine output becomes a whole response (InvokeModel, Converse) or an event stream (the two streaming
operations) through the same format objects. An engine error before its first event is an HTTP error; after
it, an in-stream exception frame.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from mistral_bedrock.catalog import ResolvedModel
from mistral_bedrock.conversation import Completion, ToolCall, Usage
from mistral_bedrock.engines import Engine, Stop, TextDelta, ToolCallEvent
from mistral_bedrock.engines.counting import carry_input_tokens, input_tokens
from mistral_bedrock.engines.relay import Relay
from mistral_bedrock.errors import BedrockError, SerializationException, ValidationException
from mistral_bedrock.formats import Format, Metrics, ParsedRequest, dialect_for_body, format_for
from mistral_bedrock.formats.json_body import load_json
from mistral_bedrock.formats.messages import MALFORMED
from mistral_bedrock.formats.selection import converse_format
from mistral_bedrock.formats.service_constraints import check_members
from mistral_bedrock.formats.window import WindowPolicy, fit_window
from mistral_bedrock.protocol.operations import Operation, OperationName
from mistral_bedrock.protocol.stream_envelope import StreamEnvelope

from .faults import Faults
from .pacing import DEFAULT_PACING, Pacing
from .relayed import relayed
from .responses import EventStreamResponse, JSONBytesResponse, exception_frame, json_response

__all__ = ["HANDLERS", "Call", "Handler"]

#: A request whose body is larger than this is parsed and counted in a worker thread, so that other connections
#: are not kept waiting (the tokenizers release the GIL while they encode). Below it the work takes well under a
#: millisecond, less than the thread hop costs a small request; see docs/BENCHMARKS.md, "Fairness".
OFFLOAD_BYTES = 16 * 1024
T = TypeVar("T")
COUNT_TOKENS_REFUSED = "The provided model doesn't support counting tokens."


@dataclass(frozen=True)
class Call:
    """Everything a handler needs about one request."""

    request_id: str
    operation: Operation
    model: ResolvedModel
    path: str  # raw, as received
    region: str | None  # the Region a SigV4 request was signed for; None for a bearer token
    body: bytes
    headers: dict[str, str]  # lower-cased names
    faults: Faults
    engine: Engine | Relay
    padding: bool
    count_tokens: bool
    started: float
    window: WindowPolicy = WindowPolicy.REFUSE
    pacing: Pacing = DEFAULT_PACING


Response = JSONBytesResponse | EventStreamResponse
Handler = Callable[[Call], Awaitable[Response]]


async def _off_loop(call: Call, work: Callable[[], T]) -> T:
    """``work()``: in a worker thread for a large request, inline for a small one."""
    if len(call.body) > OFFLOAD_BYTES:
        return await asyncio.to_thread(work)
    return work()


def _native_request(call: Call, *, stream: bool) -> tuple[Format, ParsedRequest]:
    try:
        data = load_json(call.body) if call.body else None
    except (ValueError, UnicodeDecodeError):
        raise ValidationException(MALFORMED) from None
    if data is None:
        raise ValidationException(MALFORMED)
    spec = call.model.spec
    fmt = format_for(dialect_for_body(spec, data))
    return fmt, fmt.parse_request(spec, data, stream=stream)


def _converse_request(call: Call, *, stream: bool) -> tuple[Format, ParsedRequest]:
    fmt = converse_format()
    return fmt, fmt.parse_request(call.model.spec, call.body, stream=stream)


async def _fit(call: Call, fmt: Format, request: ParsedRequest) -> ParsedRequest:
    """The request within the model's context window (see :mod:`.limits`), with its turns for the engine.

    The prompt is counted once per request: only as far as the window (a longer prompt is refused whatever its
    length), and the count is carried to the engine's usage (:func:`carry_input_tokens`). A text prompt's turns
    are recovered only once it fits (:meth:`Format.with_turns`).
    """
    window = request.spec.context_window
    count = await _off_loop(call, lambda: input_tokens(request, limit=window))
    fitted = fit_window(request, count, call.window)
    fitted = await _off_loop(call, lambda: fmt.with_turns(fitted))
    carry_input_tokens(fitted, count)  # below the window, so exact
    return fitted


def _elapsed_ms(started: float) -> int:
    return max(1, int((time.perf_counter() - started) * 1000))


async def _complete(call: Call, engine: Engine, request: ParsedRequest) -> tuple[Completion, Metrics]:
    """Run the engine to the end and fold its events into one completion."""
    pace = call.pacing.response(call.model.spec, call.started, call.faults)
    await pace.before_engine()
    texts: list[str] = []
    calls: list[ToolCall] = []
    first_byte = 0
    stop: Stop | None = None
    # Read to the end, not just to the stop event: a generator left suspended is finalized through the event
    # loop's thread-safe wake-up (a write to its self-pipe), ~9% of a small request's CPU.
    async for event in engine.generate(request):
        first_byte = first_byte or _elapsed_ms(call.started)
        if stop is not None:
            raise BedrockError("The engine went on after its stop event.", error_code="InternalServerException")
        if isinstance(event, TextDelta):
            texts.append(event.text)
        elif isinstance(event, ToolCallEvent):
            calls.append(event.call)
        elif isinstance(event, Stop):
            stop = event
    if stop is None:
        raise BedrockError("The engine ended without a stop event.", error_code="InternalServerException")
    completion = Completion(
        text="".join(texts),
        stop_reason=stop.reason,
        tool_calls=tuple(calls),
        usage=stop.usage,
        stop_sequence=stop.stop_sequence,
    )
    await pace.whole(stop.usage.output_tokens)
    latency = _elapsed_ms(call.started)
    return completion, Metrics(latency, first_byte or latency)


async def invoke_model(call: Call) -> Response:
    fmt, request = await _off_loop(call, lambda: _native_request(call, stream=False))
    request = await _fit(call, fmt, request)
    if isinstance(call.engine, Relay):
        return await relayed(call, call.engine)
    completion, metrics = await _complete(call, call.engine, request)
    usage = completion.usage or Usage(0, 0)
    headers = {
        "X-Amzn-Bedrock-Invocation-Latency": str(metrics.invocation_latency),
        "X-Amzn-Bedrock-Output-Token-Count": str(usage.output_tokens),
        "X-Amzn-Bedrock-Input-Token-Count": str(usage.input_tokens),
    }
    latency_mode = call.headers.get("x-amzn-bedrock-performanceconfig-latency")
    if latency_mode:
        headers["X-Amzn-Bedrock-PerformanceConfig-Latency"] = latency_mode
    return json_response(fmt.build_response(request, completion, metrics), call.request_id, headers)


async def converse(call: Call) -> Response:
    fmt, request = await _off_loop(call, lambda: _converse_request(call, stream=False))
    request = await _fit(call, fmt, request)
    if isinstance(call.engine, Relay):
        return await relayed(call, call.engine)
    completion, metrics = await _complete(call, call.engine, request)
    return json_response(fmt.build_response(request, completion, metrics), call.request_id)


async def _stream(call: Call, fmt: Format, request: ParsedRequest) -> Response:
    if isinstance(call.engine, Relay):
        return await relayed(call, call.engine)
    pace = call.pacing.response(call.model.spec, call.started, call.faults)
    await pace.before_engine()
    events = call.engine.generate(request).__aiter__()
    first = await events.__anext__()  # errors before the first event become HTTP errors
    await pace.first_byte()
    first_byte = _elapsed_ms(call.started)
    writer = fmt.stream_writer(request)
    encoder = StreamEnvelope(call.operation, padding=call.padding)
    faults = call.faults

    async def frames() -> AsyncIterator[bytes]:
        event: Any = first
        try:
            while True:
                if isinstance(event, TextDelta):
                    out = writer.text(event.text)
                elif isinstance(event, ToolCallEvent):
                    out = writer.tool_calls([event.call])
                else:
                    assert isinstance(event, Stop)
                    metrics = Metrics(_elapsed_ms(call.started), first_byte)
                    out = writer.finish(event.reason, event.usage, metrics, event.stop_sequence)
                for event_type, payload in out:
                    broken = faults.before_frame(encoder.sent)
                    if broken is not None:
                        yield exception_frame(call.operation, broken)
                        return
                    yield encoder.frame(event_type, payload)
                if isinstance(event, Stop):
                    # The engine's generators end here; read them out rather than leave them to be finalized.
                    async for _ in events:
                        raise BedrockError(
                            "The engine went on after its stop event.", error_code="InternalServerException"
                        )
                    return
                event = await events.__anext__()
                await pace.event(event)
        except BedrockError as error:
            yield exception_frame(call.operation, error)
        except StopAsyncIteration:
            ended = BedrockError("The model stopped without a stop reason.", error_code="InternalServerException")
            yield exception_frame(call.operation, ended)

    return EventStreamResponse(frames(), call.request_id)


async def invoke_model_stream(call: Call) -> Response:
    fmt, request = await _off_loop(call, lambda: _native_request(call, stream=True))
    try:
        request = await _fit(call, fmt, request)
    except ValidationException as error:
        # The body was accepted and the stream opened before the model refused the prompt: Bedrock reports an
        # oversize prompt here as an in-stream validationException [R]. It is a stream like any other, so it
        # starts no sooner than the first-byte floor (see .pacing).
        await call.pacing.response(call.model.spec, call.started, call.faults).first_byte()
        return EventStreamResponse(_one_frame(exception_frame(call.operation, error)), call.request_id)
    return await _stream(call, fmt, request)


async def _one_frame(frame: bytes) -> AsyncIterator[bytes]:
    yield frame


async def converse_stream(call: Call) -> Response:
    fmt, request = await _off_loop(call, lambda: _converse_request(call, stream=True))
    return await _stream(call, fmt, await _fit(call, fmt, request))


async def count_tokens(call: Call) -> Response:
    """CountTokens, answered with the model's real tokenizer (real Bedrock refuses it for Mistral models)."""
    request = await _off_loop(call, lambda: _count_request(call))
    if isinstance(call.engine, Relay):
        return await relayed(call, call.engine)
    return json_response({"inputTokens": input_tokens(request)}, call.request_id)


def _count_request(call: Call) -> ParsedRequest:
    try:
        data = load_json(call.body) if call.body else {}
    except (ValueError, UnicodeDecodeError):
        raise SerializationException("Could not parse the request body as JSON.") from None
    if not isinstance(data, dict):
        raise SerializationException("Start of list found where not expected")
    # The front end's checks first: the input union, and the Converse members or the blob size inside it.
    check_members(call.operation.name.value, data)
    source = data["input"]
    if not call.count_tokens and not isinstance(call.engine, Relay):  # a relay gives Bedrock's own answer
        raise ValidationException(COUNT_TOKENS_REFUSED)
    spec = call.model.spec
    if source.get("invokeModel") is not None:
        try:
            raw = base64.b64decode(str(source["invokeModel"].get("body", "")), validate=True)
        except (binascii.Error, AttributeError):
            raise SerializationException("The invokeModel body is not valid base64.") from None
        inner = replace(call, body=raw)
        _, request = _native_request(inner, stream=False)
    elif isinstance(source.get("converse"), dict):
        request = converse_format().parse_request(spec, source["converse"], stream=False)
    else:
        raise SerializationException("Start of structure or map found where not expected at 'input'")
    return request


HANDLERS: dict[OperationName, Handler] = {
    OperationName.INVOKE_MODEL: invoke_model,
    OperationName.INVOKE_MODEL_WITH_RESPONSE_STREAM: invoke_model_stream,
    OperationName.CONVERSE: converse,
    OperationName.CONVERSE_STREAM: converse_stream,
    OperationName.COUNT_TOKENS: count_tokens,
}
