"""The envelope of a response stream: how each model event travels inside Bedrock's event-stream frames.

Bedrock's two streaming operations carry the model's events differently, and which one an operation uses follows
from its body kind (:class:`~.operations.BodyKind`), so it is decided here, once, for the client and the runtime:

* ``BLOB`` operations (InvokeModelWithResponseStream) send the model's own JSON chunk base64-encoded in a ``chunk``
  event, ``{"bytes": "<base64>", "p": "<padding>"}`` [BC]. The stream is complete at the model's stop.
* ``JSON`` operations (ConverseStream) send each event as a JSON structure with ``p`` beside its members, and the
  stream is complete only with its closing ``metadata`` event (usage and metrics) [BC].

``p`` is padding of varying length that Bedrock adds so that frame sizes say nothing of the text; clients ignore
it. The runtime writes a prefix of :data:`PADDING`, longer or shorter from one event to the next.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from .eventstream import encode_event
from .operations import BodyKind, Operation

__all__ = ["PADDING", "EnvelopeError", "StreamEnvelope"]

#: The alphabet of the runtime's padding.
PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class EnvelopeError(ValueError):
    """An event that does not have the envelope its operation uses; the message names the member at fault."""


class StreamEnvelope:
    """One response stream's envelope, for the operation that carries it.

    Args:
        operation: A streaming operation.
        padding: Whether events written here carry Bedrock's ``p`` padding.
    """

    def __init__(self, operation: Operation, *, padding: bool = True) -> None:
        self.wraps_chunks = operation.body is BodyKind.BLOB
        self.padding = padding
        self.sent = 0

    @property
    def ends_with_metadata(self) -> bool:
        """Whether the stream is complete only once its ``metadata`` event has arrived (ConverseStream)."""
        return not self.wraps_chunks

    def frame(self, event_type: str, payload: Mapping[str, Any]) -> bytes:
        """The frame of one model event (the runtime's side)."""
        if self.wraps_chunks:
            return self.chunk_frame(event_type, json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
        pad = self._pad()
        wire = {**payload, "p": pad} if pad else payload
        return encode_event(event_type, json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode())

    def chunk_frame(self, event_type: str, body: bytes) -> bytes:
        """The frame of a chunk whose model JSON is already encoded (a replayed one, byte for byte)."""
        pad = self._pad()
        # base64 and the padding alphabet need no JSON escaping: the wrapper is written directly.
        tail = b'","p":"' + pad.encode() + b'"}' if pad else b'"}'
        return encode_event(event_type, b'{"bytes":"' + base64.b64encode(body) + tail)

    def _pad(self) -> str | None:
        pad = PADDING[: 1 + (self.sent * 7) % len(PADDING)] if self.padding else None
        self.sent += 1
        return pad

    def unwrap(self, event_type: str, payload: Mapping[str, Any]) -> bytes | None:
        """The model's own JSON in an event's payload (the client's side), or None where the payload is the event.

        Raises:
            EnvelopeError: A ``chunk`` event whose ``bytes`` is missing or not base64.
        """
        if not (self.wraps_chunks and event_type == "chunk"):
            return None
        encoded = payload.get("bytes")
        if not isinstance(encoded, str):
            shown = "missing" if encoded is None else "not a string"
            raise EnvelopeError(f"chunk.bytes is {shown}")
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise EnvelopeError("chunk.bytes is not base64") from exc
