"""The two ways a chat-completion stream carries the answer, named by the rows of :mod:`.chat_variant`.

* :data:`MESSAGE_CHUNKS` — Bedrock's chat dialect: every chunk is a whole-message-shaped increment under
  ``choices[].message``, and all tool calls come in the last chunk together with the stop reason.
* :data:`DELTA_CHUNKS` — the OpenAI-style dialect: ``choices[].delta`` increments, the role in the first one,
  tool calls as they come (fragments of them, on the reading side).

Both put the row's envelope on every chunk and, where the row spells one, ``usage`` on the last one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..conversation import Delta, StopReason, ToolCall, Usage
from .body_types import ChatToolCall
from .chat_variant import ChatStream, ChatVariant
from .chat_wire import answer_from_wire
from .common import decode_arguments
from .fields import count, each_object, first_object, malformed, obj, optional_text
from .format import Event, ParsedRequest, StreamReader, request_seed
from .invocation_metrics import LastChunkWriter, usage_from_metrics
from .tool_id_rules import assign_ids

__all__ = ["DELTA_CHUNKS", "MESSAGE_CHUNKS"]


class _ChunkWriter(LastChunkWriter):
    def __init__(self, variant: ChatVariant, request: ParsedRequest) -> None:
        self._variant = variant
        self._seed = request_seed(request)
        self._head = variant.envelope(request, "chat.completion.chunk")

    def _wired(self, calls: Sequence[Any]) -> list[ChatToolCall]:
        return [self._variant.call_to_wire(c) for c in assign_ids(calls, self._variant.ids.style, self._seed)]

    def _chunk(self, key: str, value: dict[str, Any], reason: StopReason | None, usage: Usage | None = None) -> Event:
        spelled = self._variant.stops.write(reason) if reason is not None else None
        chunk = {**self._head, "choices": [{"index": 0, key: value, self._variant.stop_key: spelled}]}
        if usage is not None and self._variant.usage is not None:
            chunk["usage"] = self._variant.usage.write(usage)
        return "chunk", chunk


def _usage(variant: ChatVariant, payload: Mapping[str, Any]) -> tuple[Usage | None, Mapping[str, int] | None]:
    """A chunk's usage: Bedrock's invocation metrics, else the body's own ``usage`` where the row has one."""
    usage, metrics = usage_from_metrics(payload)
    if usage is None and variant.usage is not None and payload.get("usage") is not None:
        usage = variant.usage.read(payload["usage"], "usage")
    return usage, metrics


class _MessageWriter(_ChunkWriter):
    def __init__(self, variant: ChatVariant, request: ParsedRequest) -> None:
        super().__init__(variant, request)
        self._calls: list[ChatToolCall] = []

    def text(self, text: str) -> list[Event]:
        return [self._chunk("message", {"role": "assistant", "content": text}, None)]

    def tool_calls(self, calls: Sequence[Any]) -> list[Event]:
        # Bedrock sends all tool calls in the final chunk together with stop_reason "tool_calls".
        self._calls.extend(self._wired(calls))
        return []

    def last_chunk(self, stop_reason: StopReason, usage: Usage) -> Event:
        message: dict[str, Any] = {"role": "assistant", "content": ""}
        if self._calls:
            message["tool_calls"] = self._calls
        return self._chunk("message", message, stop_reason, usage)


class _MessageReader(StreamReader):
    def __init__(self, variant: ChatVariant) -> None:
        self._variant = variant

    def feed(self, event_type: str, payload: Mapping[str, Any]) -> list[Delta]:
        if event_type != "chunk":
            return []
        # Every chunk of this style is a whole-message-shaped increment under choices[0].message [R][S].
        choice = first_object(payload.get("choices"), "choices")
        answer = answer_from_wire(obj(choice.get("message"), "choices[0].message"), "choices[0].message")
        usage, metrics = _usage(self._variant, payload)
        raw = choice.get(self._variant.stop_key)
        return [
            Delta(
                text=answer.content,
                tool_calls=answer.tool_calls,
                stop_reason=self._variant.stops.read(raw),
                usage=usage,
                metrics=metrics,
                raw_stop_reason=raw,
            )
        ]


class _DeltaWriter(_ChunkWriter):
    def __init__(self, variant: ChatVariant, request: ParsedRequest) -> None:
        super().__init__(variant, request)
        self._first = True

    def _delta(self, delta: dict[str, Any], reason: StopReason | None, usage: Usage | None = None) -> Event:
        if self._first:
            delta = {"role": "assistant", **delta}
            self._first = False
        return self._chunk("delta", delta, reason, usage)

    def text(self, text: str) -> list[Event]:
        return [self._delta({"content": text}, None)]

    def tool_calls(self, calls: Sequence[Any]) -> list[Event]:
        return [self._delta({"tool_calls": [{"index": i, **call} for i, call in enumerate(self._wired(calls))]}, None)]

    def last_chunk(self, stop_reason: StopReason, usage: Usage) -> Event:
        return self._delta({"content": ""}, stop_reason, usage)


class _DeltaReader(StreamReader):
    def __init__(self, variant: ChatVariant) -> None:
        self._variant = variant
        self._calls: dict[int, dict[str, str]] = {}

    def feed(self, event_type: str, payload: Mapping[str, Any]) -> list[Delta]:
        if event_type != "chunk":
            return []
        usage, metrics = _usage(self._variant, payload)
        choices = payload.get("choices")
        if choices == [] and usage is not None:
            return [Delta(usage=usage, metrics=metrics)]  # a usage-only chunk, as OpenAI-style servers end [I]
        choice = first_object(choices, "choices")
        # Deltas [S]; a whole message is taken too (a server that sends the non-streaming shape) [I].
        where = "choices[0].delta" if "delta" in choice else "choices[0].message"
        delta = obj(choice.get("delta", choice.get("message")), where)
        self._gather(delta, where)
        raw = choice.get(self._variant.stop_key)
        reason = self._variant.stops.read(raw)
        calls: tuple[ToolCall, ...] = ()
        if reason is not None and self._calls:
            calls = tuple(self._call(position, slot) for position, slot in sorted(self._calls.items()))
            self._calls.clear()
        return [
            Delta(
                text=optional_text(delta.get("content"), f"{where}.content") or "",
                tool_calls=calls,
                stop_reason=reason,
                usage=usage,
                metrics=metrics,
                raw_stop_reason=raw,
            )
        ]

    def _gather(self, delta: Mapping[str, Any], where: str) -> None:
        """Add one chunk's tool-call fragments: an id and name first, then pieces of the arguments' JSON."""
        for index, call in enumerate(each_object(delta.get("tool_calls"), f"{where}.tool_calls")):
            at = f"{where}.tool_calls[{index}]"
            position = index if call.get("index") is None else count(call["index"], f"{at}.index")
            slot = self._calls.setdefault(position, {"id": "", "name": "", "args": ""})
            function = obj(call.get("function") or {}, f"{at}.function")
            slot["id"] = optional_text(call.get("id"), f"{at}.id") or slot["id"]
            slot["name"] = optional_text(function.get("name"), f"{at}.function.name") or slot["name"]
            slot["args"] += optional_text(function.get("arguments"), f"{at}.function.arguments") or ""

    @staticmethod
    def _call(position: int, slot: Mapping[str, str]) -> ToolCall:
        if not slot["name"]:
            raise malformed(f"tool call {position}", "never got its function name")
        return decode_arguments(slot["id"], slot["name"], slot["args"])


MESSAGE_CHUNKS = ChatStream(writer=_MessageWriter, reader=_MessageReader)
DELTA_CHUNKS = ChatStream(writer=_DeltaWriter, reader=_DeltaReader)
