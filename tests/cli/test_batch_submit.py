"""Submitting a batch job through the real ``mistral-bedrock`` entry point, against the runtime's emulated control
plane: a submit cut off between Create and saving the ARN never creates a second job, and a job whose every record
failed is a failure even though it says Completed.

Unmodified boto3 counts the jobs the runtime holds and creates the job whose every record fails.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.cli_support import ok
from tests.cli.test_batch_cli import MODEL, ROLE, Plane, batch, records, submit


def test_a_crash_between_create_and_saving_the_arn_creates_no_second_job(plane: Plane, work: Path) -> None:
    path = records(work / "crash.jsonl", 100)
    arn = ok(submit(plane, work, path, "--name", "crash-one")).stdout.strip()
    # What a process killed between Create's answer and the handle's update leaves behind: a handle without an ARN.
    handle_file = work / "state" / "crash-one.json"
    handle = json.loads(handle_file.read_text())
    handle_file.write_text(json.dumps({**handle, "job_arn": None}))
    unfinished = batch(plane, work, "status", "crash-one")
    assert unfinished.returncode == 2 and "run the same mistral-bedrock batch submit again" in unfinished.stderr

    other = submit(plane, work, path, "--name", "crash-one", "--timeout-hours", "48")
    assert other.returncode == 2
    assert "has an unfinished submit with another --timeout-hours" in other.stderr

    finished = ok(submit(plane, work, path, "--name", "crash-one"))
    assert finished.stdout.strip() == arn
    assert "Create is sent again with its token, so no second job is made" in finished.stderr
    assert [job["jobArn"] for job in plane.jobs_named("crash-one")] == [arn]
    assert json.loads(handle_file.read_text())["job_arn"] == arn

    changed = submit(plane, work, path, "--name", "crash-one", "--timeout-hours", "48")
    assert changed.returncode == 2  # the handle has its ARN again: nothing is re-sent, and another setting is refused
    assert "was already submitted with another --timeout-hours" in changed.stderr
    assert [job["jobArn"] for job in plane.jobs_named("crash-one")] == [arn]


def test_completed_with_every_record_failed_is_a_failure(plane: Plane, work: Path) -> None:
    # A job made by unmodified boto3, its records refused one by one: Bedrock still calls the job Completed.
    bucket = plane.store / "bkt" / "in"
    bucket.mkdir(parents=True, exist_ok=True)
    records(bucket / "hot.jsonl", 100, temperature=5)
    arn = plane.boto.create_model_invocation_job(
        jobName="all-failed", roleArn=ROLE, modelId=MODEL,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://bkt/in/hot.jsonl"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://bkt/out/"}},
    )["jobArn"]  # fmt: skip

    waited = batch(plane, work, "wait", arn, "--interval", "0.05")
    assert waited.returncode == 1
    assert "mistral-bedrock: Completed, but 100 of 100 records failed" in waited.stderr
    assert plane.boto.get_model_invocation_job(jobIdentifier=arn)["status"] == "Completed"

    # JOB by its name alone: no handle here, so it is looked up in the account.
    results = batch(plane, work, "results", "all-failed", "--store", str(plane.store), "--out", str(work))
    assert results.returncode == 1
    assert "100 of 100 records answered, 100 failed" in results.stdout
    assert "the commonest error (100 records): Malformed input request: #/temperature: 5" in results.stderr
    lines = (work / arn.rsplit("/", 1)[1] / "results.jsonl").read_text().splitlines()
    assert {json.loads(line)["error"]["errorCode"] for line in lines} == {400}
