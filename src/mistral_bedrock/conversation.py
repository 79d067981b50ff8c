"""The neutral conversation: what every format translates to and from.

A conversation is a list of :class:`Message` plus optional :class:`Tool` definitions and
:class:`Params`. Formats turn it into a Bedrock body for their dialect and parse responses back into
:class:`Completion` and :class:`Delta` values, so the client, the CLI and the runtime never look at a
dialect's JSON themselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Completion",
    "Delta",
    "Message",
    "Messages",
    "Params",
    "Role",
    "StopReason",
    "Tool",
    "ToolCall",
    "Tools",
    "Usage",
    "WrittenStopReason",
    "as_messages",
]

Role = Literal["system", "user", "assistant", "tool"]
# Why an answer ended, in one vocabulary for every dialect. Mistral's names for its own reasons; Bedrock's
# Converse names for what only Bedrock says (a guardrail, a filter, output it could not parse, a full context
# window); Mistral's ``error``; and ``unknown`` for a spelling no table knows. Each format reads and writes
# its dialect's spellings through one table (``mistral_bedrock.formats.stops``), and the raw spelling always
# travels beside the normalised one. ``unknown`` is only ever read, never written.
WrittenStopReason = Literal[
    "stop",  # the answer is complete (or a requested stop sequence ended it)
    "length",  # cut at max_tokens
    "tool_calls",  # the model asks for tool calls
    "guardrail_intervened",  # a Bedrock guardrail blocked or rewrote the answer
    "content_filtered",  # a content filter withheld the answer
    "malformed_model_output",  # Bedrock could not parse what the model wrote
    "malformed_tool_use",  # the model's tool call was not valid
    "model_context_window_exceeded",  # the context window filled up before the answer ended
    "error",  # the model itself ended with an error (Mistral's finish_reason ``error``)
]
# ``unknown``: a stop reason this package does not know; the raw spelling says which.
StopReason = Literal[WrittenStopReason, "unknown"]


@dataclass(frozen=True)
class ToolCall:
    """A tool call made by the model. ``arguments`` is the parsed JSON object."""

    id: str
    name: str
    arguments: Mapping[str, Any]

    @property
    def arguments_json(self) -> str:
        """The arguments as the compact JSON string Mistral's chat dialect carries."""
        return json.dumps(self.arguments, ensure_ascii=False)


@dataclass(frozen=True)
class Message:
    """One turn. ``tool_calls`` only on assistant turns; ``tool_call_id`` only on tool turns."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None  # the tool's name on a tool turn, when known

    @classmethod
    def system(cls, content: str) -> Message:
        return cls("system", content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: Sequence[ToolCall] = ()) -> Message:
        return cls("assistant", content, tuple(tool_calls))

    @classmethod
    def tool(cls, tool_call_id: str, content: str, name: str | None = None) -> Message:
        return cls("tool", content, tool_call_id=tool_call_id, name=name)


@dataclass(frozen=True)
class Tool:
    """A function the model may call; ``parameters`` is a JSON schema object."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


#: A conversation, and the tools offered with it, as every format's ``build_body`` takes them.
Messages = Sequence[Message]
Tools = Sequence[Tool]


@dataclass(frozen=True)
class Params:
    """Inference parameters; None means "not sent", so Bedrock's per-model default applies."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: tuple[str, ...] | None = None

    def keywords(self) -> dict[str, Any]:
        """The parameters that are set, as the keyword arguments every client method takes."""
        values: dict[str, Any] = {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_p": self.top_p}
        values |= {"top_k": self.top_k, "stop": list(self.stop) if self.stop else None}
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class Usage:
    """Token usage as Bedrock reports it."""

    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Completion:
    """A whole answer, parsed from any dialect."""

    text: str
    stop_reason: StopReason | None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    stop_sequence: str | None = None  # the stop sequence that ended the answer, when one did
    raw_stop_reason: str | None = None  # as the dialect spelled it (``end_turn``, ``tool_use``…)

    @property
    def message(self) -> Message:
        """The answer as an assistant turn, ready to append to the history."""
        return Message.assistant(self.text, self.tool_calls)


@dataclass(frozen=True)
class Delta:
    """One parsed stream chunk. The final chunk may carry text, a stop reason and usage all at once."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: StopReason | None = None
    usage: Usage | None = None
    metrics: Mapping[str, int] | None = None  # amazon-bedrock-invocationMetrics, as sent
    raw_stop_reason: str | None = None


def as_messages(prompt_or_messages: str | Sequence[Message]) -> list[Message]:
    """A string is one user turn; a sequence of messages is taken as it is."""
    if isinstance(prompt_or_messages, str):
        return [Message.user(prompt_or_messages)]
    return list(prompt_or_messages)
