"""The one interface every engine implements, and the events it yields.

An engine never sees HTTP: it gets a validated :class:`~mistral_bedrock.formats.ParsedRequest` and yields
text deltas and tool calls, then exactly one :class:`Stop`. The runtime builds both the whole and the
streamed response of every dialect from that one iterator. An engine signals a Bedrock error by raising a
:class:`~mistral_bedrock.errors.BedrockError`: before its first event that becomes an HTTP error, after it an
in-stream exception.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from mistral_bedrock.conversation import StopReason, ToolCall, Usage
from mistral_bedrock.formats import ParsedRequest

__all__ = ["Engine", "EngineEvent", "Stop", "TextDelta", "ToolCallEvent"]


@dataclass(frozen=True)
class TextDelta:
    """A piece of answer text (one or more tokens)."""

    text: str


@dataclass(frozen=True)
class ToolCallEvent:
    """A complete tool call. Leave ``call.id`` empty: the format assigns ids in its dialect's style."""

    call: ToolCall


@dataclass(frozen=True)
class Stop:
    """The end of the answer, with real token counts."""

    reason: StopReason
    usage: Usage
    stop_sequence: str | None = None


EngineEvent = TextDelta | ToolCallEvent | Stop


@runtime_checkable
class Engine(Protocol):
    """Something that answers requests."""

    name: str

    def generate(self, request: ParsedRequest) -> AsyncIterator[EngineEvent]:
        """Yield the answer's events; the last one is a :class:`Stop`."""
        ...
