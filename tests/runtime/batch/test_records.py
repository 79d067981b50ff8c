"""What a job does with its records: each answered as its on-demand call would be, errors as lines, the output's
order and bytes, and the Validating phase's refusals."""

from __future__ import annotations

import json
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.results import CONVERSE_BLOCK_MEMBERS
from mistral_bedrock.batch.validation import validate_lines
from mistral_bedrock.runtime import ServerThread
from tests.runtime.batch.conftest import MODEL, Jobs, chat_input, records


def _on_demand_error(url: str, body: dict[str, Any]) -> str:
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )
    with pytest.raises(ClientError) as excinfo:
        client.invoke_model(modelId=MODEL, body=json.dumps(body))
    message: str = excinfo.value.response["Error"]["Message"]
    return message


def test_a_job_whose_every_record_fails_still_completes(jobs: Jobs, bedrock: Any, batch_runtime: ServerThread) -> None:
    # modelId inside modelInput: each record failed on Bedrock with the body's own refusal (bifrost#4516) [R].

    def bad(i: int) -> dict[str, Any]:
        return chat_input(f"q{i}", modelId=MODEL)

    arn = jobs.create(jobs.write("all-errors/input.jsonl", records(100, bad)))
    job = jobs.settle(arn)
    assert job["status"] == "Completed"  # Completed does not mean it worked [R]
    assert (job["successRecordCount"], job["errorRecordCount"]) == (0, 100)
    expected = _on_demand_error(batch_runtime.url, chat_input("q0", modelId=MODEL))
    lines = jobs.output_lines(arn)
    assert {json.dumps(line["error"]) for line in lines} == {json.dumps({"errorCode": 400, "errorMessage": expected})}
    assert jobs.manifest(arn)["errorRecordCount"] == 100


def test_output_is_shuffled_and_joins_by_record_id(jobs: Jobs) -> None:

    def ask(i: int) -> dict[str, Any]:
        return chat_input(f"question {i}", max_tokens=64)  # room for the whole echo

    arn = jobs.create(jobs.write("shuffled/input.jsonl", records(150, ask)))
    assert jobs.settle(arn)["status"] == "Completed"
    lines = jobs.output_lines(arn)
    ids = [line["recordId"] for line in lines]
    assert ids != sorted(ids)  # shuffled, as Bedrock's output is [R]
    by_id = {line["recordId"]: line for line in lines}
    for i in (0, 77, 149):  # joined by recordId, each answer belongs to its own input
        line = by_id[f"rec{i:05d}"]
        assert line["modelInput"] == ask(i)
        assert f"question {i}" in line["modelOutput"]["choices"][0]["message"]["content"]


def test_a_line_separator_inside_a_record_survives(jobs: Jobs) -> None:
    text = "one\u2028two\u0085three"
    arn = jobs.create(jobs.write("separators/input.jsonl", records(100, lambda i: chat_input(f"{i}{text}"))))
    assert jobs.settle(arn)["status"] == "Completed"
    raw = (jobs.output_dir(arn) / "input.jsonl.out").read_bytes()
    assert "\u2028".encode() in raw  # written raw, as Bedrock writes non-ASCII [R]
    lines = jobs.output_lines(arn)
    assert len(lines) == 100
    assert all(line["modelInput"]["messages"][0]["content"].endswith(text) for line in lines)


def test_converse_records_carry_the_null_union_members(jobs: Jobs) -> None:
    def converse(i: int) -> dict[str, Any]:
        body: dict[str, Any] = {"messages": [{"role": "user", "content": [{"text": f"q{i}"}]}]}
        if i == 0:  # tool calling under the Converse type: that record fails with a 400 [D]
            body["toolConfig"] = {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}]}
        return body

    arn = jobs.create(jobs.write("converse/input.jsonl", records(100, converse)), modelInvocationType="Converse")
    job = jobs.settle(arn)
    assert (job["status"], job["successRecordCount"], job["errorRecordCount"]) == ("Completed", 99, 1)
    by_id = {line["recordId"]: line for line in jobs.output_lines(arn)}
    assert by_id["rec00000"]["error"]["errorCode"] == 400
    block = by_id["rec00001"]["modelOutput"]["output"]["message"]["content"][0]
    assert set(block) == set(CONVERSE_BLOCK_MEMBERS)
    assert block["text"] and block["toolUse"] is None


def test_a_null_tool_config_is_an_absent_one(jobs: Jobs) -> None:
    # Coral reads a null member as absent: only a toolConfig that is there fails the record.
    def converse(i: int) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": [{"text": f"q {i}"}]}], "toolConfig": None}

    arn = jobs.create(jobs.write("converse-null/input.jsonl", records(100, converse)), modelInvocationType="Converse")
    job = jobs.settle(arn)
    assert (job["status"], job["successRecordCount"], job["errorRecordCount"]) == ("Completed", 100, 0)


def test_the_runtime_refuses_the_records_validate_refuses(jobs: Jobs) -> None:
    # One rule for both sides: a modelId inside a Converse record, and its toolConfig, are refused by the job with
    # the message `batch validate` predicted for the same line.
    def converse(i: int) -> dict[str, Any]:
        body: dict[str, Any] = {"messages": [{"role": "user", "content": [{"text": f"q {i}"}]}]}
        if i == 0:
            body["modelId"] = MODEL
        if i == 1:
            body["toolConfig"] = {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}]}
        return body

    lines = records(100, converse)
    report = validate_lines(
        (json.dumps(line).encode() for line in lines), model=MODEL, invocation=InvocationType.CONVERSE
    )
    predicted = {problem.record_id: problem.message for problem in report.problems if problem.severity == "error"}
    arn = jobs.create(jobs.write("converse-rules/input.jsonl", lines), modelInvocationType="Converse")
    assert jobs.settle(arn)["errorRecordCount"] == 2
    refused = {line["recordId"]: line["error"]["errorMessage"] for line in jobs.output_lines(arn) if "error" in line}
    assert refused == predicted
    assert set(refused) == {"rec00000", "rec00001"}


@pytest.mark.parametrize(
    ("lines", "key", "fragment"),
    [
        (records(99), "few/input.jsonl", "99 records, fewer than the minimum of 100"),
        (b'{"recordId": "a", "modelInput": {}}\nnot json\n', "bad/input.jsonl", "invalid record at line 2"),
        (b'{"recordId": "a"}\n', "nomodel/input.jsonl", "invalid record at line 1"),
        (records(100), "wrong/input.txt", "not a JSONL file"),
    ],
)
def test_validation_fails_the_job(jobs: Jobs, lines: Any, key: str, fragment: str) -> None:
    job = jobs.settle(jobs.create(jobs.write(key, lines)))
    assert job["status"] == "Failed"
    assert fragment in job["message"]


def test_a_missing_input_fails_the_job(jobs: Jobs) -> None:
    job = jobs.settle(jobs.create("s3://batch-input/nothing/here/"))
    assert (job["status"], "No .jsonl input files" in job["message"]) == ("Failed", True)
    job = jobs.settle(jobs.create("s3://no-such-bucket/input.jsonl"))
    assert (job["status"], "bucket does not exist" in job["message"]) == ("Failed", True)


def test_a_prefix_takes_every_jsonl_under_it(jobs: Jobs) -> None:
    jobs.write("prefix/a.jsonl", records(60))
    jobs.write("prefix/sub/b.jsonl", records(60))
    jobs.write("prefix/notes.txt", b"ignored")
    arn = jobs.create("s3://batch-input/prefix/")
    job = jobs.settle(arn)
    assert (job["status"], job["totalRecordCount"]) == ("Completed", 120)
    assert len(jobs.output_lines(arn, "a.jsonl")) == len(jobs.output_lines(arn, "sub/b.jsonl")) == 60


def test_fault_rules_apply_to_records(jobs: Jobs, batch_runtime: ServerThread) -> None:
    # The runtime's own --fault rules are drawn per record, as per request: five records meet an injected refusal.
    rule = {"kind": "error", "code": "ValidationException", "message": "injected", "count": 5}
    with httpx.Client(base_url=batch_runtime.url + "/_mistral_bedrock", headers={"Authorization": "Bearer t"}) as c:
        c.post("/faults", json=rule).raise_for_status()
        try:
            arn = jobs.create(jobs.write("faults/input.jsonl", records(100)))
            job = jobs.settle(arn)
        finally:
            c.delete("/faults").raise_for_status()
    assert (job["status"], job["successRecordCount"], job["errorRecordCount"]) == ("Completed", 95, 5)
    errors = [line["error"] for line in jobs.output_lines(arn) if "error" in line]
    assert errors == [{"errorCode": 400, "errorMessage": "injected"}] * 5
