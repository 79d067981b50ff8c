"""The stream envelope: written by the runtime's side, read by the client's, decided by the operation's body kind."""

from __future__ import annotations

import json

import pytest

from mistral_bedrock.protocol.eventstream import EventStreamDecoder
from mistral_bedrock.protocol.operations import OPERATIONS, OperationName
from mistral_bedrock.protocol.stream_envelope import PADDING, EnvelopeError, StreamEnvelope

INVOKE_STREAM = OPERATIONS[OperationName.INVOKE_MODEL_WITH_RESPONSE_STREAM]
CONVERSE_STREAM = OPERATIONS[OperationName.CONVERSE_STREAM]


def _payloads(frames: list[bytes]) -> list[tuple[str, dict[str, object]]]:
    messages = EventStreamDecoder().feed(b"".join(frames))
    return [(m.event_type or "", json.loads(m.payload)) for m in messages]


def test_invoke_streams_wrap_each_model_chunk_in_base64_with_padding() -> None:
    writer = StreamEnvelope(INVOKE_STREAM)
    chunks = [{"outputs": [{"text": " Hé", "stop_reason": None}]}, {"outputs": [{"text": "!", "stop_reason": "stop"}]}]
    wire = _payloads([writer.frame("chunk", chunk) for chunk in chunks])
    assert [event for event, _ in wire] == ["chunk", "chunk"]
    assert all(set(payload) == {"bytes", "p"} and PADDING.startswith(str(payload["p"])) for _, payload in wire)
    assert len({str(payload["p"]) for _, payload in wire}) == 2  # the padding's length varies
    reader = StreamEnvelope(INVOKE_STREAM)
    assert [json.loads(reader.unwrap(event, payload) or b"") for event, payload in wire] == chunks
    assert not reader.ends_with_metadata


def test_converse_streams_send_each_event_itself_and_end_with_metadata() -> None:
    writer = StreamEnvelope(CONVERSE_STREAM, padding=False)
    event = {"contentBlockIndex": 0, "delta": {"text": "Hi"}}
    [(name, payload)] = _payloads([writer.frame("contentBlockDelta", event)])
    assert (name, payload) == ("contentBlockDelta", event)
    reader = StreamEnvelope(CONVERSE_STREAM)
    assert reader.unwrap(name, payload) is None and reader.ends_with_metadata


@pytest.mark.parametrize(
    ("payload", "problem"),
    [({"p": "abc"}, "chunk.bytes is missing"), ({"bytes": 7}, "chunk.bytes is not a string"),
     ({"bytes": "%%%"}, "chunk.bytes is not base64")],
)  # fmt: skip
def test_a_chunk_that_is_not_the_envelope_names_the_member(payload: dict[str, object], problem: str) -> None:
    with pytest.raises(EnvelopeError, match=problem):
        StreamEnvelope(INVOKE_STREAM).unwrap("chunk", payload)
