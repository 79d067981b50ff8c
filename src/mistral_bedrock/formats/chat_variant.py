"""What Mistral's two chat-completion bodies do differently, as one row of data each.

One chat format (:mod:`.chat_completion`) builds and reads both bodies: Bedrock's legacy Mistral chat dialect (row
in :mod:`.chat`) and the OpenAI-style dialect of the newer models (row in :mod:`.chat_openai`). A difference in
spelling is a value in the row; a difference in behaviour is a small strategy the row names — the stream style
(whole-message chunks or deltas, :mod:`.chat_streams`), the response envelope, the tool-call id rule — so the
format itself never asks which dialect it is speaking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict

from ..catalog import Dialect, ModelSpec
from ..conversation import Message, ToolCall
from ..prompt.tool_ids import IdStyle
from . import schema as s
from .body_types import ChatToolCall, MistralStopReason
from .format import ParsedRequest, StreamReader, StreamWriter
from .stops import StopTable
from .token_usage import UsageSpelling
from .tool_id_rules import check_tool_call_ids, wire_tool_call_ids

__all__ = ["ChatEnvelope", "ChatStream", "ChatVariant", "Envelope", "ToolIdRule"]


class ChatEnvelope(TypedDict, total=False):
    """The top-level keys a response or a stream chunk carries besides ``choices`` and ``usage``."""

    id: str
    object: str
    created: int
    model: str


#: A request's envelope, for a response (``chat.completion``) or a stream (``chat.completion.chunk``); called once
#: per response or per stream, so a stream's chunks share it.
Envelope = Callable[[ParsedRequest, str], ChatEnvelope]


@dataclass(frozen=True)
class ToolIdRule:
    """The tool-call ids a row writes, and whether the model's own rule on ids applies (see :mod:`.tool_id_rules`).

    Attributes:
        style: How the ids the runtime gives (answers, streamed calls) are spelled.
        model_rule: The body reaches the model's own validator with its history's ids unchanged: a history is
            rewritten to ids the model takes as the body is built, and a request holding others is refused.
    """

    style: IdStyle
    model_rule: bool

    def history(self, spec: ModelSpec, messages: Sequence[Message]) -> Sequence[Message]:
        """The conversation with the ids ``spec`` takes in this body."""
        return wire_tool_call_ids(spec, messages) if self.model_rule else messages

    def check(self, spec: ModelSpec, messages: Sequence[Message]) -> None:
        """Refuse a request holding an id the model does not take, as the model does."""
        if self.model_rule:
            check_tool_call_ids(spec, messages)


@dataclass(frozen=True)
class ChatStream:
    """How a stream carries the answer: the writer (runtime side) and the reader (client side) of one style."""

    writer: Callable[[ChatVariant, ParsedRequest], StreamWriter]
    reader: Callable[[ChatVariant], StreamReader]


@dataclass(frozen=True)
class ChatVariant:
    """One chat-completion body: everything the two dialects do differently.

    Attributes:
        dialect: The dialect this row speaks (a format's ``dialect`` is its row's).
        stop_key: The key of the stop reason in a choice.
        stops: The stop-reason spellings (:mod:`.stops`).
        properties: The body's keys besides the sampling parameters, with their schemas: what the validator
            checks before the request is read.
        tool_choices: The ``tool_choice`` strings a request may send (``required`` reads as ``any``); a function
            object names a tool where the schema lets one through.
        content_parts: The part types a message's content may list, each with the catalog flag
            (:class:`~mistral_bedrock.catalog.ConverseFeatures`) of the models that take it, None for text.
        call_to_wire: A tool call as the body spells it.
        ids: The tool-call ids the body carries.
        unsupported: Parameters the body has no key for; :meth:`~.format.Format.build_body` refuses a request
            setting any, with ``unsupported_message``.
        unsupported_message: The refusal, naming a dialect that has them.
        container_refused: Body keys the schema lets through and Mistral's serving container then refuses.
        envelope: The top-level keys a response or chunk carries besides ``choices``.
        usage: How a response, and a stream's last chunk, spell their token counts; None where they carry none
            (the client takes them from Bedrock's headers and stream metrics).
        stream: How a stream carries the answer.
    """

    dialect: Dialect
    stop_key: Literal["stop_reason", "finish_reason"]
    stops: StopTable[MistralStopReason]
    properties: Mapping[str, s.Schema]
    tool_choices: tuple[str, ...]
    content_parts: Mapping[str, str | None]
    call_to_wire: Callable[[ToolCall], ChatToolCall]
    ids: ToolIdRule
    unsupported: tuple[str, ...]
    unsupported_message: str
    container_refused: tuple[str, ...]
    envelope: Envelope
    usage: UsageSpelling | None
    stream: ChatStream
