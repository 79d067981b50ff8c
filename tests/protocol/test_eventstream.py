"""Tests for mistral_bedrock.protocol.eventstream: vectors, splits, round trips, botocore, errors."""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer
from hypothesis import given
from hypothesis import strategies as st

from mistral_bedrock.protocol.eventstream import (
    MAX_HEADERS_LENGTH,
    MAX_PAYLOAD_LENGTH,
    DuplicateHeaderError,
    EventStreamDecoder,
    EventStreamMessage,
    HeaderInput,
    HeadersTooLargeError,
    HeaderType,
    HeaderValue,
    Int8,
    Int16,
    Int32,
    Int64,
    InvalidFrameError,
    InvalidHeaderEncodingError,
    InvalidHeadersLengthError,
    InvalidTotalLengthError,
    MessageCRCMismatchError,
    PayloadTooLargeError,
    PreludeCRCMismatchError,
    Timestamp,
    TruncatedHeaderError,
    TruncatedStreamError,
    UnknownHeaderTypeError,
    decode_message,
    encode_error,
    encode_event,
    encode_exception,
    encode_headers,
    encode_message,
    header_type,
)
from tests.protocol import vectors

VECTORS: tuple[Any, ...] = vectors.VECTORS
VECTOR_IDS = [v.name for v in VECTORS]


# ---------------------------------------------------------------------------------------------
# Helpers: an independent, by-hand frame builder and botocore as an oracle
# ---------------------------------------------------------------------------------------------


def raw_frame(header_block: bytes, payload: bytes, *, total: int | None = None) -> bytes:
    """Assemble a frame with struct and zlib only, optionally lying about the total length."""
    if total is None:
        total = 16 + len(header_block) + len(payload)
    lengths = struct.pack(">II", total, len(header_block))
    body = lengths + struct.pack(">I", zlib.crc32(lengths)) + header_block + payload
    return body + struct.pack(">I", zlib.crc32(body))


def raw_prelude(total: int, headers_length: int) -> bytes:
    lengths = struct.pack(">II", total, headers_length)
    return lengths + struct.pack(">I", zlib.crc32(lengths))


def raw_string_header(name: str, value: str | bytes, value_type: int = 7) -> bytes:
    encoded_name = name.encode()
    encoded = value.encode() if isinstance(value, str) else value
    return bytes([len(encoded_name)]) + encoded_name + bytes([value_type]) + struct.pack(">H", len(encoded)) + encoded


def as_botocore(value: HeaderValue) -> object:
    """What botocore's decoder returns for a header value (it does not keep the int width)."""
    if isinstance(value, Int8 | Int16 | Int32 | Int64):
        return value.value
    if isinstance(value, Timestamp):
        return value.millis
    if isinstance(value, uuid.UUID):
        return value.bytes
    return value


def botocore_decode(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(message.headers, message.payload) for message in buffer]


def feed_all(chunks: Sequence[bytes], **kwargs: Any) -> list[EventStreamMessage]:
    decoder = EventStreamDecoder(**kwargs)
    messages: list[EventStreamMessage] = []
    for chunk in chunks:
        messages.extend(decoder.feed(chunk))
    decoder.close()
    assert decoder.pending == 0
    return messages


def decode_stream(data: bytes) -> list[EventStreamMessage]:
    decoder = EventStreamDecoder()
    messages = decoder.feed(data)
    decoder.close()
    return messages


def expect_error(error_class: type[InvalidFrameError], data: bytes, *fragments: str) -> InvalidFrameError:
    with pytest.raises(error_class) as caught:
        decode_stream(data)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    return caught.value


CHUNK_HEADERS = {
    ":event-type": "chunk",
    ":content-type": "application/json",
    ":message-type": "event",
}


# ---------------------------------------------------------------------------------------------
# Vectors: encoder and decoder against the same bytes
# ---------------------------------------------------------------------------------------------


def test_worked_example_matches_spec() -> None:
    frame = vectors.WORKED_EXAMPLE.frame
    total, headers_length, prelude_crc = struct.unpack_from(">III", frame)
    assert (len(frame), total, headers_length) == (178, 178, 75)
    assert prelude_crc == 0xEE2B1C05
    assert frame[-4:] == bytes.fromhex("260f96f8")
    assert len(vectors.WORKED_EXAMPLE.payload) == 87


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_encoder_reproduces_vector(vector: Any) -> None:
    assert encode_message(vector.headers, vector.payload) == vector.frame


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_decoder_reads_vector(vector: Any) -> None:
    message = decode_message(vector.frame)
    assert message == EventStreamMessage(vector.headers, vector.payload)
    assert list(message.headers.items()) == list(vector.headers.items())
    assert type(message.payload) is bytes
    assert message.encode() == vector.frame


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_botocore_reads_vector(vector: Any) -> None:
    expected = {name: as_botocore(value) for name, value in vector.headers.items()}
    assert botocore_decode(vector.frame) == [(expected, vector.payload)]


def test_fast_encoders_match_vectors() -> None:
    assert encode_event("chunk", vectors.WORKED_EXAMPLE.payload) == vectors.WORKED_EXAMPLE.frame
    assert encode_exception("throttlingException", vectors.EXCEPTION.payload) == vectors.EXCEPTION.frame
    assert encode_error("InternalFailure", "An internal error occurred.") == vectors.ERROR.frame


def test_fast_encoders_equal_generic_encoder() -> None:
    for event_type in ("chunk", "messageStart", "contentBlockDelta", "chunk"):
        headers = {**CHUNK_HEADERS, ":event-type": event_type}
        assert encode_event(event_type, b"{}") == encode_message(headers, b"{}")
    exception_headers = {
        ":exception-type": "validationException",
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    assert encode_exception("validationException", b"{}") == encode_message(exception_headers, b"{}")
    error_headers = {":error-code": "c", ":error-message": "m", ":message-type": "error"}
    assert encode_error("c", "m", b"x") == encode_message(error_headers, b"x")


def test_all_types_timestamp_and_uuid() -> None:
    headers = decode_message(vectors.ALL_TYPES.frame).headers
    timestamp = headers["timestamp"]
    assert isinstance(timestamp, Timestamp)
    assert timestamp.to_datetime() == datetime(2024, 11, 21, 6, 20, 0, 123000, tzinfo=timezone.utc)
    assert headers["uuid"] == uuid.UUID("5ac8d4f2-3e7a-4b1c-9d0e-8f6a2b3c4d5e")
    assert [header_type(value) for value in headers.values()] == list(HeaderType)


# ---------------------------------------------------------------------------------------------
# Splits: any chunking of the input gives the same messages
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_every_split_offset(vector: Any) -> None:
    frame = vector.frame
    expected = [EventStreamMessage(vector.headers, vector.payload)]
    for cut in range(len(frame) + 1):
        decoder = EventStreamDecoder()
        first = decoder.feed(frame[:cut])
        assert decoder.pending == (cut if cut < len(frame) else 0)
        assert first + decoder.feed(frame[cut:]) == expected
        decoder.close()


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_byte_by_byte(vector: Any) -> None:
    frame = vector.frame
    decoder = EventStreamDecoder()
    for index in range(len(frame) - 1):
        assert decoder.feed(frame[index : index + 1]) == []
        assert decoder.pending == index + 1
    messages = decoder.feed(frame[-1:])
    assert messages == [EventStreamMessage(vector.headers, vector.payload)]
    decoder.close()


def test_all_vectors_in_one_stream_at_every_split() -> None:
    stream = b"".join(v.frame for v in VECTORS) * 2
    expected = [EventStreamMessage(v.headers, v.payload) for v in VECTORS] * 2
    assert feed_all([stream]) == expected
    for cut in range(len(stream) + 1):
        assert feed_all([stream[:cut], stream[cut:]]) == expected


def test_byte_by_byte_stream() -> None:
    stream = b"".join(v.frame for v in VECTORS)
    expected = [EventStreamMessage(v.headers, v.payload) for v in VECTORS]
    assert feed_all([stream[i : i + 1] for i in range(len(stream))]) == expected


@given(st.lists(st.integers(0, 2000), max_size=12), st.booleans())
def test_arbitrary_chunking(cuts: list[int], use_cache: bool) -> None:
    stream = b"".join(v.frame for v in VECTORS) * 2
    points = sorted({min(c, len(stream)) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    expected = [EventStreamMessage(v.headers, v.payload) for v in VECTORS] * 2
    assert feed_all(chunks, header_cache_size=64 if use_cache else 0) == expected


def test_accepts_bytearray_and_memoryview() -> None:
    frame = vectors.WORKED_EXAMPLE.frame
    decoder = EventStreamDecoder()
    out = decoder.feed(bytearray(frame[:50])) + decoder.feed(memoryview(frame)[50:])
    assert out == [EventStreamMessage(vectors.WORKED_EXAMPLE.headers, vectors.WORKED_EXAMPLE.payload)]
    assert type(out[0].payload) is bytes


def test_large_frame_byte_by_byte() -> None:
    payload = bytes(range(256)) * 300  # 76.8 KB, fed one byte at a time
    frame = encode_event("chunk", payload)
    decoder = EventStreamDecoder()
    messages: list[EventStreamMessage] = []
    for index in range(len(frame)):
        messages.extend(decoder.feed(frame[index : index + 1]))
    assert [m.payload for m in messages] == [payload]
    assert decoder.offset == len(frame)


def test_pending_and_offset() -> None:
    frame = vectors.WORKED_EXAMPLE.frame
    decoder = EventStreamDecoder()
    assert decoder.feed(frame + frame[:20]) != []
    assert (decoder.pending, decoder.offset) == (20, len(frame))
    assert decoder.feed(frame[20:]) != []
    assert (decoder.pending, decoder.offset) == (0, 2 * len(frame))
    decoder.close()


# ---------------------------------------------------------------------------------------------
# Round trips over arbitrary headers (all ten types) and payloads
# ---------------------------------------------------------------------------------------------

header_names = st.text(max_size=40)
header_values: st.SearchStrategy[HeaderValue] = st.one_of(
    st.booleans(),
    st.builds(Int8, st.integers(-(2**7), 2**7 - 1)),
    st.builds(Int16, st.integers(-(2**15), 2**15 - 1)),
    st.builds(Int32, st.integers(-(2**31), 2**31 - 1)),
    st.builds(Int64, st.integers(-(2**63), 2**63 - 1)),
    st.binary(max_size=300),
    st.text(max_size=100),
    st.builds(Timestamp, st.integers(-(2**63), 2**63 - 1)),
    st.uuids(),
)
header_maps = st.dictionaries(header_names, header_values, max_size=12)
payloads = st.binary(max_size=2000)


@given(header_maps, payloads)
def test_round_trip(headers: dict[str, HeaderValue], payload: bytes) -> None:
    frame = encode_message(headers, payload)
    message = decode_message(frame)
    assert message == EventStreamMessage(headers, payload)
    assert list(message.headers.items()) == list(headers.items())
    # Types survive exactly, not just equality (Int8(1) != Int32(1), True is not Int8(1)).
    assert [type(v) for v in message.headers.values()] == [type(v) for v in headers.values()]
    assert message.encode() == frame


@given(header_maps, payloads)
def test_botocore_decodes_our_frames(headers: dict[str, HeaderValue], payload: bytes) -> None:
    expected = {name: as_botocore(value) for name, value in headers.items()}
    assert botocore_decode(encode_message(headers, payload)) == [(expected, payload)]


@given(st.lists(st.tuples(st.sampled_from(["chunk", "messageStart", "metadata"]), payloads), max_size=8))
def test_botocore_decodes_our_event_stream(events: list[tuple[str, bytes]]) -> None:
    stream = b"".join(encode_event(event_type, payload) for event_type, payload in events)
    decoded = botocore_decode(stream)
    assert [(h[":event-type"], p) for h, p in decoded] == events
    ours = feed_all([stream])
    assert [(m.event_type, m.payload) for m in ours] == events


@given(st.lists(st.tuples(header_names, st.text(max_size=50)), max_size=6, unique_by=lambda t: t[0]))
def test_hand_built_frames_decode_like_botocore(pairs: list[tuple[str, str]]) -> None:
    # Frames assembled by hand from the byte layout, no encoder of ours involved.
    frame = raw_frame(b"".join(raw_string_header(n, v) for n, v in pairs), b"payload")
    ((boto_headers, boto_payload),) = botocore_decode(frame)
    message = decode_message(frame)
    assert dict(message.headers) == boto_headers == dict(pairs)
    assert message.payload == boto_payload == b"payload"


@pytest.mark.parametrize(
    ("header_block", "ours", "theirs"),
    [
        (b"\x04byte\x02\xff", Int8(-1), -1),
        (b"\x05short\x03\xff\xfe", Int16(-2), -2),
        (b"\x07integer\x04\xff\xff\xff\xfd", Int32(-3), -3),
        (b"\x04long\x05" + b"\xff" * 7 + b"\xfc", Int64(-4), -4),
        (b"\x04time\x08" + struct.pack(">q", 1_700_000_000_000), Timestamp(1_700_000_000_000), None),
    ],
)
def test_hand_built_numeric_headers(header_block: bytes, ours: HeaderValue, theirs: object) -> None:
    frame = raw_frame(header_block, b"")
    ((name, value),) = decode_message(frame).headers.items()
    assert value == ours
    ((boto_name, boto_value),) = botocore_decode(frame)[0][0].items()
    assert boto_name == name
    assert boto_value == (as_botocore(ours) if theirs is None else theirs)
    assert encode_message({name: ours}, b"") == frame


# ---------------------------------------------------------------------------------------------
# Header value types and encoder validation
# ---------------------------------------------------------------------------------------------


def test_int_wrappers_keep_width() -> None:
    narrow: object = Int8(5)
    assert narrow != Int32(5)
    assert Int8(5) == Int8(5)
    for wrapper, bits in ((Int8, 8), (Int16, 16), (Int32, 32), (Int64, 64)):
        wrapper(-(2 ** (bits - 1)))
        wrapper(2 ** (bits - 1) - 1)
        with pytest.raises(ValueError, match="out of range"):
            wrapper(2 ** (bits - 1))
        with pytest.raises(TypeError):
            wrapper(True)


def test_datetime_headers() -> None:
    moment = datetime(2024, 11, 21, 6, 20, 0, 123000, tzinfo=timezone(timedelta(hours=2)))
    decoded = decode_message(encode_message({"t": moment}, b"")).headers["t"]
    assert decoded == Timestamp.from_datetime(moment)
    assert isinstance(decoded, Timestamp)
    assert decoded.to_datetime() == moment
    with pytest.raises(ValueError, match="aware"):
        encode_message({"t": datetime(2024, 1, 1)}, b"")  # naive on purpose
    with pytest.raises(ValueError, match="sub-millisecond"):
        encode_message({"t": moment + timedelta(microseconds=1)}, b"")
    assert Timestamp.from_datetime(moment + timedelta(microseconds=999)) == decoded
    assert Timestamp(-1).to_datetime() == datetime(1969, 12, 31, 23, 59, 59, 999000, timezone.utc)


def test_encoder_rejects_bad_values() -> None:
    bad_value: Any = 5
    with pytest.raises(TypeError, match="ambiguous"):
        encode_message({"n": bad_value}, b"")
    bad_value = 1.5
    with pytest.raises(TypeError, match="unsupported"):
        encode_message({"n": bad_value}, b"")
    with pytest.raises(ValueError, match="name too long"):
        encode_message({"x" * 256: True}, b"")
    encode_message({"x" * 255: True}, b"")
    with pytest.raises(ValueError, match="value too long"):
        encode_message({"s": "x" * 65536}, b"")
    encode_message({"s": "x" * 65535}, b"")
    with pytest.raises(ValueError, match="value too long"):
        encode_event("e" * 65536, b"")


def test_encoder_limits() -> None:
    many: dict[str, HeaderInput] = {f"h{i:04d}": "x" * 1000 for i in range(131)}
    with pytest.raises(HeadersTooLargeError, match="headers length over limit"):
        encode_headers(many)
    with pytest.raises(PayloadTooLargeError, match="payload length over limit"):
        encode_event("chunk", bytes(MAX_PAYLOAD_LENGTH + 1))
    frame = encode_event("chunk", bytes(MAX_PAYLOAD_LENGTH))
    assert len(decode_message(frame).payload) == MAX_PAYLOAD_LENGTH


def test_message_properties() -> None:
    event = decode_message(vectors.WORKED_EXAMPLE.frame)
    assert (event.message_type, event.event_type, event.exception_type) == ("event", "chunk", None)
    exception = decode_message(vectors.EXCEPTION.frame)
    assert exception.message_type == "exception"
    assert exception.exception_type == "throttlingException"
    assert decode_message(vectors.ERROR.frame).message_type == "error"
    odd = EventStreamMessage({":message-type": Int8(1)}, b"")
    assert odd.message_type is None


def test_decoded_headers_are_read_only_and_shared() -> None:
    frame = vectors.WORKED_EXAMPLE.frame
    first, second = EventStreamDecoder().feed(frame * 2)
    assert first.headers is second.headers  # parsed once, reused
    with pytest.raises(TypeError):
        first.headers[":event-type"] = "x"  # type: ignore[index]
    no_cache = EventStreamDecoder(header_cache_size=0).feed(frame * 2)
    assert no_cache[0].headers is not no_cache[1].headers
    assert no_cache == [first, second]
    with pytest.raises(ValueError, match="header_cache_size"):
        EventStreamDecoder(header_cache_size=-1)


def test_header_cache_eviction() -> None:
    frames = [encode_event(f"type{i}", b"{}") for i in range(10)]
    decoder = EventStreamDecoder(header_cache_size=3)
    messages = decoder.feed(b"".join(frames * 3))
    assert [m.event_type for m in messages] == [f"type{i}" for i in range(10)] * 3


# ---------------------------------------------------------------------------------------------
# Rejections: each check has its own exception and says what it expected
# ---------------------------------------------------------------------------------------------


def corrupt(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_prelude_crc_mismatch() -> None:
    frame = vectors.WORKED_EXAMPLE.frame
    error = expect_error(
        PreludeCRCMismatchError,
        corrupt(frame, 9),
        "prelude CRC mismatch: expected 0xee2a1c05, computed 0xee2b1c05",
    )
    assert isinstance(error, PreludeCRCMismatchError)
    assert (error.expected, error.computed) == (0xEE2A1C05, 0xEE2B1C05)
    # A damaged length is caught by the same check, before the length is trusted.
    expect_error(PreludeCRCMismatchError, corrupt(frame, 3), "prelude CRC mismatch")
    # ... and as soon as the 12-byte prelude is in, without waiting for the frame.
    expect_error(PreludeCRCMismatchError, corrupt(frame, 1)[:12], "prelude CRC mismatch")


@pytest.mark.parametrize("index", [12, 40, 100, 177])
def test_message_crc_mismatch(index: int) -> None:
    frame = vectors.WORKED_EXAMPLE.frame
    error = expect_error(MessageCRCMismatchError, corrupt(frame, index), "message CRC mismatch: expected 0x")
    assert isinstance(error, MessageCRCMismatchError)
    assert error.expected != error.computed
    assert f"computed 0x{error.computed:08x}" in str(error)


def test_total_length_below_minimum() -> None:
    for total in (0, 12, 15):
        expect_error(
            InvalidTotalLengthError,
            raw_prelude(total, 0) + bytes(8),
            f"total length too small: expected at least 16, got {total}",
        )


def test_headers_length_does_not_fit() -> None:
    frame = raw_frame(b"\x01a\x00", b"", total=18)  # 16 + 3 header bytes would be 19
    expect_error(
        InvalidHeadersLengthError,
        frame,
        "headers length does not fit the frame: expected at most 2 (total length 18 - 16), got 3",
    )


def test_oversize_headers_and_payload() -> None:
    # Rejected from the prelude alone: the decoder never waits for (or buffers) the body.
    headers_length = MAX_HEADERS_LENGTH + 1
    expect_error(
        HeadersTooLargeError,
        raw_prelude(16 + headers_length, headers_length),
        f"headers length over limit: expected at most {MAX_HEADERS_LENGTH}, got {headers_length}",
    )
    expect_error(
        PayloadTooLargeError,
        raw_prelude(16 + 10 + MAX_PAYLOAD_LENGTH + 1, 10),
        f"payload length over limit: expected at most {MAX_PAYLOAD_LENGTH}, got {MAX_PAYLOAD_LENGTH + 1}",
    )


def test_unknown_header_type() -> None:
    expect_error(
        UnknownHeaderTypeError,
        raw_frame(b"\x03bad\x0a", b""),
        "bad header type for 'bad': expected 0..9, got 10",
    )


@pytest.mark.parametrize(
    ("header_block", "fragment"),
    [
        (b"\x05ab", "header name and type needs 6 bytes, only 2 left"),
        (b"\x02ab", "header name and type needs 3 bytes, only 2 left"),
        (b"\x01s\x07\x00", "length of header 's' needs 2 bytes, only 1 left"),
        (b"\x01s\x07\x00\x05abc", "value of header 's' needs 5 bytes, only 3 left"),
        (b"\x01b\x06\x01\x00", "value of header 'b' needs 256 bytes, only 0 left"),
        (b"\x01i\x04\x00\x00", "value of header 'i' needs 4 bytes, only 2 left"),
        (b"\x01l\x05\x00", "value of header 'l' needs 8 bytes, only 1 left"),
        (b"\x01t\x08", "value of header 't' needs 8 bytes, only 0 left"),
        (b"\x01u\x09" + bytes(15), "value of header 'u' needs 16 bytes, only 15 left"),
    ],
)
def test_truncated_header_value(header_block: bytes, fragment: str) -> None:
    # The header block is cut short but the frame itself is well formed (good lengths and CRCs).
    expect_error(TruncatedHeaderError, raw_frame(header_block, b"payload"), fragment)


def test_duplicate_header() -> None:
    block = raw_string_header("test", "a") + raw_string_header("test", "b")
    frame = raw_frame(block, b"")
    expect_error(DuplicateHeaderError, frame, "duplicate header name: expected 'test' once")
    with pytest.raises(Exception, match="Duplicate header"):
        botocore_decode(frame)  # botocore agrees it is invalid


def test_invalid_utf8() -> None:
    expect_error(InvalidHeaderEncodingError, raw_frame(b"\x02\xff\xfe\x00", b""), "invalid UTF-8 in header name")
    expect_error(
        InvalidHeaderEncodingError,
        raw_frame(raw_string_header("s", b"\xc3"), b""),
        "invalid UTF-8 in value of header 's'",
    )


def test_truncated_stream() -> None:
    frame = vectors.WORKED_EXAMPLE.frame
    for cut in (1, 11, 12, 100, len(frame) - 1):
        decoder = EventStreamDecoder()
        assert decoder.feed(frame + frame[:cut]) != []
        assert decoder.pending == cut
        with pytest.raises(TruncatedStreamError) as caught:
            decoder.close()
        needed = 12 if cut < 12 else len(frame)
        assert f"expected at least {needed} bytes to complete the frame, input ended with {cut}" in (str(caught.value))
        assert caught.value.offset == len(frame)
    EventStreamDecoder().close()  # nothing fed: a clean end


def test_errors_are_value_errors_with_offsets_and_sticky() -> None:
    good = vectors.WORKED_EXAMPLE.frame
    bad = corrupt(vectors.EXCEPTION.frame, 150)
    decoder = EventStreamDecoder()
    with pytest.raises(MessageCRCMismatchError) as caught:
        decoder.feed(good + good + bad)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.offset == 2 * len(good)
    assert f"(frame at stream offset {2 * len(good)})" in str(error)
    assert [m.payload for m in error.decoded] == [vectors.WORKED_EXAMPLE.payload] * 2
    with pytest.raises(MessageCRCMismatchError):
        decoder.feed(good)  # the stream cannot be trusted after a framing error
    with pytest.raises(MessageCRCMismatchError):
        decoder.close()


def test_decode_message_wants_exactly_one_frame() -> None:
    with pytest.raises(InvalidFrameError, match="expected exactly 1 frame, got 2"):
        decode_message(vectors.EMPTY.frame * 2)
    with pytest.raises(InvalidFrameError, match="expected exactly 1 frame, got 0"):
        decode_message(b"")
    with pytest.raises(TruncatedStreamError):
        decode_message(vectors.EMPTY.frame[:-1])


ERROR_CLASSES: list[Callable[..., InvalidFrameError]] = [
    PreludeCRCMismatchError,
    MessageCRCMismatchError,
    InvalidTotalLengthError,
    InvalidHeadersLengthError,
    HeadersTooLargeError,
    PayloadTooLargeError,
    UnknownHeaderTypeError,
    TruncatedHeaderError,
    DuplicateHeaderError,
    InvalidHeaderEncodingError,
    TruncatedStreamError,
]


def test_one_class_per_check() -> None:
    assert len(set(ERROR_CLASSES)) == len(ERROR_CLASSES)
    for error_class in ERROR_CLASSES:
        assert isinstance(error_class, type)
        assert issubclass(error_class, InvalidFrameError)
        assert issubclass(error_class, ValueError)


def test_headers_mapping_type() -> None:
    message = decode_message(vectors.ALL_TYPES.frame)
    assert isinstance(message.headers, Mapping)
