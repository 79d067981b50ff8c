"""The Validating phase end to end: which objects are input files, what each output file is named, and that the
counts Get and the manifest give are the lines written; the output location checked before any record runs."""

from __future__ import annotations

import json
from typing import Any

from tests.runtime.batch.conftest import Jobs, chat_input, records


def _named(count: int, prefix: str) -> list[dict[str, Any]]:
    return [{"recordId": f"{prefix}{i:04d}", "modelInput": chat_input(f"{prefix} {i}")} for i in range(count)]


def _reconciled(jobs: Jobs, arn: str, names: list[str]) -> dict[str, int]:
    """Get's counts, checked against the manifest's and against the lines of every output file."""
    job = jobs.settle(arn)
    counts = {key: job[key] for key in ("totalRecordCount", "processedRecordCount", "successRecordCount")}
    manifest = jobs.manifest(arn)
    assert {key: manifest[key] for key in counts} == counts
    lines = [line for name in names for line in jobs.output_lines(arn, name)]
    assert len({line["recordId"] for line in lines}) == len(lines) == counts["processedRecordCount"]
    return counts


def test_files_of_the_same_name_under_a_bucket_each_get_their_own_output(jobs: Jobs) -> None:
    # Two in.jsonl under the bucket itself (the prefix key is ""): named by their keys, neither lost.
    jobs.write("x/in.jsonl", _named(60, "x"), bucket="same-names")
    jobs.write("y/in.jsonl", _named(60, "y"), bucket="same-names")
    arn = jobs.create("s3://same-names")
    counts = _reconciled(jobs, arn, ["x/in.jsonl", "y/in.jsonl"])
    assert counts == {"totalRecordCount": 120, "processedRecordCount": 120, "successRecordCount": 120}
    assert {line["recordId"][0] for line in jobs.output_lines(arn, "y/in.jsonl")} == {"y"}


def test_a_prefix_that_ends_mid_name_keeps_the_part_that_differs(jobs: Jobs) -> None:
    jobs.write("mid/p/in.jsonl", _named(60, "p"))
    jobs.write("mid/p2/in.jsonl", _named(60, "q"))
    arn = jobs.create("s3://batch-input/mid/p")
    assert _reconciled(jobs, arn, ["p/in.jsonl", "p2/in.jsonl"])["successRecordCount"] == 120


def test_an_output_location_below_an_input_file_fails_before_any_record(jobs: Jobs) -> None:
    # S3 holds a key below another's; a directory store cannot: refused at Validating, not after every record ran.
    uri = jobs.write("below/in.jsonl", records(100))
    arn = jobs.create(uri, outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"{uri}/x/"}})
    job = jobs.settle(arn)
    assert job["status"] == "Failed"
    assert job["message"].startswith(f"Unable to write to the output location {uri}/x/: the object {uri} is where")
    assert "processedRecordCount" not in job


def test_an_invalid_record_is_named_by_its_physical_line(jobs: Jobs) -> None:
    # Blank lines count, as the CLI's validate counts them.
    data = b"\n  \n" + json.dumps(records(1)[0]).encode() + b"\n\nnot json\n"
    job = jobs.settle(jobs.create(jobs.write("physical/input.jsonl", data)))
    assert job["status"] == "Failed"
    assert "invalid record at line 5" in job["message"]
