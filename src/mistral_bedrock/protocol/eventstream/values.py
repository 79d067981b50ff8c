"""Header value types: the ``value_type`` byte and the Python types that keep each wire width."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import IntEnum
from typing import Final, TypeAlias

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS: Final = timedelta(milliseconds=1)


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
