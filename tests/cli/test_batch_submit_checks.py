"""What ``batch submit`` checks before it uploads anything, and what a handle must hold, through the real
``mistral-bedrock`` entry point against the runtime's emulated control plane. Unmodified boto3 counts the jobs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.cli_support import clean_env, ok, run_cli
from tests.cli.test_batch_cli import MODEL, ROLE, Plane, batch, records, submit


def test_a_rerun_with_another_setting_after_the_job_exists_is_refused(plane: Plane, work: Path) -> None:
    path = records(work / "again.jsonl", 100)
    arn = ok(submit(plane, work, path, "--name", "again-one")).stdout.strip()
    other_output = batch(
        plane, work, "submit", str(path), "-m", MODEL, "--role-arn", ROLE, "--input-uri", "s3://bkt/in/",
        "--output-uri", "s3://bkt/elsewhere/", "--store", str(plane.store), "--yes", "--name", "again-one",
    )  # fmt: skip
    assert other_output.returncode == 2 and other_output.stdout == ""
    assert "job again-one was already submitted with another --output-uri" in other_output.stderr
    assert "to submit a new job, pass another --name" in other_output.stderr
    other_model = submit(plane, work, path, "--name", "again-one", "-m", "mistral.mistral-large-3-675b-instruct")
    assert other_model.returncode == 2 and "already submitted with another --model" in other_model.stderr
    assert "Traceback" not in other_output.stderr + other_model.stderr
    assert [job["jobArn"] for job in plane.jobs_named("again-one")] == [arn]
    assert ok(submit(plane, work, path, "--name", "again-one")).stdout.strip() == arn


def test_a_create_the_service_would_refuse_stops_before_the_upload(plane: Plane, work: Path) -> None:
    path = records(work / "pattern.jsonl", 100)
    refused = batch(
        plane, work, "submit", str(path), "-m", MODEL, "--role-arn", ROLE, "--input-uri", "s3://in/x/",
        "--output-uri", "s3://bkt/out/", "--store", str(plane.store), "--yes", "--name", "pattern-one",
    )  # fmt: skip
    assert refused.returncode == 1
    assert "ValidationException: 1 validation error detected" in refused.stderr
    assert "nothing was uploaded or submitted" in refused.stderr
    assert not (plane.store / "in").exists()
    assert not (work / "state" / "pattern-one.json").exists()
    assert plane.jobs_named("pattern-one") == []


def test_a_state_dir_or_store_that_cannot_be_written_stops_before_anything_is_created(plane: Plane, work: Path) -> None:
    path = records(work / "nowhere.jsonl", 100)
    no_state = run_cli(
        "batch", "submit", str(path), "-m", MODEL, "--role-arn", ROLE, "--input-uri", "s3://bkt/nowhere/",
        "--output-uri", "s3://bkt/out/", "--store", str(plane.store), "--yes", "--name", "nowhere-one",
        "--endpoint-url", plane.url, "--state-dir", "/proc/zz",
    )  # fmt: skip
    assert no_state.returncode == 1 and "Traceback" not in no_state.stderr
    assert "cannot write the job's handle in --state-dir /proc/zz" in no_state.stderr
    assert not (plane.store / "bkt" / "nowhere").exists()

    no_store = submit(plane, work, path, "--name", "nowhere-two", "--store", "/proc/nostore")
    assert no_store.returncode == 1 and "Traceback" not in no_store.stderr
    assert "upload to s3://bkt/in/nowhere.jsonl failed" in no_store.stderr
    assert not (work / "state" / "nowhere-two.json").exists()  # a corrected re-run starts afresh
    assert plane.jobs_named("nowhere-two") == []


def test_the_handle_records_the_endpoint_from_the_environment_and_an_absolute_store(
    plane: Plane, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = records(work / "env.jsonl", 100)
    monkeypatch.chdir(plane.store.parent)
    env = clean_env(AWS_ENDPOINT_URL_BEDROCK=plane.url)
    args = (
        "--role-arn", ROLE, "--input-uri", "s3://bkt/in/", "--output-uri", "s3://bkt/out/", "--yes",
        "--name", "env-one", "--store", plane.store.name, "--state-dir", str(work / "state"),
    )  # fmt: skip
    arn = ok(run_cli("batch", "submit", str(path), "-m", MODEL, *args, env=env)).stdout.strip()
    handle = json.loads((work / "state" / "env-one.json").read_text())
    assert handle["endpoint_url"] == plane.url
    assert handle["store"] == str(plane.store)
    # A new shell without the variable still reaches the plane the job is on.
    status = ok(run_cli("batch", "status", "env-one", "--state-dir", str(work / "state")))
    assert arn.rsplit("/", 1)[1] in status.stdout + status.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"endpoint_url": 12}, "field 'endpoint_url' must be a string or null, not 12"),
        ({"records": "many"}, "field 'records' must be an integer, not \"many\""),
        ({"extra": 1}, "unknown field 'extra'"),
        ({"name": None}, "field 'name' must be a string, not null"),
        ({"invocation": "Chat"}, 'field \'invocation\' must be "InvokeModel" or "Converse", not "Chat"'),
    ],
)
def test_a_handle_with_a_field_of_the_wrong_type_is_named_in_one_line(
    plane: Plane, work: Path, change: dict[str, object], message: str
) -> None:
    state = work / "state"
    state.mkdir()
    good = {
        "name": "typed", "model": MODEL, "invocation": "InvokeModel", "region": "us-east-1", "endpoint_url": None,
        "store": None, "input_file": "/x.jsonl", "input_uri": "s3://bkt/in/x.jsonl", "output_uri": "s3://bkt/out/",
        "input_digest": "0" * 64, "records": 100, "client_request_token": "1" * 64, "role_arn": ROLE,
        "timeout_hours": None, "job_arn": "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefabcdef",
    }  # fmt: skip
    (state / "typed.json").write_text(json.dumps({**good, **change}))
    for command in ("status", "results"):
        refused = batch(plane, work, command, "typed")
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert f"{state / 'typed.json'} is not a batch job handle ({message})" in refused.stderr
    (state / "typed.json").write_text("[1, 2]")
    listed = batch(plane, work, "status", "typed")
    assert listed.returncode == 2 and "is not a batch job handle (not a JSON object)" in listed.stderr


def test_a_region_of_the_wrong_form_is_refused(plane: Plane, work: Path) -> None:
    refused = run_cli("batch", "list", "--region", "us east")
    assert refused.returncode == 2
    assert "--region 'us east' is not a Region name (lowercase letters, digits and hyphens)" in refused.stderr


def test_results_count_a_torn_line_as_a_problem_and_join_the_rest(plane: Plane, work: Path) -> None:
    path = records(work / "torn.jsonl", 100)
    arn = ok(submit(plane, work, path, "--name", "torn-one")).stdout.strip()
    ok(batch(plane, work, "wait", "torn-one", "--interval", "0.05"))
    job_id = arn.rsplit("/", 1)[1]
    output = plane.store / "bkt" / "out" / job_id / "torn.jsonl.out"
    lines = output.read_bytes().splitlines(keepends=True)
    output.write_bytes(b"".join(lines[:-1]) + lines[-1][:20])  # the last line cut short

    unwritable = batch(plane, work, "results", "torn-one", "--out", "/proc/x")
    assert unwritable.returncode == 2 and "Traceback" not in unwritable.stderr
    assert "cannot write under /proc/x" in unwritable.stderr

    results = batch(plane, work, "results", "torn-one", "--out", str(work / "out"))
    assert results.returncode == 1 and "Traceback" not in results.stderr
    assert "99 of 100 records answered, 0 failed" in results.stdout
    assert "line 100: not valid JSON" in results.stderr and "the line is not counted" in results.stderr
    assert len((work / "out" / job_id / "results.jsonl").read_text().splitlines()) == 99


def test_wait_polls_amazon_bedrock_at_most_once_a_second(plane: Plane, work: Path) -> None:
    job = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefabcdef"
    fast = run_cli("batch", "wait", job, "--interval", "0.5", "--region", "us-east-1")
    assert fast.returncode == 2 and "Traceback" not in fast.stderr
    assert "--interval 0.5: poll Amazon Bedrock at most once a second" in fast.stderr
    zero = run_cli("batch", "wait", job, "--interval", "0", "--region", "us-east-1")
    assert zero.returncode == 2 and "--interval 0: poll Amazon Bedrock at most once a second" in zero.stderr


def test_counts_of_one_are_singular(work: Path) -> None:
    path = records(work / "one.jsonl", 1, temperature=5)
    checked = run_cli("batch", "validate", str(path), "-m", MODEL, "--on-demand")
    assert checked.returncode == 1
    assert checked.stdout.splitlines()[-1] == f"{path}: 1 record, 1 error, 0 warnings"
