"""The scripted engine: matching, sequences, errors, latency, cutting, and rules-file validation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mistral_bedrock.catalog import Dialect
from mistral_bedrock.conversation import Params, ToolCall
from mistral_bedrock.engines import LEAD_IN, Engine, ScriptedEngine, TextDelta, load_rules
from mistral_bedrock.engines.counting import text_tokens, tool_call_tokens
from mistral_bedrock.errors import ModelStreamErrorException, ThrottlingException
from tests.engines.engines_support import (
    RULES_DIR,
    TOP_SONG,
    calls_of,
    chat,
    collect,
    collect_until_error,
    stop_of,
    text_of,
    text_prompt,
)


def reply(text: str) -> dict[str, Any]:
    return {"reply": {"text": text}}


def answer(engine: ScriptedEngine, *turns: str, **kwargs: Any) -> str:
    return text_of(collect(engine, chat(*turns, **kwargs)))


def test_is_an_engine() -> None:
    engine = ScriptedEngine()
    assert isinstance(engine, Engine)
    assert engine.name == "scripted"


def test_no_rules_falls_back_to_the_builtin_answer() -> None:
    assert answer(ScriptedEngine(), "Hello") == f"{LEAD_IN} You said: Hello"
    assert (
        answer(ScriptedEngine({"rules": [{"contains": "zzz", **reply("no")}]}), "Hello") == f"{LEAD_IN} You said: Hello"
    )


def test_default_reply_when_nothing_matches() -> None:
    engine = ScriptedEngine({"rules": [{"contains": "zzz", **reply("z")}], "default": {"text": "fallback"}})
    assert answer(engine, "Hello") == "fallback"
    assert answer(engine, "zzz") == "z"


@pytest.mark.parametrize(
    ("condition", "matching", "other"),
    [
        ({"contains": "WEATHER"}, chat("What's the weather?"), chat("Hi")),
        ({"regex": r"\bsong\b"}, chat("top song?"), chat("songs?")),
        ({"turn": 2}, chat("a", "b", "c"), chat("a")),
        ({"dialect": "converse"}, chat("a", dialect=Dialect.CONVERSE), chat("a")),
        ({"model": "mistral-large-2402"}, chat("a"), chat("a", model="mistral-large-2407")),
        ({"model": "us.mistral.pixtral-large-2502-v1:0"}, chat("a", model="pixtral-large"), chat("a")),
        ({"dialect": "text", "contains": "name"}, text_prompt("[INST] Your name? [/INST]"), text_prompt("Hi")),
    ],
)
def test_conditions(condition: dict[str, Any], matching: Any, other: Any) -> None:
    engine = ScriptedEngine([{**condition, **reply("matched")}])
    assert text_of(collect(engine, matching)) == "matched"
    assert text_of(collect(engine, other)) != "matched"


def test_all_conditions_must_hold_and_the_first_match_wins() -> None:
    engine = ScriptedEngine(
        [
            {"contains": "song", "turn": 2, **reply("second turn song")},
            {"contains": "song", **reply("any song")},
            {"contains": "song", **reply("never")},
        ]
    )
    assert answer(engine, "song") == "any song"
    assert answer(engine, "a", "b", "song") == "second turn song"


def test_sequence_advances_and_repeats_its_last_reply() -> None:
    engine = ScriptedEngine([{"contains": "go", "sequence": [{"text": "one"}, {"text": "two"}]}])
    assert [answer(engine, "go") for _ in range(4)] == ["one", "two", "two", "two"]
    assert answer(engine, "other") == f"{LEAD_IN} You said: other"  # not a match: no step
    engine.reset()
    assert answer(engine, "go") == "one"
    assert answer(ScriptedEngine(engine.rules), "go") == "one"  # state is per instance


def test_tool_loop_sequence() -> None:
    engine = ScriptedEngine.from_file(RULES_DIR / "tool_loop.yaml")
    request = chat("What is the most popular song on WZPZ?", tools=[TOP_SONG])
    first = collect(engine, request)
    assert calls_of(first) == [ToolCall("", "top_song", {"sign": "WZPZ"})]
    stop = stop_of(first)
    assert stop.reason == "tool_calls"
    assert stop.usage.output_tokens == tool_call_tokens(calls_of(first), request.spec)
    second = collect(engine, request)
    assert text_of(second) == "The most popular song on WZPZ is Elemental Hotel by 8 Storey Hike."
    assert stop_of(second).reason == "stop"


def test_error_before_the_first_event() -> None:
    engine = ScriptedEngine([{"contains": "busy", "reply": {"error": {"code": "ThrottlingException"}}}])
    events, error = collect_until_error(engine, chat("busy?"))
    assert events == []
    assert isinstance(error, ThrottlingException)
    assert error.retryable
    assert error.status == 429
    assert error.message  # Bedrock's usual message for the code


def test_error_after_deltas() -> None:
    engine = ScriptedEngine(
        [
            {
                "contains": "story",
                "reply": {
                    "text": "Once upon a time there was a stream",
                    "error": {"code": "ModelStreamErrorException", "message": "boom", "after_deltas": 3},
                },
            }
        ]
    )
    events, error = collect_until_error(engine, chat("story"))
    assert [type(event) for event in events] == [TextDelta] * 3
    assert text_of(events) == "Once upon a"
    assert isinstance(error, ModelStreamErrorException)
    assert str(error) == "ModelStreamErrorException: boom"


def test_error_after_deltas_on_the_builtin_answer() -> None:
    engine = ScriptedEngine({"default": {"error": {"code": "InternalServerException", "after_deltas": 2}}})
    events, error = collect_until_error(engine, chat("Hello"))
    assert text_of(events) == "I am"
    assert error is not None
    assert type(error).__name__ == "InternalServerException"


def test_latency_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    # The waits are observed, not timed: every asyncio.sleep the engine asks for is recorded.
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    monkeypatch.setattr(asyncio, "sleep", record)
    engine = ScriptedEngine({"default": {"text": "a b c d e f", "latency_ms": 60, "token_latency_ms": 15}})
    events = collect(engine, chat("Hi"))
    deltas = sum(isinstance(event, TextDelta) for event in events)
    assert deltas == 6
    assert waits == [0.060] + [0.015] * 5  # before the first event, then between text deltas
    assert engine.rules.default is not None
    assert (engine.rules.default.latency_ms, engine.rules.default.token_latency_ms) == (60, 15)


def test_scripted_text_is_cut_and_counted_like_the_builtin() -> None:
    engine = ScriptedEngine({"default": {"text": "alpha beta gamma delta epsilon"}})
    request = chat("Hi", params=Params(max_tokens=2))
    stop = stop_of(collect(engine, request))
    assert (stop.reason, stop.usage.output_tokens) == ("length", 2)
    events = collect(engine, chat("Hi", params=Params(stop=("gamma",))))
    assert text_of(events) == "alpha beta "
    assert stop_of(events).stop_sequence == "gamma"
    assert stop_of(events).usage.output_tokens == text_tokens("alpha beta ", request.spec)


def test_stop_reason_override() -> None:
    engine = ScriptedEngine({"default": {"text": "cut short", "stop_reason": "length"}})
    stop = stop_of(collect(engine, chat("Hi")))
    assert stop.reason == "length"
    assert stop.stop_sequence is None


@pytest.mark.parametrize("reason", ["guardrail_intervened", "content_filtered", "model_context_window_exceeded"])
def test_rules_can_stop_as_bedrock_flags_an_answer(reason: str) -> None:
    engine = ScriptedEngine({"default": {"text": "Sorry.", "stop_reason": reason}})
    assert stop_of(collect(engine, chat("Hi"))).reason == reason


def test_text_and_tool_calls_together() -> None:
    engine = ScriptedEngine(
        {"default": {"text": "Let me check.", "tool_calls": [{"name": "x", "arguments": {"a": 1}}]}}
    )
    events = collect(engine, chat("Hi"))
    assert text_of(events) == "Let me check."
    assert calls_of(events) == [ToolCall("", "x", {"a": 1})]
    assert events.index(next(e for e in events if not isinstance(e, TextDelta))) == len(events) - 2


def test_yaml_and_json_files_load_the_same(tmp_path: Path) -> None:
    rules = load_rules(RULES_DIR / "tool_loop.yaml")
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules.model_dump(mode="json", exclude_none=True)))
    assert load_rules(path) == rules


def test_empty_yaml_file_has_no_rules(tmp_path: Path) -> None:
    path = tmp_path / "empty.yml"
    path.write_text("")
    assert load_rules(path).rules == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "rules:\n  - contains: a\n    reply: {text: ok}\n  - contans: b\n    reply: {text: x}\n",
            r"rule 1, contans: unknown key",
        ),
        ("rules:\n  - contains: a\n", r"rule 0: .*exactly one of 'reply' and 'sequence'"),
        ("- name: both\n  reply: {}\n  sequence: [{}]\n", r"rule 0 \('both'\): .*exactly one"),
        ("- regex: '('\n  reply: {}\n", r"rule 0, regex: .*invalid regular expression"),
        ("- model: gpt-4\n  reply: {}\n", r"rule 0, model: .*unknown model 'gpt-4'"),
        ("- dialect: klingon\n  reply: {}\n", r"rule 0, dialect: "),
        ("- turn: 0\n  reply: {}\n", r"rule 0, turn: "),
        ("- sequence: []\n", r"rule 0, sequence: "),
        ("- reply: {error: {code: Throttling}}\n", r"rule 0, reply.error.code: .*unknown AWS error code 'Throttling'"),
        ("- reply: {latency_ms: -1}\n", r"rule 0, reply.latency_ms: "),
        ("- reply: {stop_reason: end_turn}\n", r"rule 0, reply.stop_reason: "),
        ("- reply: {tool_calls: [{arguments: {}}]}\n", r"rule 0, reply.tool_calls.0.name: "),
        ("default: {txt: hi}\n", r"default.txt: unknown key"),
        ("rules: 3\n", r"rules: "),
        ("rules: [\n", r"not valid YAML"),
    ],
)
def test_bad_rules_file_names_file_rule_and_problem(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ValueError, match=expected) as caught:
        ScriptedEngine.from_file(path)
    assert str(path) in str(caught.value)


def test_bad_json_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"rules": [')
    with pytest.raises(ValueError, match=r"bad\.json: not valid JSON"):
        load_rules(path)


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("")
    with pytest.raises(ValueError, match=r"must end in \.yaml, \.yml or \.json"):
        load_rules(path)
    with pytest.raises(ValueError, match="Cannot read rules file"):
        load_rules(tmp_path / "missing.yaml")


def test_bad_rules_from_a_dict() -> None:
    with pytest.raises(ValueError, match=r"Invalid rules file <rules>: rule 0, reply.text"):
        ScriptedEngine([{"reply": {"text": 3}}])


def test_the_documented_example_is_valid() -> None:
    docs = Path(__file__).parents[2] / "docs" / "ENGINES.md"
    example = docs.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]
    engine = ScriptedEngine(yaml.safe_load(example), source="docs/ENGINES.md")
    assert len(engine.rules.rules) == 4
    events, error = collect_until_error(engine, chat("Tell me a story"))
    assert text_of(events) == "Once upon a"
    assert isinstance(error, ModelStreamErrorException)
    assert answer(engine, "Something else") == "I have no script for that."
