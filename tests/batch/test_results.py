"""Reading batch output: lines split on \\n only, the manifest never read as a record, null-tolerant Converse output,
the join by recordId, reconciliation of counts, and normalisation with each dialect's own parser."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.jobs import BatchJob
from mistral_bedrock.batch.outcome import RecordError, RecordOutcome
from mistral_bedrock.batch.output import MANIFEST_NAME, Manifest, output_line, output_name
from mistral_bedrock.batch.records import InputRecord, positional_id
from mistral_bedrock.batch.results import (
    CONVERSE_BLOCK_MEMBERS,
    OutputCounts,
    OutputLineError,
    OutputRecord,
    is_manifest,
    join,
    normalise,
    read_manifest,
    read_output,
    reconcile,
    strip_nulls,
    with_converse_nulls,
)
from mistral_bedrock.batch.validation import parse_model_input
from mistral_bedrock.catalog import lookup
from mistral_bedrock.conversation import Completion, Usage
from mistral_bedrock.formats import Metrics, format_for
from mistral_bedrock.formats.selection import converse_format
from mistral_bedrock.prompt import count_tokens, encode_prompt, encode_text

LARGE_3 = "mistral.mistral-large-3-675b-instruct"
METRICS = Metrics(10, 5)


def _inputs(n: int, text: str = "hello") -> list[InputRecord]:
    return [
        InputRecord(i, positional_id(i), {"messages": [{"role": "user", "content": f"{text} {i}"}], "max_tokens": 9})
        for i in range(n)
    ]


def _answer(record: InputRecord, text: str) -> dict[str, Any]:
    spec = lookup(LARGE_3)
    request = parse_model_input(spec, InvocationType.INVOKE_MODEL, record.model_input)
    fmt = format_for(request.dialect)
    return dict(fmt.build_response(request, Completion(text, "stop", usage=Usage(5, 2)), METRICS))


def _output_file(path: Path, inputs: list[InputRecord], *, failed: set[int] = frozenset(), seed: int = 1) -> Path:  # type: ignore[assignment]
    lines = []
    for record in inputs:
        if record.index in failed:
            outcome = RecordOutcome(
                error=RecordError(400, "Malformed input request: bad, please reformat your input and try again.")
            )
        else:
            outcome = RecordOutcome(
                output=_answer(record, f"answer \u0085 to\u2028{record.index}"), input_tokens=5, output_tokens=2
            )
        lines.append(output_line(record, outcome))
    random.Random(seed).shuffle(lines)  # Bedrock's output is shuffled [R]
    path.write_bytes(b"".join(lines))
    return path


def _chunks(path: Path, size: int) -> list[bytes]:
    data = path.read_bytes()
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_output_lines_read_back_whatever_the_chunking(tmp_path: Path) -> None:
    inputs = _inputs(30)
    path = _output_file(tmp_path / output_name("in.jsonl"), inputs, failed={4})
    for size in (1, 7, 4096):
        records = list(read_output(_chunks(path, size)))
        assert len(records) == 30
        by_id = {r.record_id: r for r in records}
        assert by_id[positional_id(4)].error == RecordError(
            400, "Malformed input request: bad, please reformat your input and try again."
        )
        assert by_id[positional_id(4)].output is None
        assert by_id[positional_id(5)].ok
        assert by_id[positional_id(5)].model_input == inputs[5].model_input


@given(
    st.lists(
        st.text(alphabet=st.sampled_from('ab\u0085\u2028\u2029\r\x0b\x1c é"\\'), max_size=12), min_size=1, max_size=8
    ),
    st.data(),
)
def test_split_on_newline_only_over_any_chunk_boundaries(texts: list[str], data: st.DataObject) -> None:
    lines = [
        json.dumps(
            {"recordId": f"id{i}", "modelInput": {"t": t}, "modelOutput": {"text": t}}, ensure_ascii=False
        ).encode()
        + b"\n"
        for i, t in enumerate(texts)
    ]
    blob = b"".join(lines)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(blob)), max_size=10)))
    chunks = [blob[a:b] for a, b in zip([0, *cuts], [*cuts, len(blob)], strict=True)]
    records = list(read_output(chunks))
    assert [r.output for r in records] == [{"text": t} for t in texts]


def test_the_manifest_is_never_a_record(tmp_path: Path) -> None:
    manifest = {
        "totalRecordCount": 30,
        "processedRecordCount": 30,
        "successRecordCount": 29,
        "errorRecordCount": 1,
        "inputTokenCount": 150,
        "outputTokenCount": 58,
        "cacheReadInputTokenCount": 0,
        "cacheWriteInputTokenCount": 0,
    }
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(manifest))
    path = _output_file(tmp_path / "in.jsonl.out", _inputs(30), failed={4})
    assert is_manifest(f"s3://b/out/abcdefghijkl/{MANIFEST_NAME}")
    assert not is_manifest("s3://b/out/abcdefghijkl/in.jsonl.out")
    # A reader of the whole prefix that feeds every object through read_output still sees no phantom record.
    everything = [path.read_bytes(), (tmp_path / MANIFEST_NAME).read_bytes() + b"\n"]
    assert len(list(read_output(everything))) == 30
    read = read_manifest([(tmp_path / MANIFEST_NAME).read_bytes()])
    assert read == Manifest(30, 30, 29, 1, 150, 58)
    with pytest.raises(ValueError, match="not a batch manifest"):
        read_manifest([path.read_bytes().split(b"\n")[0]])


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"{nope", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"modelInput": {}}', "no recordId"),
        (b'{"recordId": "a", "modelInput": {}}', "neither a modelOutput"),
    ],
)
def test_lines_that_are_no_output(line: bytes, reason: str) -> None:
    with pytest.raises(OutputLineError, match=reason):
        list(read_output([line]))


def test_converse_nulls_both_ways() -> None:
    spec = lookup(LARGE_3)
    body = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    request = converse_format().parse_request(spec, body, stream=False)
    live = dict(converse_format().build_response(request, Completion("Hello", "stop", usage=Usage(3, 1)), METRICS))
    batch = with_converse_nulls(live)
    block = batch["output"]["message"]["content"][0]
    assert list(block) == list(CONVERSE_BLOCK_MEMBERS)
    assert block["text"] == "Hello"
    assert sum(v is not None for v in block.values()) == 1
    assert batch["usage"]["cacheReadInputTokens"] is None
    assert batch["usage"]["cacheReadInputTokenCount"] is None
    assert strip_nulls(batch) == live
    assert live["output"]["message"]["content"][0] == {"text": "Hello"}  # not changed
    record = OutputRecord("r1", body, batch, None)
    result = normalise(record, model=LARGE_3, invocation=InvocationType.CONVERSE)
    assert (result.text, result.stop_reason, result.usage, result.usage_source) == (
        "Hello",
        "stop",
        Usage(3, 1),
        "body",
    )


def test_a_real_shaped_null_converse_output_with_a_tool_use() -> None:
    output = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    dict.fromkeys(CONVERSE_BLOCK_MEMBERS)
                    | {"toolUse": {"toolUseId": "tooluse_1", "name": "f", "input": {"a": 1}}}
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {
            "inputTokens": 10,
            "outputTokens": 4,
            "totalTokens": 14,
            "cacheReadInputTokens": None,
            "cacheReadInputTokenCount": None,
        },
        "metrics": {"latencyMs": 100},
    }
    result = normalise(OutputRecord("x", {}, output, None), model=LARGE_3, invocation=InvocationType.CONVERSE)
    assert result.stop_reason == "tool_calls"
    assert result.tool_calls[0].arguments == {"a": 1}
    assert result.to_json()["toolCalls"] == [{"id": "tooluse_1", "name": "f", "arguments": {"a": 1}}]


def test_native_bodies_without_usage_are_recounted() -> None:
    seven = lookup("mistral.mistral-7b-instruct-v0:2")
    prompt = "<s>[INST] Name a colour. [/INST]"
    record = OutputRecord("r", {"prompt": prompt}, {"outputs": [{"text": " Blue.", "stop_reason": "stop"}]}, None)
    result = normalise(record, model=seven.model_id, invocation=InvocationType.INVOKE_MODEL)
    assert result.usage == Usage(encode_prompt(prompt, seven).count, len(encode_text(" Blue.", seven)))
    assert result.usage_source == "recount"
    large = lookup("mistral.mistral-large-2402-v1:0")
    chat_input = {"messages": [{"role": "user", "content": "Name a colour."}]}
    chat_output = {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Red."}, "stop_reason": "stop"}]
    }
    chat = normalise(
        OutputRecord("c", chat_input, chat_output, None), model=large.model_id, invocation=InvocationType.INVOKE_MODEL
    )
    assert chat.usage == Usage(count_tokens("Name a colour.", large), len(encode_text("Red.", large)))
    assert chat.to_json() == {
        "recordId": "c",
        "text": "Red.",
        "stopReason": "stop",
        "usage": {"inputTokens": chat.usage.input_tokens, "outputTokens": chat.usage.output_tokens},
        "usageSource": "recount",
    }


def test_openai_style_bodies_carry_their_usage(tmp_path: Path) -> None:
    inputs = _inputs(3)
    path = _output_file(tmp_path / "in.jsonl.out", inputs)
    for record in read_output([path.read_bytes()]):
        result = normalise(record, model=LARGE_3, invocation=InvocationType.INVOKE_MODEL)
        assert result.usage == Usage(5, 2)
        assert result.usage_source == "body"
        assert result.text.startswith("answer \u0085 to\u2028")


def test_errors_and_malformed_outputs_normalise() -> None:
    error = RecordError(400, "bad")
    assert normalise(
        OutputRecord("e", {}, None, error), model=LARGE_3, invocation=InvocationType.INVOKE_MODEL
    ).to_json() == {"recordId": "e", "error": {"errorCode": 400, "errorMessage": "bad"}}
    odd = normalise(
        OutputRecord("m", {"messages": []}, {"unexpected": 1}, None),
        model=LARGE_3,
        invocation=InvocationType.INVOKE_MODEL,
    )
    assert odd.malformed is not None
    assert "malformed" in odd.to_json()


def test_join_by_record_id(tmp_path: Path) -> None:
    inputs = _inputs(120)
    path = _output_file(tmp_path / "in.jsonl.out", inputs)
    outputs = list(read_output([path.read_bytes()]))
    report = join(inputs, outputs)
    assert report.ok
    assert [i.record_id for i, _ in report.pairs] == [r.record_id for r in inputs]
    assert all(i.record_id == o.record_id for i, o in report.pairs)
    broken = join(
        [*inputs[1:], inputs[5]],
        [*outputs, outputs[0], OutputRecord("stranger", {}, {"x": 1}, None)],
    )
    assert broken.missing == ()
    assert set(broken.extra) == {positional_id(0), "stranger"}
    assert broken.duplicate_inputs == (positional_id(5),)
    assert broken.duplicate_outputs == (outputs[0].record_id,)
    assert len(broken.errors) == 3
    gone = join(inputs, outputs[:-1])
    assert gone.missing == (outputs[-1].record_id,)
    assert not gone.ok


def _job(**counts: Any) -> BatchJob:
    return BatchJob.from_json(
        {
            "jobArn": "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghijkl",
            "jobName": "j",
            "modelId": LARGE_3,
            "roleArn": "arn:aws:iam::123456789012:role/r",
            "status": "Completed",
            "submitTime": "2026-11-30T10:00:00Z",
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/in.jsonl"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}},
            **counts,
        }
    )


def test_reconcile() -> None:
    manifest = Manifest(total=120, processed=120, success=119, errors=1)
    seen = OutputCounts(120, 119, 1)
    full = {"totalRecordCount": 120, "processedRecordCount": 120, "successRecordCount": 119, "errorRecordCount": 1}
    assert reconcile(manifest, _job(**full), seen) == []
    assert reconcile(manifest, None, seen) == []
    assert reconcile(manifest, _job(), seen) == []  # an older job without counts
    problems = reconcile(manifest, _job(**(full | {"errorRecordCount": 2})), OutputCounts(119, 119, 0))
    assert problems == [
        "records: the manifest says 120, the output lines show 119",
        "errors: the manifest says 1, the output lines show 0",
        "errorRecordCount: the job says 2, the manifest 1",
    ]
    short = Manifest(total=120, processed=100, success=100, errors=0)
    assert reconcile(short, _job(), OutputCounts(100, 100, 0)) == [
        "the job is Completed but the manifest has 100 of 120 processed"
    ]
    assert "successes + " in reconcile(Manifest(10, 10, 5, 4), None, OutputCounts(10, 5, 5))[0]
    records = [OutputRecord("a", {}, {}, None), OutputRecord("b", {}, None, RecordError(400, "x"))]
    assert OutputCounts.of(records) == OutputCounts(2, 1, 1)
