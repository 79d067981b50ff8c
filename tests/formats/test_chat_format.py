"""Mistral's chat dialect and the OpenAI-style chat dialect of the newer models."""

from __future__ import annotations

import json

import pytest

from mistral_bedrock.catalog import lookup
from mistral_bedrock.conversation import Completion, Message, Params, Tool, ToolCall, Usage
from mistral_bedrock.errors import ModelErrorException, ValidationException
from mistral_bedrock.formats import ChatFormat, ChatOpenAIFormat, Metrics

LARGE = lookup("mistral-large-2407")
PIXTRAL = lookup("us.mistral.pixtral-large-2502-v1:0")
CHAT = ChatFormat()
OPENAI = ChatOpenAIFormat()
TOP_SONG = Tool(
    "top_song",
    "Get the most popular song played on a radio station.",
    {"type": "object", "properties": {"sign": {"type": "string"}}, "required": ["sign"]},
)
HISTORY = [
    Message.system("Be brief."),
    Message.user("What is the most popular song on WZPZ?"),
    Message.assistant("", [ToolCall("v6RMMiRlT7ygYkT4uULjtg", "top_song", {"sign": "WZPZ"})]),
    Message.tool("v6RMMiRlT7ygYkT4uULjtg", '{"song": "Elemental Hotel", "artist": "8 Storey Hike"}'),
]


def test_chat_body_matches_the_aws_reference_shape() -> None:
    body = CHAT.build_body(LARGE, HISTORY, Params(max_tokens=100, temperature=0.2), [TOP_SONG], "none")
    assert body["tool_choice"] == "none"
    assert body["messages"][2] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": "v6RMMiRlT7ygYkT4uULjtg", "function": {"name": "top_song", "arguments": '{"sign": "WZPZ"}'}}
        ],
    }
    assert body["messages"][3]["tool_call_id"] == "v6RMMiRlT7ygYkT4uULjtg"
    assert body["tools"][0]["type"] == "function"
    assert "stop" not in body
    request = CHAT.parse_request(LARGE, json.loads(json.dumps(body)), stream=False)
    assert request.messages == tuple(HISTORY)
    assert request.tools == (TOP_SONG,)
    assert (request.tool_choice, request.params.max_tokens) == ("none", 100)


def reject(fmt, spec, body: object) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationException) as info:
        fmt.parse_request(spec, body, stream=False)
    return info.value.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"messages": [{"role": "user", "content": "hi"}], "stop": ["x"]},
            "The model returned the following errors: Validation Error",
        ),
        (
            {"messages": [{"role": "user", "content": "hi"}], "tool_choice": "required"},
            "Malformed input request: #/tool_choice: required is not a valid enum value, please reformat your input and try again.",
        ),
        (
            {"messages": [{"role": "robot", "content": "hi"}]},
            "Malformed input request: #/messages/0/role: robot is not a valid enum value, please reformat your input and try again.",
        ),
        (
            {"messages": [{"role": "assistant", "content": "hi"}]},
            "The model returned the following errors: Validation Error",
        ),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "tool", "tool_call_id": "nope", "content": "r"}]},
            "The model returned the following errors: Validation Error",
        ),
        (
            {"prompt": "x", "messages": []},
            "Malformed input request: #: extraneous key [prompt] is not permitted, please reformat your input and try again.",
        ),
    ],
)
def test_chat_validation(body: dict[str, object], expected: str) -> None:
    assert reject(CHAT, LARGE, body) == expected


def test_chat_response_and_stream_use_stop_reason_and_message() -> None:
    request = CHAT.parse_request(LARGE, {"messages": [{"role": "user", "content": "q"}]}, stream=True)
    call = ToolCall("", "top_song", {"sign": "WZPZ"})
    body = CHAT.build_response(request, Completion("", "tool_calls", (call,)), Metrics(5, 5))
    wire_call = body["choices"][0]["message"]["tool_calls"][0]
    assert len(wire_call["id"]) == 22 and "type" not in wire_call
    assert body["choices"][0]["stop_reason"] == "tool_calls" and "finish_reason" not in body["choices"][0]
    parsed = CHAT.parse_response(body)
    assert parsed.tool_calls[0].arguments == {"sign": "WZPZ"}
    assert parsed.stop_reason == "tool_calls"

    writer = CHAT.stream_writer(request)
    events = writer.text("Hello") + writer.tool_calls([call]) + writer.finish("tool_calls", Usage(9, 4), Metrics(7, 3))
    assert events[0] == (
        "chunk",
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "stop_reason": None}]},
    )
    final = events[-1][1]
    assert final["choices"][0]["stop_reason"] == "tool_calls"
    assert final["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 4
    reader = CHAT.stream_reader()
    deltas = [d for e in events for d in reader.feed(*e)]
    assert [d.text for d in deltas] == ["Hello", ""]
    assert deltas[-1].tool_calls[0].name == "top_song"
    assert deltas[-1].usage == Usage(9, 4)


def test_bad_tool_arguments_are_a_model_error() -> None:
    with pytest.raises(ModelErrorException, match="not valid JSON"):
        CHAT.parse_response(
            {
                "choices": [
                    {
                        "message": {"tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{"}}]},
                        "stop_reason": "tool_calls",
                    }
                ]
            }
        )


def test_openai_dialect_round_trip() -> None:
    body = OPENAI.build_body(PIXTRAL, HISTORY, Params(max_tokens=50, stop=("END",)), [TOP_SONG], "any")
    assert body["stop"] == ["END"]
    assert body["messages"][2]["tool_calls"][0]["type"] == "function"
    request = OPENAI.parse_request(PIXTRAL, body, stream=False)
    assert request.tool_choice == "any"
    # Pixtral takes only 9-alphanumeric ids: the 22-character one goes out rewritten, call and result alike.
    (sent,) = request.messages[2].tool_calls
    assert len(sent.id) == 9 and sent.id.isalnum()
    assert request.messages == (
        *HISTORY[:2],
        Message.assistant("", [ToolCall(sent.id, "top_song", {"sign": "WZPZ"})]),
        Message.tool(sent.id, HISTORY[3].content),
    )
    completion = Completion("Hi!", "stop", usage=Usage(13, 2))
    response = OPENAI.build_response(request, completion, Metrics(20, 10))
    assert response["object"] == "chat.completion"
    assert response["choices"][0]["finish_reason"] == "stop"
    assert response["usage"] == {"prompt_tokens": 13, "completion_tokens": 2, "total_tokens": 15}
    parsed = OPENAI.parse_response(response)
    assert (parsed.text, parsed.stop_reason, parsed.usage) == ("Hi!", "stop", Usage(13, 2))


def test_openai_content_parts_and_stream() -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
                ],
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "top_song"}},
        "tools": [{"type": "function", "function": {"name": "top_song", "parameters": {"type": "object"}}}],
    }
    request = OPENAI.parse_request(PIXTRAL, body, stream=True)
    assert request.messages[0].content == "What is this?[image_url]"
    assert (request.tool_choice, request.forced_tool) == ("any", "top_song")
    bad = {"messages": [{"role": "user", "content": [{"type": "video"}]}]}
    assert "video is not a valid enum value" in reject(OPENAI, PIXTRAL, bad)

    writer = OPENAI.stream_writer(request)
    call = ToolCall("", "top_song", {"sign": "WZPZ"})
    events = writer.text("a") + writer.tool_calls([call]) + writer.finish("tool_calls", Usage(5, 6), Metrics(9, 2))
    assert events[0][1]["choices"][0]["delta"] == {"role": "assistant", "content": "a"}
    reader = OPENAI.stream_reader()
    deltas = [d for e in events for d in reader.feed(*e)]
    assert deltas[-1].stop_reason == "tool_calls"
    assert deltas[-1].tool_calls[0].arguments == {"sign": "WZPZ"}
    assert len(deltas[-1].tool_calls[0].id) == 9 and deltas[-1].tool_calls[0].id.isalnum()
