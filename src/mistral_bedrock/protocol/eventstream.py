"""AWS event-stream binary framing (``application/vnd.amazon.eventstream``).

Every streaming Bedrock response (InvokeModelWithResponseStream, ConverseStream) is a sequence of
self-delimiting binary messages. All integers are big-endian; both CRCs are the IEEE CRC-32 of
``zlib.crc32``::

    offset  size  field
    0       4     total_length    uint32  = 12 + headers_length + payload_length + 4
    4       4     headers_length  uint32
    8       4     prelude_crc     uint32  = CRC32(bytes[0:8])
    12      H     headers         H = headers_length bytes
    12+H    P     payload         P = total_length - H - 16
    end-4   4     message_crc     uint32  = CRC32(bytes[0:end-4]), prelude and prelude CRC included

    +-------------+----------------+-------------+---------+---------+-------------+
    | total_len 4 | headers_len 4  | prelude_crc | headers | payload | message_crc |
    +-------------+----------------+-------------+---------+---------+-------------+
    |<------------------- prelude (12) -------->|

Each header is ``name_length:uint8, name:UTF-8, value_type:uint8, value``; names are unique:

    type  meaning     value                          Python value here
    0     bool true   (none)                         True
    1     bool false  (none)                         False
    2     byte        int8                           Int8
    3     short       int16                          Int16
    4     integer     int32                          Int32
    5     long        int64                          Int64
    6     byte array  uint16 length + bytes          bytes
    7     string      uint16 length + UTF-8 bytes    str
    8     timestamp   int64 milliseconds since epoch Timestamp (``datetime`` accepted when encoding)
    9     uuid        16 bytes                       uuid.UUID

Bedrock itself only sends type-7 string headers: ``:event-type``, ``:content-type`` and
``:message-type`` for events; ``:exception-type`` instead of ``:event-type`` for modelled
exceptions; ``:error-code``/``:error-message`` for ``:message-type error``.

Decoding is incremental: :class:`EventStreamDecoder.feed` takes bytes split anywhere and returns
the messages that became complete. Limits follow botocore (headers ≤ 128 KiB, payload ≤ 24 MiB),
so a hostile length field can never make the decoder buffer more than one maximal frame.

This module is pure standard library so both the client and the local runtime can use it.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import IntEnum
from types import MappingProxyType
from typing import Final, TypeAlias
from zlib import crc32

__all__ = [
    "MAX_HEADERS_LENGTH",
    "MAX_PAYLOAD_LENGTH",
    "MIN_MESSAGE_LENGTH",
    "PRELUDE_LENGTH",
    "DuplicateHeaderError",
    "EventStreamDecoder",
    "EventStreamMessage",
    "HeaderInput",
    "HeaderType",
    "HeaderValue",
    "HeadersTooLargeError",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "InvalidFrameError",
    "InvalidHeaderEncodingError",
    "InvalidHeadersLengthError",
    "InvalidTotalLengthError",
    "MessageCRCMismatchError",
    "PayloadTooLargeError",
    "PreludeCRCMismatchError",
    "Timestamp",
    "TruncatedHeaderError",
    "TruncatedStreamError",
    "UnknownHeaderTypeError",
    "decode_message",
    "encode_error",
    "encode_event",
    "encode_exception",
    "encode_headers",
    "encode_message",
    "header_type",
]

PRELUDE_LENGTH: Final = 12
"""Bytes before the headers: total length, headers length, prelude CRC."""
MIN_MESSAGE_LENGTH: Final = 16
"""The smallest legal frame: a prelude and a message CRC, no headers, no payload."""
MAX_HEADERS_LENGTH: Final = 128 * 1024
"""botocore's ``_MAX_HEADERS_LENGTH``; larger header blocks are rejected on both sides."""
MAX_PAYLOAD_LENGTH: Final = 24 * 1024 * 1024
"""botocore's ``_MAX_PAYLOAD_LENGTH``; larger payloads are rejected on both sides."""

_MAX_NAME_LENGTH: Final = 0xFF  # name length is a uint8
_MAX_VALUE_LENGTH: Final = 0xFFFF  # byte-array and string lengths are a uint16

# Precompiled structs: struct.Struct skips the format-string cache lookup of struct.pack.
_PRELUDE = struct.Struct(">III")
_LENGTHS = struct.Struct(">II")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_I8 = struct.Struct(">b")
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS: Final = timedelta(milliseconds=1)


# --------------------------------------------------------------------------------------------
# Header value types
# --------------------------------------------------------------------------------------------


class HeaderType(IntEnum):
    """The ``value_type`` byte of a header."""

    BOOL_TRUE = 0
    BOOL_FALSE = 1
    BYTE = 2
    SHORT = 3
    INTEGER = 4
    LONG = 5
    BYTE_ARRAY = 6
    STRING = 7
    TIMESTAMP = 8
    UUID = 9


def _check_range(kind: str, value: int, low: int, high: int) -> None:
    # bool is an int subclass; Int8(True) is almost certainly a mistake, so refuse it.
    if type(value) is not int:
        raise TypeError(f"{kind} needs an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{kind} out of range: expected {low}..{high}, got {value}")


# Python has one int type but the wire has four widths. Wrapping the number keeps the width in the
# value, so decode(encode(x)) == x exactly and Int8(5) != Int32(5).
@dataclass(frozen=True, slots=True)
class Int8:
    """A type-2 ``byte`` header value (-128..127)."""

    value: int

    def __post_init__(self) -> None:
        _check_range("Int8", self.value, -(2**7), 2**7 - 1)


@dataclass(frozen=True, slots=True)
class Int16:
    """A type-3 ``short`` header value."""

    value: int

    def __post_init__(self) -> None:
        _check_range("Int16", self.value, -(2**15), 2**15 - 1)


@dataclass(frozen=True, slots=True)
class Int32:
    """A type-4 ``integer`` header value."""

    value: int

    def __post_init__(self) -> None:
        _check_range("Int32", self.value, -(2**31), 2**31 - 1)


@dataclass(frozen=True, slots=True)
class Int64:
    """A type-5 ``long`` header value."""

    value: int

    def __post_init__(self) -> None:
        _check_range("Int64", self.value, -(2**63), 2**63 - 1)


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A type-8 ``timestamp`` header value: signed milliseconds since the Unix epoch.

    Decoding yields this rather than a ``datetime`` because the wire range (±2**63 ms) is far wider
    than ``datetime``'s years 1..9999; keeping the integer makes every frame decodable and every
    round trip exact.
    """

    millis: int

    def __post_init__(self) -> None:
        _check_range("Timestamp", self.millis, -(2**63), 2**63 - 1)

    @classmethod
    def from_datetime(cls, value: datetime) -> Timestamp:
        """Convert an aware ``datetime``, rounding sub-millisecond precision down."""
        if value.utcoffset() is None:
            raise ValueError("timestamp header needs an aware datetime (naive ones are ambiguous)")
        return cls((value - _EPOCH) // _ONE_MS)

    def to_datetime(self) -> datetime:
        """This instant as an aware UTC ``datetime`` (``OverflowError`` outside years 1..9999)."""
        return _EPOCH + timedelta(milliseconds=self.millis)


HeaderValue: TypeAlias = bool | Int8 | Int16 | Int32 | Int64 | bytes | str | Timestamp | uuid.UUID
"""What decoding produces; each Python type maps to exactly one wire type."""

HeaderInput: TypeAlias = HeaderValue | datetime
"""What encoding accepts: any :data:`HeaderValue`, or an aware ``datetime`` for a timestamp."""


def header_type(value: HeaderInput) -> HeaderType:
    """The wire type a header value encodes as (raises ``TypeError`` for unsupported values)."""
    # Order matters: bool before anything int-like.
    if value is True:
        return HeaderType.BOOL_TRUE
    if value is False:
        return HeaderType.BOOL_FALSE
    kind = _TYPE_OF_CLASS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, str):
        return HeaderType.STRING
    if isinstance(value, bytes | bytearray | memoryview):
        return HeaderType.BYTE_ARRAY
    if isinstance(value, datetime):
        return HeaderType.TIMESTAMP
    if isinstance(value, uuid.UUID):
        return HeaderType.UUID
    if isinstance(value, int):
        raise TypeError("a bare int header value is ambiguous; wrap it in Int8, Int16, Int32 or Int64")
    raise TypeError(f"unsupported header value type: {type(value).__name__}")


_TYPE_OF_CLASS: Final[dict[type, HeaderType]] = {
    str: HeaderType.STRING,
    bytes: HeaderType.BYTE_ARRAY,
    Int8: HeaderType.BYTE,
    Int16: HeaderType.SHORT,
    Int32: HeaderType.INTEGER,
    Int64: HeaderType.LONG,
    Timestamp: HeaderType.TIMESTAMP,
    uuid.UUID: HeaderType.UUID,
}


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Message
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------


def _encode_name(name: str) -> bytes:
    raw = name.encode("utf-8")
    if len(raw) > _MAX_NAME_LENGTH:
        raise ValueError(f"header name too long: expected at most {_MAX_NAME_LENGTH} UTF-8 bytes, got {len(raw)}")
    return bytes((len(raw),)) + raw


def _encode_variable(name: str, value_type: int, raw: bytes) -> bytes:
    if len(raw) > _MAX_VALUE_LENGTH:
        raise ValueError(f"header {name!r} value too long: expected at most {_MAX_VALUE_LENGTH} bytes, got {len(raw)}")
    return bytes((value_type,)) + _U16.pack(len(raw)) + raw


def _datetime_millis(value: datetime) -> int:
    if value.utcoffset() is None:
        raise ValueError("timestamp header needs an aware datetime (naive ones are ambiguous)")
    millis, rest = divmod(value - _EPOCH, _ONE_MS)
    if rest:
        # Refuse rather than truncate silently: decode(encode(x)) must give x back.
        raise ValueError("datetime has sub-millisecond precision; use Timestamp.from_datetime() to truncate")
    return int(millis)


def _encode_value(name: str, value: HeaderInput) -> bytes:
    kind = header_type(value)
    if kind is HeaderType.STRING:
        assert isinstance(value, str)
        return _encode_variable(name, 7, value.encode("utf-8"))
    if kind is HeaderType.BYTE_ARRAY:
        assert isinstance(value, bytes | bytearray | memoryview)
        return _encode_variable(name, 6, bytes(value))
    if kind is HeaderType.BOOL_TRUE:
        return b"\x00"
    if kind is HeaderType.BOOL_FALSE:
        return b"\x01"
    if isinstance(value, Int8):
        return b"\x02" + _I8.pack(value.value)
    if isinstance(value, Int16):
        return b"\x03" + _I16.pack(value.value)
    if isinstance(value, Int32):
        return b"\x04" + _I32.pack(value.value)
    if isinstance(value, Int64):
        return b"\x05" + _I64.pack(value.value)
    if isinstance(value, Timestamp):
        return b"\x08" + _I64.pack(value.millis)
    if isinstance(value, datetime):
        millis = _datetime_millis(value)
        _check_range("Timestamp", millis, -(2**63), 2**63 - 1)
        return b"\x08" + _I64.pack(millis)
    assert isinstance(value, uuid.UUID)
    return b"\x09" + value.bytes


def encode_headers(headers: Mapping[str, HeaderInput]) -> bytes:
    """Encode a header block, in the mapping's iteration order.

    Raises ``TypeError`` for unsupported values (a bare ``int`` included: pick a width), and
    ``ValueError`` for over-long names/values or a block over :data:`MAX_HEADERS_LENGTH`.
    """
    block = b"".join([_encode_name(name) + _encode_value(name, v) for name, v in headers.items()])
    if len(block) > MAX_HEADERS_LENGTH:
        raise HeadersTooLargeError(len(block))
    return block


def _frame(header_block: bytes, payload: bytes) -> bytes:
    # The one place frames are assembled; the header block is already validated.
    headers_length = len(header_block)
    payload_length = len(payload)
    if payload_length > MAX_PAYLOAD_LENGTH:
        raise PayloadTooLargeError(payload_length)
    lengths = _LENGTHS.pack(MIN_MESSAGE_LENGTH + headers_length + payload_length, headers_length)
    head = lengths + _U32.pack(crc32(lengths)) + header_block
    # The message CRC continues over the payload from the CRC of everything before it, so the
    # payload is hashed in place and copied exactly once, by join.
    return b"".join((head, payload, _U32.pack(crc32(payload, crc32(head)))))


def encode_message(headers: Mapping[str, HeaderInput], payload: bytes) -> bytes:
    """Encode one frame with the given headers (in order) and payload."""
    return _frame(encode_headers(headers), bytes(payload))


def _string_header(name: str, value: str) -> bytes:
    return _encode_name(name) + _encode_variable(name, 7, value.encode("utf-8"))


_JSON_CONTENT_TYPE: Final = _string_header(":content-type", "application/json")
_EVENT_TAIL: Final = _JSON_CONTENT_TYPE + _string_header(":message-type", "event")
_EXCEPTION_TAIL: Final = _JSON_CONTENT_TYPE + _string_header(":message-type", "exception")
_ERROR_TAIL: Final = _string_header(":message-type", "error")

# Whole header blocks per event/exception type. A stream uses a handful of distinct types, so the
# hot path is one dict lookup; the bound only guards against callers inventing types per frame.
_BLOCK_CACHE_LIMIT: Final = 256
_event_blocks: dict[str, bytes] = {}
_exception_blocks: dict[str, bytes] = {}


def _cached_block(cache: dict[str, bytes], name: str, value: str, tail: bytes) -> bytes:
    block = _string_header(name, value) + tail
    if len(cache) >= _BLOCK_CACHE_LIMIT:
        cache.clear()
    cache[value] = block
    return block


def encode_event(event_type: str, payload: bytes) -> bytes:
    """Encode an event frame as Bedrock sends it.

    Headers, in this order: ``:event-type``, ``:content-type: application/json``,
    ``:message-type: event``.
    """
    block = _event_blocks.get(event_type)
    if block is None:
        block = _cached_block(_event_blocks, ":event-type", event_type, _EVENT_TAIL)
    return _frame(block, payload)


def encode_exception(exception_type: str, payload: bytes) -> bytes:
    """Encode a modelled in-stream exception frame.

    Headers, in this order: ``:exception-type``, ``:content-type: application/json``,
    ``:message-type: exception``. ``exception_type`` is the camelCase union member name, e.g.
    ``throttlingException``; the payload is ``{"message": "..."}``.
    """
    block = _exception_blocks.get(exception_type)
    if block is None:
        block = _cached_block(_exception_blocks, ":exception-type", exception_type, _EXCEPTION_TAIL)
    return _frame(block, payload)


def encode_error(code: str, message: str, payload: bytes = b"") -> bytes:
    """Encode an unmodelled ``:message-type error`` frame.

    Headers, in this order: ``:error-code``, ``:error-message``, ``:message-type: error``.
    """
    block = _string_header(":error-code", code) + _string_header(":error-message", message)
    return _frame(block + _ERROR_TAIL, bytes(payload))


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------

# Fixed-width header types: (size, struct, wrapper).
_FIXED: Final[dict[int, tuple[int, struct.Struct, type[Int8 | Int16 | Int32 | Int64 | Timestamp]]]] = {
    2: (1, _I8, Int8),
    3: (2, _I16, Int16),
    4: (4, _I32, Int32),
    5: (8, _I64, Int64),
    8: (8, _I64, Timestamp),
}
_EMPTY_HEADERS: Final[Mapping[str, HeaderValue]] = MappingProxyType({})

# Per-decoder cache of parsed header blocks. Real streams repeat one block for every frame
# (":event-type chunk" + content type + message type), so after the first frame the headers cost
# one bytes slice and one dict lookup. Blocks are capped in size and count to bound memory.
_HEADER_CACHE_ENTRIES: Final = 64
_HEADER_CACHE_MAX_BLOCK: Final = 1024


def _parse_headers(data: bytes, pos: int, end: int) -> Mapping[str, HeaderValue]:
    """Parse the header block ``data[pos:end]`` (its bounds already checked against the frame)."""
    headers: dict[str, HeaderValue] = {}
    value: HeaderValue
    name: str | None = None
    try:
        while pos < end:
            name_length = data[pos]
            name_start = pos + 1
            pos = name_start + name_length
            # The name must be followed by at least its type byte.
            if pos >= end:
                raise TruncatedHeaderError("header name and type", name_length + 1, end - name_start)
            name = None  # so a bad name is not blamed on the previous header
            name = data[name_start:pos].decode()
            value_type = data[pos]
            pos += 1
            if value_type == 7:
                # Strings are all Bedrock sends, so they are tested first.
                value_start = pos + 2
                pos = value_start + ((data[pos] << 8) | data[pos + 1])
                if pos > end:
                    raise _truncated_value(name, data, value_start - 2, end)
                value = data[value_start:pos].decode()
            elif value_type == 6:
                value_start = pos + 2
                pos = value_start + ((data[pos] << 8) | data[pos + 1])
                if pos > end:
                    raise _truncated_value(name, data, value_start - 2, end)
                value = data[value_start:pos]
            elif value_type == 0:
                value = True
            elif value_type == 1:
                value = False
            elif value_type == 9:
                if pos + 16 > end:
                    raise TruncatedHeaderError(f"value of header {name!r}", 16, end - pos)
                value = uuid.UUID(bytes=data[pos : pos + 16])
                pos += 16
            else:
                fixed = _FIXED.get(value_type)
                if fixed is None:
                    raise UnknownHeaderTypeError(name, value_type)
                size, unpacker, wrapper = fixed
                if pos + size > end:
                    raise TruncatedHeaderError(f"value of header {name!r}", size, end - pos)
                value = wrapper(unpacker.unpack_from(data, pos)[0])
                pos += size
            if name in headers:
                raise DuplicateHeaderError(name)
            headers[name] = value
    except IndexError:
        # Only the two length bytes of a string/byte-array value can index past the block (the
        # frame's own bytes follow it, so this triggers only when they are also the data's end).
        raise TruncatedHeaderError(f"length of header {name!r}", 2, end - pos) from None
    except UnicodeDecodeError as exc:
        raise InvalidHeaderEncodingError("header name" if name is None else f"value of header {name!r}", exc) from None
    return MappingProxyType(headers)


def _truncated_value(name: str, data: bytes, length_at: int, end: int) -> TruncatedHeaderError:
    if length_at + 2 > end:
        return TruncatedHeaderError(f"length of header {name!r}", 2, end - length_at)
    value_length = (data[length_at] << 8) | data[length_at + 1]
    return TruncatedHeaderError(f"value of header {name!r}", value_length, end - length_at - 2)


def _length_error(total_length: int, headers_length: int) -> InvalidFrameError:
    # Off the hot path: called only once the combined range test has failed.
    if total_length < MIN_MESSAGE_LENGTH:
        return InvalidTotalLengthError(total_length)
    if headers_length > MAX_HEADERS_LENGTH:
        return HeadersTooLargeError(headers_length)
    if headers_length > total_length - MIN_MESSAGE_LENGTH:
        return InvalidHeadersLengthError(headers_length, total_length)
    return PayloadTooLargeError(total_length - MIN_MESSAGE_LENGTH - headers_length)


_MAX_BODY: Final = MAX_PAYLOAD_LENGTH + MIN_MESSAGE_LENGTH

# The generated __init__ of a frozen dataclass sets each field through object.__setattr__, which
# costs about as much as the rest of decoding a small frame. The decoder builds messages through
# the slot descriptors instead; the instances are identical and stay immutable to callers.
_new_message = object.__new__
_set_headers: Callable[[EventStreamMessage, Mapping[str, HeaderValue]], None] = EventStreamMessage.__dict__[
    "headers"
].__set__
_set_payload: Callable[[EventStreamMessage, bytes], None] = EventStreamMessage.__dict__["payload"].__set__


class EventStreamDecoder:
    """Incremental decoder: bytes in, complete messages out.

    Usage::

        decoder = EventStreamDecoder()
        for chunk in response_chunks:
            for message in decoder.feed(chunk):
                ...
        decoder.close()  # raises TruncatedStreamError if the stream stopped mid-frame

    ``feed`` accepts any split (even byte by byte) and returns the messages completed by that
    call, in order. Only the unfinished tail is kept between calls; a frame is checked as soon as
    its 12-byte prelude is there, so a corrupt length never makes it wait for (or buffer) data
    beyond one maximal frame. Once a check fails, the decoder stays failed: every later ``feed``
    re-raises the same error, since nothing after a framing error can be trusted.
    """

    __slots__ = ("_buffer", "_cache_entries", "_error", "_header_cache", "_needed", "_offset")

    def __init__(self, *, header_cache_size: int = _HEADER_CACHE_ENTRIES) -> None:
        """Create a decoder.

        Args:
            header_cache_size: How many distinct header blocks (of up to 1 KiB each) to remember
                parsed; 0 parses every block afresh. Bedrock streams repeat a handful of blocks.
        """
        if header_cache_size < 0:
            raise ValueError(f"header_cache_size must be >= 0, got {header_cache_size}")
        self._cache_entries = header_cache_size
        # Unfinished tail; empty between frames in the common case.
        self._buffer = bytearray()
        # Bytes the buffered frame needs before parsing is worth trying again.
        self._needed = PRELUDE_LENGTH
        # Stream offset of the buffer's first byte, for error messages.
        self._offset = 0
        self._error: InvalidFrameError | None = None
        self._header_cache: dict[bytes, Mapping[str, HeaderValue]] = {}

    @property
    def pending(self) -> int:
        """Bytes held of an unfinished frame; non-zero at end of input means truncation."""
        return len(self._buffer)

    @property
    def offset(self) -> int:
        """Stream bytes consumed by complete frames so far."""
        return self._offset

    def close(self) -> None:
        """Declare end of input; raise :class:`TruncatedStreamError` if a frame is unfinished."""
        if self._error is not None:
            raise self._error
        if self._buffer:
            error = TruncatedStreamError(len(self._buffer), self._needed)
            error.offset = self._offset
            raise error

    def feed(self, data: bytes | bytearray | memoryview) -> list[EventStreamMessage]:
        """Add bytes; return the messages they complete (possibly none)."""
        if self._error is not None:
            raise self._error
        if type(data) is not bytes:
            # Payloads are sliced straight out of ``data`` and must come out as bytes.
            data = bytes(data)
        buffer = self._buffer
        if buffer:
            buffer += data
            # Still short of the frame in progress: nothing to parse, and no copy made. This
            # keeps byte-by-byte feeding of a large frame linear rather than quadratic.
            if len(buffer) < self._needed:
                return []
            data = bytes(buffer)
            buffer.clear()

        messages: list[EventStreamMessage] = []
        end_of_data = len(data)
        pos = 0
        needed = PRELUDE_LENGTH
        cache = self._header_cache
        cache_entries = self._cache_entries
        view = memoryview(data)
        append = messages.append
        message_class = EventStreamMessage
        new_message = _new_message
        set_headers = _set_headers
        set_payload = _set_payload
        try:
            while end_of_data - pos >= PRELUDE_LENGTH:
                total_length, headers_length, prelude_crc = _PRELUDE.unpack_from(data, pos)
                # Check the prelude CRC before trusting either length.
                computed = crc32(view[pos : pos + 8])
                if computed != prelude_crc:
                    raise PreludeCRCMismatchError(prelude_crc, computed)
                # One combined test on the hot path; _length_error finds the specific failure.
                if (
                    headers_length > MAX_HEADERS_LENGTH
                    or not MIN_MESSAGE_LENGTH <= total_length - headers_length <= _MAX_BODY
                ):
                    raise _length_error(total_length, headers_length)
                frame_end = pos + total_length
                if frame_end > end_of_data:
                    needed = total_length
                    break
                crc_at = frame_end - 4
                # bytes[0:8] hash to prelude_crc, so continuing from it over bytes[8:end-4]
                # equals CRC32(bytes[0:end-4]) without hashing the prelude twice.
                computed = crc32(view[pos + 8 : crc_at], prelude_crc)
                expected = _U32.unpack_from(data, crc_at)[0]
                if computed != expected:
                    raise MessageCRCMismatchError(expected, computed)
                if headers_length:
                    headers_end = pos + PRELUDE_LENGTH + headers_length
                    block = data[pos + PRELUDE_LENGTH : headers_end]
                    headers = cache.get(block)
                    if headers is None:
                        headers = _parse_headers(data, pos + PRELUDE_LENGTH, headers_end)
                        if cache_entries and headers_length <= _HEADER_CACHE_MAX_BLOCK:
                            if len(cache) >= cache_entries:
                                # Crude but O(1) amortised; a stream with more distinct blocks
                                # than the cache holds gains nothing from finer eviction.
                                cache.clear()
                            cache[block] = headers
                else:
                    headers = _EMPTY_HEADERS
                    headers_end = pos + PRELUDE_LENGTH
                message = new_message(message_class)
                set_headers(message, headers)
                set_payload(message, data[headers_end:crc_at])
                append(message)
                pos = frame_end
        except InvalidFrameError as error:
            error.offset = self._offset + pos
            error.decoded = messages
            self._error = error
            raise
        self._needed = needed
        if pos < end_of_data:
            buffer += view[pos:]
        self._offset += pos
        return messages


def decode_message(frame: bytes | bytearray | memoryview) -> EventStreamMessage:
    """Decode bytes holding exactly one complete frame."""
    decoder = EventStreamDecoder()
    messages = decoder.feed(frame)
    decoder.close()
    if len(messages) != 1:
        raise InvalidFrameError(f"expected exactly 1 frame, got {len(messages)}")
    return messages[0]
