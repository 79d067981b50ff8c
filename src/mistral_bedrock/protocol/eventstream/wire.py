"""Frame layout of the event stream: fixed lengths, limits and the precompiled structs."""

from __future__ import annotations

import struct
from typing import Final

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
