"""CreateModelInvocationJob bodies the front end reads its own way: null members, bodies that do not parse, numbers
in an Integer member, and model ARNs of another Region."""

from __future__ import annotations

import json
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from mistral_bedrock.runtime import ServerThread
from tests.runtime.batch.conftest import MODEL, ROLE, Jobs, records

_DEEP = b"[" * 100_000 + b"]" * 100_000


def _body(jobs: Jobs, name: str, **members: Any) -> dict[str, Any]:
    uri = jobs.write("create-body/input.jsonl", records(100))
    return {
        "jobName": name,
        "roleArn": ROLE,
        "modelId": MODEL,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": uri}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": f"s3://batch-output/{name}/"}},
        **members,
    }


def _post(url: str, path: str, content: bytes) -> httpx.Response:
    return httpx.post(url + path, content=content, headers={"Authorization": "Bearer t"}, timeout=30)


def test_null_members_are_absent_ones(jobs: Jobs, batch_runtime: ServerThread, bedrock: Any) -> None:
    nulls = {"tags": None, "timeoutDurationInHours": None, "modelInvocationType": None, "vpcConfig": None}
    reply = _post(batch_runtime.url, "/model-invocation-job", json.dumps(_body(jobs, "nulls", **nulls)).encode())
    assert reply.status_code == 200, reply.text
    job = bedrock.get_model_invocation_job(jobIdentifier=reply.json()["jobArn"])
    assert (job["timeoutDurationInHours"], job["modelInvocationType"]) == (24, "InvokeModel")


def test_a_whole_number_written_as_a_float_is_echoed_as_an_integer(jobs: Jobs, batch_runtime: ServerThread) -> None:
    text = json.dumps(_body(jobs, "float-hours")).replace('"jobName"', '"timeoutDurationInHours": 1e2, "jobName"')
    reply = _post(batch_runtime.url, "/model-invocation-job", text.encode())
    assert reply.status_code == 200, reply.text
    job = jobs.control.post(f"/jobs/{reply.json()['jobArn'].rsplit('/', 1)[1]}/settle", json={}).json()
    assert job["timeoutDurationInHours"] == 100 and isinstance(job["timeoutDurationInHours"], int)


@pytest.mark.parametrize("path", ["/model-invocation-job", "/_mistral_bedrock/batch/clock"])
def test_a_body_nested_too_deep_is_refused_as_converse_refuses_it(batch_runtime: ServerThread, path: str) -> None:
    on_demand = _post(batch_runtime.url, f"/model/{MODEL}/converse", _DEEP)
    reply = _post(batch_runtime.url, path, _DEEP)
    assert (reply.status_code, reply.headers["x-amzn-ErrorType"], reply.json()) == (
        on_demand.status_code,
        on_demand.headers["x-amzn-ErrorType"],
        on_demand.json(),
    )
    assert reply.headers["x-amzn-ErrorType"].startswith("SerializationException")


def test_a_model_arn_of_another_region_is_refused_as_invoke_model_refuses_it(
    jobs: Jobs, batch_runtime: ServerThread
) -> None:
    arn = f"arn:aws:bedrock:eu-west-1::foundation-model/{MODEL}"
    runtime = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=batch_runtime.url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )
    with pytest.raises(ClientError) as on_demand:
        runtime.invoke_model(modelId=arn, body=json.dumps(records(1)[0]["modelInput"]))
    with pytest.raises(ClientError) as batch:
        jobs.create(jobs.write("region/input.jsonl", records(100)), modelId=arn)
    assert batch.value.response["Error"] == on_demand.value.response["Error"]
    assert batch.value.response["Error"]["Message"] == "The provided model identifier is invalid."


def test_a_clock_move_past_the_year_9999_is_refused_plainly(jobs: Jobs) -> None:
    reply = jobs.control.post("/clock", json={"advanceSeconds": 1e300})
    assert reply.status_code == 400
    assert "past the latest time it can show (year 9999)" in reply.json()["message"]
