"""Mistral's own chat API over Bedrock: ``client.chat.complete(model=…, messages=…)`` as ``mistralai`` spells it.

Code written for Mistral's SDK keeps working: the same keywords, messages and tools as dicts or as ``mistralai``
objects, and answers with the field names of its models (``res.choices[0].message.content``,
``event.data.choices[0].delta.content``). Each answer's ``model_dump()`` is what ``mistralai``'s own pydantic
models validate.

What a Bedrock body cannot carry is refused before any request, naming the parameter and the model
(:class:`UnsupportedParameterError`); nothing is dropped. Values that ask for Mistral's default behaviour
(``n=1``, ``safe_prompt=False``, a zero penalty…) are accepted, since Bedrock behaves that way anyway. Two
mappings keep the meaning while changing the spelling: ``tool_choice="required"`` is sent as ``any`` (Mistral
documents them as the same), and a forced function (``{"type": "function", "function": {"name": …}}``) is sent as
``any`` with only that tool offered, which leaves the model no other call to make.

The body is the one :meth:`ClientCore.chat_call` builds: the model's chat dialect when it has one, else the
tokenizer-exact prompt of its text dialect.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import Field, asdict, dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypedDict

from typing_extensions import Unpack

from ..catalog import Dialect, ModelSpec
from ..conversation import Delta, Message, Params, StopReason, Tool, Usage
from ..conversation import ToolCall as NeutralToolCall
from ..errors import ModelErrorException, ValidationException
from ..formats import format_for
from ..formats.chat import STOPS
from ..formats.common import decode_arguments
from .core import ClientCore, Prepared
from .result import Result
from .usage_errors import ClientClosedError

if TYPE_CHECKING:
    # The shells import this module to attach ``chat``, so they are imported here only where used.
    from .aio import AsyncMistralBedrock, AsyncStream
    from .sync import MistralBedrock, Stream

__all__ = [
    "AssistantMessage",
    "AsyncCompletionEventStream",
    "Chat",
    "ChatCompletionChoice",
    "ChatCompletionResponse",
    "ChatOptions",
    "CompletionChunk",
    "CompletionEvent",
    "CompletionEventStream",
    "CompletionResponseStreamChoice",
    "DeltaMessage",
    "FunctionCall",
    "NeutralRequest",
    "ToolCall",
    "UnsupportedParameterError",
    "UsageInfo",
    "chat_dialect",
    "completion_response",
    "finish_reason",
    "neutral_request",
    "usage_info",
]


# -- the answer's shapes ---------------------------------------------------------------------------------------
class _Model:
    """``model_dump()`` for the dataclasses below: the JSON-like dict ``mistralai``'s models validate."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def model_dump(self, *, exclude_none: bool = False) -> dict[str, Any]:
        """The answer as a dict; ``exclude_none`` leaves out unset fields at every depth, as pydantic's does."""
        data = asdict(self)
        return _without_none(data) if exclude_none else data

    def model_dump_json(self, *, exclude_none: bool = False, indent: int | None = None) -> str:
        """:meth:`model_dump` as JSON text."""
        return json.dumps(self.model_dump(exclude_none=exclude_none), indent=indent, ensure_ascii=False)


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionCall(_Model):
    """The function a tool call invokes; ``arguments`` is its JSON text, as Mistral's API sends it."""

    name: str
    arguments: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall(_Model):
    """One tool call; ``index`` is its position among the answer's calls."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall
    index: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageInfo(_Model):
    """Token counts as Bedrock reported them; None where it reported none."""

    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantMessage(_Model):
    """The answer. It can go straight back into ``messages`` for the next turn."""

    role: Literal["assistant"] = "assistant"
    content: str | None
    tool_calls: list[ToolCall] | None = None
    prefix: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatCompletionChoice(_Model):
    index: int
    message: AssistantMessage
    finish_reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatCompletionResponse(_Model):
    """What ``chat.complete`` returns. ``id`` is Bedrock's request id; ``model`` the identifier that answered."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    model: str
    created: int
    usage: UsageInfo
    choices: list[ChatCompletionChoice]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeltaMessage(_Model):
    """One increment of a streamed answer: the first carries the role, later ones text or tool calls."""

    role: str | None = None
    content: str | None = None
    tool_calls: list[ToolCall] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CompletionResponseStreamChoice(_Model):
    index: int
    delta: DeltaMessage
    finish_reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CompletionChunk(_Model):
    """One streamed chunk; only the last has ``usage`` (and a ``finish_reason``)."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    model: str
    created: int
    usage: UsageInfo | None = None
    choices: list[CompletionResponseStreamChoice]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompletionEvent(_Model):
    """What iterating ``chat.stream`` gives: the chunk is in ``data``."""

    data: CompletionChunk


def finish_reason(reason: StopReason | None, raw: str | None) -> str:
    """Mistral's spelling of a stop reason (``model_length`` for a full context window); Bedrock's own reasons
    (a guardrail, a filter), which Mistral has no word for, keep their names, and an unknown one its raw text."""
    if reason is None or reason == "unknown":
        return raw or "unknown"
    return STOPS.write(reason)


def usage_info(usage: Usage | None) -> UsageInfo:
    if usage is None:
        return UsageInfo(prompt_tokens=None, completion_tokens=None, total_tokens=None)
    return UsageInfo(
        prompt_tokens=usage.input_tokens, completion_tokens=usage.output_tokens, total_tokens=usage.total_tokens
    )


def _tool_calls(calls: Sequence[NeutralToolCall], start: int = 0) -> list[ToolCall]:
    return [
        ToolCall(id=call.id, function=FunctionCall(name=call.name, arguments=call.arguments_json), index=start + i)
        for i, call in enumerate(calls)
    ]


def completion_response(result: Result) -> ChatCompletionResponse:
    """A whole answer in Mistral's shape. Without a request id (none in the headers) the id is a random one."""
    message = AssistantMessage(content=result.text, tool_calls=_tool_calls(result.tool_calls) or None)
    choice = ChatCompletionChoice(
        index=0, message=message, finish_reason=finish_reason(result.stop_reason, result.raw_stop_reason)
    )
    return ChatCompletionResponse(
        id=result.request_id or uuid.uuid4().hex,
        model=result.model_id,
        created=int(time.time()),
        usage=usage_info(result.usage),
        choices=[choice],
    )


class _Events:
    """Turns one stream's deltas, then its final result, into Mistral's events (one id and time for all)."""

    def __init__(self, model: str) -> None:
        self._id = uuid.uuid4().hex  # the request id arrives only with the result, after the first events
        self._model = model
        self._created = int(time.time())
        self._calls = 0

    def _event(self, delta: DeltaMessage, reason: str | None = None, usage: UsageInfo | None = None) -> CompletionEvent:
        choice = CompletionResponseStreamChoice(index=0, delta=delta, finish_reason=reason)
        chunk = CompletionChunk(id=self._id, model=self._model, created=self._created, usage=usage, choices=[choice])
        return CompletionEvent(data=chunk)

    def opening(self) -> CompletionEvent:
        """Mistral's first event: the role, no text yet."""
        return self._event(DeltaMessage(role="assistant", content=""))

    def delta(self, delta: Delta) -> CompletionEvent:
        calls = _tool_calls(delta.tool_calls, self._calls)
        self._calls += len(calls)
        return self._event(DeltaMessage(content=delta.text, tool_calls=calls or None))

    def closing(self, result: Result) -> CompletionEvent:
        """The last event: why the answer ended, and the usage."""
        reason = finish_reason(result.stop_reason, result.raw_stop_reason)
        return self._event(DeltaMessage(content=""), reason, usage_info(result.usage))


# -- the request ---------------------------------------------------------------------------------------------
class ChatOptions(TypedDict, total=False):
    """The keywords of ``mistralai``'s ``chat.complete`` and ``chat.stream`` besides ``model`` and ``messages``.

    Messages, tools, tool choices and response formats may be dicts or ``mistralai`` objects.
    """

    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    stream: bool | None
    stop: str | Sequence[str] | None
    random_seed: int | None
    metadata: Mapping[str, Any] | None
    response_format: object
    tools: Sequence[object] | None
    tool_choice: object
    presence_penalty: float | None
    frequency_penalty: float | None
    min_tokens: int | None
    repetition_penalty: float | None
    top_k: int | None
    logprobs: bool | None
    top_logprobs: int | None
    prompt_logprobs: bool | None
    top_prompt_logprobs: int | None
    n: int | None
    prediction: object
    parallel_tool_calls: bool | None
    reasoning_effort: str | None
    prompt_mode: str | None
    guardrails: object
    prompt_cache_key: str | None
    service_tier: str | None
    safe_prompt: bool | None
    retries: object
    server_url: str | None
    timeout_ms: int | None
    http_headers: Mapping[str, str] | None


class UnsupportedParameterError(ValidationException):
    """A chat parameter, or a value of one, that the model's Bedrock body cannot carry. Raised before any request.

    Attributes:
        parameter: The keyword (or the place in ``messages``/``tools``) refused.
        model: The model's Bedrock id.
    """

    def __init__(self, parameter: str, spec: ModelSpec, reason: str, *, value: object = None) -> None:
        self.parameter = parameter
        self.model = spec.model_id
        shown = parameter if value is None else f"{parameter}={value!r}"
        super().__init__(f"{shown} cannot be sent to {spec.name} ({spec.model_id}): {reason}.")


_NO_SUCH_KEY = "Bedrock's Mistral bodies have no such parameter"
_ON_THE_CLIENT = "this client sends every call the same way; set retries, the endpoint and timeouts on the client"
# Parameters no Bedrock body carries: the value that asks for what Bedrock does anyway (None: only unset is
# accepted), and why any other is refused.
_NOT_CARRIED: dict[str, tuple[object, str]] = {
    "random_seed": (None, "Bedrock's Mistral bodies have no seed"),
    "metadata": (None, _NO_SUCH_KEY),
    "presence_penalty": (0, _NO_SUCH_KEY),
    "frequency_penalty": (0, _NO_SUCH_KEY),
    "min_tokens": (0, _NO_SUCH_KEY),
    "repetition_penalty": (None, _NO_SUCH_KEY),
    "logprobs": (False, "Bedrock returns no log probabilities"),
    "top_logprobs": (None, "Bedrock returns no log probabilities"),
    "prompt_logprobs": (False, "Bedrock returns no log probabilities"),
    "top_prompt_logprobs": (None, "Bedrock returns no log probabilities"),
    "n": (1, "Bedrock returns one choice per call"),
    "prediction": (None, _NO_SUCH_KEY),
    "parallel_tool_calls": (True, "Bedrock's Mistral bodies cannot turn parallel tool calls off"),
    "reasoning_effort": (None, _NO_SUCH_KEY),
    "prompt_mode": (None, _NO_SUCH_KEY),
    "guardrails": (None, "Mistral's guardrails are not Bedrock's"),
    "prompt_cache_key": (None, _NO_SUCH_KEY),
    "service_tier": (None, "Bedrock chooses the tier by the model identifier, not in the body"),
    "safe_prompt": (False, "Bedrock has no safety-prompt switch; put your own system message in messages"),
    "retries": (None, _ON_THE_CLIENT),
    "server_url": (None, _ON_THE_CLIENT),
    "timeout_ms": (None, _ON_THE_CLIENT),
    "http_headers": (None, _ON_THE_CLIENT),
}
_TOOL_CHOICES = ("auto", "none", "any", "required")
# The order ClientCore.chat_call picks a body in: the model's chat dialect when it has one, else its text one.
_CHAT_ORDER = (Dialect.CHAT, Dialect.CHAT_OPENAI, Dialect.TEXT)


def chat_dialect(spec: ModelSpec) -> Dialect:
    """The body a Mistral-style chat call sends to this model (the one :meth:`ClientCore.chat_call` builds)."""
    return next(dialect for dialect in _CHAT_ORDER if dialect in spec.dialects)


@dataclass(frozen=True)
class NeutralRequest:
    """A Mistral-style chat request in this package's terms, for :meth:`ClientCore.chat_call`."""

    messages: tuple[Message, ...]
    params: Params
    tools: tuple[Tool, ...]
    tool_choice: str | None


def neutral_request(spec: ModelSpec, messages: Iterable[object], **options: Unpack[ChatOptions]) -> NeutralRequest:
    """Read ``mistralai``'s keywords for ``spec``'s chat body (``stream`` is for :class:`Chat` to check).

    Raises:
        UnsupportedParameterError: A parameter or value the model's body cannot carry, or a message part this
            client cannot send (an image, a ``prefix`` turn).
        TypeError: An unknown keyword, or a message or tool that is neither a dict nor a ``mistralai`` object.
    """
    given: Mapping[str, object] = options
    unknown = sorted(set(given) - ChatOptions.__optional_keys__)
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r}")
    for name, (neutral, reason) in _NOT_CARRIED.items():
        value = given.get(name)
        if value is not None and (neutral is None or value != neutral):
            raise UnsupportedParameterError(name, spec, reason, value=value)
    _check_response_format(options.get("response_format"), spec)

    stop = options.get("stop")
    stops = (stop,) if isinstance(stop, str) else (tuple(stop) if stop else None)
    listed = options.get("tools")
    tools = tuple(_tool(item, f"tools[{i}]", spec) for i, item in enumerate(_listed(listed or [], "tools")))
    tool_choice, tools = _tool_choice(options.get("tool_choice"), tools, spec)
    dialect = chat_dialect(spec)
    carried = format_for(dialect).carries(spec)
    asked = {"stop": stops, "top_k": options.get("top_k"), "tools": tools, "tool_choice": tool_choice}
    for key, value in asked.items():
        if value not in (None, ()) and key not in carried:
            raise UnsupportedParameterError(key, spec, f"its {dialect.value} body has no {key}")
    params = Params(
        max_tokens=options.get("max_tokens"),
        temperature=options.get("temperature"),
        top_p=options.get("top_p"),
        top_k=options.get("top_k"),
        stop=stops,
    )
    turns = tuple(_message(item, f"messages[{i}]", spec) for i, item in enumerate(_listed(messages, "messages")))
    return NeutralRequest(turns, params, tools, tool_choice)


def _listed(value: object, name: str) -> Sequence[object]:
    """A list argument as given; a string, a dict or None is a caller's slip, named here rather than iterated."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list, not {type(value).__name__}")
    return value


def _plain(item: object, where: str) -> Mapping[str, Any]:
    """A dict as given, or a ``mistralai`` (pydantic) object, or an answer of this module, as its dict."""
    if isinstance(item, Mapping):
        return item
    dump = getattr(item, "model_dump", None)
    if callable(dump):
        value = dump()
        if isinstance(value, Mapping):
            return value
    raise TypeError(f"{where} is {type(item).__name__}, neither a dict nor a mistralai object")


def _check_response_format(value: object, spec: ModelSpec) -> None:
    if value is None:
        return
    kind = _plain(value, "response_format").get("type") or "text"
    if kind != "text":
        reason = "the bodies this client writes carry no response format"
        raise UnsupportedParameterError("response_format", spec, reason, value={"type": kind})


def _text(content: object, where: str, spec: ModelSpec) -> str:
    """Message content: a string, or text chunks joined; other chunks (images, documents) cannot be sent."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, Sequence):
        raise TypeError(f"{where} is {type(content).__name__}, neither a string nor a list of chunks")
    pieces: list[str] = []
    for index, chunk in enumerate(content):
        data = _plain(chunk, f"{where}[{index}]")
        if data.get("type", "text") != "text":
            raise UnsupportedParameterError(
                f"{where}[{index}]", spec, f"a {data.get('type')!r} chunk; this client sends text only"
            )
        pieces.append(str(data.get("text") or ""))
    return "".join(pieces)


def _message(item: object, where: str, spec: ModelSpec) -> Message:
    data = _plain(item, where)
    role = data.get("role")
    content = _text(data.get("content"), f"{where}.content", spec)
    if role == "system":
        return Message.system(content)
    if role == "user":
        return Message.user(content)
    if role == "tool":
        return Message.tool(str(data.get("tool_call_id") or ""), content, data.get("name"))
    if role != "assistant":
        raise TypeError(f"{where} has role {role!r}, not system, user, assistant or tool")
    if data.get("prefix"):
        raise UnsupportedParameterError(f"{where}.prefix", spec, "Bedrock's bodies cannot mark an assistant prefix")
    calls: list[NeutralToolCall] = []
    for index, call in enumerate(data.get("tool_calls") or ()):
        wire = _plain(call, f"{where}.tool_calls[{index}]")
        at = f"{where}.tool_calls[{index}]"
        function = _plain(wire.get("function"), f"{at}.function")
        name = _name(function, f"{at}.function")
        try:
            calls.append(decode_arguments(str(wire.get("id") or ""), name, function.get("arguments")))
        except ModelErrorException:  # the reader's words are for a model's answer; this is the caller's input
            raise ValidationException(f"{at}.function.arguments is not a JSON object") from None
    return Message.assistant(content, calls)


def _name(function: Mapping[str, Any], where: str) -> str:
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise TypeError(f"{where}.name must be a non-empty string, not {name!r}")
    return name


def _tool(item: object, where: str, spec: ModelSpec) -> Tool:
    data = _plain(item, where)
    kind = data.get("type") or "function"
    if kind != "function":
        raise UnsupportedParameterError(where, spec, f"Mistral's built-in {kind!r} tool does not run on Bedrock")
    function = _plain(data.get("function"), f"{where}.function")
    if function.get("strict"):
        raise UnsupportedParameterError(f"{where}.function.strict", spec, "Bedrock's bodies have no strict tools")
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, Mapping):
        raise TypeError(f"{where}.function.parameters must be a JSON schema object, not {type(parameters).__name__}")
    return Tool(
        name=_name(function, f"{where}.function"),
        description=str(function.get("description") or ""),
        parameters=dict(parameters),
    )


def _tool_choice(value: object, tools: tuple[Tool, ...], spec: ModelSpec) -> tuple[str | None, tuple[Tool, ...]]:
    """The choice to send, and the tools to offer with it (a forced function: that one alone, with ``any``)."""
    if value is None:
        return None, tools
    if isinstance(value, str):
        if value not in _TOOL_CHOICES:
            raise UnsupportedParameterError("tool_choice", spec, "it is not auto, none, any or required", value=value)
        return ("any" if value == "required" else value), tools
    function = _plain(_plain(value, "tool_choice").get("function"), "tool_choice.function")
    name = function.get("name")
    chosen = tuple(tool for tool in tools if tool.name == name)
    if not chosen:
        raise UnsupportedParameterError("tool_choice", spec, f"it forces {name!r}, which is not among the tools")
    return "any", chosen


def _prepare(
    core: ClientCore, model: str, messages: Iterable[object], options: ChatOptions, *, stream: bool
) -> Prepared:
    """The call, built and checked before any I/O. ``stream=`` must agree with the method called."""
    spec = core.resolve(model).spec
    asked = options.get("stream")
    if asked is not None and asked != stream:
        method = "stream" if asked else "complete"
        raise UnsupportedParameterError("stream", spec, f"that is what chat.{method}() is for", value=asked)
    request = neutral_request(spec, messages, **options)
    return core.chat_call(
        list(request.messages), model, request.params, list(request.tools) or None, request.tool_choice, stream=stream
    )


# -- the streams ---------------------------------------------------------------------------------------------
class CompletionEventStream:
    """What ``chat.stream`` returns: iterate it for :class:`CompletionEvent`; ``with`` releases the connection."""

    def __init__(self, stream: Stream, model: str) -> None:
        self._stream = stream
        self._events = self._generate(_Events(model))

    def _generate(self, events: _Events) -> Iterator[CompletionEvent]:
        yield events.opening()
        for delta in self._stream:
            yield events.delta(delta)
        yield events.closing(self._stream.result())

    def __iter__(self) -> CompletionEventStream:
        return self

    def __next__(self) -> CompletionEvent:
        return next(self._events)

    def __enter__(self) -> CompletionEventStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._stream.close()


class AsyncCompletionEventStream:
    """What ``await chat.stream_async(…)`` returns: ``async for`` it; ``async with`` releases the connection."""

    def __init__(self, stream: AsyncStream, model: str, owned: AsyncMistralBedrock | None = None) -> None:
        self._stream = stream
        self._owned = owned  # a client made for this stream alone, closed with it
        self._events = self._generate(_Events(model))

    async def _generate(self, events: _Events) -> AsyncIterator[CompletionEvent]:
        try:
            yield events.opening()
            async for delta in self._stream:
                yield events.delta(delta)
            yield events.closing(await self._stream.result())
        finally:
            if self._owned is not None:  # read to its end (or failed): the client made for it goes with it
                await self._owned.close()

    def __aiter__(self) -> AsyncCompletionEventStream:
        return self

    async def __anext__(self) -> CompletionEvent:
        return await self._events.__anext__()

    async def __aenter__(self) -> AsyncCompletionEventStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._stream.close()
        if self._owned is not None:
            await self._owned.close()


# -- the namespace -------------------------------------------------------------------------------------------
class Chat:
    """``client.chat``: Mistral's chat methods, with ``mistralai``'s keywords and answers, on either client.

    As on ``mistralai``'s one client, both kinds of call are there: on :class:`MistralBedrock`, the async methods
    run through an :class:`AsyncMistralBedrock` made for each call on the caller's event loop (an async client's
    connections belong to the loop that opened them) and closed after it; on :class:`AsyncMistralBedrock`, the sync
    methods run through a :class:`MistralBedrock` made on first use and closed with the client.

    Args:
        client: The client whose settings and endpoint every call uses.
    """

    def __init__(self, client: MistralBedrock | AsyncMistralBedrock) -> None:
        self._client = client
        self._sync_twin: MistralBedrock | None = None

    def _sync(self) -> MistralBedrock:
        from .sync import MistralBedrock

        if self._client._closed:
            raise ClientClosedError
        if isinstance(self._client, MistralBedrock):
            return self._client
        if self._sync_twin is None:
            self._sync_twin = MistralBedrock.like(self._client)
        return self._sync_twin

    def _async(self) -> tuple[AsyncMistralBedrock, bool]:
        """The async client for one call, and whether the call owns (and closes) it."""
        from .aio import AsyncMistralBedrock

        if self._client._closed:
            raise ClientClosedError
        if isinstance(self._client, AsyncMistralBedrock):
            return self._client, False
        return AsyncMistralBedrock.like(self._client), True

    def close(self) -> None:
        """Close the sync client made for an async client's sync calls (the client's ``close`` calls this)."""
        if self._sync_twin is not None:
            self._sync_twin.close()
            self._sync_twin = None

    def complete(
        self, *, model: str, messages: Iterable[object], **options: Unpack[ChatOptions]
    ) -> ChatCompletionResponse:
        """A whole answer (``mistralai``'s ``chat.complete``)."""
        client = self._sync()
        prepared = _prepare(client._core, model, messages, options, stream=False)
        return completion_response(client._call(prepared))

    def stream(
        self, *, model: str, messages: Iterable[object], **options: Unpack[ChatOptions]
    ) -> CompletionEventStream:
        """The answer as events (``mistralai``'s ``chat.stream``). The request is sent now, as there."""
        from .sync import Stream

        client = self._sync()
        prepared = _prepare(client._core, model, messages, options, stream=True)
        stream = Stream(client, prepared)
        stream.__enter__()
        return CompletionEventStream(stream, prepared.model.identifier)

    async def complete_async(
        self, *, model: str, messages: Iterable[object], **options: Unpack[ChatOptions]
    ) -> ChatCompletionResponse:
        """``complete``, awaitable."""
        client, owned = self._async()
        try:
            prepared = _prepare(client._core, model, messages, options, stream=False)
            return completion_response(await client._call(prepared))
        finally:
            if owned:
                await client.close()

    async def stream_async(
        self, *, model: str, messages: Iterable[object], **options: Unpack[ChatOptions]
    ) -> AsyncCompletionEventStream:
        """``stream``, awaited before iterating as in ``mistralai``: ``async for e in await chat.stream_async(…)``."""
        from .aio import AsyncStream

        client, owned = self._async()
        try:
            prepared = _prepare(client._core, model, messages, options, stream=True)
            stream = AsyncStream(client, prepared)
            await stream.__aenter__()
        except BaseException:
            if owned:
                await client.close()
            raise
        return AsyncCompletionEventStream(stream, prepared.model.identifier, client if owned else None)
