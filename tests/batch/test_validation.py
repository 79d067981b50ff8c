"""Validation of batch input with the runtime's own validators, and the batch-only checks, on real files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.limits import DEFAULT_LIMITS
from mistral_bedrock.batch.records import InputRecord, positional_id, split_lines
from mistral_bedrock.batch.validation import (
    CONVERSE_TOOLS_REFUSED,
    Problem,
    validate_lines,
    validate_records,
)
from mistral_bedrock.catalog import MODELS, Dialect, lookup
from mistral_bedrock.conversation import Message, Params
from mistral_bedrock.errors import BedrockError, ValidationException
from mistral_bedrock.formats import ParsedRequest, dialect_for_body, format_for

LARGE_3 = "mistral.mistral-large-3-675b-instruct"
SEVEN_B = "mistral.mistral-7b-instruct-v0:2"
INVOKE = InvocationType.INVOKE_MODEL
CONVERSE = InvocationType.CONVERSE


def _chat(i: int, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": f"Question {i}: what is {i} + {i}?"}], "max_tokens": 64} | extra


def _converse(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": [{"text": f"Question {i}"}]}],
        "inferenceConfig": {"maxTokens": 64},
    } | extra


def _records(n: int, body: Any = _chat) -> list[InputRecord]:
    return [InputRecord(i, positional_id(i), body(i)) for i in range(n)]


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records))
    return path


def _lines(path: Path) -> list[bytes]:
    with path.open("rb") as f:
        return list(split_lines(iter(lambda: f.read(4096), b"")))


def _bedrock_message(model: str, body: dict[str, Any]) -> str:
    """What the runtime answers an InvokeModel of ``body``: its format, as runtime/handlers.py runs it."""
    spec = lookup(model)
    with pytest.raises(BedrockError) as info:
        format_for(dialect_for_body(spec, body)).parse_request(spec, body, stream=False)
    return info.value.message


def test_good_records_pass(tmp_path: Path) -> None:
    path = _write(tmp_path / "in.jsonl", [{"recordId": positional_id(i), "modelInput": _chat(i)} for i in range(150)])
    report = validate_lines(_lines(path), model=LARGE_3, invocation=INVOKE, file_name=path.name)
    assert report.ok
    assert report.problems == ()
    assert (report.records, report.errors, report.warnings) == (150, 0, 0)
    assert report.input_bytes == path.stat().st_size


def test_a_bad_record_carries_bedrocks_message_its_line_and_id(tmp_path: Path) -> None:
    records = _records(120)
    bad = _chat(7, temperature="hot")
    records[7] = InputRecord(7, "custom-7", bad)
    report = validate_records(records, model=LARGE_3, invocation=INVOKE)
    assert not report.ok
    assert report.problems == (Problem(8, "custom-7", _bedrock_message(LARGE_3, bad)),)
    assert report.problems[0].message.startswith("Malformed input request: #/temperature")


def test_the_text_body_of_7b_and_a_system_turn_for_converse() -> None:
    prompt = [
        InputRecord(i, positional_id(i), {"prompt": f"<s>[INST] {i} [/INST]", "max_tokens": 10}) for i in range(100)
    ]
    report = validate_records(prompt, model=SEVEN_B, invocation=INVOKE)
    assert report.errors == 0
    assert report.warnings == 1  # batch support unknown for 7B
    assert "batch support is not verified" in report.problems[0].message
    strict = validate_records(prompt, model=SEVEN_B, invocation=INVOKE, unknown_batch="error")
    assert strict.errors == 1
    system = [InputRecord(i, positional_id(i), _converse(i, system=[{"text": "Be brief."}])) for i in range(100)]
    refused = validate_records(system, model=SEVEN_B, invocation=CONVERSE, max_problems=1)
    assert refused.errors == 100
    assert refused.truncated
    assert refused.problems[0].line == 1


def test_duplicate_record_ids() -> None:
    records = [*_records(100), InputRecord(100, "r00000000003", _chat(1)), InputRecord(101, "x", _chat(2))]
    records += [InputRecord(102, "x", _chat(3))]
    report = validate_records(records, model=LARGE_3, invocation=INVOKE)
    assert [(p.line, p.record_id) for p in report.problems] == [(101, "r00000000003"), (103, "x")]
    assert all("used by an earlier record" in p.message for p in report.problems)


def test_model_id_inside_model_input_in_the_runtimes_words() -> None:
    native = validate_records(_records(100, lambda i: _chat(i, modelId=LARGE_3)), model=LARGE_3, invocation=INVOKE)
    converse = validate_records(
        _records(100, lambda i: _converse(i, modelId=LARGE_3)), model=LARGE_3, invocation=CONVERSE
    )
    assert native.errors == converse.errors == 100
    # The native body's own schema refuses it; a Converse body (which the front end would read) gets the same words.
    assert (
        native.problems[0].message
        == converse.problems[0].message
        == (
            "Malformed input request: #: extraneous key [modelId] is not permitted, please reformat your input and try "
            "again."
        )
    )


def test_tool_config_under_the_converse_type() -> None:
    tools = {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}]}
    report = validate_records(
        _records(100, lambda i: _converse(i, toolConfig=tools)), model=LARGE_3, invocation=CONVERSE
    )
    assert report.errors == 100
    assert report.problems[0].message == CONVERSE_TOOLS_REFUSED
    native_tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    ok = validate_records(_records(100, lambda i: _chat(i, tools=native_tools)), model=LARGE_3, invocation=INVOKE)
    assert ok.ok, ok.problems


def test_file_level_checks() -> None:
    few = validate_records(_records(99), model=LARGE_3, invocation=INVOKE, file_name="in.json")
    messages = [p.message for p in few.problems]
    assert few.errors == 2
    assert all(p.line == 0 and p.record_id is None for p in few.problems)
    assert "end in .jsonl" in messages[0]
    assert "at least 100" in messages[1]
    small = replace(DEFAULT_LIMITS, records_per_file=150)
    many = validate_records(_records(151), model=LARGE_3, invocation=INVOKE, limits=small)
    assert many.errors == 1
    assert "over the quota of 150 records per input file" in many.problems[0].message


def test_size_quota_and_lines_that_are_no_records(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    lines = [json.dumps({"recordId": positional_id(i), "modelInput": _chat(i)}) for i in range(100)]
    lines[3] = "{not json"
    lines[5] = "[1, 2]"
    lines[9] = json.dumps({"recordId": "a"})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    limits = replace(DEFAULT_LIMITS, bytes_per_file=1000)
    report = validate_lines(_lines(path), model=LARGE_3, invocation=INVOKE, limits=limits, file_name=path.name)
    assert report.records == 100
    assert [(p.line, p.record_id) for p in report.problems[:3]] == [(4, None), (6, None), (10, None)]
    assert report.problems[0].message.startswith("not valid JSON")
    assert report.problems[1].message == "not a JSON object"
    assert report.problems[2].message == "has no modelInput object"
    assert "bytes per input file" in report.problems[3].message
    assert report.input_bytes == path.stat().st_size


def test_max_tokens_over_an_inexact_catalog_limit_is_a_warning() -> None:
    # The catalog reads Large 3's card "32K" as 32,000 ([D~]); Bedrock enforces 262,144 [R].
    report = validate_records(_records(100, lambda i: _chat(i, max_tokens=40_000)), model=LARGE_3, invocation=INVOKE)
    assert report.ok
    assert report.warnings == 100
    assert "over this catalog's limit of 32000" in report.problems[0].message
    assert report.problems[0].severity == "warning"
    converse = validate_records(
        _records(100, lambda i: _converse(i, inferenceConfig={"maxTokens": 40_000})), model=LARGE_3, invocation=CONVERSE
    )
    assert converse.ok and converse.warnings == 100
    # A documented limit ([D] parameter page) stays an error, as does another problem in the same record.
    seven = [InputRecord(i, positional_id(i), {"prompt": "hi", "max_tokens": 9000}) for i in range(100)]
    assert validate_records(seven, model=SEVEN_B, invocation=INVOKE).errors == 100
    both = validate_records(
        _records(100, lambda i: _chat(i, max_tokens=40_000, temperature=5)), model=LARGE_3, invocation=INVOKE
    )
    assert both.errors == 100


def test_region_and_unknown_models() -> None:
    report = validate_records(_records(100), model=LARGE_3, invocation=INVOKE, region="eu-west-1")
    assert report.ok
    assert report.warnings == 1
    assert "not served in eu-west-1" in report.problems[0].message
    with pytest.raises(ValidationException):
        validate_records(_records(100), model="mistral.nope", invocation=INVOKE)


def test_aliases_resolve() -> None:
    assert validate_records(_records(100), model="mistral-large-3", invocation=INVOKE).ok


def test_non_ascii_separators_inside_strings_do_not_split_records(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "in.jsonl",
        [
            {
                "recordId": positional_id(i),
                "modelInput": _chat(i) | {"messages": [{"role": "user", "content": f"a\u0085b\u2028c {i}"}]},
            }
            for i in range(100)
        ],
    )
    report = validate_lines(_lines(path), model=LARGE_3, invocation=INVOKE, file_name=path.name)
    assert report.ok, report.problems
    assert report.records == 100


BAD_BODIES = [
    (INVOKE, LARGE_3, _chat(1, temperature="hot")),
    (INVOKE, LARGE_3, _chat(1, modelId=LARGE_3)),
    (INVOKE, SEVEN_B, {"prompt": "<s>[INST] hi [/INST]", "max_tokens": 9000}),
    (INVOKE, "mistral.mistral-large-2402-v1:0", {"messages": [{"role": "assistant", "content": "first"}]}),
    (CONVERSE, SEVEN_B, _converse(1, system=[{"text": "Be brief."}])),
    (CONVERSE, LARGE_3, _converse(1, inferenceConfig={"temperature": 1.5})),
]


def test_problems_carry_what_the_runtime_answers_on_demand() -> None:
    """The same bodies sent to a real runtime through unmodified boto3 get the very messages validation reports."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    from mistral_bedrock.runtime import ServerThread

    with ServerThread() as server:
        client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        for invocation, model, body in BAD_BODIES:
            report = validate_records(
                [InputRecord(0, "one", body)], model=model, invocation=invocation, unknown_batch="warning"
            )
            record_problems = [p for p in report.problems if p.line == 1]
            assert len(record_problems) == 1, (model, body)
            send = (
                (lambda m=model, b=body: client.converse(modelId=m, **b))
                if invocation is CONVERSE
                else (lambda m=model, b=body: client.invoke_model(modelId=m, body=json.dumps(b)))
            )
            with pytest.raises(ClientError) as info:
                send()
            assert info.value.response["Error"]["Message"] == record_problems[0].message, (model, body)
        client.close()


def test_the_incremental_validator_reports_once() -> None:
    from mistral_bedrock.batch.validation import RecordValidator

    validator = RecordValidator(model=LARGE_3, invocation=INVOKE, file_name="in.txt")
    for record in _records(99):
        validator.add(record, 10)
    first = validator.report()
    assert validator.report() == first
    assert (first.errors, first.input_bytes) == (2, 990)


def test_workers_give_the_same_report(tmp_path: Path) -> None:
    lines = [json.dumps({"recordId": positional_id(i), "modelInput": _chat(i)}) for i in range(5000)]
    lines[10] = "{not json"
    lines[2500] = json.dumps({"recordId": positional_id(7), "modelInput": _chat(1)})  # a duplicate id
    lines[4999] = json.dumps({"recordId": "last", "modelInput": _chat(1, temperature="hot")})
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    serial = validate_lines(_lines(path), model=LARGE_3, invocation=INVOKE, file_name=path.name)
    parallel = validate_lines(_lines(path), model=LARGE_3, invocation=INVOKE, file_name=path.name, workers=2)
    assert parallel == serial
    assert [(p.line, p.record_id) for p in serial.problems] == [(11, None), (2501, positional_id(7)), (5000, "last")]


MINISTRAL_8B = "mistral.ministral-3-8b-instruct"
LARGE_2402 = "mistral.mistral-large-2402-v1:0"


def _window_cases() -> list[tuple[InvocationType, str, dict[str, Any]]]:
    """Short, long-but-fitting, too long and max-tokens-past-the-room bodies, for a text model (7B, window 32,000),
    a SentencePiece chat model (Large 24.02, 32,000), a Tekken chat model (Ministral 3 8B, 128,000) and Converse."""
    words = {n: "word " * n for n in (20_000, 30_000, 40_000, 300_000)}

    def chat(n: int, **extra: Any) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": words[n]}]} | extra

    def turn(n: int, **config: Any) -> dict[str, Any]:
        return {
            "messages": [{"role": "user", "content": [{"text": words[n]}]}],
            "inferenceConfig": {"maxTokens": 8} | config,
        }

    cases: list[tuple[InvocationType, str, dict[str, Any]]] = [
        (INVOKE, SEVEN_B, {"prompt": "<s>[INST] hi [/INST]", "max_tokens": 8}),
        (INVOKE, SEVEN_B, {"prompt": f"<s>[INST] {words[20_000]}[/INST]", "max_tokens": 8}),
        (INVOKE, SEVEN_B, {"prompt": f"<s>[INST] {words[20_000]}[/INST]"}),  # unset: capped, never refused
        (INVOKE, SEVEN_B, {"prompt": f"<s>[INST] {words[30_000]}[/INST]", "max_tokens": 8_192}),  # past the room
        (INVOKE, SEVEN_B, {"prompt": f"<s>[INST] {words[40_000]}[/INST]", "max_tokens": 8}),
        (INVOKE, LARGE_2402, chat(20_000, max_tokens=8)),
        (INVOKE, LARGE_2402, chat(30_000, max_tokens=8_000)),
        (INVOKE, LARGE_2402, chat(40_000, max_tokens=8)),
        (INVOKE, MINISTRAL_8B, {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}),
        (INVOKE, MINISTRAL_8B, chat(40_000, max_tokens=8)),
        (INVOKE, MINISTRAL_8B, chat(300_000, max_tokens=8)),
        (CONVERSE, LARGE_2402, turn(20_000)),
        (CONVERSE, LARGE_2402, turn(30_000, maxTokens=8_000)),
        (CONVERSE, SEVEN_B, turn(40_000)),
        (CONVERSE, MINISTRAL_8B, turn(300_000)),
    ]
    return cases


def test_the_context_window_verdicts_are_the_runtimes() -> None:
    """Each body's verdict from validation is what a real runtime answers the same body on demand: accepted, or
    refused with the same message ("Input is too long for requested model." among them)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    from mistral_bedrock.runtime import RuntimeConfig, ServerThread

    verdicts: list[tuple[str | None, str | None]] = []
    with ServerThread(config=RuntimeConfig(min_first_byte_ms=0)) as server:
        client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        for invocation, model, body in _window_cases():
            report = validate_records([InputRecord(0, "one", body)], model=model, invocation=invocation)
            found = [p.message for p in report.problems if p.line == 1 and p.severity == "error"]
            try:
                if invocation is CONVERSE:
                    client.converse(modelId=model, **body)
                else:
                    client.invoke_model(modelId=model, body=json.dumps(body))
                answer = None
            except ClientError as exc:
                answer = exc.response["Error"]["Message"]
            verdicts.append((found[0] if found else None, answer))
        client.close()
    assert [validated for validated, _ in verdicts] == [answer for _, answer in verdicts]
    refusals = [answer for _, answer in verdicts]
    assert refusals.count("Input is too long for requested model.") == 5
    assert refusals.count("The model returned the following errors: Validation Error") == 3  # past the room
    assert refusals.count(None) == 7  # each kind of body has fitting ones, long ones among them


@pytest.mark.parametrize("tokenizer", sorted({spec.tokenizer for spec in MODELS}))
def test_the_token_bound_holds_for_every_tokenizer(tokenizer: str) -> None:
    """The cheap bound validation uses to skip counting is never below the count, on text made to defeat it: one
    byte per character, control characters, accents, CJK, emoji, characters NFKC would expand, control-token
    strings, lone surrogates (read as U+FFFD), and a system turn."""
    from mistral_bedrock.batch.validation import _input_token_bound
    from mistral_bedrock.prompt import count_prompt_tokens
    from mistral_bedrock.prompt.input_tokens import count_input_tokens

    spec = next(spec for spec in MODELS if spec.tokenizer == tokenizer)
    texts = [
        "",
        ".",
        " ",
        "a",
        "\x00\x01\x1f\x7f" * 50,
        "é" * 200,
        "中文字符" * 100,
        "🙂🚀" * 100,
        "ﷺ㍿ﬃ" * 100,
        "[INST][/INST]<s></s>[TOOL_CALLS][SYSTEM_PROMPT]" * 20,
        "\ud800 \udfff" * 50,
        " .\n" * 300,
        "".join(chr(c) for c in range(32, 0x2FF)),
    ]
    for text in texts:
        for messages in (
            [Message.user(text)],
            [Message.system(text), Message.user(text), Message.assistant(text), Message.user(text)],
            [Message.user(text)] * 6,
        ):
            request = ParsedRequest(spec=spec, dialect=Dialect.CHAT, messages=tuple(messages), params=Params())
            bound = _input_token_bound(request)
            assert bound is not None
            assert count_input_tokens(request.messages, spec, ()) <= bound, (tokenizer, text[:20])
        prompt = ParsedRequest(spec=spec, dialect=Dialect.TEXT, prompt=f"<s>[INST] {text} [/INST]", params=Params())
        bound = _input_token_bound(prompt)
        assert bound is not None and count_prompt_tokens(prompt.prompt or "", spec) <= bound, (tokenizer, text[:20])


@pytest.mark.parametrize("invocation", [INVOKE, CONVERSE])
def test_max_tokens_above_every_evidenced_limit_is_an_error(invocation: InvocationType) -> None:
    """Between the catalog's inexact limit and the largest limit Bedrock is known to enforce: a warning; above it
    (1,000,000,000, or 262,145): an error, in the words the runtime refuses it with."""

    def body(value: int) -> dict[str, Any]:
        return (
            _chat(0, max_tokens=value) if invocation is INVOKE else _converse(0, inferenceConfig={"maxTokens": value})
        )

    for value, severity in ((262_144, "warning"), (262_145, "error"), (1_000_000_000, "error")):
        report = validate_records([InputRecord(0, "one", body(value))], model=LARGE_3, invocation=invocation)
        (problem,) = [p for p in report.problems if p.line == 1]
        assert problem.severity == severity, value
        if severity == "warning":
            assert "the local runtime refuses the record" in problem.message
        elif invocation is INVOKE:
            assert problem.message == _bedrock_message(LARGE_3, body(value))


def test_repeated_keys(tmp_path: Path) -> None:
    """A line that repeats its own keys gets a warning (its last value is used); a modelInput that repeats a key is
    judged as the runtime judges the same on-demand body, byte for byte."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    from mistral_bedrock.runtime import RuntimeConfig, ServerThread

    bodies = [
        '{"messages":[{"role":"user","content":"hi"}],"max_tokens":1000000000,"max_tokens":8}',
        '{"messages":[{"role":"user","content":"hi"}],"max_tokens":8,"max_tokens":1000000000}',
        '{"messages":[{"role":"user","content":"hi"}],"temperature":0.5,"temperature":"hot"}',
    ]
    lines = [f'{{"recordId":"k{i}","modelInput":{body}}}' for i, body in enumerate(bodies)]
    lines.append('{"recordId":"k1","recordId":"k9","modelInput":{"messages":[{"role":"user","content":"hi"}]}}')
    lines.append(
        '{"recordId":"k8","modelInput":{"messages":[{"role":"user","content":"\\"recordId\\" \\"recordId\\""}]}}'
    )
    lines += [json.dumps({"recordId": f"n{i}", "modelInput": _chat(i)}) for i in range(100)]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    for workers in (1, 2):
        report = validate_lines(_lines(path), model=MINISTRAL_8B, invocation=INVOKE, workers=workers)
        by_line = {p.line: p for p in report.problems}
        assert (report.errors, report.warnings) == (2, 1), workers
        assert by_line[4].severity == "warning" and by_line[4].record_id == "k9"
        assert "the line repeats 'recordId'" in by_line[4].message
    with ServerThread(config=RuntimeConfig(min_first_byte_ms=0)) as server:
        client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        for number, body in enumerate(bodies, 1):
            try:
                client.invoke_model(modelId=MINISTRAL_8B, body=body.encode())
                answer = None
            except ClientError as exc:
                answer = exc.response["Error"]["Message"]
            assert answer == (by_line[number].message if number in by_line else None), body
        client.close()
    assert 1 not in by_line  # the last max_tokens, 8, is the one read
