"""The lifecycle driven through the control endpoint: phases held and let go, the job clock moved, Stop mid-run.

Nothing here waits on real time: a hold parks a job, ``advance`` lets it go one phase (or some records), the job
clock moves by command, and ``settle`` answers once the job has ended or parked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from tests.runtime.batch.conftest import Jobs, job_id, records

DAY = 24 * 3600


def test_each_phase_is_visible_and_let_go_in_order(jobs: Jobs, bedrock: Any) -> None:
    jobs.hold("Submitted", "Validating", "Scheduled")
    arn = jobs.create(jobs.write("phases/input.jsonl", records(100)))
    seen = []
    for _ in range(3):
        seen.append(jobs.settle(arn)["status"])
        assert bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] == seen[-1]
        jobs.advance(arn)
    seen.append(jobs.settle(arn)["status"])
    assert seen == ["Submitted", "Validating", "Scheduled", "Completed"]


def test_a_job_that_never_starts_before_its_timeout_expires(jobs: Jobs) -> None:
    jobs.hold("Scheduled")
    arn = jobs.create(jobs.write("expired/input.jsonl", records(100)))
    assert jobs.settle(arn)["status"] == "Scheduled"
    jobs.advance_clock(DAY - 60)
    assert jobs.settle(arn)["status"] == "Scheduled"  # not yet: 24 hours is the default timeout [I]
    jobs.advance_clock(60)
    job = jobs.settle(arn)
    assert job["status"] == "Expired"
    assert job["endTime"] >= job["jobExpirationTime"]


def test_a_job_past_its_timeout_mid_run_is_partially_completed(jobs: Jobs) -> None:
    jobs.hold("InProgress")
    arn = jobs.create(jobs.write("partial/input.jsonl", records(100)))
    assert jobs.settle(arn)["status"] == "InProgress"
    jobs.advance(arn, records=40)
    job = jobs.settle(arn)
    # Counts on Get move while the job runs [I].
    assert (job["status"], job["processedRecordCount"], job["totalRecordCount"]) == ("InProgress", 40, 100)
    jobs.advance_clock(DAY)
    job = jobs.settle(arn)
    assert (job["status"], job["processedRecordCount"]) == ("PartiallyCompleted", 40)
    assert len(jobs.output_lines(arn)) == 40
    assert jobs.manifest(arn)["processedRecordCount"] == 40


def test_stop_mid_run_writes_what_was_answered(jobs: Jobs, bedrock: Any) -> None:
    jobs.hold("InProgress")
    arn = jobs.create(jobs.write("stopped/input.jsonl", records(100)))
    jobs.settle(arn)
    jobs.advance(arn, records=25)
    assert jobs.settle(arn)["processedRecordCount"] == 25
    bedrock.stop_model_invocation_job(jobIdentifier=arn)
    job = jobs.settle(arn)
    assert (job["status"], job["processedRecordCount"], job["successRecordCount"]) == ("Stopped", 25, 25)
    assert len(jobs.output_lines(arn)) == 25
    assert jobs.manifest(arn)["totalRecordCount"] == 100


def test_stop_before_running_goes_stopping_then_stopped(jobs: Jobs, bedrock: Any) -> None:
    jobs.hold("Validating", "Stopping")
    arn = jobs.create(jobs.write("early-stop/input.jsonl", records(100)))
    assert jobs.settle(arn)["status"] == "Validating"
    bedrock.stop_model_invocation_job(jobIdentifier=arn)
    assert jobs.settle(arn)["status"] == "Stopping"
    assert bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] == "Stopping"
    with pytest.raises(ClientError) as excinfo:  # a second stop: the job is on its way already
        bedrock.stop_model_invocation_job(jobIdentifier=arn)
    assert "State was: Stopping" in excinfo.value.response["Error"]["Message"]
    jobs.advance(arn)
    assert jobs.settle(arn)["status"] == "Stopped"
    assert jobs.control.put("/holds", json={"phases": ["Stopped"]}).status_code == 400  # not a phase to hold in
    assert not jobs.output_dir(arn).exists()  # nothing was answered, nothing written


def test_the_control_endpoint_refuses_mistakes_in_bedrocks_shape(jobs: Jobs) -> None:
    control = jobs.control
    arn = jobs.create(jobs.write("control/input.jsonl", records(100)))
    by_arn = control.post(f"/jobs/{quote(arn, safe='')}/settle", json={})
    assert by_arn.status_code == 200 and by_arn.json()["jobArn"] == arn  # an ARN, quoted, names the job too
    refusals = [
        (control.post("/clock", json={"advanceSeconds": -1}), 400, "ValidationException"),
        (control.post("/clock", json={"advanceSeconds": "soon"}), 400, "ValidationException"),
        (control.post(f"/jobs/{job_id(arn)}/advance", json={"records": -5}), 400, "ValidationException"),
        (control.post("/jobs/abcdefghijkl/settle", json={}), 404, "ResourceNotFoundException"),
        (control.post("/clock", content=b"{not json"), 400, "SerializationException"),
        (control.get("/nowhere"), 404, "UnknownOperationException"),
    ]
    for reply, status, code in refusals:
        assert (reply.status_code, reply.headers["x-amzn-ErrorType"].split(":")[0]) == (status, code), reply.text


def test_records_let_through_in_steps_make_one_whole_output(jobs: Jobs) -> None:
    jobs.hold("InProgress")
    arn = jobs.create(jobs.write("steps/input.jsonl", records(100)))
    jobs.settle(arn)
    for step, expected in ((30, 30), (45, 75)):
        jobs.advance(arn, records=step)
        assert jobs.settle(arn)["processedRecordCount"] == expected
    jobs.advance(arn)  # the rest
    job = jobs.settle(arn)
    assert (job["status"], job["processedRecordCount"], job["successRecordCount"]) == ("Completed", 100, 100)
    ids = [line["recordId"] for line in jobs.output_lines(arn)]
    assert sorted(ids) == [f"rec{i:05d}" for i in range(100)]  # each record once, none lost between the steps
    assert jobs.manifest(arn)["processedRecordCount"] == 100
