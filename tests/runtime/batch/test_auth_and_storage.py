"""Batch routes behind strict auth, and jobs over moto's S3 server with unmodified boto3 on both sides."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from mistral_bedrock.runtime import RuntimeConfig, ServerThread
from tests.runtime.batch.conftest import MODEL, ROLE, bedrock_client, control_client, job_id, records

SECRET = "strict-secret"


@pytest.fixture(scope="module")
def strict_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    store = tmp_path_factory.mktemp("strict-store")
    config = RuntimeConfig(auth=f"strict:AKIDSTRICT:{SECRET}", batch_store=str(store))
    with ServerThread(config=config) as server:
        yield server


def _create(
    client: Any, name: str, source: str = "s3://batch-input/input.jsonl", out: str = "s3://batch-output/"
) -> Any:
    request = {
        "jobName": name,
        "roleArn": ROLE,
        "modelId": MODEL,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": source}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": out}},
    }
    return client.create_model_invocation_job(**request)


def test_strict_auth_refuses_an_unsigned_create(strict_runtime: ServerThread) -> None:
    unsigned = boto3.client(
        "bedrock",
        region_name="us-east-1",
        endpoint_url=strict_runtime.url,
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as excinfo:
        _create(unsigned, "unsigned")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    wrong = boto3.client(
        "bedrock",
        region_name="us-east-1",
        endpoint_url=strict_runtime.url,
        aws_access_key_id="AKIDSTRICT",
        aws_secret_access_key="not-the-secret",
        config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as excinfo:
        wrong.list_model_invocation_jobs()
    assert excinfo.value.response["Error"]["Code"] == "InvalidSignatureException"
    # The control endpoint is behind the same policy.
    assert httpx.get(strict_runtime.url + "/_mistral_bedrock/batch").status_code == 403


def test_strict_auth_accepts_a_signed_create(strict_runtime: ServerThread) -> None:
    client = boto3.client(
        "bedrock",
        region_name="us-east-1",
        endpoint_url=strict_runtime.url,
        aws_access_key_id="AKIDSTRICT",
        aws_secret_access_key=SECRET,
        config=Config(retries={"total_max_attempts": 1}),
    )
    arn = _create(client, "signed")["jobArn"]
    assert client.get_model_invocation_job(jobIdentifier=arn)["jobName"] == "signed"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_a_job_over_moto_s3_with_unmodified_boto3(s3_endpoint: str) -> None:
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket="moto-input")
    s3.create_bucket(Bucket="moto-output")
    body = b"".join(json.dumps(r).encode() + b"\n" for r in records(100))
    s3.put_object(Bucket="moto-input", Key="jobs/input.jsonl", Body=body)

    with ServerThread(config=RuntimeConfig(batch_store=s3_endpoint)) as runtime:
        bedrock = bedrock_client(runtime.url)
        arn = _create(bedrock, "over-s3", "s3://moto-input/jobs/input.jsonl", "s3://moto-output/results/")["jobArn"]
        with control_client(runtime.url) as control:
            job = control.post(f"/jobs/{job_id(arn)}/settle", json={"timeoutSeconds": 60}).json()
    assert (job["status"], job["successRecordCount"]) == ("Completed", 100)

    listed = s3.list_objects_v2(Bucket="moto-output", Prefix=f"results/{job_id(arn)}/")["Contents"]
    assert sorted(item["Key"].rsplit("/", 1)[-1] for item in listed) == ["input.jsonl.out", "manifest.json.out"]
    out = s3.get_object(Bucket="moto-output", Key=f"results/{job_id(arn)}/input.jsonl.out")["Body"].read()
    assert len(out.splitlines()) == 100
    manifest = json.loads(
        s3.get_object(Bucket="moto-output", Key=f"results/{job_id(arn)}/manifest.json.out")["Body"].read()
    )
    assert manifest["totalRecordCount"] == 100


def test_over_moto_same_names_and_folder_markers(s3_endpoint: str) -> None:
    # Files of the same name under the bucket each get their own output, and the counts are the lines written;
    # the console's zero-byte folder markers ("dir/") are prefixes, not input files.
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket="moto-names")
    s3.create_bucket(Bucket="moto-names-out")
    for folder in ("w", "x", "y", "z"):
        s3.put_object(Bucket="moto-names", Key=f"{folder}/", Body=b"")
        body = b"".join(json.dumps(r).encode() + b"\n" for r in records(100))
        s3.put_object(Bucket="moto-names", Key=f"{folder}/in.jsonl", Body=body)

    with ServerThread(config=RuntimeConfig(batch_store=s3_endpoint)) as runtime, control_client(runtime.url) as control:
        bedrock = bedrock_client(runtime.url)
        whole = _create(bedrock, "whole-bucket", "s3://moto-names", "s3://moto-names-out/o/")["jobArn"]
        marker = _create(bedrock, "marker", "s3://moto-names/x/", "s3://moto-names-out/o/")["jobArn"]
        jobs = [
            control.post(f"/jobs/{job_id(arn)}/settle", json={"timeoutSeconds": 60}).json() for arn in (whole, marker)
        ]

    assert [(job["status"], job["totalRecordCount"], job["successRecordCount"]) for job in jobs] == [
        ("Completed", 400, 400),
        ("Completed", 100, 100),
    ]
    prefix = f"o/{job_id(whole)}/"
    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket="moto-names-out", Prefix=prefix)["Contents"])
    assert keys == [prefix + name for name in ("manifest.json.out", *(f"{f}/in.jsonl.out" for f in "wxyz"))]
    lines = sum(
        len(s3.get_object(Bucket="moto-names-out", Key=key)["Body"].read().splitlines())
        for key in keys
        if key.endswith("in.jsonl.out")
    )
    manifest = json.loads(s3.get_object(Bucket="moto-names-out", Key=prefix + "manifest.json.out")["Body"].read())
    assert lines == manifest["processedRecordCount"] == manifest["successRecordCount"] == 400
