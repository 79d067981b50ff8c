"""Framing errors: :class:`InvalidFrameError` and one subclass per failed check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .wire import MAX_HEADERS_LENGTH, MAX_PAYLOAD_LENGTH, MIN_MESSAGE_LENGTH

if TYPE_CHECKING:
    from .message import EventStreamMessage


class InvalidFrameError(ValueError):
    """A byte stream that is not valid event-stream framing.

    Attributes:
        detail: Which check failed, with the expected and the actual value.
        offset: Stream offset of the first byte of the offending frame, when known.
        decoded: Messages that :meth:`EventStreamDecoder.feed` completed in the same call before
            the bad frame; they are valid and would otherwise be lost with the exception.
    """

    def __init__(self, detail: str, *, offset: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.offset = offset
        self.decoded: list[EventStreamMessage] = []

    def __str__(self) -> str:
        if self.offset is None:
            return self.detail
        return f"{self.detail} (frame at stream offset {self.offset})"


class PreludeCRCMismatchError(InvalidFrameError):
    """The CRC of the first 8 bytes does not match the prelude CRC field."""

    def __init__(self, expected: int, computed: int) -> None:
        super().__init__(f"prelude CRC mismatch: expected 0x{expected:08x}, computed 0x{computed:08x}")
        self.expected = expected
        self.computed = computed


class MessageCRCMismatchError(InvalidFrameError):
    """The CRC of the whole frame does not match the trailing message CRC field."""

    def __init__(self, expected: int, computed: int) -> None:
        super().__init__(f"message CRC mismatch: expected 0x{expected:08x}, computed 0x{computed:08x}")
        self.expected = expected
        self.computed = computed


class InvalidTotalLengthError(InvalidFrameError):
    """The total length is below the 16-byte minimum (prelude plus message CRC)."""

    def __init__(self, total_length: int) -> None:
        super().__init__(f"total length too small: expected at least {MIN_MESSAGE_LENGTH}, got {total_length}")
        self.total_length = total_length


class InvalidHeadersLengthError(InvalidFrameError):
    """The headers length does not fit inside the frame's total length."""

    def __init__(self, headers_length: int, total_length: int) -> None:
        super().__init__(
            f"headers length does not fit the frame: expected at most "
            f"{total_length - MIN_MESSAGE_LENGTH} (total length {total_length} - 16), "
            f"got {headers_length}"
        )
        self.headers_length = headers_length
        self.total_length = total_length


class HeadersTooLargeError(InvalidFrameError):
    """The header block exceeds :data:`MAX_HEADERS_LENGTH`."""

    def __init__(self, headers_length: int) -> None:
        super().__init__(f"headers length over limit: expected at most {MAX_HEADERS_LENGTH}, got {headers_length}")
        self.headers_length = headers_length


class PayloadTooLargeError(InvalidFrameError):
    """The payload exceeds :data:`MAX_PAYLOAD_LENGTH`."""

    def __init__(self, payload_length: int) -> None:
        super().__init__(f"payload length over limit: expected at most {MAX_PAYLOAD_LENGTH}, got {payload_length}")
        self.payload_length = payload_length


class UnknownHeaderTypeError(InvalidFrameError):
    """A header's value type byte is not 0..9."""

    def __init__(self, name: str, value_type: int) -> None:
        super().__init__(f"bad header type for {name!r}: expected 0..9, got {value_type}")
        self.name = name
        self.value_type = value_type


class TruncatedHeaderError(InvalidFrameError):
    """A header name or value runs past the end of the header block."""

    def __init__(self, what: str, needed: int, available: int) -> None:
        super().__init__(f"truncated header: {what} needs {needed} bytes, only {available} left in the header block")
        self.needed = needed
        self.available = available


class DuplicateHeaderError(InvalidFrameError):
    """A header name occurs more than once in one frame."""

    def __init__(self, name: str) -> None:
        super().__init__(f"duplicate header name: expected {name!r} once, got it again")
        self.name = name


class InvalidHeaderEncodingError(InvalidFrameError):
    """A header name or string value is not valid UTF-8."""

    def __init__(self, what: str, error: UnicodeDecodeError) -> None:
        super().__init__(f"invalid UTF-8 in {what}: expected UTF-8, got {error.reason} at byte {error.start}")


class TruncatedStreamError(InvalidFrameError):
    """Input ended in the middle of a frame."""

    def __init__(self, pending: int, needed: int) -> None:
        super().__init__(
            f"truncated stream: expected at least {needed} bytes to complete the frame, input ended with {pending}"
        )
        self.pending = pending
        self.needed = needed
