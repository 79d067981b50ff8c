"""ConverseStream: the events of a streamed Converse answer, written (runtime side) and assembled (client side)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from ..conversation import Delta, StopReason, Usage
from ..prompt.tool_ids import IdStyle
from .common import decode_arguments
from .converse_response import STOPS, USAGE, converse_stop_reason
from .fields import count, malformed, obj, text
from .format import Event, Metrics, StreamReader, StreamWriter
from .tool_id_rules import assign_ids

__all__ = ["ConverseStreamReader", "ConverseStreamWriter"]


class ConverseStreamWriter(StreamWriter):
    """Events in the order clients assemble them: messageStart, blocks (each closed), messageStop, metadata."""

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._index = 0
        self._text_open = False
        self._started = False

    def _start(self) -> list[Event]:
        if self._started:
            return []
        self._started = True
        return [("messageStart", {"role": "assistant"})]

    def _close_text(self) -> list[Event]:
        if not self._text_open:
            return []
        self._text_open = False
        self._index += 1
        return [("contentBlockStop", {"contentBlockIndex": self._index - 1})]

    def text(self, text: str) -> list[Event]:
        events = self._start()
        self._text_open = True
        events.append(("contentBlockDelta", {"contentBlockIndex": self._index, "delta": {"text": text}}))
        return events

    def tool_calls(self, calls: Sequence[Any]) -> list[Event]:
        events = self._start() + self._close_text()
        for call in assign_ids(calls, IdStyle.TOOLUSE, self._seed):
            index = self._index
            events += [
                (
                    "contentBlockStart",
                    {
                        "contentBlockIndex": index,
                        "start": {"toolUse": {"toolUseId": call.id, "name": call.name}},
                    },
                ),
                (
                    "contentBlockDelta",
                    {
                        "contentBlockIndex": index,
                        "delta": {"toolUse": {"input": call.arguments_json}},
                    },
                ),
                ("contentBlockStop", {"contentBlockIndex": index}),
            ]
            self._index += 1
        return events

    def finish(
        self, stop_reason: StopReason, usage: Usage, metrics: Metrics, stop_sequence: str | None = None
    ) -> list[Event]:
        return [
            *self._start(),
            *self._close_text(),
            ("messageStop", {"stopReason": converse_stop_reason(stop_reason, stop_sequence)}),
            (
                "metadata",
                {
                    "usage": USAGE.write(usage),
                    "metrics": {"latencyMs": metrics.invocation_latency},
                },
            ),
        ]


class ConverseStreamReader(StreamReader):
    """Assembles ConverseStream events; each event's required members are the service model's [BC]."""

    def __init__(self) -> None:
        self._tools: dict[int, dict[str, str]] = {}

    def feed(self, event_type: str, payload: Mapping[str, Any]) -> list[Delta]:
        read = self._EVENTS.get(event_type)
        return read(self, payload) if read is not None else []  # messageStart and unknown events carry nothing

    def _block_start(self, payload: Mapping[str, Any]) -> list[Delta]:
        index = count(payload.get("contentBlockIndex"), "contentBlockStart.contentBlockIndex")
        start = obj(payload.get("start"), "contentBlockStart.start")
        if start.get("toolUse") is not None:
            use = obj(start["toolUse"], "contentBlockStart.start.toolUse")
            self._tools[index] = {
                "id": text(use.get("toolUseId"), "contentBlockStart.start.toolUse.toolUseId"),
                "name": text(use.get("name"), "contentBlockStart.start.toolUse.name"),
                "input": "",
            }
        return []

    def _block_delta(self, payload: Mapping[str, Any]) -> list[Delta]:
        index = count(payload.get("contentBlockIndex"), "contentBlockDelta.contentBlockIndex")
        delta = obj(payload.get("delta"), "contentBlockDelta.delta")
        if delta.get("text") is not None:
            return [Delta(text=text(delta["text"], "contentBlockDelta.delta.text"))]
        if delta.get("toolUse") is not None:
            slot = self._tools.get(index)
            if slot is None:
                raise malformed(f"the toolUse delta of block {index}", "arrived before its contentBlockStart")
            use = obj(delta["toolUse"], "contentBlockDelta.delta.toolUse")
            slot["input"] += text(use.get("input"), "contentBlockDelta.delta.toolUse.input")
        return []

    def _block_stop(self, payload: Mapping[str, Any]) -> list[Delta]:
        slot = self._tools.pop(count(payload.get("contentBlockIndex"), "contentBlockStop.contentBlockIndex"), None)
        if slot is None:
            return []
        return [Delta(tool_calls=(decode_arguments(slot["id"], slot["name"], slot["input"]),))]

    def _message_stop(self, payload: Mapping[str, Any]) -> list[Delta]:
        raw = payload.get("stopReason")
        return [Delta(stop_reason=STOPS.read(raw, required=True), raw_stop_reason=raw)]

    def _metadata(self, payload: Mapping[str, Any]) -> list[Delta]:
        metrics = obj(payload.get("metrics"), "metadata.metrics")
        return [
            Delta(
                usage=USAGE.read(payload.get("usage"), "metadata.usage"),
                metrics={"latencyMs": count(metrics.get("latencyMs"), "metadata.metrics.latencyMs")},
            )
        ]

    _EVENTS: ClassVar[dict[str, Callable[[ConverseStreamReader, Mapping[str, Any]], list[Delta]]]] = {
        "contentBlockStart": _block_start,
        "contentBlockDelta": _block_delta,
        "contentBlockStop": _block_stop,
        "messageStop": _message_stop,
        "metadata": _metadata,
    }
