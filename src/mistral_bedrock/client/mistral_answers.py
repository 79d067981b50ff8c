"""Mistral's chat answers, shaped as ``mistralai``'s models: responses, stream events and their parts.

Each is a frozen dataclass with ``mistralai``'s field names, and ``model_dump()`` / ``model_dump_json()`` give
what ``mistralai``'s own pydantic models validate. :func:`completion_response` and ``StreamEvents`` turn this
package's :class:`~.result.Result` and deltas into them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import Field, asdict, dataclass
from typing import Any, ClassVar, Literal

from ..conversation import Delta, StopReason, Usage
from ..conversation import ToolCall as NeutralToolCall
from ..formats.chat import STOPS
from .result import Result

__all__ = [
    "AssistantMessage",
    "ChatCompletionChoice",
    "ChatCompletionResponse",
    "CompletionChunk",
    "CompletionEvent",
    "CompletionResponseStreamChoice",
    "DeltaMessage",
    "FunctionCall",
    "StreamEvents",
    "ToolCall",
    "UsageInfo",
    "completion_response",
    "finish_reason",
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


class StreamEvents:
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
