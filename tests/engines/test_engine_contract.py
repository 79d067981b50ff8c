"""The contract every engine keeps, run against every registered engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from mistral_bedrock.catalog import Dialect
from mistral_bedrock.engines import ENGINES, Engine, Stop, TextDelta, ToolCallEvent, create_engine, input_tokens
from mistral_bedrock.engines.counting import text_tokens, tool_call_tokens
from mistral_bedrock.formats import ParsedRequest
from mistral_bedrock.prompt import encode_text
from tests.engines.engines_support import (
    GET_WEATHER,
    RULES_DIR,
    TOP_SONG,
    as_data,
    calls_of,
    chat,
    collect,
    stop_of,
    text_of,
    text_prompt,
)

# How the contract builds each registered engine. A new engine must be added here (a test checks it).
ENGINE_SPECS: dict[str, str] = {
    "builtin": "builtin",
    "scripted": f"scripted:{RULES_DIR / 'contract.yaml'}",
}

REQUESTS: dict[str, ParsedRequest] = {
    "text-7b": text_prompt("<s>[INST] Hello, what's your name? [/INST]"),
    "text-mixtral-history": text_prompt("<s>[INST] Hi [/INST] Hello!</s>[INST] Tell me more [/INST]", model="mixtral"),
    "chat-large-2402": chat("Hello, what's your name?"),
    "chat-large-2407-history": chat("Hi", "Hello!", "How are you?", model="mistral-large-2407"),
    "openai-tekken": chat("What's new?", model="mistral-large", dialect=Dialect.CHAT_OPENAI),
    "converse-pixtral-poem": chat("Write a poem about the sea", model="pixtral-large", dialect=Dialect.CONVERSE),
    "converse-ministral-count": chat("Please count", model="ministral-3b", dialect=Dialect.CONVERSE),
}

TOOL_MODELS: dict[str, tuple[str, Dialect]] = {
    "chat-v2": ("mistral.mistral-large-2402-v1:0", Dialect.CHAT),
    "converse-v3": ("mistral-large-2407", Dialect.CONVERSE),
    "openai-tekken": ("mistral-large", Dialect.CHAT_OPENAI),
}
TOOL_QUESTIONS = (
    "What is the most popular song on WZPZ?",
    "What's the weather in Paris for 3 days, in fahrenheit? Use get_weather and top-song.",
)


@pytest.fixture(params=sorted(ENGINE_SPECS))
def make_engine(request: pytest.FixtureRequest) -> Callable[[], Engine]:
    """A factory of fresh engines (scripted sequences keep state per instance)."""
    spec = ENGINE_SPECS[request.param]
    return lambda: create_engine(spec)


def with_params(request: ParsedRequest, **changes: Any) -> ParsedRequest:
    return dataclasses.replace(request, params=dataclasses.replace(request.params, **changes))


# Engines that serve a real model: one tiny model has one vocabulary, so they keep the contract on their own
# models' requests, in tests/engines/local/test_local_engine_contract.py.
MODEL_ENGINES = {"llamacpp", "transformers", "upstream"}
# Engines that yield no model events: Bedrock's recorded answer goes out as it is (tests/engines/cassette).
RELAY_ENGINES = {"replay"}


def test_every_registered_engine_is_covered() -> None:
    assert set(ENGINE_SPECS) | MODEL_ENGINES | RELAY_ENGINES == set(ENGINES)


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_events_then_exactly_one_stop(make_engine: Callable[[], Engine], name: str) -> None:
    events = collect(make_engine(), REQUESTS[name])
    assert isinstance(events[-1], Stop)
    assert not any(isinstance(event, Stop) for event in events[:-1])
    assert all(isinstance(event, (TextDelta, ToolCallEvent)) for event in events[:-1])
    assert all(event.text for event in events if isinstance(event, TextDelta))  # no empty deltas


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_usage_matches_the_tokenizer(make_engine: Callable[[], Engine], name: str) -> None:
    request = REQUESTS[name]
    events = collect(make_engine(), request)
    stop = stop_of(events)
    assert stop.reason == "stop"
    assert stop.stop_sequence is None
    assert stop.usage.input_tokens == input_tokens(request)
    assert stop.usage.output_tokens == text_tokens(text_of(events), request.spec) > 0
    # A streamed answer comes one delta per token (the scripted poem has multi-byte characters, so it may have
    # fewer); a whole one may come in fewer, larger deltas.
    deltas = [event for event in events if isinstance(event, TextDelta)]
    assert len(deltas) <= stop.usage.output_tokens
    streamed = [
        event
        for event in collect(make_engine(), dataclasses.replace(request, stream=True))
        if isinstance(event, TextDelta)
    ]
    assert "".join(d.text for d in streamed) == text_of(events)
    if text_of(events).isascii():
        assert len(streamed) == stop.usage.output_tokens


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_same_request_same_answer(make_engine: Callable[[], Engine], name: str) -> None:
    assert as_data(collect(make_engine(), REQUESTS[name])) == as_data(collect(make_engine(), REQUESTS[name]))


@pytest.mark.parametrize("limit", [1, 4, 9])
@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_max_tokens_gives_exactly_that_many(make_engine: Callable[[], Engine], name: str, limit: int) -> None:
    request = REQUESTS[name]
    full = text_of(collect(make_engine(), request))
    events = collect(make_engine(), with_params(request, max_tokens=limit))
    stop = stop_of(events)
    assert stop.reason == "length"
    assert stop.usage.output_tokens == limit
    text = text_of(events)
    assert full.startswith(text)
    assert len(encode_text(text, request.spec)) <= limit
    assert "\ufffd" not in text


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_stop_sequence_cuts_right_before_it(make_engine: Callable[[], Engine], name: str) -> None:
    request = REQUESTS[name]
    full = text_of(collect(make_engine(), request))
    words = full.split()
    sequence = words[len(words) // 2]
    events = collect(make_engine(), with_params(request, stop=("NEVER-THERE", sequence)))
    stop = stop_of(events)
    assert text_of(events) == full[: full.index(sequence)]
    assert (stop.reason, stop.stop_sequence) == ("stop", sequence)
    assert stop.usage.output_tokens == text_tokens(text_of(events), request.spec)


@pytest.mark.parametrize("question", TOOL_QUESTIONS)
@pytest.mark.parametrize("model", sorted(TOOL_MODELS))
def test_tool_choice_none_never_calls(make_engine: Callable[[], Engine], model: str, question: str) -> None:
    model_id, dialect = TOOL_MODELS[model]
    request = chat(question, model=model_id, dialect=dialect, tools=[TOP_SONG, GET_WEATHER], tool_choice="none")
    events = collect(make_engine(), request)
    assert calls_of(events) == []
    assert stop_of(events).reason == "stop"


@pytest.mark.parametrize("question", TOOL_QUESTIONS)
@pytest.mark.parametrize("model", sorted(TOOL_MODELS))
def test_tool_choice_any_always_calls_with_valid_arguments(
    make_engine: Callable[[], Engine], model: str, question: str
) -> None:
    """``any`` calls a tool in answer to a question (tool results are another matter: see the built-in tests)."""
    model_id, dialect = TOOL_MODELS[model]
    tools = {tool.name: tool for tool in (TOP_SONG, GET_WEATHER)}
    request = chat(question, model=model_id, dialect=dialect, tools=list(tools.values()), tool_choice="any")
    events = collect(make_engine(), request)
    calls = calls_of(events)
    assert calls
    for call in calls:
        assert call.id == ""
        jsonschema.validate(dict(call.arguments), dict(tools[call.name].parameters))
    stop = stop_of(events)
    assert stop.reason == "tool_calls"
    assert stop.usage.output_tokens == text_tokens(text_of(events), request.spec) + tool_call_tokens(
        calls, request.spec
    )
    assert as_data(events) == as_data(collect(make_engine(), request))
