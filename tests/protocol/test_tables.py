"""The operations and error tables, checked against botocore's own bedrock-runtime service model."""

from __future__ import annotations

import botocore.session
import pytest

from mistral_bedrock.protocol.error_codes import (
    ERROR_CODES,
    error_body,
    error_code_for_stream_member,
    error_type_header,
    parse_error,
)
from mistral_bedrock.protocol.operations import (
    OPERATIONS,
    OperationName,
    model_path,
    operation_for_suffix,
    split_model_path,
)


@pytest.fixture(scope="module")
def service_model():  # type: ignore[no-untyped-def]
    return botocore.session.get_session().get_service_model("bedrock-runtime")


@pytest.mark.parametrize("name", list(OperationName))
def test_operation_matches_service_model(service_model, name: OperationName) -> None:  # type: ignore[no-untyped-def]
    ours = OPERATIONS[name]
    theirs = service_model.operation_model(name.value)
    assert theirs.http["method"] == ours.method
    assert theirs.http["requestUri"] == ours.uri_template
    assert theirs.has_event_stream_output == ours.streaming
    assert {e.name for e in theirs.error_shapes} == ours.errors
    if ours.streaming:
        stream_shape = theirs.output_shape.members[theirs.output_shape.serialization["payload"]]
        members = {k for k, v in stream_shape.members.items() if v.metadata.get("exception")}
        assert members == ours.stream_errors
    accept = theirs.input_shape.members.get("accept")
    if accept is not None:  # the header the operation's accept member travels in
        assert accept.serialization["name"] == ours.accept_header


def test_error_rows_match_service_model(service_model) -> None:  # type: ignore[no-untyped-def]
    modelled = {shape.name: shape for shape in service_model.error_shapes}
    for name, shape in modelled.items():
        row = ERROR_CODES[name]
        assert row.status == shape.metadata["error"]["httpStatusCode"]
        assert row.fault == ("client" if shape.metadata["error"].get("senderFault") else "server")
    for op_name in ("InvokeModelWithResponseStream", "ConverseStream"):
        op = service_model.operation_model(op_name)
        stream_shape = op.output_shape.members[op.output_shape.serialization["payload"]]
        for member, shape in stream_shape.members.items():
            if shape.metadata.get("exception"):
                assert ERROR_CODES[shape.name].stream_member == member
                assert error_code_for_stream_member(member) == shape.name


def test_throttling_and_model_not_ready_share_a_status_but_not_a_code() -> None:
    assert ERROR_CODES["ThrottlingException"].status == ERROR_CODES["ModelNotReadyException"].status == 429
    assert ERROR_CODES["ValidationException"].status == ERROR_CODES["ServiceQuotaExceededException"].status
    assert ERROR_CODES["ThrottlingException"].retryable
    assert not ERROR_CODES["ValidationException"].retryable


def test_error_envelope_is_byte_exact() -> None:
    # The real 429 body is 63 bytes long (Content-Length: 63 in a captured response).
    body = error_body("Too many tokens, please wait before trying again.")
    assert body == b'{"message":"Too many tokens, please wait before trying again."}'
    assert len(body) == 63
    assert error_type_header("ThrottlingException") == (
        "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"
    )


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        (
            {"x-amzn-ErrorType": error_type_header("ModelNotReadyException")},
            b'{"message":"m"}',
            "ModelNotReadyException",
        ),
        ({}, b'{"__type":"com.amazonaws.bedrockruntime#ThrottlingException","message":"m"}', "ThrottlingException"),
        ({}, b'{"code":"ValidationException","Message":"m"}', "ValidationException"),
        ({}, b"not json", "429"),
    ],
)
def test_parse_error_follows_botocore_precedence(headers: dict[str, str], body: bytes, expected: str) -> None:
    code, _ = parse_error(headers, body, 429)
    assert code == expected


def test_paths_round_trip_like_botocore() -> None:
    arn = "arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-large-2402-v1:0"
    path = model_path(arn, OperationName.INVOKE_MODEL)
    assert (
        path
        == "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A%3Afoundation-model%2Fmistral.mistral-large-2402-v1%3A0/invoke"
    )
    assert split_model_path(path) == (arn, "invoke")
    # A raw ':' (as some clients send) is accepted too; a literal '/' never splits the label.
    assert split_model_path("/model/mistral.mistral-7b-instruct-v0:2/invoke") == (
        "mistral.mistral-7b-instruct-v0:2",
        "invoke",
    )
    assert split_model_path("/model/a/b/invoke") is None
    assert split_model_path("/foo") is None
    assert operation_for_suffix("converse-stream") is OPERATIONS[OperationName.CONVERSE_STREAM]
    assert operation_for_suffix("nope") is None
