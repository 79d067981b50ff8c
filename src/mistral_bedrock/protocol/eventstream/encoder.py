"""Encoding frames and header blocks, with precomputed header blocks for Bedrock's frame types."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Final
from zlib import crc32

from . import wire
from .frame_errors import HeadersTooLargeError, PayloadTooLargeError
from .values import (
    _EPOCH,
    _ONE_MS,
    HeaderInput,
    HeaderType,
    Int8,
    Int16,
    Int32,
    Int64,
    Timestamp,
    _check_range,
    header_type,
)
from .wire import _MAX_NAME_LENGTH, _MAX_VALUE_LENGTH, MAX_HEADERS_LENGTH, MAX_PAYLOAD_LENGTH, MIN_MESSAGE_LENGTH

# Bound by assignment rather than imported by name: CPython 3.11 compiles ``name.method(...)`` on a name
# imported at module level as an attribute load plus a call (it assumes a module) instead of LOAD_METHOD,
# which makes these per-frame struct calls measurably slower.
_LENGTHS = wire._LENGTHS
_U16 = wire._U16
_U32 = wire._U32
_I8 = wire._I8
_I16 = wire._I16
_I32 = wire._I32
_I64 = wire._I64


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
