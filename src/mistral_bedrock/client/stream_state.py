"""A response stream being read: frames in, deltas out, the whole answer (or a typed error) at its end."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..conversation import Completion, Delta, ToolCall, Usage
from ..errors import (
    MalformedResponseError,
    StreamError,
    error_from_code,
    error_from_stream_member,
)
from ..formats.fields import json_kind, malformed
from ..protocol.eventstream import EventStreamDecoder, InvalidFrameError
from ..protocol.stream_envelope import EnvelopeError, StreamEnvelope
from .prepared import Prepared
from .result import Result

__all__ = ["UNREADABLE", "StreamState", "guarded"]

_T = TypeVar("_T")


@dataclass
class StreamState:
    """Feeds a response stream's bytes through the frame decoder and the dialect's reader, and keeps score.

    A stream counts as complete only when a stop reason arrived (and, for Converse, the ``metadata`` event);
    anything less — a cut connection, a torn frame, an in-stream exception — raises instead of returning a
    partial answer.
    """

    prepared: Prepared
    request_id: str | None
    started: float
    decoder: EventStreamDecoder = field(default_factory=EventStreamDecoder)
    texts: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    stop: Delta | None = None
    usage: Usage | None = None
    metrics: Mapping[str, int] | None = None
    first_token_ms: float | None = None
    failed: bool = False

    def __post_init__(self) -> None:
        self.reader = self.prepared.fmt.stream_reader()
        self.envelope = StreamEnvelope(self.prepared.operation)

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def broken(self, reason: str) -> StreamError:
        self.failed = True
        return StreamError(reason, partial_text=self.text, request_id=self.request_id)

    def feed(self, data: bytes) -> list[Delta]:
        """Decode bytes; return the deltas they complete. Raises the typed error of an in-stream exception."""
        try:
            messages = self.decoder.feed(data)
        except InvalidFrameError as exc:
            raise self.broken(f"the response stream is corrupt: {exc}") from exc
        out: list[Delta] = []
        for message in messages:
            kind = message.message_type or "event"
            if kind == "exception":
                self.failed = True
                raise error_from_stream_member(
                    message.exception_type or "", _exception_message(message.payload), request_id=self.request_id
                )
            if kind == "error":
                self.failed = True
                code = str(message.headers.get(":error-code") or "UnknownError")
                raise error_from_code(
                    code, str(message.headers.get(":error-message") or ""), request_id=self.request_id
                )
            try:
                payload = _json(message.payload)
                try:
                    chunk = self.envelope.unwrap(message.event_type or "", payload)
                except EnvelopeError as exc:
                    raise MalformedResponseError(f"Malformed response: {exc}.") from exc
                if chunk is not None:
                    payload = _json(chunk)
                deltas = guarded(self.reader.feed, message.event_type or "", payload)
            except MalformedResponseError as exc:
                self.failed = True
                exc.received(message.payload, self.request_id, self.text)
                raise
            for delta in deltas:
                self._keep(delta)
                out.append(delta)
        return out

    def _keep(self, delta: Delta) -> None:
        if (delta.text or delta.tool_calls) and self.first_token_ms is None:
            self.first_token_ms = (time.perf_counter() - self.started) * 1000
        if delta.text:
            self.texts.append(delta.text)
        self.tool_calls.extend(delta.tool_calls)
        if delta.stop_reason is not None:
            self.stop = delta
        self.usage = delta.usage or self.usage
        self.metrics = delta.metrics or self.metrics

    def finish(self) -> Result:
        """The final result, once the body ended. Raises :class:`StreamError` for an incomplete stream."""
        try:
            self.decoder.close()
        except InvalidFrameError as exc:
            raise self.broken(f"the response stream ended inside a frame: {exc}") from exc
        if self.stop is None:
            raise self.broken("the response stream ended without a stop reason")
        if self.envelope.ends_with_metadata and self.usage is None:
            raise self.broken("the Converse stream ended without its metadata event")
        answer = Completion(
            self.text,
            self.stop.stop_reason,
            tuple(self.tool_calls),
            self.usage,
            raw_stop_reason=self.stop.raw_stop_reason,
        )
        return Result.of(
            answer,
            self.prepared,
            self.request_id,
            latency_ms=(time.perf_counter() - self.started) * 1000,
            time_to_first_token_ms=self.first_token_ms,
            metrics=self.metrics,
        )


UNREADABLE = (ValueError, UnicodeDecodeError, RecursionError)


def _json(raw: bytes) -> dict[str, Any]:
    """A stream event's payload: a JSON object (an empty payload is an empty one)."""
    try:
        value = json.loads(raw) if raw else {}
    except UNREADABLE as exc:
        raise MalformedResponseError(f"Malformed response: a stream event is not valid JSON ({exc}).") from exc
    if not isinstance(value, dict):
        raise malformed("a stream event", f"is {json_kind(value)}, not an object")
    return value


def _exception_message(payload: bytes) -> str:
    """The message of an in-stream exception; a body that is not the usual ``{"message"}`` is kept as text."""
    try:
        body = json.loads(payload) if payload else {}
    except UNREADABLE:
        return payload.decode("utf-8", "replace")
    if not isinstance(body, dict):
        return str(body)
    return str(body.get("message") or body.get("Message") or "")


def guarded(parse: Callable[..., _T], *args: Any) -> _T:
    """Run a format's parser; a shape its checks did not foresee is still a malformed response, not a crash.

    The formats check every field they read (:mod:`~mistral_bedrock.formats.fields`); this is the backstop,
    so a body of some unforeseen shape can never escape as ``KeyError`` or ``AttributeError``. The original
    error stays chained for diagnosis.
    """
    try:
        return parse(*args)
    except (LookupError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        raise MalformedResponseError(f"Malformed response: {type(exc).__name__}: {exc}") from exc
