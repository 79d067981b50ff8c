"""A runtime serving the batch control plane over a directory store, and the clients that drive it.

* ``batch_store``: the directory behind ``s3://`` (``DIR/bucket/key``), one per module;
* ``batch_runtime``: a ``ServerThread`` whose batch jobs read and write ``batch_store``;
* ``bedrock``: unmodified boto3 ``bedrock`` (the control plane), one attempt per call;
* ``batch_control``: the control endpoint that holds jobs at a phase, lets them go and moves their clock; its holds
  are cleared after each test;
* ``jobs``: a helper that writes input files and creates jobs with unique names.

No test sleeps to wait for a job: ``Jobs.settle`` asks the runtime to answer once the job has ended or waits at a
hold, which it knows without polling.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from mistral_bedrock.runtime import RuntimeConfig, ServerThread

ROLE = "arn:aws:iam::111122223333:role/BatchRole"
MODEL = "mistral.mistral-large-3-675b-instruct"
IN_BUCKET = "batch-input"
OUT_BUCKET = "batch-output"
_NAMES = itertools.count()


def chat_input(text: str, **extra: Any) -> dict[str, Any]:
    """A Mistral Large 3 (OpenAI-style) InvokeModel body."""
    return {"messages": [{"role": "user", "content": text}], "max_tokens": 16, **extra}


def records(count: int, make: Any = None) -> list[dict[str, Any]]:
    make = make or (lambda i: chat_input(f"question {i}"))
    return [{"recordId": f"rec{i:05d}", "modelInput": make(i)} for i in range(count)]


def control_client(url: str) -> httpx.Client:
    """The runtime's batch control endpoint; a settle may wait for a whole job, hence the long read timeout."""
    return httpx.Client(base_url=url + "/_mistral_bedrock/batch", headers={"Authorization": "Bearer test"}, timeout=90)


def bedrock_client(url: str, region_name: str = "us-east-1", **config: Any) -> Any:
    return boto3.client(
        "bedrock",
        region_name=region_name,
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config),
    )


class Jobs:
    """Writes input files, creates jobs and waits for them to settle."""

    def __init__(self, store: Path, client: Any, control: httpx.Client) -> None:
        self.store = store
        self.client = client
        self.control = control

    def write(self, key: str, lines: Sequence[Mapping[str, Any]] | bytes, bucket: str = IN_BUCKET) -> str:
        path = self.store / bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        data = lines if isinstance(lines, bytes) else b"".join(_line(item) for item in lines)
        path.write_bytes(data)
        return f"s3://{bucket}/{key}"

    def create(self, input_uri: str, **overrides: Any) -> str:
        """A job's ARN; every required member has a working default, ``overrides`` replace them."""
        name = f"job-{next(_NAMES)}"
        request: dict[str, Any] = {
            "jobName": name,
            "roleArn": ROLE,
            "modelId": MODEL,
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": input_uri}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": f"s3://{OUT_BUCKET}/{name}/"}},
            **overrides,
        }
        return str(self.client.create_model_invocation_job(**request)["jobArn"])

    def settle(self, arn: str) -> dict[str, Any]:
        """The job once it has ended or waits at a hold (the runtime answers then; nothing polls)."""
        reply = self.control.post(f"/jobs/{job_id(arn)}/settle", json={"timeoutSeconds": 60})
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        return data

    def hold(self, *phases: str) -> None:
        self.control.put("/holds", json={"phases": list(phases)}).raise_for_status()

    def advance(self, arn: str, records: int | None = None) -> None:
        body = {} if records is None else {"records": records}
        self.control.post(f"/jobs/{job_id(arn)}/advance", json=body).raise_for_status()

    def advance_clock(self, seconds: float) -> None:
        self.control.post("/clock", json={"advanceSeconds": seconds}).raise_for_status()

    def output_dir(self, arn: str) -> Path:
        job = self.client.get_model_invocation_job(jobIdentifier=arn)
        uri: str = job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
        return self.store / uri.removeprefix("s3://").rstrip("/") / job_id(arn)

    def output_lines(self, arn: str, name: str = "input.jsonl") -> list[dict[str, Any]]:
        data = (self.output_dir(arn) / f"{name}.out").read_bytes()
        return [json.loads(line) for line in data.split(b"\n") if line]

    def manifest(self, arn: str) -> dict[str, int]:
        data: dict[str, int] = json.loads((self.output_dir(arn) / "manifest.json.out").read_bytes())
        return data


def _line(item: Mapping[str, Any]) -> bytes:
    return json.dumps(item, ensure_ascii=False).encode() + b"\n"


def job_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def batch_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch-store")
    (root / OUT_BUCKET).mkdir()
    return root


@pytest.fixture(scope="module")
def batch_runtime(batch_store: Path) -> Iterator[ServerThread]:
    with ServerThread(config=RuntimeConfig(batch_store=str(batch_store))) as server:
        yield server


@pytest.fixture(scope="module")
def bedrock(batch_runtime: ServerThread) -> Iterator[Any]:
    client = bedrock_client(batch_runtime.url)
    yield client
    client.close()


@pytest.fixture
def batch_control(batch_runtime: ServerThread) -> Iterator[httpx.Client]:
    with control_client(batch_runtime.url) as client:
        yield client
        client.put("/holds", json={"phases": []}).raise_for_status()


@pytest.fixture
def jobs(batch_store: Path, bedrock: Any, batch_control: httpx.Client) -> Jobs:
    return Jobs(batch_store, bedrock, batch_control)
