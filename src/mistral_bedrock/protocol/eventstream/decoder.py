"""Incremental decoding: :class:`EventStreamDecoder` and :func:`decode_message`."""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final
from zlib import crc32

from . import wire
from .frame_errors import (
    DuplicateHeaderError,
    HeadersTooLargeError,
    InvalidFrameError,
    InvalidHeaderEncodingError,
    InvalidHeadersLengthError,
    InvalidTotalLengthError,
    MessageCRCMismatchError,
    PayloadTooLargeError,
    PreludeCRCMismatchError,
    TruncatedHeaderError,
    TruncatedStreamError,
    UnknownHeaderTypeError,
)
from .message import EventStreamMessage
from .values import HeaderValue, Int8, Int16, Int32, Int64, Timestamp
from .wire import (
    _I8,
    _I16,
    _I32,
    _I64,
    MAX_HEADERS_LENGTH,
    MAX_PAYLOAD_LENGTH,
    MIN_MESSAGE_LENGTH,
    PRELUDE_LENGTH,
)

# Bound by assignment rather than imported by name: CPython 3.11 compiles ``name.method(...)`` on a name
# imported at module level as an attribute load plus a call (it assumes a module) instead of LOAD_METHOD,
# which makes these per-frame struct calls measurably slower.
_PRELUDE = wire._PRELUDE
_U32 = wire._U32

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
