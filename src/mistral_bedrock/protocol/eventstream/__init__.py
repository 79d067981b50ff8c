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

from .decoder import EventStreamDecoder, decode_message
from .encoder import encode_error, encode_event, encode_exception, encode_headers, encode_message
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
from .values import HeaderInput, HeaderType, HeaderValue, Int8, Int16, Int32, Int64, Timestamp, header_type
from .wire import MAX_HEADERS_LENGTH, MAX_PAYLOAD_LENGTH, MIN_MESSAGE_LENGTH, PRELUDE_LENGTH

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
