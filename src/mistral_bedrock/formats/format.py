"""What every format provides, and the neutral parsed request the runtime hands to engines.

A format is one dialect's translator, used from both sides of the wire:

* client side — :meth:`Format.build_body` (neutral conversation → body), :meth:`Format.parse_response`,
  :meth:`Format.stream_reader` (stream payloads → :class:`~mistral_bedrock.conversation.Delta`);
* runtime side — :meth:`Format.parse_request` (validates exactly as Bedrock does), :meth:`Format.build_response`,
  :meth:`Format.stream_writer` (engine output → stream events).

Formats never do I/O. Stream events are ``(event_type, payload)`` pairs: for the native dialects the event is
``chunk`` and the payload is the model's JSON chunk (the transport wraps it in base64 ``bytes``); for Converse
the event types are the ``ConverseStreamOutput`` members.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..catalog import Dialect, ModelSpec
from ..conversation import Completion, Delta, Message, Messages, Params, StopReason, Tool, Tools, Usage
from ..protocol.operations import OperationName

__all__ = [
    "Event",
    "Format",
    "Metrics",
    "ParsedRequest",
    "StreamReader",
    "StreamWriter",
    "request_seed",
]

Event = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Metrics:
    """Invocation timing, in milliseconds, as Bedrock reports it."""

    invocation_latency: int
    first_byte_latency: int


@dataclass(frozen=True)
class ParsedRequest:
    """A validated request, in neutral terms: what an engine needs to answer it.

    Attributes:
        spec: The model.
        dialect: The dialect the body was written in.
        messages: The conversation. For a raw ``prompt``, its turns, filled by :meth:`Format.with_turns` (empty
            straight from :meth:`Format.parse_request`).
        prompt: The raw text-completion prompt, or None.
        params: Parameters as sent; use :meth:`param` for the effective value.
        tools: Tool definitions.
        tool_choice: ``auto``, ``any``, ``none``, or None when not sent.
        forced_tool: A tool the request requires by name (Converse ``toolChoice.tool``).
        stream: Whether the response streams.
    """

    spec: ModelSpec
    dialect: Dialect
    messages: tuple[Message, ...] = ()
    prompt: str | None = None
    params: Params = field(default_factory=Params)
    tools: tuple[Tool, ...] = ()
    tool_choice: str | None = None
    forced_tool: str | None = None
    stream: bool = False

    @property
    def max_tokens(self) -> int:
        """The effective ``max_tokens``: as sent, else the model's default."""
        if self.params.max_tokens is not None:
            return self.params.max_tokens
        default = self.spec.default("max_tokens")
        return int(default) if default is not None else self.spec.max_output

    @property
    def stop(self) -> tuple[str, ...]:
        return self.params.stop or ()

    @property
    def effective_tool_choice(self) -> str:
        """``auto`` unless the request said otherwise (and ``none`` when there are no tools)."""
        if not self.tools:
            return "none"
        return self.tool_choice or "auto"


class StreamWriter(abc.ABC):
    """Turns engine output into a dialect's stream events (runtime side)."""

    @abc.abstractmethod
    def text(self, text: str) -> list[Event]:
        """Events for a text delta."""

    @abc.abstractmethod
    def tool_calls(self, calls: Sequence[Any]) -> list[Event]:
        """Events for complete tool calls."""

    @abc.abstractmethod
    def finish(
        self, stop_reason: StopReason, usage: Usage, metrics: Metrics, stop_sequence: str | None = None
    ) -> list[Event]:
        """The closing events: stop reason, usage and invocation metrics."""


class StreamReader(abc.ABC):
    """Turns a dialect's stream events into deltas (client side)."""

    @abc.abstractmethod
    def feed(self, event_type: str, payload: Mapping[str, Any]) -> list[Delta]:
        """Parse one event. Unknown event types are ignored, as botocore does."""


#: The request fields a body may or may not carry, by their neutral names (:class:`Params` and the tool fields).
REQUEST_FIELDS = frozenset({"max_tokens", "temperature", "top_p", "top_k", "stop", "tools", "tool_choice"})


class Format(abc.ABC):
    """One dialect's translator. Instances are stateless and shared through the registry."""

    dialect: ClassVar[Dialect]
    #: The operations that carry this format's body: (whole answer, stream). A model-native body goes through
    #: InvokeModel and InvokeModelWithResponseStream; Converse has operations of its own.
    operations: ClassVar[tuple[OperationName, OperationName]] = (
        OperationName.INVOKE_MODEL,
        OperationName.INVOKE_MODEL_WITH_RESPONSE_STREAM,
    )

    #: What a model's answer in this dialect starts with before its first word: the text dialect returns the
    #: completion's first token ``▁Word`` as `` Word``; the others return the answer as it reads.
    answer_lead: ClassVar[str] = ""

    def carries(self, spec: ModelSpec) -> frozenset[str]:
        """Which of :data:`REQUEST_FIELDS` this dialect's body carries for ``spec``; :meth:`build_body` refuses a
        request that sets any other (the CLI and the Mistral-shaped API ask here before building anything)."""
        return REQUEST_FIELDS

    # -- client side ------------------------------------------------------------------------------
    @abc.abstractmethod
    def build_body(
        self, spec: ModelSpec, messages: Messages, params: Params, tools: Tools = (), tool_choice: str | None = None
    ) -> Mapping[str, Any]:
        """The request body for a neutral conversation (one of the typed dicts of :mod:`.body_types`)."""

    @abc.abstractmethod
    def parse_response(self, body: Mapping[str, Any], usage: Usage | None = None) -> Completion:
        """Parse a whole (non-streaming) response body. ``usage`` comes from headers where the body has none."""

    @abc.abstractmethod
    def stream_reader(self) -> StreamReader:
        """A fresh reader for one response stream."""

    # -- runtime side -----------------------------------------------------------------------------
    @abc.abstractmethod
    def parse_request(self, spec: ModelSpec, body: object, *, stream: bool) -> ParsedRequest:
        """Validate a request body exactly as Bedrock does and return it in neutral terms.

        Raises:
            ValidationException: With Bedrock's message.
        """

    def with_turns(self, request: ParsedRequest) -> ParsedRequest:
        """``request`` with its conversation in :attr:`ParsedRequest.messages`, for the engine.

        Dialects that send messages have them from :meth:`parse_request`; the text dialect recovers the turns of
        its prompt here, once the prompt is known to fit the model's window (recovering them copies the prompt:
        tens of milliseconds holding the GIL for a 20 MB prompt that is refused anyway).
        """
        return request

    @abc.abstractmethod
    def build_response(self, request: ParsedRequest, completion: Completion, metrics: Metrics) -> Mapping[str, Any]:
        """The whole response body for a completion."""

    @abc.abstractmethod
    def stream_writer(self, request: ParsedRequest) -> StreamWriter:
        """A fresh writer for one response stream."""


def request_seed(request: ParsedRequest) -> str:
    """A stable fingerprint of a request, for deterministic ids."""
    return repr((request.spec.model_id, request.prompt, request.messages))
