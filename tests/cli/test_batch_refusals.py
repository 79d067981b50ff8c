"""What ``batch submit`` refuses, through the real ``mistral-bedrock`` entry point, against the runtime's emulated
control plane: each refusal is one line, uploads nothing or creates nothing, and leaves nothing that would stop a
corrected re-run. Unmodified boto3 counts the jobs the runtime holds."""

from __future__ import annotations

from pathlib import Path

from tests.cli.cli_support import clean_env, ok, run_cli
from tests.cli.test_batch_cli import MODEL, ROLE, Plane, batch, records, submit


def test_submit_refuses_before_uploading_anything(plane: Plane, work: Path) -> None:
    few = records(work / "few.jsonl", 5)
    refused = submit(plane, work, few, "--name", "few-one")
    assert refused.returncode == 1
    assert "5 records: a Bedrock batch job needs at least 100" in refused.stderr
    assert "mistral-bedrock batch run" in refused.stderr
    assert "nothing was uploaded or submitted" in refused.stderr
    assert not (plane.store / "bkt" / "in" / "few.jsonl").exists()
    assert not (work / "state").exists()
    assert plane.jobs_named("few-one") == []

    bad = records(work / "bad.jsonl", 100, temperature=5)
    refused = submit(plane, work, bad, "--name", "bad-one")
    assert refused.returncode == 1
    assert f"{bad}:1: rec0000: Malformed input request: #/temperature: 5 is not less or equal to 1.0" in refused.stderr
    assert plane.jobs_named("bad-one") == []


def test_submit_without_yes_away_from_a_terminal_submits_nothing(plane: Plane, work: Path) -> None:
    path = records(work / "ask.jsonl", 100)
    asked = batch(
        plane, work, "submit", str(path), "-m", MODEL, "--role-arn", ROLE, "--input-uri", "s3://bkt/in/",
        "--output-uri", "s3://bkt/out/", "--store", str(plane.store), "--name", "ask-one",
    )  # fmt: skip
    assert asked.returncode == 2
    assert asked.stderr.strip().endswith("Error: nothing submitted: confirm at a terminal, or pass --yes")
    assert plane.jobs_named("ask-one") == []


def test_a_refused_create_leaves_no_handle_so_a_corrected_rerun_works(plane: Plane, work: Path) -> None:
    path = records(work / "role.jsonl", 100)
    refused = batch(
        plane, work, "submit", str(path), "-m", MODEL, "--role-arn", "not-a-role", "--input-uri", "s3://bkt/in/",
        "--output-uri", "s3://bkt/out/", "--store", str(plane.store), "--name", "role-one", "--yes",
    )  # fmt: skip
    assert refused.returncode == 1
    assert "Error: ValidationException: 1 validation error detected: Value 'not-a-role' at 'roleArn'" in refused.stderr
    assert not (work / "state" / "role-one.json").exists()
    assert ok(submit(plane, work, path, "--name", "role-one")).stdout.startswith("arn:aws:bedrock:")


def test_without_boto3_s3_is_one_line_and_nothing_is_created(plane: Plane, work: Path) -> None:
    # A stand-in for an install without the batch extra: a boto3 package that cannot be imported, first on the path.
    shadow = work / "no-boto3" / "boto3"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError(\"No module named 'boto3'\")\n")
    path = records(work / "s3.jsonl", 100)
    refused = run_cli(
        "batch", "submit", str(path), "-m", MODEL, "--role-arn", ROLE, "--input-uri", "s3://bkt/in/",
        "--output-uri", "s3://bkt/out/", "--name", "s3-one", "--yes", "--endpoint-url", plane.url,
        "--state-dir", str(work / "state"),
        env=clean_env(PYTHONPATH=str(shadow.parent)),
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        "Error: S3 needs boto3: pip install 'mistral-bedrock[batch]' (or pass --store DIR for a local directory)"
    )
    assert not (work / "state" / "s3-one.json").exists()
    assert plane.jobs_named("s3-one") == []
