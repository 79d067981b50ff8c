"""The built-in engine's answers: text, history, tools, tool results, token-exact cutting and streaming."""

from __future__ import annotations

import dataclasses

import jsonschema
import pytest

from mistral_bedrock.catalog import Dialect
from mistral_bedrock.conversation import Message, Params, Tool, ToolCall
from mistral_bedrock.engines import LEAD_IN, BuiltinEngine, Engine, TextDelta, input_tokens
from mistral_bedrock.engines.counting import tool_call_tokens
from mistral_bedrock.errors import ValidationException
from mistral_bedrock.formats import format_for
from mistral_bedrock.prompt import decode, encode_text
from tests.engines.engines_support import (
    GET_WEATHER,
    TOP_SONG,
    calls_of,
    chat,
    collect,
    spec,
    stop_of,
    text_of,
    text_prompt,
)

ENGINE = BuiltinEngine()
TOP_SONG_WIRE = {
    "type": "function",
    "function": {
        "name": TOP_SONG.name,
        "description": TOP_SONG.description,
        "parameters": dict(TOP_SONG.parameters),
    },
}
SONG = '{"song": "Elemental Hotel", "artist": "8 Storey Hike"}'


def test_is_an_engine() -> None:
    assert isinstance(ENGINE, Engine)
    assert ENGINE.name == "builtin"


def test_classic_text_completion_starts_with_a_space() -> None:
    events = collect(ENGINE, text_prompt("<s>[INST] Hello, what's your name? [/INST]"))
    assert text_of(events) == " I am the built-in engine of mistral-bedrock. You said: Hello, what's your name?"


def test_text_completion_parsed_by_the_text_format() -> None:
    request = format_for(Dialect.TEXT).parse_request(
        spec("mistral-7b"), {"prompt": "<s>[INST] Hello, what's your name? [/INST]", "max_tokens": 200}, stream=True
    )
    assert text_of(collect(ENGINE, request)) == f" {LEAD_IN} You said: Hello, what's your name?"


def test_chat_answer_has_no_leading_space() -> None:
    assert text_of(collect(ENGINE, chat("Hello, what's your name?"))) == (
        "I am the built-in engine of mistral-bedrock. You said: Hello, what's your name?"
    )


def test_history_shows_as_the_turn_number() -> None:
    events = collect(ENGINE, chat("Hi", "Hello!", "How are you?", "Fine.", "Bye"))
    assert text_of(events) == f"{LEAD_IN} You said: Bye (turn 3)"
    prompt = "<s>[INST] Hi [/INST] Hello!</s>[INST] Bye [/INST]"
    assert text_of(collect(ENGINE, text_prompt(prompt))) == f" {LEAD_IN} You said: Bye (turn 2)"


def test_prompt_without_instruction_markers_is_one_user_turn() -> None:
    assert text_of(collect(ENGINE, text_prompt("Once upon a time"))) == f" {LEAD_IN} You said: Once upon a time"


def test_top_song_with_the_chat_dialect() -> None:
    """The AWS example on Mistral Large 24.02: a radio call sign goes into ``sign``."""
    model = spec("mistral.mistral-large-2402-v1:0")
    body = {
        "messages": [{"role": "user", "content": "What is the most popular song on WZPZ?"}],
        "tools": [TOP_SONG_WIRE],
        "tool_choice": "any",
    }
    request = format_for(Dialect.CHAT).parse_request(model, body, stream=False)
    events = collect(ENGINE, request)
    assert calls_of(events) == [ToolCall("", "top_song", {"sign": "WZPZ"})]
    stop = stop_of(events)
    assert stop.reason == "tool_calls"
    assert stop.usage.input_tokens == input_tokens(request)
    assert stop.usage.output_tokens == len(encode_text('{"sign": "WZPZ"}', model))
    assert text_of(events) == ""


def test_tool_result_is_answered_in_text() -> None:
    model = spec("mistral.mistral-large-2402-v1:0")
    body = {
        "messages": [
            {"role": "user", "content": "What is the most popular song on WZPZ?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "tooluse_1", "function": {"name": "top_song", "arguments": '{"sign": "WZPZ"}'}}],
            },
            {"role": "tool", "tool_call_id": "tooluse_1", "content": SONG},
        ],
        "tools": [TOP_SONG_WIRE],
    }
    request = format_for(Dialect.CHAT).parse_request(model, body, stream=False)
    events = collect(ENGINE, request)
    assert text_of(events) == "Here is what top_song returned: song: Elemental Hotel, artist: 8 Storey Hike."
    assert stop_of(events).reason == "stop"


def test_parallel_tool_results_each_get_a_sentence() -> None:
    calls = (ToolCall("a", "top_song", {"sign": "WZPZ"}), ToolCall("b", "get_weather", {"city": "Paris"}))
    request = chat(
        "Use top_song and get_weather",
        Message.assistant(tool_calls=calls),
        Message.tool("a", SONG),
        Message.tool("b", "Sunny", name="get_weather"),
        tools=[TOP_SONG, GET_WEATHER],
    )
    assert text_of(collect(ENGINE, request)) == (
        "Here is what top_song returned: song: Elemental Hotel, artist: 8 Storey Hike. "
        "Here is what get_weather returned: Sunny."
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Ask top_song about WZPZ", ["top_song"]),
        ("ask TOP SONG about WZPZ", ["top_song"]),
        ("ask the top-song tool", ["top_song"]),
        ("use Get-Weather and top_song", ["top_song", "get_weather"]),
        ("a top_songs fan", []),
    ],
)
def test_auto_calls_the_tools_the_user_names(question: str, expected: list[str]) -> None:
    events = collect(ENGINE, chat(question, tools=[TOP_SONG, GET_WEATHER], tool_choice="auto"))
    assert [call.name for call in calls_of(events)] == expected
    assert stop_of(events).reason == ("tool_calls" if expected else "stop")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Shares "popular" and "song" with the description, "WZPZ" with the parameter's description.
        ("What is the most popular song on WZPZ?", ["top_song"]),
        ("Which SONGS are popular?", ["top_song"]),  # case does not matter; "songs" is not "song", "popular" is
        ("Anything on the radio station?", ["top_song"]),
        ("What's the weather like?", ["get_weather"]),
        ("Give me the forecast for the city", ["get_weather"]),
        # Only stop words, short words, or words no description has: a plain answer.
        ("What is it, and who are you?", []),
        ("Hello, what's your name?", []),
        ("Just say hi", []),
        ("a top_songs fan", []),
    ],
)
def test_auto_calls_the_tool_whose_descriptions_share_words_with_the_question(
    question: str, expected: list[str]
) -> None:
    events = collect(ENGINE, chat(question, tools=[TOP_SONG, GET_WEATHER], tool_choice="auto"))
    assert [call.name for call in calls_of(events)] == expected


def test_the_tool_sharing_the_most_words_wins_and_the_first_on_a_tie() -> None:
    radio = Tool("radio_log", "Log a radio station's song.")
    # top_song shares popular, song, radio and station; radio_log shares song, radio and station.
    question = "Which popular song does the radio station play?"
    assert [c.name for c in calls_of(collect(ENGINE, chat(question, tools=[radio, TOP_SONG])))] == ["top_song"]
    tie = "Which song does the radio station play?"  # three words each: the first defined
    assert [c.name for c in calls_of(collect(ENGINE, chat(tie, tools=[radio, TOP_SONG])))] == ["radio_log"]
    assert [c.name for c in calls_of(collect(ENGINE, chat(tie, tools=[TOP_SONG, radio])))] == ["top_song"]


def test_a_named_tool_wins_over_described_ones() -> None:
    question = "Use get_weather to find the most popular song on WZPZ"
    events = collect(ENGINE, chat(question, tools=[TOP_SONG, GET_WEATHER], tool_choice="auto"))
    assert [call.name for call in calls_of(events)] == ["get_weather"]


def test_nested_parameter_descriptions_do_not_count() -> None:
    """Only the description and the top-level parameters' descriptions speak for a tool."""
    tool = Tool(
        "lookup",
        "Look something up.",
        {"type": "object", "properties": {"q": {"type": "object", "properties": {"x": {"description": "Zebra."}}}}},
    )
    assert calls_of(collect(ENGINE, chat("Tell me about a zebra", tools=[tool]))) == []
    assert [c.name for c in calls_of(collect(ENGINE, chat("Look up a zebra", tools=[tool])))] == ["lookup"]


def test_auto_is_the_default_with_tools() -> None:
    assert [c.name for c in calls_of(collect(ENGINE, chat("call top_song", tools=[TOP_SONG])))] == ["top_song"]


@pytest.mark.parametrize(("choice", "forced"), [("auto", None), ("any", None), ("any", "top_song")])
def test_tool_results_are_answered_whatever_the_tool_choice(choice: str, forced: str | None) -> None:
    """So that a client's tool loop ends even when it keeps sending ``any``."""
    request = chat(
        "Ask top_song about WZPZ",
        Message.assistant(tool_calls=[ToolCall("a", "top_song", {"sign": "WZPZ"})]),
        Message.tool("a", SONG),
        dialect=Dialect.CONVERSE,
        tools=[TOP_SONG],
        tool_choice=choice,
        forced_tool=forced,
    )
    events = collect(ENGINE, request)
    assert calls_of(events) == []
    assert "Elemental Hotel" in text_of(events)


def test_any_without_a_named_tool_calls_the_first() -> None:
    events = collect(ENGINE, chat("Hello", tools=[GET_WEATHER, TOP_SONG], tool_choice="any"))
    assert [call.name for call in calls_of(events)] == ["get_weather"]


def test_any_calls_the_described_tool_before_the_first() -> None:
    events = collect(ENGINE, chat("The most popular song?", tools=[GET_WEATHER, TOP_SONG], tool_choice="any"))
    assert [call.name for call in calls_of(events)] == ["top_song"]


def test_forced_tool() -> None:
    request = chat(
        "Weather in Paris?",
        dialect=Dialect.CONVERSE,
        tools=[GET_WEATHER, TOP_SONG],
        tool_choice="any",
        forced_tool="top_song",
    )
    assert [call.name for call in calls_of(collect(ENGINE, request))] == ["top_song"]


def test_forced_tool_missing_is_a_validation_error() -> None:
    request = chat("Hi", dialect=Dialect.CONVERSE, tools=[TOP_SONG], tool_choice="any", forced_tool="nope")
    with pytest.raises(ValidationException, match="nope"):
        collect(ENGINE, request)


def test_weather_arguments_come_from_the_question() -> None:
    request = chat("What's the weather in Paris for 3 days, in fahrenheit?", tools=[GET_WEATHER], tool_choice="any")
    (call,) = calls_of(collect(ENGINE, request))
    assert call.arguments == {
        "city": "Paris",
        "unit": "fahrenheit",
        "days": 3,
        "detail": {"hourly": True, "fields": ["What's the weather in Paris for 3 days, in fahrenheit?"]},
    }
    jsonschema.validate(dict(call.arguments), dict(GET_WEATHER.parameters))


def test_tool_calls_that_do_not_fit_max_tokens_are_cut() -> None:
    request = chat("Ask top_song about WZPZ", tools=[TOP_SONG], params=Params(max_tokens=3))
    events = collect(ENGINE, request)
    assert calls_of(events) == []
    stop = stop_of(events)
    assert (stop.reason, stop.usage.output_tokens) == ("length", 3)
    assert tool_call_tokens([ToolCall("", "top_song", {"sign": "WZPZ"})], request.spec) > 3


@pytest.mark.parametrize("model", ["mistral-7b", "mistral-large-2407", "pixtral-large", "mistral-large"])
def test_multibyte_text_streams_and_cuts_cleanly(model: str) -> None:
    question = "Dis héllo 👋 à 日本語 ✓"
    request = chat(question, model=model, dialect=Dialect.CONVERSE)
    full = f"{LEAD_IN} You said: {question}"
    events = collect(ENGINE, request)
    assert text_of(events) == full
    total = len(encode_text(full, request.spec))
    assert stop_of(events).usage.output_tokens == total
    deltas = [event.text for event in events if isinstance(event, TextDelta)]
    assert all("\ufffd" not in delta for delta in deltas)
    for limit in range(1, total):
        cut = collect(ENGINE, dataclasses.replace(request, params=Params(max_tokens=limit)))
        text = text_of(cut)
        assert full.startswith(text)
        assert "\ufffd" not in text
        assert stop_of(cut).usage.output_tokens == limit
        # Whole characters of the first `limit` tokens: at most one partial character is dropped.
        assert decode(encode_text(full, request.spec)[:limit], request.spec).rstrip("\ufffd") == text


def test_earliest_ending_stop_sequence_wins() -> None:
    request = chat("abcdef", params=Params(stop=("You said", "built", "bedrock")))
    events = collect(ENGINE, request)
    assert text_of(events) == "I am the "
    assert stop_of(events).stop_sequence == "built"


def test_stop_sequence_beyond_max_tokens_is_a_length_stop() -> None:
    request = chat("abcdef", params=Params(stop=("abcdef",), max_tokens=2))
    stop = stop_of(collect(ENGINE, request))
    assert (stop.reason, stop.stop_sequence, stop.usage.output_tokens) == ("length", None, 2)


def test_tool_with_empty_schema_gets_empty_arguments() -> None:
    tool = Tool("ping")
    (call,) = calls_of(collect(ENGINE, chat("ping please", tools=[tool], tool_choice="any")))
    assert call.arguments == {}
