"""Building batch records with the project's formats, and reading conversations from files; every record built
passes validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mistral_bedrock.batch.build import ConversationFileError, RecordBuildError, build_records, read_conversations
from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.records import InputRecord, parse_record, positional_id
from mistral_bedrock.batch.validation import validate_records
from mistral_bedrock.catalog import MODELS, lookup
from mistral_bedrock.conversation import Message, Params, Tool, ToolCall
from mistral_bedrock.errors import ValidationException
from mistral_bedrock.formats.selection import converse_format, native_format

TOOL = Tool("get_weather", "The weather in a city", {"type": "object", "properties": {"city": {"type": "string"}}})
CONVERSATIONS = [
    [Message.system("Answer briefly."), Message.user(f"Question {i}: why is the sky blue?")] for i in range(100)
]


def _round_trip(records: list[dict[str, object]]) -> list:  # type: ignore[type-arg]
    """The records as a file holds them, read back."""
    return [parse_record(i, json.dumps(r, ensure_ascii=False).encode()) for i, r in enumerate(records)]


@pytest.mark.parametrize("spec", MODELS, ids=lambda s: s.model_id)
@pytest.mark.parametrize("invocation", list(InvocationType))
def test_every_built_record_passes_validation(spec, invocation: InvocationType) -> None:  # type: ignore[no-untyped-def]
    params = Params(max_tokens=200, temperature=0.3)
    records = list(build_records(CONVERSATIONS, model=spec.model_id, invocation=invocation, params=params))
    assert [r["recordId"] for r in records[:2]] == [positional_id(0), positional_id(1)]
    report = validate_records(_round_trip(records), model=spec.model_id, invocation=invocation)
    assert report.ok, report.problems
    assert report.records == 100


@pytest.mark.parametrize("spec", [s for s in MODELS if s.converse.tools], ids=lambda s: s.model_id)
def test_records_with_tools_use_the_chat_body_and_pass(spec) -> None:  # type: ignore[no-untyped-def]
    records = list(
        build_records(
            CONVERSATIONS, model=spec.model_id, invocation=InvocationType.INVOKE_MODEL, params=Params(), tools=[TOOL]
        )
    )
    assert "messages" in records[0]["modelInput"]  # type: ignore[operator]
    assert "tools" in records[0]["modelInput"]  # type: ignore[operator]
    report = validate_records(_round_trip(records), model=spec.model_id, invocation=InvocationType.INVOKE_MODEL)
    assert report.ok, report.problems


def test_bodies_by_invocation_type() -> None:
    text = next(
        build_records(
            CONVERSATIONS,
            model="mistral.mistral-7b-instruct-v0:2",
            invocation=InvocationType.INVOKE_MODEL,
            params=Params(max_tokens=5),
        )
    )
    assert text["modelInput"] == {
        "prompt": "<s>[INST] Answer briefly.\n\nQuestion 0: why is the sky blue? [/INST]",
        "max_tokens": 5,
    }
    converse = next(
        build_records(
            CONVERSATIONS, model="mistral-large-3", invocation=InvocationType.CONVERSE, params=Params(max_tokens=5)
        )
    )
    body = converse["modelInput"]
    assert isinstance(body, dict)
    assert "modelId" not in body  # Converse-type modelInput is the request minus modelId [R]
    assert body["system"] == [{"text": "Answer briefly."}]
    assert body["inferenceConfig"] == {"maxTokens": 5}


@pytest.mark.parametrize(
    ("params", "invocation", "model"),
    [
        (Params(temperature=7), InvocationType.INVOKE_MODEL, "mistral.mistral-large-3-675b-instruct"),
        (Params(max_tokens=0), InvocationType.INVOKE_MODEL, "mistral.mistral-7b-instruct-v0:2"),
        (Params(max_tokens=100_000), InvocationType.INVOKE_MODEL, "mistral.ministral-3-8b-instruct"),  # a warning
        (Params(max_tokens=300_000), InvocationType.INVOKE_MODEL, "mistral.ministral-3-8b-instruct"),
        (Params(temperature=7), InvocationType.CONVERSE, "mistral.mistral-large-2402-v1:0"),
    ],
)
def test_a_body_the_model_refuses_is_not_built(params: Params, invocation: InvocationType, model: str) -> None:
    """The first refused body raises, with its position and Bedrock's message, before any record is yielded."""
    records = build_records(CONVERSATIONS, model=model, invocation=invocation, params=params)
    with pytest.raises(RecordBuildError) as info:
        next(records)
    assert isinstance(info.value, ValueError)
    assert info.value.index == 0
    spec = lookup(model)
    fmt = converse_format() if invocation is InvocationType.CONVERSE else native_format(spec)
    body = dict(fmt.build_body(spec, CONVERSATIONS[0], params, (), None))
    report = validate_records([InputRecord(0, "one", body)], model=model, invocation=invocation)
    assert report.problems[0].message == info.value.reason
    assert str(info.value) == f"conversation 1: the record's body would be refused: {info.value.reason}"


def test_the_first_refusal_stops_the_build_at_its_conversation() -> None:
    long_one = [Message.user("word " * 40_000)]  # past the 7B's 32,000-token window
    conversations = [*CONVERSATIONS[:3], long_one, *CONVERSATIONS[3:]]
    built: list[dict[str, object]] = []
    records = build_records(
        conversations,
        model="mistral.mistral-7b-instruct-v0:2",
        invocation=InvocationType.INVOKE_MODEL,
        params=Params(max_tokens=8),
    )
    with pytest.raises(RecordBuildError) as info:
        built.extend(records)
    assert len(built) == 3
    assert (info.value.index, info.value.reason) == (3, "Input is too long for requested model.")


def test_tools_are_refused_under_the_converse_type() -> None:
    with pytest.raises(ValidationException, match="Converse-type batch jobs do not support tool calling"):
        next(
            build_records(
                CONVERSATIONS,
                model="mistral-large-3",
                invocation=InvocationType.CONVERSE,
                params=Params(),
                tools=[TOOL],
            )
        )


def test_an_alias_not_served_in_the_region() -> None:
    from mistral_bedrock.errors import ModelNotServedError

    with pytest.raises(ModelNotServedError):
        next(
            build_records(
                CONVERSATIONS,
                model="mistral-large-3",
                invocation=InvocationType.INVOKE_MODEL,
                params=Params(),
                region="eu-west-1",
            )
        )


def test_read_txt_prompts(tmp_path: Path) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("first prompt\n\nsecond \u2028 prompt with a line separator\r\nthird\n", encoding="utf-8")
    assert list(read_conversations(path)) == [
        [Message.user("first prompt")],
        [Message.user("second \u2028 prompt with a line separator")],
        [Message.user("third")],
    ]


def test_read_jsonl_conversations(tmp_path: Path) -> None:
    path = tmp_path / "conversations.jsonl"
    lines = [
        {"messages": [{"role": "user", "content": "hi"}]},
        [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "parts"}]}],
        {
            "messages": [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {"id": "abcdefghi", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
                    ],
                },
                {"role": "tool", "content": "sunny", "tool_call_id": "abcdefghi"},
            ]
        },
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    conversations = list(read_conversations(path))
    assert conversations[0] == [Message.user("hi")]
    assert conversations[1] == [Message.system("s"), Message.user("parts")]
    assert conversations[2][1].tool_calls == (ToolCall("abcdefghi", "get_weather", {"city": "Paris"}),)
    assert conversations[2][2] == Message.tool("abcdefghi", "sunny")


def test_read_a_saved_conversation(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"model": "mistral-large-3", "messages": [{"role": "user", "content": "hello"}]}))
    assert list(read_conversations(path)) == [[Message.user("hello")]]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("bad.csv", "a,b\n", "expected a .txt"),
        ("bad.jsonl", "{nope\n", "line 1: not valid JSON"),
        ("bad.jsonl", '{"messages": []}\n', "no list of messages"),
        ("bad.jsonl", '[{"role": "robot", "content": "x"}]\n', "unknown roles robot"),
        ("bad.json", "[", "not valid JSON"),
        ("bad.txt", b"caf\xe9\n", "line 1: not UTF-8 text"),
    ],
)
def test_files_that_hold_no_conversation(tmp_path: Path, name: str, content: str | bytes, match: str) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConversationFileError, match=match):
        list(read_conversations(path))
