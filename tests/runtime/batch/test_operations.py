"""The four operations through unmodified boto3: shapes, identifiers, idempotency, names, refusals."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from mistral_bedrock.runtime import RuntimeConfig, ServerThread
from mistral_bedrock.runtime.batch import DISABLED_MESSAGE
from tests.runtime.batch.conftest import MODEL, ROLE, Jobs, bedrock_client, control_client, job_id, records


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response: Any = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def test_create_get_list_results_stop(jobs: Jobs, bedrock: Any) -> None:
    source = jobs.write("flow/input.jsonl", records(120))
    arn = jobs.create(source, timeoutDurationInHours=48)
    assert arn.startswith("arn:aws:bedrock:us-east-1:111122223333:model-invocation-job/")
    assert len(job_id(arn)) == 12

    assert jobs.settle(arn)["status"] == "Completed"
    job = bedrock.get_model_invocation_job(jobIdentifier=arn)
    assert (job["jobArn"], job["modelId"], job["roleArn"], job["status"]) == (arn, MODEL, ROLE, "Completed")
    # Every timestamp member parsed by botocore into a datetime; the expiration is submit + timeout [D].
    for member in ("submitTime", "lastModifiedTime", "endTime", "jobExpirationTime"):
        assert isinstance(job[member], datetime), member
    assert (job["jobExpirationTime"] - job["submitTime"]).total_seconds() == 48 * 3600
    counts = [job[m] for m in ("totalRecordCount", "processedRecordCount", "successRecordCount", "errorRecordCount")]
    assert counts == [120, 120, 120, 0]
    assert job["inputDataConfig"] == {"s3InputDataConfig": {"s3Uri": source}}

    summaries = bedrock.list_model_invocation_jobs(nameContains=job["jobName"])["invocationJobSummaries"]
    assert [s["jobArn"] for s in summaries] == [arn]

    lines = jobs.output_lines(arn)
    assert len(lines) == 120
    assert {line["recordId"] for line in lines} == {f"rec{i:05d}" for i in range(120)}
    assert all("modelOutput" in line and "modelInput" in line for line in lines)
    assert jobs.manifest(arn)["processedRecordCount"] == 120

    with pytest.raises(ClientError) as excinfo:
        bedrock.stop_model_invocation_job(jobIdentifier=arn)
    status, code, message = _error(excinfo)
    assert (status, code) == (400, "ValidationException")
    assert "State was: Completed" in message  # what Airflow's system test catches [R]


def test_get_by_id_and_by_arn(jobs: Jobs, bedrock: Any) -> None:
    arn = jobs.create(jobs.write("ids/input.jsonl", records(100)))
    by_id = bedrock.get_model_invocation_job(jobIdentifier=job_id(arn))
    by_arn = bedrock.get_model_invocation_job(jobIdentifier=arn)  # boto3 sends it percent-encoded, %2F and all
    assert by_id["jobArn"] == by_arn["jobArn"] == arn
    jobs.settle(arn)


@pytest.mark.parametrize(
    ("identifier", "code"),
    [
        ("abcdefghijkl", "ResourceNotFoundException"),
        ("arn:aws:bedrock:us-east-1:999999999999:model-invocation-job/abcdefghijkl", "ResourceNotFoundException"),
        ("not-a-job", "ValidationException"),
    ],
)
def test_unknown_or_malformed_identifiers(bedrock: Any, identifier: str, code: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        bedrock.get_model_invocation_job(jobIdentifier=identifier)
    assert _error(excinfo)[1] == code


def test_the_same_token_returns_the_same_job(jobs: Jobs, bedrock: Any) -> None:
    source = jobs.write("token/input.jsonl", records(100))
    first = jobs.create(source, jobName="same-token-job", clientRequestToken="token-1")
    again = jobs.create(source, jobName="same-token-job", clientRequestToken="token-1")
    assert again == first
    listed = bedrock.list_model_invocation_jobs(nameContains="same-token-job")["invocationJobSummaries"]
    assert len(listed) == 1
    jobs.settle(first)


def test_a_name_in_use_is_a_conflict(jobs: Jobs) -> None:
    source = jobs.write("names/input.jsonl", records(100))
    jobs.settle(jobs.create(source, jobName="taken-name"))
    with pytest.raises(ClientError) as excinfo:
        jobs.create(source, jobName="taken-name")
    assert _error(excinfo)[:2] == (400, "ConflictException")


def test_an_unsupported_model_gets_bedrocks_words(jobs: Jobs) -> None:
    with pytest.raises(ClientError) as excinfo:
        jobs.create("s3://batch-input/none.jsonl", modelId="mistral.mistral-7b-instruct-v0:2")
    assert _error(excinfo) == (400, "ValidationException", "Batch inference is not supported for the requested model.")


def test_shape_constraints_are_the_front_ends(jobs: Jobs) -> None:
    with pytest.raises(ClientError) as excinfo:
        # boto3 checks minimums itself, not maximums or patterns: those reach the service.
        jobs.create("s3://batch-input/x.jsonl", roleArn="not-a-role", timeoutDurationInHours=200)
    status, code, message = _error(excinfo)
    assert (status, code) == (400, "ValidationException")
    assert message.startswith("2 validation errors detected: Value 'not-a-role' at 'roleArn'")
    assert (
        "at 'timeoutDurationInHours' failed to satisfy constraint: Member must have value less than or equal to 168"
        in (message)
    )


def test_the_in_progress_cap_per_model(jobs: Jobs, bedrock: Any) -> None:
    jobs.hold("Submitted")
    source = jobs.write("cap/input.jsonl", records(100))
    held = [jobs.create(source) for _ in range(10)]
    with pytest.raises(ClientError) as excinfo:
        jobs.create(source)
    assert _error(excinfo)[:2] == (400, "ServiceQuotaExceededException")
    for arn in held:
        bedrock.stop_model_invocation_job(jobIdentifier=arn)
    assert {jobs.settle(arn)["status"] for arn in held} == {"Stopped"}


def test_unknown_paths_and_methods_are_unknown_operations(batch_runtime: Any) -> None:
    # As the model paths answer a path that names no operation.
    reply = httpx.delete(batch_runtime.url + "/model-invocation-jobs", headers={"Authorization": "Bearer x"})
    assert reply.status_code == 404 and reply.headers["x-amzn-ErrorType"].startswith("UnknownOperationException")


def test_with_batch_off_every_operation_says_why(tmp_path: Any) -> None:
    # serve --workers N (N > 1) turns batch off: a job would live in one worker, invisible to the others.
    with ServerThread(config=RuntimeConfig(batch=False, batch_store=str(tmp_path))) as server:
        client = bedrock_client(server.url)
        with pytest.raises(ClientError) as excinfo:
            client.list_model_invocation_jobs()
    assert _error(excinfo) == (400, "ValidationException", DISABLED_MESSAGE)


def test_a_server_stops_promptly_with_jobs_still_running(tmp_path: Any) -> None:
    # Jobs are tasks on the server's loop: stopping the server ends them with it, and nothing hangs.
    (tmp_path / "batch-output").mkdir()
    (tmp_path / "batch-input").mkdir()
    (tmp_path / "batch-input" / "input.jsonl").write_bytes(
        b"".join(json.dumps(r).encode() + b"\n" for r in records(100))
    )
    server = ServerThread(config=RuntimeConfig(batch_store=str(tmp_path))).start()
    with control_client(server.url) as control:
        control.put("/holds", json={"phases": ["InProgress"]}).raise_for_status()
        jobs = Jobs(tmp_path, bedrock_client(server.url), control)
        arn = jobs.create("s3://batch-input/input.jsonl")
        assert jobs.settle(arn)["status"] == "InProgress"
        jobs.advance(arn, records=10)
        assert jobs.settle(arn)["processedRecordCount"] == 10
    server.stop()
    assert not server._thread.is_alive()


def test_jobs_belong_to_the_region_they_were_created_in(jobs: Jobs, batch_runtime: ServerThread) -> None:
    arn = jobs.create(jobs.write("regions/input.jsonl", records(100)))
    jobs.settle(arn)
    elsewhere = bedrock_client(batch_runtime.url, region_name="eu-west-3")
    try:
        with pytest.raises(ClientError) as excinfo:
            elsewhere.get_model_invocation_job(jobIdentifier=job_id(arn))
        assert _error(excinfo)[1] == "ResourceNotFoundException"
        assert arn not in {s["jobArn"] for s in elsewhere.list_model_invocation_jobs()["invocationJobSummaries"]}
    finally:
        elsewhere.close()


def test_unverified_models_when_allowed(tmp_path: Any) -> None:
    (tmp_path / "batch-output").mkdir()
    config = RuntimeConfig(batch_store=str(tmp_path), batch_allow_unverified=True, batch_order="input")
    with ServerThread(config=config) as server, control_client(server.url) as control:
        client = bedrock_client(server.url)
        jobs = Jobs(tmp_path, client, control)

        def prompt(i: int) -> dict[str, Any]:  # the text dialect of Mistral 7B's InvokeModel body
            return {"prompt": f"<s>[INST] {i} [/INST]", "max_tokens": 8}

        arn = jobs.create(jobs.write("input.jsonl", records(100, prompt)), modelId="mistral.mistral-7b-instruct-v0:2")
        job = jobs.settle(arn)
        lines = jobs.output_lines(arn)
        client.close()
    assert (job["status"], job["successRecordCount"]) == ("Completed", 100)
    assert [line["recordId"] for line in lines] == [f"rec{i:05d}" for i in range(100)]  # in input order
    assert "outputs" in lines[0]["modelOutput"]  # the text dialect's own response body
