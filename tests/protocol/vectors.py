"""Shared event-stream byte vectors, used by both the encoder and the decoder tests.

Every frame is written out field by field in hex (spaces between fields, which bytes.fromhex
ignores), with both CRCs precomputed, so an encoder and a decoder that agree with each other but
not with the wire format cannot both pass. WORKED_EXAMPLE is the frame of the wire spec
(docs/bedrock-mistral-wire-spec.md section 4.1), whose lengths and CRCs are quoted there.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from mistral_bedrock.protocol.eventstream import (
    HeaderValue,
    Int8,
    Int16,
    Int32,
    Int64,
    Timestamp,
)


@dataclass(frozen=True)
class Vector:
    """One frame: its bytes and what they decode to (headers in wire order)."""

    name: str
    description: str
    hex: str
    headers: dict[str, HeaderValue]
    payload: bytes

    @property
    def frame(self) -> bytes:
        return bytes.fromhex(self.hex)


WORKED_EXAMPLE = Vector(
    name="worked_example",
    description="spec 4.1 worked example: a chunk event as Bedrock sends it",
    hex=(
        "000000b2 0000004b ee2b1c05"  # total length 178, headers length 75, prelude CRC
        "0b 3a6576656e742d74797065"  # name ':event-type'
        "07 0005 6368756e6b"  # string 'chunk'
        "0d 3a636f6e74656e742d74797065"  # name ':content-type'
        "07 0010 6170706c69636174696f6e2f6a736f6e"  # string 'application/json'
        "0d 3a6d6573736167652d74797065"  # name ':message-type'
        "07 0005 6576656e74"  # string 'event'
        # payload, 87 bytes
        "7b226279746573223a2265794a76645852776458527a496a706265794a305a58"
        "6830496a6f6953476b694c434a7a6447397758334a6c59584e7662694936626e"
        "56736248316466513d3d222c2270223a2261626364227d"
        "260f96f8"  # message CRC
    ),
    headers={":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"},
    payload=b'{"bytes":"eyJvdXRwdXRzIjpbeyJ0ZXh0IjoiSGkiLCJzdG9wX3JlYXNvbiI6bnVsbH1dfQ==","p":"abcd"}',
)

EXCEPTION = Vector(
    name="exception",
    description="a modelled in-stream exception (spec 3.5)",
    hex=(
        "000000b2 00000061 3590d5d3"  # total length 178, headers length 97, prelude CRC
        "0f 3a657863657074696f6e2d74797065"  # name ':exception-type'
        "07 0013 7468726f74746c696e67457863657074696f6e"  # string 'throttlingException'
        "0d 3a636f6e74656e742d74797065"  # name ':content-type'
        "07 0010 6170706c69636174696f6e2f6a736f6e"  # string 'application/json'
        "0d 3a6d6573736167652d74797065"  # name ':message-type'
        "07 0009 657863657074696f6e"  # string 'exception'
        # payload, 65 bytes
        "7b226d657373616765223a22546f6f206d616e792072657175657374732c2070"
        "6c656173652077616974206265666f726520747279696e6720616761696e2e22"
        "7d"
        "e8ffb26a"  # message CRC
    ),
    headers={
        ":exception-type": "throttlingException",
        ":content-type": "application/json",
        ":message-type": "exception",
    },
    payload=b'{"message":"Too many requests, please wait before trying again."}',
)

ERROR = Vector(
    name="error",
    description="an unmodelled :message-type error frame with an empty payload",
    hex=(
        "00000071 00000061 9b2547d8"  # total length 113, headers length 97, prelude CRC
        "0b 3a6572726f722d636f6465"  # name ':error-code'
        "07 000f 496e7465726e616c4661696c757265"  # string 'InternalFailure'
        "0e 3a6572726f722d6d657373616765"  # name ':error-message'
        "07 001b 416e20696e7465726e616c206572726f72206f636375727265642e"  # string, 27 bytes
        "0d 3a6d6573736167652d74797065"  # name ':message-type'
        "07 0005 6572726f72"  # string 'error'
        "dc211fd7"  # message CRC
    ),
    headers={
        ":error-code": "InternalFailure",
        ":error-message": "An internal error occurred.",
        ":message-type": "error",
    },
    payload=b"",
)

EMPTY = Vector(
    name="empty",
    description="the smallest legal frame: no headers, no payload",
    hex=(
        "00000010 00000000 05c248eb"  # total length 16, headers length 0, prelude CRC
        "7d98c8ff"  # message CRC
    ),
    headers={},
    payload=b"",
)

ALL_TYPES = Vector(
    name="all_types",
    description="one header of each of the ten types, then a small payload",
    hex=(
        "0000009e 00000083 7fa59482"  # total length 158, headers length 131, prelude CRC
        "04 74727565"  # name 'true'
        "00"  # type 0: bool true
        "05 66616c7365"  # name 'false'
        "01"  # type 1: bool false
        "04 62797465"  # name 'byte'
        "02 80"  # type 2: byte -128
        "05 73686f7274"  # name 'short'
        "03 7fff"  # type 3: short 32767
        "07 696e7465676572"  # name 'integer'
        "04 80000000"  # type 4: integer -2**31
        "04 6c6f6e67"  # name 'long'
        "05 8000000000000000"  # type 5: long -2**63
        "05 6279746573"  # name 'bytes'
        "06 0005 00ff62696e"  # byte array, 5 bytes
        "06 737472696e67"  # name 'string'
        "07 000a 68c3a96c6c6f20e29883"  # string, 10 UTF-8 bytes
        "09 74696d657374616d70"  # name 'timestamp'
        "08 000001934d60a6fb"  # type 8: 2024-11-21T06:20:00.123Z
        "04 75756964"  # name 'uuid'
        "09 5ac8d4f23e7a4b1c9d0e8f6a2b3c4d5e"  # type 9: uuid 5ac8d4f2-3e7a-4b1c-9d0e-8f6a2b3c4d5e
        # payload, 11 bytes
        "7b226f6b223a747275657d"
        "3d968322"  # message CRC
    ),
    headers={
        "true": True,
        "false": False,
        "byte": Int8(-128),
        "short": Int16(32767),
        "integer": Int32(-(2**31)),
        "long": Int64(-(2**63)),
        "bytes": b"\x00\xffbin",
        "string": "h\u00e9llo \u2603",
        "timestamp": Timestamp(1732170000123),
        "uuid": UUID("5ac8d4f2-3e7a-4b1c-9d0e-8f6a2b3c4d5e"),
    },
    payload=b'{"ok":true}',
)

PAYLOAD_ONLY = Vector(
    name="payload_only",
    description="a payload and no headers",
    hex=(
        "0000001d 00000000 fd528c5a"  # total length 29, headers length 0, prelude CRC
        # payload, 13 bytes
        "7b27666f6f273a27626172277d"
        "c3653936"  # message CRC
    ),
    headers={},
    payload=b"{'foo':'bar'}",
)

VECTORS: tuple[Vector, ...] = (WORKED_EXAMPLE, EXCEPTION, ERROR, EMPTY, ALL_TYPES, PAYLOAD_ONLY)
