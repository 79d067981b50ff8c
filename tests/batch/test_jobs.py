"""The CreateModelInvocationJob request and the job as Get/List return it, with botocore's ``bedrock`` service model as
the oracle for every shape constraint."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import botocore.session
import pytest
from botocore.model import ServiceModel
from hypothesis import given
from hypothesis import strategies as st

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.jobs import (
    BATCH_NOT_SUPPORTED,
    PATTERNS,
    BatchJob,
    check_create_request,
    check_job_identifier,
    create_job_request,
    format_timestamp,
    idempotency_token,
    input_digest,
    job_arn,
    parse_timestamp,
)
from mistral_bedrock.batch.limits import DEFAULT_LIMITS, BatchLimits
from mistral_bedrock.batch.status import JobStatus
from mistral_bedrock.errors import SerializationException, ValidationException

ROLE = "arn:aws:iam::123456789012:role/BedrockBatch"
MODEL = "mistral.mistral-large-3-675b-instruct"
ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghijkl"


@pytest.fixture(scope="module")
def bedrock() -> ServiceModel:
    return botocore.session.get_session().get_service_model("bedrock")


def _request(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "job_name": "nightly-eval-1",
        "role_arn": ROLE,
        "model_id": MODEL,
        "input_uri": "s3://my-bucket/batch/in/records.jsonl",
        "output_uri": "s3://my-bucket/batch/out/",
        "invocation": InvocationType.INVOKE_MODEL,
        "client_request_token": idempotency_token("nightly-eval-1", "0" * 64),
    }
    return create_job_request(**(args | overrides))


def _message(body: dict[str, Any], limits: BatchLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(ValidationException) as info:
        check_create_request(body, limits)
    return info.value.message


# -- the constraints are the service model's -------------------------------------------------------------------


def test_every_pattern_is_the_service_models(bedrock: ServiceModel) -> None:
    for name, pattern in PATTERNS.items():
        assert bedrock.shape_for(name).metadata["pattern"] == pattern, name


def test_create_members_and_bounds_are_the_service_models(bedrock: ServiceModel) -> None:
    shape = bedrock.operation_model("CreateModelInvocationJob").input_shape
    assert set(shape.required_members) == {"jobName", "roleArn", "modelId", "inputDataConfig", "outputDataConfig"}
    meta = {name: member.metadata for name, member in shape.members.items()}
    limits = DEFAULT_LIMITS
    assert (meta["jobName"]["min"], meta["jobName"]["max"]) == (limits.min_job_name, limits.max_job_name)
    assert meta["jobName"]["pattern"] == limits.job_name_pattern
    assert (meta["timeoutDurationInHours"]["min"], meta["timeoutDurationInHours"]["max"]) == (
        limits.min_timeout_hours,
        limits.max_timeout_hours,
    )
    assert meta["tags"]["max"] == limits.max_tags
    assert meta["modelInvocationType"]["enum"] == [t.value for t in InvocationType]
    s3 = shape.members["inputDataConfig"].members["s3InputDataConfig"]
    assert s3.members["s3InputFormat"].metadata["enum"] == ["JSONL"]
    assert s3.members["s3Uri"].metadata["max"] == 1024
    lst = bedrock.operation_model("ListModelInvocationJobs").input_shape.members["maxResults"].metadata
    assert (lst["min"], lst["max"]) == (limits.min_list_results, limits.max_list_results)


def test_the_built_request_passes_botocores_own_validation(bedrock: ServiceModel) -> None:
    from botocore.validate import ParamValidator

    body = _request(timeout_hours=72, tags={"team": "eval"}, invocation=InvocationType.CONVERSE)
    shape = bedrock.operation_model("CreateModelInvocationJob").input_shape
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()


def test_the_body_is_the_exact_wire_shape() -> None:
    token = idempotency_token("nightly-eval-1", "0" * 64)
    assert _request(timeout_hours=24, tags={"a": "b"}) == {
        "jobName": "nightly-eval-1",
        "roleArn": ROLE,
        "clientRequestToken": token,
        "modelId": MODEL,
        "inputDataConfig": {
            "s3InputDataConfig": {"s3Uri": "s3://my-bucket/batch/in/records.jsonl", "s3InputFormat": "JSONL"}
        },
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://my-bucket/batch/out/"}},
        "timeoutDurationInHours": 24,
        "tags": [{"key": "a", "value": "b"}],
        "modelInvocationType": "InvokeModel",
    }


# -- the front end's messages ----------------------------------------------------------------------------------


def test_a_job_name_with_an_underscore_fails_the_pattern() -> None:
    assert _message(_request() | {"jobName": "my_job"}) == (
        "1 validation error detected: Value 'my_job' at 'jobName' failed to satisfy constraint: Member must satisfy "
        r"regular expression pattern: [a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}"
    )


def test_a_job_name_over_63_characters() -> None:
    name = "a" * 64
    assert _message(_request() | {"jobName": name}) == (
        f"1 validation error detected: Value '{name}' at 'jobName' failed to satisfy constraint: Member must have "
        "length less than or equal to 63"
    )


def test_several_violations_in_member_order() -> None:
    body = _request() | {"timeoutDurationInHours": 12, "roleArn": "role"}
    assert _message(body) == (
        "2 validation errors detected: Value 'role' at 'roleArn' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+; Value '12' at "
        "'timeoutDurationInHours' failed to satisfy constraint: Member must have value greater than or equal to 24"
    )


@pytest.mark.parametrize("member", ["jobName", "roleArn", "modelId", "inputDataConfig", "outputDataConfig"])
def test_a_missing_required_member(member: str) -> None:
    body = {k: v for k, v in _request().items() if k != member}
    assert _message(body) == (
        f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    )


def test_timeout_bounds_24_to_168() -> None:
    check_create_request(_request() | {"timeoutDurationInHours": 24})
    check_create_request(_request() | {"timeoutDurationInHours": 168})
    assert "less than or equal to 168" in _message(_request() | {"timeoutDurationInHours": 169})


def test_an_input_format_other_than_jsonl() -> None:
    body = _request()
    body["inputDataConfig"]["s3InputDataConfig"]["s3InputFormat"] = "CSV"
    assert _message(body) == (
        "1 validation error detected: Value 'CSV' at 'inputDataConfig.s3InputDataConfig.s3InputFormat' failed to "
        "satisfy constraint: Member must satisfy enum value set: [JSONL]"
    )


def test_an_s3_uri_that_is_no_s3_uri() -> None:
    body = _request()
    body["inputDataConfig"]["s3InputDataConfig"]["s3Uri"] = "https://my-bucket.s3.amazonaws.com/x.jsonl"
    message = _message(body)
    assert "at 'inputDataConfig.s3InputDataConfig.s3Uri'" in message
    assert "Member must satisfy regular expression pattern: s3://" in message


def test_an_empty_input_union() -> None:
    assert _message(_request() | {"inputDataConfig": {}}) == (
        "1 validation error detected: Value at 'inputDataConfig' failed to satisfy constraint: Member must have one "
        "and only one member set"
    )


def test_too_many_tags_and_the_limit_is_overridable() -> None:
    tags = {f"k{i}": "v" for i in range(201)}
    message = _message(_request() | {"tags": [{"key": k, "value": v} for k, v in tags.items()]})
    assert "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 200" in message
    few = BatchLimits(max_tags=2)
    with pytest.raises(ValidationException, match="less than or equal to 2"):
        create_job_request(
            job_name="j",
            role_arn=ROLE,
            model_id=MODEL,
            input_uri="s3://bkt/in.jsonl",
            output_uri="s3://bkt/out/",
            invocation=InvocationType.INVOKE_MODEL,
            client_request_token="t",
            tags={"a": "1", "b": "2", "c": "3"},
            limits=few,
        )


def test_an_unknown_invocation_type() -> None:
    assert _message(_request() | {"modelInvocationType": "Chat"}) == (
        "1 validation error detected: Value 'Chat' at 'modelInvocationType' failed to satisfy constraint: Member "
        "must satisfy enum value set: [InvokeModel, Converse]"
    )


def test_a_client_request_token_out_of_pattern() -> None:
    assert "at 'clientRequestToken'" in _message(_request() | {"clientRequestToken": "has space"})


def test_a_model_id_over_2048_characters() -> None:
    model = "a" * 2049
    assert "at 'modelId' failed to satisfy constraint: Member must have length less than or equal to 2048" in (
        _message(_request() | {"modelId": model})
    )


def test_a_value_of_the_wrong_type_is_a_serialization_error() -> None:
    with pytest.raises(SerializationException, match="timeoutDurationInHours"):
        check_create_request(_request() | {"timeoutDurationInHours": "24"})
    with pytest.raises(SerializationException):
        check_create_request([])  # type: ignore[arg-type]


@given(st.text(max_size=70))
def test_job_names_are_judged_as_botocores_pattern_judges_them(name: str) -> None:
    pattern = re.compile(PATTERNS["ModelInvocationJobName"])
    valid = 1 <= len(name) <= 63 and pattern.fullmatch(name) is not None
    try:
        check_create_request(_request() | {"jobName": name})
    except ValidationException:
        assert not valid
    else:
        assert valid


# -- idempotency ----------------------------------------------------------------------------------------------


def test_the_token_is_deterministic_valid_and_distinct() -> None:
    token = idempotency_token("job", input_digest([b"a\n", b"b\n"]))
    assert token == idempotency_token("job", input_digest([b"a\nb\n"]))
    assert token != idempotency_token("job2", input_digest([b"a\nb\n"]))
    assert token != idempotency_token("job", input_digest([b"a\nc\n"]))
    assert re.fullmatch(PATTERNS["ModelInvocationIdempotencyToken"], token)
    assert len(token) <= 256


# -- identifiers -----------------------------------------------------------------------------------------------


def test_job_identifiers_as_id_or_arn() -> None:
    assert check_job_identifier("abcdefghijkl") == "abcdefghijkl"
    assert check_job_identifier(ARN) == "abcdefghijkl"
    assert job_arn("us-east-1", "123456789012", "abcdefghijkl") == ARN
    with pytest.raises(ValidationException, match="at 'jobIdentifier' failed to satisfy constraint"):
        check_job_identifier("ABCDEFGHIJKL")
    assert BATCH_NOT_SUPPORTED == "Batch inference is not supported for the requested model."


# -- the job ---------------------------------------------------------------------------------------------------


def _get_response(**overrides: Any) -> dict[str, Any]:
    return {
        "jobArn": ARN,
        "jobName": "nightly-eval-1",
        "modelId": MODEL,
        "clientRequestToken": "tok",
        "roleArn": ROLE,
        "status": "Completed",
        "message": None,
        "submitTime": "2026-11-30T10:00:00.123Z",
        "lastModifiedTime": "2026-11-30T10:20:00Z",
        "endTime": "2026-11-30T10:20:00+00:00",
        "inputDataConfig": {"s3InputDataConfig": {"s3InputFormat": "JSONL", "s3Uri": "s3://b/in.jsonl"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out"}},
        "timeoutDurationInHours": 24,
        "jobExpirationTime": "2026-12-01T10:00:00.123Z",
        "modelInvocationType": "Converse",
        "totalRecordCount": 500,
        "processedRecordCount": 500,
        "successRecordCount": 0,
        "errorRecordCount": 500,
    } | overrides


def test_a_get_response_parses() -> None:
    job = BatchJob.from_json(_get_response())
    assert job.job_id == "abcdefghijkl"
    assert job.status is JobStatus.COMPLETED
    assert job.terminal
    assert job.partial_failure  # Completed, every record an error [R]
    assert job.submit_time == datetime(2026, 11, 30, 10, 0, 0, 123000, tzinfo=timezone.utc)
    assert job.job_expiration_time is not None
    assert job.job_expiration_time - job.submit_time == timedelta(hours=24)
    assert job.invocation is InvocationType.CONVERSE
    assert (job.total_records, job.processed_records, job.success_records, job.error_records) == (500, 500, 0, 500)
    assert job.output_prefix == "s3://b/out/abcdefghijkl/"


def test_older_jobs_without_counts_or_type() -> None:
    data = _get_response(status="InProgress")
    for key in ("totalRecordCount", "processedRecordCount", "successRecordCount", "errorRecordCount"):
        del data[key]
    del data["modelInvocationType"]
    job = BatchJob.from_json(data)
    assert job.total_records is None
    assert not job.terminal
    assert not job.partial_failure
    assert job.invocation_type is InvocationType.INVOKE_MODEL
    assert "modelInvocationType" not in job.to_json()


@pytest.mark.parametrize(
    ("status", "errors", "partial"),
    [("Completed", 0, False), ("Completed", 1, True), ("PartiallyCompleted", 0, True), ("Failed", 3, False)],
)
def test_partial_failure(status: str, errors: int, partial: bool) -> None:
    assert BatchJob.from_json(_get_response(status=status, errorRecordCount=errors)).partial_failure is partial


def test_to_json_round_trips_and_botocore_parses_it(bedrock: ServiceModel) -> None:
    from botocore.parsers import RestJSONParser

    data = {k: v for k, v in _get_response().items() if v is not None}
    job = BatchJob.from_json(data)
    wire = job.to_json()
    assert BatchJob.from_json(wire) == job
    assert wire["submitTime"] == "2026-11-30T10:00:00.123Z"
    import json

    parsed = RestJSONParser().parse(
        {"status_code": 200, "headers": {}, "body": json.dumps(wire).encode()},
        bedrock.operation_model("GetModelInvocationJob").output_shape,
    )
    assert parsed["submitTime"] == job.submit_time
    assert parsed["jobExpirationTime"] == job.job_expiration_time
    assert parsed["errorRecordCount"] == 500


def test_a_boto3_dict_with_datetimes_parses() -> None:
    when = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    job = BatchJob.from_json(_get_response(submitTime=when, endTime=None, lastModifiedTime=when))
    assert job.submit_time == when
    assert job.end_time is None


def test_a_list_summary_parses() -> None:
    summary = _get_response()
    del summary["clientRequestToken"]
    assert BatchJob.from_json(summary).client_request_token is None


def test_a_response_without_what_it_requires() -> None:
    data = _get_response()
    del data["inputDataConfig"]
    with pytest.raises(ValueError, match="inputDataConfig"):
        BatchJob.from_json(data)


def test_timestamps() -> None:
    moment = parse_timestamp("2026-11-30T10:00:00Z")
    assert moment.tzinfo is not None
    assert parse_timestamp(moment.timestamp()) == moment
    assert parse_timestamp(datetime(2026, 11, 30, 10)) == moment  # naive: UTC
    assert format_timestamp(moment) == "2026-11-30T10:00:00.000Z"
    with pytest.raises(ValueError, match="not a timestamp"):
        parse_timestamp([])
