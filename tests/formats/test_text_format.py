"""The text-completion dialect: bodies, Bedrock's validation messages, responses and streams."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mistral_bedrock.catalog import Dialect, lookup
from mistral_bedrock.conversation import Completion, Message, Params, Usage
from mistral_bedrock.engines.view import conversation
from mistral_bedrock.errors import MalformedResponseError, ValidationException
from mistral_bedrock.formats import Metrics, TextFormat, dialect_for_body, format_for
from mistral_bedrock.formats.text import messages_from_prompt

SEVEN_B = lookup("mistral-7b")
LARGE = lookup("mistral-large-2402")
FMT = TextFormat()


def message_of(body: object, spec=SEVEN_B) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationException) as info:
        FMT.parse_request(spec, body, stream=False)
    return info.value.message


def test_sends_stop_not_stop_sequences() -> None:
    body = FMT.body_for_prompt("<s>[INST] hi [/INST]", Params(max_tokens=5, stop=("\n\n",)))
    assert body == {"prompt": "<s>[INST] hi [/INST]", "max_tokens": 5, "stop": ["\n\n"]}


def test_build_body_renders_the_conversation() -> None:
    body = FMT.build_body(SEVEN_B, [Message.user("Hello, what's your name?")], Params())
    assert body == {"prompt": "<s>[INST] Hello, what's your name? [/INST]"}


def test_stop_sequences_is_rejected_with_bedrocks_message() -> None:
    assert message_of({"prompt": "x", "stop_sequences": ["a"]}) == (
        "Malformed input request: #: extraneous key [stop_sequences] is not permitted, "
        "please reformat your input and try again."
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "#: required key [prompt] not found"),
        ({"prompt": 3}, "#/prompt: expected type: String, found: Integer"),
        ({"prompt": "x", "temperature": "hot"}, "#/temperature: expected type: Number, found: String"),
        ({"prompt": "x", "temperature": None}, "#/temperature: expected type: Number, found: Null"),
        ({"prompt": "x", "stop": "a"}, "#/stop: expected type: JSONArray, found: String"),
        ({"prompt": "x", "temperature": 1.5}, "#/temperature: 1.5 is not less or equal to 1.0"),
        ({"prompt": "x", "max_tokens": 0}, "#/max_tokens: 0 is not greater or equal to 1"),
        ({"prompt": "x", "max_tokens": 8193}, "#/max_tokens: 8193 is not less or equal to 8192"),
        ({"prompt": "x", "top_k": 201}, "#/top_k: 201 is not less or equal to 200"),
        ({"prompt": "x", "stop": ["a"] * 11}, "#/stop: expected maximum item count: 10, found: 11"),
        ({"prompt": "x", "max_tokens": 1.5}, "#/max_tokens: expected type: Integer, found: BigDecimal"),
    ],
)
def test_schema_messages(body: dict[str, object], expected: str) -> None:
    assert message_of(body) == f"Malformed input request: {expected}, please reformat your input and try again."


def test_limits_come_from_the_catalog() -> None:
    mixtral = lookup("mixtral-8x7b")
    assert "4096" in message_of({"prompt": "x", "max_tokens": 4097}, mixtral)
    FMT.parse_request(mixtral, {"prompt": "x", "max_tokens": 4096}, stream=False)


def test_root_violations_are_listed_nested_ones_counted() -> None:
    assert message_of({"stop_sequences": []}) == (
        "Malformed input request: #: required key [prompt] not found#: extraneous key [stop_sequences] is not "
        "permitted, please reformat your input and try again."
    )
    assert message_of({"prompt": 1, "temperature": "x"}) == (
        "Malformed input request: 2 schema violations found, please reformat your input and try again."
    )


def test_non_json_and_non_object_bodies() -> None:
    assert message_of(b"{not json") == "Malformed input request, please reformat your input and try again."
    assert message_of([1]) == (
        "Malformed input request: #: expected type: JSONObject, found: JSONArray, please reformat your input and "
        "try again."
    )


def test_parse_request_keeps_the_prompt_whose_turns_engines_read() -> None:
    prompt = "<s>[INST] Q1 [/INST] A1</s> [INST] Q2 [/INST]"
    request = FMT.parse_request(SEVEN_B, {"prompt": prompt, "max_tokens": 7, "stop": ["x"]}, stream=True)
    # The prompt is kept as sent; its turns are recovered by with_turns (after the window check), not at parse
    # time, and a request built without them is split the same way for an engine that reads it.
    turns = (Message.user("Q1"), Message.assistant("A1"), Message.user("Q2"))
    assert request.messages == ()
    assert FMT.with_turns(request).messages == turns == conversation(request)
    assert (request.max_tokens, request.stop, request.stream, request.prompt) == (7, ("x",), True, prompt)
    assert FMT.parse_request(SEVEN_B, {"prompt": "x"}, stream=False).max_tokens == 512


def test_response_shape_keeps_stop_reason_inside_outputs() -> None:
    request = FMT.parse_request(SEVEN_B, {"prompt": "x"}, stream=False)
    body = FMT.build_response(request, Completion(" Hi", "stop"), Metrics(10, 5))
    assert body == {"outputs": [{"text": " Hi", "stop_reason": "stop"}]}
    parsed = FMT.parse_response(body, Usage(3, 1))
    assert (parsed.text, parsed.stop_reason, parsed.usage) == (" Hi", "stop", Usage(3, 1))
    with pytest.raises(MalformedResponseError, match="outputs is missing"):
        FMT.parse_response({"stop_reason": "stop"})
    unknown = FMT.parse_response({"outputs": [{"text": "", "stop_reason": "finished"}]})
    assert (unknown.stop_reason, unknown.raw_stop_reason) == ("unknown", "finished")


def test_stream_final_chunk_carries_text_stop_reason_and_metrics() -> None:
    request = FMT.parse_request(SEVEN_B, {"prompt": "x"}, stream=True)
    writer = FMT.stream_writer(request)
    events = writer.text(" Hel") + writer.text("lo") + writer.finish("stop", Usage(4, 2), Metrics(30, 12))
    assert events == [
        ("chunk", {"outputs": [{"text": " Hel", "stop_reason": None}]}),
        (
            "chunk",
            {
                "outputs": [{"text": "lo", "stop_reason": "stop"}],
                "amazon-bedrock-invocationMetrics": {
                    "inputTokenCount": 4,
                    "outputTokenCount": 2,
                    "invocationLatency": 30,
                    "firstByteLatency": 12,
                },
            },
        ),
    ]
    reader = FMT.stream_reader()
    deltas = [d for event in events for d in reader.feed(*event)]
    assert "".join(d.text for d in deltas) == " Hello"
    assert deltas[-1].stop_reason == "stop"
    assert deltas[-1].usage == Usage(4, 2)
    assert reader.feed("unknownEvent", {}) == []


def test_dialect_registry() -> None:
    assert dialect_for_body(SEVEN_B, {"prompt": "x"}) is Dialect.TEXT
    assert dialect_for_body(SEVEN_B, {"messages": []}) is Dialect.TEXT  # 7B only speaks text
    assert dialect_for_body(LARGE, {"prompt": "x"}) is Dialect.TEXT
    assert dialect_for_body(LARGE, {"messages": []}) is Dialect.CHAT
    pixtral = lookup("us.mistral.pixtral-large-2502-v1:0")
    assert dialect_for_body(pixtral, {"messages": []}) is Dialect.CHAT_OPENAI
    assert dialect_for_body(pixtral, "junk") is Dialect.CHAT_OPENAI
    for dialect in Dialect:
        assert format_for(dialect).dialect is dialect


def test_messages_body_sent_to_a_text_model_gets_the_text_schema_message() -> None:
    assert message_of({"messages": [{"role": "user", "content": "hi"}]}) == (
        "Malformed input request: #: required key [prompt] not found#: extraneous key [messages] is not "
        "permitted, please reformat your input and try again."
    )


_TURN_ORACLE = re.compile(r"\[INST\](.*?)\[/INST\]([^\[]*)", re.S)


@given(st.lists(st.sampled_from(["<s>", "</s>", "[INST]", "[/INST]", "[", " a", "b ", "\n", "Q?"]), max_size=14))
def test_turns_are_recovered_as_the_regex_reading_does(parts: list[str]) -> None:
    """The ``str.find`` scan gives exactly the turns the regex reading of a prompt gives."""
    prompt = "".join(parts)
    cleaned = prompt.replace("<s>", "").replace("</s>", "")
    expected: list[Message] = []
    for match in _TURN_ORACLE.finditer(cleaned):
        expected.append(Message.user(match[1].strip()))
        if match[2].strip():
            expected.append(Message.assistant(match[2].strip()))
    if not expected and cleaned.strip():
        expected.append(Message.user(cleaned.strip()))
    assert messages_from_prompt(prompt) == tuple(expected)
