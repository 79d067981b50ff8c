"""One decoded event-stream frame."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .encoder import encode_message
from .values import HeaderValue


@dataclass(frozen=True, slots=True)
class EventStreamMessage:
    """One decoded frame.

    ``headers`` from the decoder is a read-only mapping in wire order; frames with byte-identical
    header blocks may share the same mapping object (it cannot be mutated, so that is safe).
    """

    headers: Mapping[str, HeaderValue]
    payload: bytes

    @property
    def message_type(self) -> str | None:
        """``:message-type`` (``event``, ``exception`` or ``error``), or None if absent."""
        value = self.headers.get(":message-type")
        return value if isinstance(value, str) else None

    @property
    def event_type(self) -> str | None:
        """``:event-type`` (e.g. ``chunk``, ``contentBlockDelta``), or None if absent."""
        value = self.headers.get(":event-type")
        return value if isinstance(value, str) else None

    @property
    def exception_type(self) -> str | None:
        """``:exception-type`` (e.g. ``throttlingException``), or None if absent."""
        value = self.headers.get(":exception-type")
        return value if isinstance(value, str) else None

    def encode(self) -> bytes:
        """This message as wire bytes (same as :func:`encode_message`)."""
        return encode_message(self.headers, self.payload)
