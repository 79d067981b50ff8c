"""The cassette on disk: interaction file names, their load order, atomic writes, the errors of a broken file
(each naming it), bodies and stream frames recorded and re-encoded byte for byte (frames checked by botocore's own
event-stream parser, CRCs included), and the YAML text (one line per frame, read back equal)."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.eventstream import EventStreamBuffer
from hypothesis import given
from hypothesis import strategies as st

from mistral_bedrock.engines.cassette.interaction import (
    body_bytes,
    dump,
    file_name,
    frame_bytes,
    load_interactions,
    recorded_body,
    recorded_frame,
    recorded_headers,
    write_interaction,
)
from mistral_bedrock.engines.cassette.matching import match_key
from mistral_bedrock.protocol.eventstream import (
    EventStreamMessage,
    decode_message,
    encode_error,
    encode_event,
    encode_exception,
    encode_message,
)
from mistral_bedrock.protocol.operations import OPERATIONS, OperationName
from mistral_bedrock.protocol.stream_envelope import StreamEnvelope

CONVERSE_STREAM = OPERATIONS[OperationName.CONVERSE_STREAM]
INVOKE_STREAM = OPERATIONS[OperationName.INVOKE_MODEL_WITH_RESPONSE_STREAM]
EVENT_HEADERS = {":event-type": "contentBlockDelta", ":content-type": "application/json", ":message-type": "event"}
KEY = "3f9c1a2b4c5d" + "0" * 52
LARGE = "mistral.mistral-large-2407-v1:0"


def document(text: str = "Hello", **response: Any) -> dict[str, Any]:
    """A whole Converse interaction as the recorder writes it."""
    body = {"messages": [{"role": "user", "content": [{"text": text}]}]}
    return {
        "version": 1,
        "recorded": {"tool": "mistral-bedrock 0.1.0", "region": "us-east-1", "at": "2026-11-30T23:00:00+00:00"},
        "request": {
            "operation": "Converse",
            "model": LARGE,
            "path": "/model/mistral.mistral-large-2407-v1%3A0/converse",
            "key": match_key("Converse", LARGE, body),
            "body": body,
        },
        "response": response
        or {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "t_ms": 12.5,
            "body": {"output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}}},
        },
    }


def botocore_frames(data: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """``data`` parsed by botocore's event-stream parser, which checks both CRCs: (headers, payload) per frame."""
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(dict(message.headers), message.payload) for message in buffer]


def botocore_frame(data: bytes) -> tuple[dict[str, Any], bytes]:
    [frame] = botocore_frames(data)
    return frame


# -- file names and load order -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "occurrence", "name"),
    [
        ("Converse", 1, "converse-3f9c1a2b4c5d.yaml"),
        ("ConverseStream", 1, "converse-stream-3f9c1a2b4c5d.yaml"),
        ("InvokeModel", 1, "invoke-model-3f9c1a2b4c5d.yaml"),
        ("InvokeModelWithResponseStream", 1, "invoke-model-with-response-stream-3f9c1a2b4c5d.yaml"),
        ("CountTokens", 1, "count-tokens-3f9c1a2b4c5d.yaml"),
        ("ConverseStream", 2, "converse-stream-3f9c1a2b4c5d-2.yaml"),
        ("Converse", 10, "converse-3f9c1a2b4c5d-10.yaml"),
    ],
)
def test_file_names(operation: str, occurrence: int, name: str) -> None:
    assert file_name(operation, KEY, occurrence) == name


def test_a_file_name_takes_the_first_12_hex_digits_of_the_key() -> None:
    key = match_key("Converse", LARGE, {"messages": []})
    assert file_name("Converse", key, 1) == f"converse-{key[:12]}.yaml"


def test_repeated_recordings_load_in_the_order_they_were_made(tmp_path: Path) -> None:
    # Written out of order, and named so that plain string order would put -10 before -2 and -9.
    for occurrence in (10, 2, 9, 1, 3):
        write_interaction(tmp_path, file_name("Converse", KEY, occurrence), document(f"take {occurrence}"))
    write_interaction(tmp_path, file_name("ConverseStream", KEY, 1), document("stream"))
    write_interaction(tmp_path, file_name("Converse", "0" * 64, 2), document("zero 2"))
    write_interaction(tmp_path, file_name("Converse", "0" * 64, 1), document("zero 1"))
    loaded = load_interactions(tmp_path)
    assert [i.file for i in loaded] == [
        "converse-000000000000.yaml",
        "converse-000000000000-2.yaml",
        "converse-3f9c1a2b4c5d.yaml",
        "converse-3f9c1a2b4c5d-2.yaml",
        "converse-3f9c1a2b4c5d-3.yaml",
        "converse-3f9c1a2b4c5d-9.yaml",
        "converse-3f9c1a2b4c5d-10.yaml",
        "converse-stream-3f9c1a2b4c5d.yaml",
    ]
    assert [i.body["messages"][0]["content"][0]["text"] for i in loaded][2:7] == [
        "take 1",
        "take 2",
        "take 3",
        "take 9",
        "take 10",
    ]


def test_only_yaml_and_json_files_are_read(tmp_path: Path) -> None:
    write_interaction(tmp_path, "converse-3f9c1a2b4c5d.yaml", document())
    (tmp_path / "README.md").write_text("# my cassette\n")
    (tmp_path / ".recording-abc.tmp").write_text("half a file")
    (tmp_path / "hand-written.json").write_text(json.dumps(document("by hand")))
    assert sorted(i.file for i in load_interactions(tmp_path)) == ["converse-3f9c1a2b4c5d.yaml", "hand-written.json"]


def test_an_empty_cassette_has_no_interactions(tmp_path: Path) -> None:
    assert load_interactions(tmp_path) == []


# -- writing -----------------------------------------------------------------------------------------------------------


def test_a_written_interaction_reads_back_equal_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    written = document("Hello, é 中")
    directory = tmp_path / "new" / "cassette"  # made on the way
    path = write_interaction(directory, "converse-3f9c1a2b4c5d.yaml", written)
    assert path == directory / "converse-3f9c1a2b4c5d.yaml"
    assert os.listdir(directory) == ["converse-3f9c1a2b4c5d.yaml"]
    [loaded] = load_interactions(directory)
    assert (loaded.file, loaded.operation, loaded.model) == ("converse-3f9c1a2b4c5d.yaml", "Converse", LARGE)
    assert loaded.body == written["request"]["body"]
    assert dict(loaded.response) == written["response"]
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == written


def test_writing_again_replaces_the_whole_file(tmp_path: Path) -> None:
    write_interaction(tmp_path, "converse-3f9c1a2b4c5d.yaml", document("x" * 5000))
    write_interaction(tmp_path, "converse-3f9c1a2b4c5d.yaml", document("short"))
    assert os.listdir(tmp_path) == ["converse-3f9c1a2b4c5d.yaml"]
    [loaded] = load_interactions(tmp_path)
    assert loaded.body["messages"][0]["content"][0]["text"] == "short"


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: str, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        write_interaction(tmp_path, "converse-3f9c1a2b4c5d.yaml", document())
    assert os.listdir(tmp_path) == []


def test_a_failed_write_keeps_the_previous_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_interaction(tmp_path, "converse-3f9c1a2b4c5d.yaml", document("before"))
    before = path.read_bytes()

    def refuse(source: str, target: Path) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="I/O error"):
        write_interaction(tmp_path, "converse-3f9c1a2b4c5d.yaml", document("after"))
    assert path.read_bytes() == before and os.listdir(tmp_path) == [path.name]


# -- broken files ------------------------------------------------------------------------------------------------------


def _broken(**changes: Any) -> dict[str, Any]:
    data = document()
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for part in parents:
            node = node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("version: 1\nrequest: {operation: Converse\n", "cannot be read"),
        ("- just\n- a list\n", "not a version 1 interaction"),
        (dump(_broken(version=2)), "not a version 1 interaction"),
        (dump(_broken(version=_DELETE)), "not a version 1 interaction"),
        (dump(_broken(request=_DELETE)), "needs a 'request' and a 'response' mapping"),
        (dump(_broken(response=["status", 200])), "needs a 'request' and a 'response' mapping"),
        (dump(_broken(request__body=_DELETE)), "request.body is missing"),
        (dump(_broken(request__operation=_DELETE)), "request.operation is missing"),
        (dump(_broken(request__model=_DELETE)), "request.model is missing"),
        (dump(_broken(response__status="200")), "response.status must be an HTTP status"),
        (dump(_broken(response__status=_DELETE)), "response.status must be an HTTP status"),
        (dump(_broken(response__status=200.0)), "response.status must be an HTTP status"),
        (dump(_broken(response__status=99)), "response.status must be an HTTP status"),
        (dump(_broken(response__status=True)), "response.status must be an HTTP status"),
        (dump(_broken(response__headers=["content-type"])), "response.headers must map header names"),
        (dump(_broken(response__t_ms=1e12)), "response.t_ms must be a number of milliseconds"),
        (dump(_broken(response__t_ms="soon")), "response.t_ms must be a number of milliseconds"),
        (dump(_broken(response__body_base64="not base64!")), "response.body_base64 is not base64"),
        (dump(_broken(request__parameters=["trace"])), "request.parameters must map names to text"),
        (dump(_broken(response__events={"t_ms": 1})), "response.events must be a list of frames"),
        (dump(_broken(response__events="messageStart")), "response.events must be a list of frames"),
    ],
    ids=[
        "bad-yaml",
        "not-a-mapping",
        "version-2",
        "no-version",
        "no-request",
        "response-not-a-mapping",
        "no-request-body",
        "no-operation",
        "no-model",
        "status-a-string",
        "no-status",
        "status-a-float",
        "status-99",
        "status-a-bool",
        "headers-a-list",
        "t_ms-huge",
        "t_ms-a-string",
        "body-base64-broken",
        "parameters-a-list",
        "events-a-mapping",
        "events-a-string",
    ],
)
def test_a_broken_file_is_a_value_error_naming_it(tmp_path: Path, text: str, complaint: str) -> None:
    write_interaction(tmp_path, "converse-000000000000.yaml", document())
    broken = tmp_path / "converse-3f9c1a2b4c5d.yaml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="^" + re.escape(f"cassette file {broken}: ")) as caught:
        load_interactions(tmp_path)
    assert complaint in str(caught.value)


def test_a_file_that_is_not_utf8_is_a_value_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "converse-3f9c1a2b4c5d.yaml"
    broken.write_bytes(b"version: 1\nrequest: \xff\xfe\n")
    with pytest.raises(ValueError, match=f"cassette file {broken}: cannot be read"):
        load_interactions(tmp_path)


def test_a_frame_that_is_not_a_mapping_is_a_value_error_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "converse-stream-3f9c1a2b4c5d.yaml"
    broken.write_text(yaml.safe_dump(_broken(response__events=["messageStart"])), encoding="utf-8")
    with pytest.raises(ValueError, match=f"cassette file {broken}: "):
        load_interactions(tmp_path)


def test_a_hand_written_date_is_json_or_a_value_error_naming_the_file(tmp_path: Path) -> None:
    written = tmp_path / "converse-by-hand.yaml"
    written.write_text(dump(document()).replace("text: Hello", "text: 2026-11-30"), encoding="utf-8")
    refusal = None
    try:
        [loaded] = load_interactions(tmp_path)
    except ValueError as error:
        refusal = str(error)
    if refusal is not None:  # refused, naming the file
        assert str(written) in refusal
    else:  # or read as the text it is
        json.dumps(loaded.body)
        match_key(loaded.operation, loaded.model, loaded.body)


# -- whole bodies ------------------------------------------------------------------------------------------------------


def test_exact_compact_json_is_kept_parsed() -> None:
    raw = '{"output":{"message":{"role":"assistant","content":[{"text":"é 中 \\"q\\""}]}},"usage":{"n":1.5}}'.encode()
    entry = recorded_body(raw)
    assert entry == {"body": json.loads(raw)}
    assert body_bytes(entry) == raw


@pytest.mark.parametrize(
    "raw",
    [
        b'{"message": "Too many requests"}',  # spaces
        b'{"t":"\\u00e9"}',  # an escape compact JSON would not write
        b'{"a":1,"a":2}',  # a duplicate key
        b'{"n":1E5}',
        b"not json at all",
        b"",
    ],
)
def test_json_that_would_not_come_back_the_same_is_kept_as_text(raw: bytes) -> None:
    entry = recorded_body(raw)
    assert entry == {"body_text": raw.decode()}
    assert body_bytes(entry) == raw


def test_bytes_that_are_not_utf8_are_kept_as_base64() -> None:
    raw = b"\x89PNG\r\n\x1a\n\xff\x00"
    entry = recorded_body(raw)
    assert entry == {"body_base64": base64.b64encode(raw).decode()}
    assert body_bytes(entry) == raw


def test_the_key_names_the_entry() -> None:
    assert recorded_body(b"{}", "payload") == {"payload": {}}
    assert recorded_body(b"{ }", "chunk") == {"chunk_text": "{ }"}
    assert body_bytes({"chunk_base64": "/w=="}, "chunk") == b"\xff"
    assert body_bytes({}, "body") == b""


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


def _yaml_round_trip(entry: dict[str, Any]) -> Any:
    """``entry`` written into a file's text and read back, by the pure Python and (where built) the C loader."""
    text = dump({"version": 1, "response": entry})
    loaded = yaml.safe_load(text)["response"]
    if hasattr(yaml, "CSafeLoader"):
        assert yaml.load(text, Loader=yaml.CSafeLoader)["response"] == loaded
    return loaded


@given(_JSON)
def test_compact_json_bodies_come_back_byte_for_byte_through_yaml(value: Any) -> None:
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    assert body_bytes(_yaml_round_trip(recorded_body(raw))) == raw


@given(st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_any_bytes_come_back_byte_for_byte_through_yaml(raw: bytes) -> None:
    assert body_bytes(_yaml_round_trip(recorded_body(raw))) == raw


# -- stream frames -----------------------------------------------------------------------------------------------------


def test_a_converse_stream_event_is_recorded_without_its_padding() -> None:
    original = StreamEnvelope(CONVERSE_STREAM).frame(
        "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}}
    )
    message = decode_message(original)
    assert "p" in json.loads(message.payload)
    entry = recorded_frame(message, 212.44)
    assert entry == {
        "t_ms": 212.4,
        "event": "contentBlockDelta",
        "payload": {"contentBlockIndex": 0, "delta": {"text": "Hi"}},
    }


@pytest.mark.parametrize("padding", [True, False])
def test_a_converse_stream_event_is_encoded_anew_with_the_runtime_padding(padding: bool) -> None:
    entry = {"t_ms": 1.0, "event": "contentBlockDelta", "payload": {"contentBlockIndex": 0, "delta": {"text": "Hi"}}}
    headers, payload = botocore_frame(frame_bytes(entry, StreamEnvelope(CONVERSE_STREAM, padding=padding)))
    assert headers == EVENT_HEADERS
    members = json.loads(payload)
    assert ("p" in members) is padding
    members.pop("p", None)
    assert members == entry["payload"]


def test_a_converse_stream_metadata_event_round_trips() -> None:
    payload = {"usage": {"inputTokens": 5, "outputTokens": 7, "totalTokens": 12}, "metrics": {"latencyMs": 120}}
    original = encode_event("metadata", json.dumps({**payload, "p": "abcdefgh"}).encode())
    entry = recorded_frame(decode_message(original), 0.0)
    assert entry == {"t_ms": 0.0, "event": "metadata", "payload": payload}
    headers, wire = botocore_frame(frame_bytes(entry, StreamEnvelope(CONVERSE_STREAM, padding=False)))
    assert headers[":event-type"] == "metadata" and json.loads(wire) == payload


@pytest.mark.parametrize(
    ("chunk", "kind"),
    [
        (b'{"outputs":[{"text":" Hi","stop_reason":null}]}', "chunk"),
        (b'{"outputs": [{"text": " Hi", "stop_reason": null}]}', "chunk_text"),  # not compact: kept as text
        (b'{"choices":[{"index":0,"delta":{"content":"\\u00e9"}}]}', "chunk_text"),  # an escape kept as written
        (b"\xff\xfe not utf-8", "chunk_base64"),
    ],
)
@pytest.mark.parametrize("padding", [True, False])
def test_an_invoke_stream_chunk_keeps_the_model_bytes_exactly(chunk: bytes, kind: str, padding: bool) -> None:
    original = StreamEnvelope(INVOKE_STREAM).chunk_frame("chunk", chunk)
    entry = recorded_frame(decode_message(original), 5.0)
    assert set(entry) == {"t_ms", "event", kind} and entry["event"] == "chunk"
    if kind == "chunk":
        assert entry["chunk"] == json.loads(chunk)
    elif kind == "chunk_text":
        assert entry["chunk_text"] == chunk.decode()

    headers, payload = botocore_frame(frame_bytes(entry, StreamEnvelope(INVOKE_STREAM, padding=padding)))
    assert headers == {**EVENT_HEADERS, ":event-type": "chunk"}
    wrapper = json.loads(payload)
    assert set(wrapper) == ({"bytes", "p"} if padding else {"bytes"})
    assert base64.b64decode(wrapper["bytes"]) == chunk


def test_an_unpadded_chunk_from_bedrock_is_read_too() -> None:
    chunk = b'{"outputs":[{"text":"x"}]}'
    original = encode_event("chunk", b'{"bytes":"' + base64.b64encode(chunk) + b'"}')
    assert recorded_frame(decode_message(original), 0.0) == {"t_ms": 0.0, "event": "chunk", "chunk": json.loads(chunk)}


@pytest.mark.parametrize(
    "original",
    [
        encode_exception("throttlingException", b'{"message":"Too many requests, please wait before trying again."}'),
        encode_exception("modelStreamErrorException", b'{"message": "spaced", "originalStatusCode": 424}'),
        encode_exception("internalServerException", b"\xff binary"),
        encode_error("InternalFailure", "The request processing has failed."),
        encode_message({":message-type": "event", ":event-type": "odd-order", ":content-type": "text/plain"}, b"plain"),
    ],
    ids=["exception", "exception-spaced", "exception-binary", "error", "event-headers-in-another-order"],
)
@pytest.mark.parametrize("padding", [True, False])
def test_a_frame_that_is_not_a_plain_event_keeps_its_headers_and_its_bytes(original: bytes, padding: bool) -> None:
    message = decode_message(original)
    entry = recorded_frame(message, 9.96)
    assert entry["t_ms"] == 10.0
    assert entry["headers"] == dict(message.headers)
    assert "event" not in entry
    for envelope in (StreamEnvelope(CONVERSE_STREAM, padding=padding), StreamEnvelope(INVOKE_STREAM, padding=padding)):
        encoded = frame_bytes(entry, envelope)
        assert encoded == original
        assert botocore_frame(encoded) == (dict(message.headers), message.payload)


def test_an_event_whose_payload_is_not_a_json_object_keeps_its_bytes() -> None:
    for payload in (b"[1,2]", b"not json", b'"text"'):
        original = encode_event("weird", payload)
        entry = recorded_frame(decode_message(original), 0.0)
        assert entry["event"] == "weird" and "headers" not in entry
        assert frame_bytes(entry, StreamEnvelope(CONVERSE_STREAM)) == original


def test_a_recorded_stream_decodes_as_one_stream_with_botocore() -> None:
    """A whole ConverseStream, recorded from one encoding and replayed as one byte stream."""
    envelope = StreamEnvelope(CONVERSE_STREAM)
    sent = [
        envelope.frame("messageStart", {"role": "assistant"}),
        *(envelope.frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}}) for t in ("I", " am")),
        envelope.frame("contentBlockStop", {"contentBlockIndex": 0}),
        envelope.frame("messageStop", {"stopReason": "end_turn"}),
        envelope.frame("metadata", {"usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3}, "metrics": {}}),
    ]
    entries = [recorded_frame(decode_message(frame), float(i)) for i, frame in enumerate(sent)]
    replay = StreamEnvelope(CONVERSE_STREAM)
    frames = botocore_frames(b"".join(frame_bytes(entry, replay) for entry in entries))
    assert [headers[":event-type"] for headers, _ in frames] == [entry["event"] for entry in entries]
    originals = [json.loads(decode_message(frame).payload) for frame in sent]
    for (_, payload), original in zip(frames, originals, strict=True):
        replayed = json.loads(payload)
        assert replayed.pop("p") and original.pop("p")
        assert replayed == original


def _event(headers: dict[str, str], payload: bytes) -> EventStreamMessage:
    return EventStreamMessage(headers, payload)


@given(st.text(max_size=30), st.floats(0, 1e6, allow_nan=False))
def test_any_delta_text_round_trips_through_yaml(text: str, t_ms: float) -> None:
    payload = {"contentBlockIndex": 0, "delta": {"text": text}}
    message = _event(EVENT_HEADERS, json.dumps({**payload, "p": "ab"}, ensure_ascii=False).encode())
    entry = _yaml_round_trip({"events": [recorded_frame(message, t_ms)]})["events"][0]
    assert entry["t_ms"] == round(t_ms, 1)
    _, wire = botocore_frame(frame_bytes(entry, StreamEnvelope(CONVERSE_STREAM, padding=False)))
    assert json.loads(wire) == payload


# -- headers and the YAML text -----------------------------------------------------------------------------------------


def test_only_allow_listed_response_headers_are_kept_lower_cased() -> None:
    kept = recorded_headers(
        {
            "Content-Type": "application/json",
            "X-Amzn-RequestId": "abc",
            "x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "X-Amzn-Bedrock-Input-Token-Count": "12",
            "Date": "Mon, 30 Nov 2026 23:00:00 GMT",
            "Set-Cookie": "session=1",
            "X-Amz-Security-Token": "token",
            "Connection": "keep-alive",
        }
    )
    assert kept == {  # the request id differs on every call: kept, it would make every re-record differ
        "content-type": "application/json",
        "x-amzn-errortype": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
        "x-amzn-bedrock-input-token-count": "12",
    }


def test_dump_writes_one_line_per_frame_and_reads_back_equal() -> None:
    events = [
        {"t_ms": 0.5, "event": "messageStart", "payload": {"role": "assistant"}},
        {
            "t_ms": 1.0,
            "event": "contentBlockDelta",
            "payload": {"delta": {"text": "a long one: # not a comment " + "x" * 300}},
        },
        {
            "t_ms": 2.0,
            "event": "contentBlockDelta",
            "payload": {"delta": {"text": "é 中 \t 'quotes' \"double\" \u2028"}},
        },
        {"t_ms": 3.0, "event": "chunk", "chunk": {"outputs": [{"text": "yes", "stop_reason": None}]}},
        {"t_ms": 4.0, "event": "chunk", "chunk_text": '{"outputs": []}'},
        {
            "t_ms": 5.0,
            "headers": {":exception-type": "throttlingException", ":message-type": "exception"},
            "payload": {"message": "slow down"},
        },
    ]
    written = document(status=200, headers={"content-type": "application/vnd.amazon.eventstream"}, events=events)
    text = dump(written)
    assert yaml.safe_load(text) == written
    # Lines end at "\n" only (YAML may keep a U+2028 in a quoted string as it is).
    lines = text.removesuffix("\n").split("\n")
    frame_lines = [line for line in lines if line.startswith("  - {")]
    assert len(frame_lines) == len(events)
    assert lines[-len(events) :] == frame_lines
    assert [yaml.safe_load(line[4:]) for line in frame_lines] == events


def test_dump_keeps_the_key_order_and_unicode() -> None:
    text = dump(document("Grüße, 世界"))
    keys = [line.partition(":")[0] for line in text.split("\n") if line and not line.startswith(" ")]
    assert keys == ["version", "recorded", "request", "response"]
    assert "Grüße, 世界" in text


_FRAME_TEXT = st.text(max_size=20) | st.sampled_from(
    ["a\u2028b", "\n", "a\n\nb", "\r\n", "x: #y", "\x85", "- [z]", "'", '"', " ", "\t"]
)


@given(st.lists(_FRAME_TEXT, min_size=1, max_size=4))
def test_any_frames_dump_as_one_line_each(texts: list[str]) -> None:
    events = [
        {"t_ms": float(i), "event": "contentBlockDelta", "payload": {"delta": {"text": t}}} for i, t in enumerate(texts)
    ]
    written = {"version": 1, "response": {"status": 200, "events": events}}
    text = dump(written)
    assert yaml.safe_load(text) == written
    lines = text.removesuffix("\n").split("\n")
    assert lines[:3] == ["version: 1", "response:", "  status: 200"]
    assert lines[3] == "  events:" and len(lines) == 4 + len(events)


# Most model answers hold line breaks: PyYAML would fold such a string over several lines unless told not to.
@pytest.mark.parametrize("text", ["\n\n", "Sure!\n\nHere is a list:\n- one", "a\n"])
def test_a_delta_with_newlines_stays_on_one_line(text: str) -> None:
    events = [{"t_ms": 1.0, "event": "contentBlockDelta", "payload": {"contentBlockIndex": 0, "delta": {"text": text}}}]
    written = {"version": 1, "response": {"status": 200, "events": events}}
    dumped = dump(written)
    assert yaml.safe_load(dumped) == written  # it does read back equal
    lines = dumped.removesuffix("\n").split("\n")
    assert lines[:4] == ["version: 1", "response:", "  status: 200", "  events:"]
    assert len(lines) == 5, lines


def test_load_reads_a_dumped_stream_interaction(tmp_path: Path) -> None:
    events = [{"t_ms": 1.0, "event": "messageStart", "payload": {"role": "assistant"}}]
    written = document(status=200, headers={}, events=events)
    write_interaction(tmp_path, "converse-stream-3f9c1a2b4c5d.yaml", written)
    [loaded] = load_interactions(tmp_path)
    assert loaded.response["events"] == events
