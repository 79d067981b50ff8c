"""A batch job's whole life through the real ``mistral-bedrock`` entry point, against the runtime's emulated control
plane (a ``ServerThread``, its ``s3://`` URIs on a directory the CLI reaches with ``--store``).

Unmodified boto3 is the independent oracle: it counts the jobs the runtime holds (a re-run submit must not add one),
reads the job the CLI created, and creates the job the CLI then follows. The control endpoint's holds keep a job in
one phase for as long as a test needs it there, so nothing here waits on time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from mistral_bedrock.runtime import RuntimeConfig, ServerThread, create_app
from tests.cli.cli_support import ok, run_cli

MODEL = "mistral.ministral-3-8b-instruct"
ROLE = "arn:aws:iam::123456789012:role/BatchRole"


class Plane:
    """The runtime, its object store's directory, boto3 pointed at it, and its batch control endpoint."""

    def __init__(self, server: ServerThread, store: Path) -> None:
        self.url = server.url
        self.store = store
        self.boto = boto3.client(
            "bedrock", region_name="us-east-1", endpoint_url=server.url, aws_access_key_id="local",
            aws_secret_access_key="local",
        )  # fmt: skip
        self.control = httpx.Client(
            base_url=server.url + "/_mistral_bedrock/batch", headers={"Authorization": "Bearer test"}, timeout=30
        )

    def jobs_named(self, name: str) -> list[dict[str, Any]]:
        found = self.boto.list_model_invocation_jobs(nameContains=name)["invocationJobSummaries"]
        return [job for job in found if job["jobName"] == name]

    def hold(self, *phases: str) -> None:
        self.control.put("/holds", json={"phases": list(phases)}).raise_for_status()

    def close(self) -> None:
        self.control.close()
        self.boto.close()


def serve_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plane]:
    """A runtime whose batch store is a fresh directory, and the clients around it (the body of a fixture)."""
    store = tmp_path_factory.mktemp("store")
    with ServerThread(create_app(RuntimeConfig(batch_store=str(store)))) as server:
        running = Plane(server, store)
        try:
            yield running
        finally:
            running.close()


def records(path: Path, count: int, **extra: Any) -> Path:
    lines = []
    for i in range(count):
        body = {"messages": [{"role": "user", "content": f"Say {i}"}], "max_tokens": 16, **extra}
        lines.append(json.dumps({"recordId": f"rec{i:04d}", "modelInput": body}) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def batch(plane: Plane, work: Path, *args: str) -> Any:
    """``mistral-bedrock batch ARGS`` against the plane, with handles in ``work/state``."""
    return run_cli("batch", *args, "--endpoint-url", plane.url, "--state-dir", str(work / "state"))


def submit(plane: Plane, work: Path, path: Path, *extra: str) -> Any:
    return batch(
        plane, work, "submit", str(path), "-m", MODEL, "--role-arn", ROLE, "--input-uri", "s3://bkt/in/",
        "--output-uri", "s3://bkt/out/", "--store", str(plane.store), "--yes", *extra,
    )  # fmt: skip


def test_submit_wait_results_stop_and_a_rerun_creates_no_second_job(plane: Plane, work: Path) -> None:
    path = records(work / "reviews.jsonl", 120)
    first = ok(submit(plane, work, path, "--name", "reviews-one"))
    arn = first.stdout.strip()
    assert arn.startswith("arn:aws:bedrock:us-east-1:") and ":model-invocation-job/" in arn
    assert "at most $" in first.stderr  # the estimate was shown before anything was sent
    handle = json.loads((work / "state" / "reviews-one.json").read_text())
    assert (handle["job_arn"], handle["records"], handle["input_uri"]) == (arn, 120, "s3://bkt/in/reviews.jsonl")
    assert (plane.store / "bkt" / "in" / "reviews.jsonl").read_bytes() == path.read_bytes()

    again = ok(submit(plane, work, path, "--name", "reviews-one"))
    assert again.stdout.strip() == arn
    assert "already submitted; nothing new was created" in again.stderr
    seen = plane.jobs_named("reviews-one")
    assert [job["jobArn"] for job in seen] == [arn]
    assert seen[0]["clientRequestToken"] == handle["client_request_token"]  # never a per-call UUID

    waited = ok(batch(plane, work, "wait", "reviews-one", "--interval", "0.05"))
    assert waited.stdout.strip() == "reviews-one: Completed · 120/120 records, 0 errors"
    status = ok(batch(plane, work, "status", "reviews-one", "--json"))
    assert json.loads(status.stdout) == {**json.loads(status.stdout), "jobArn": arn, "status": "Completed"}
    assert plane.boto.get_model_invocation_job(jobIdentifier=arn)["status"] == "Completed"

    results = ok(batch(plane, work, "results", "reviews-one", "--out", str(work / "out")))
    job_id = arn.rsplit("/", 1)[1]
    folder = work / "out" / job_id
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json.out", "results.jsonl", "reviews.jsonl.out"]
    lines = [json.loads(line) for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["recordId"] for line in lines] == [f"rec{i:04d}" for i in range(120)]  # input order, not shuffled
    assert all(line["stopReason"] and line["text"] for line in lines)
    assert "120 of 120 records answered, 0 failed" in results.stdout

    stopped = batch(plane, work, "stop", "reviews-one")
    assert stopped.returncode == 1
    assert stopped.stderr.startswith("Error: ValidationException: ") and "State was: Completed" in stopped.stderr
    assert stopped.stderr.count("\n") == 1 and "Traceback" not in stopped.stderr


def test_list_filters_and_unknown_jobs_are_one_line(plane: Plane, work: Path) -> None:
    path = records(work / "listed.jsonl", 100)
    arn = ok(submit(plane, work, path, "--name", "listed-one")).stdout.strip()
    ok(batch(plane, work, "wait", "listed-one", "--interval", "0.05"))
    listed = ok(batch(plane, work, "list", "--name-contains", "listed-", "--status", "Completed"))
    assert [line.split()[:3] for line in listed.stdout.splitlines()] == [
        ["listed-one", arn.rsplit("/", 1)[1], "Completed"]
    ]
    newest = json.loads(ok(batch(plane, work, "list", "--max", "1", "--json")).stdout)
    assert [job["jobArn"] for job in newest] == [arn]  # newest first, and only one

    unknown = batch(plane, work, "status", "no-such-job")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("Error: no job 'no-such-job'") and unknown.stderr.count("\n") == 1
    missing = batch(plane, work, "status", "abcdefghijkl")
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: ResourceNotFoundException: ")
