"""Converse: the front end's validation, Mistral's per-model rules, and the stream's event grammar."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mistral_bedrock.catalog import lookup
from mistral_bedrock.conversation import Completion, Message, Params, Tool, ToolCall, Usage
from mistral_bedrock.errors import BedrockError, SerializationException, ValidationException
from mistral_bedrock.formats import ConverseFormat, Metrics

FMT = ConverseFormat()
SEVEN_B = lookup("mistral-7b")
LARGE = lookup("mistral-large-2402")
SMALL = lookup("mistral-small")
TOOLS = {"tools": [{"toolSpec": {"name": "top_song", "inputSchema": {"json": {"type": "object"}}}}]}


def user(text: str = "hi") -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


def error_of(spec, body: object, *, stream: bool = False) -> BedrockError:  # type: ignore[no-untyped-def]
    with pytest.raises(BedrockError) as info:
        FMT.parse_request(spec, body, stream=stream)
    return info.value


@pytest.mark.parametrize(
    ("spec", "body", "stream", "expected"),
    [
        (
            LARGE,
            {"messages": [user()], "inferenceConfig": {"temperature": 1.5}},
            False,
            "1 validation error detected: Value '1.5' at 'inferenceConfig.temperature' failed to satisfy constraint: "
            "Member must have value less than or equal to 1",
        ),
        (
            LARGE,
            {"messages": [user()], "inferenceConfig": {"temperature": 2, "topP": -1}},
            False,
            # Float members print as Java floats: '2.0', '-1.0' (real messages show '32424.0', '99.0').
            "2 validation errors detected: Value '2.0' at 'inferenceConfig.temperature' failed to satisfy constraint: "
            "Member must have value less than or equal to 1; Value '-1.0' at 'inferenceConfig.topP' failed to satisfy "
            "constraint: Member must have value greater than or equal to 0",
        ),
        (
            SEVEN_B,
            {"messages": [user()], "system": [{"text": "s"}]},
            False,
            "This model doesn't support system messages. Try again without a system message or use a model that "
            "supports system messages.",
        ),
        (SEVEN_B, {"messages": [user()], "toolConfig": TOOLS}, False, "This model doesn't support tool use."),
        (
            LARGE,
            {"messages": [user()], "toolConfig": {**TOOLS, "toolChoice": {"tool": {"name": "top_song"}}}},
            False,
            "This model doesn't support the toolConfig.toolChoice.tool field. Remove toolConfig.toolChoice.tool and "
            "try again.",
        ),
        (
            LARGE,
            {"messages": [user()], "toolConfig": TOOLS},
            True,
            "This model doesn't support tool use in streaming mode.",
        ),
        (
            SMALL,
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"document": {"name": "d", "format": "txt", "source": {"bytes": "aGk="}}},
                            {"text": "Summarise it."},
                        ],
                    }
                ]
            },
            False,
            "This model doesn't support documents.",
        ),
        (
            LARGE,
            {"messages": [{"role": "assistant", "content": [{"text": "x"}]}]},
            False,
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        ),
        (
            LARGE,
            {"messages": [user(), user()]},
            False,
            "A conversation must alternate between user and assistant roles. Make sure the conversation alternates "
            "between user and assistant roles and try again.",
        ),
        (
            LARGE,
            {
                "messages": [
                    user(),
                    {
                        "role": "assistant",
                        "content": [{"toolUse": {"toolUseId": "t1", "name": "top_song", "input": {}}}],
                    },
                    {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "r"}]}}]},
                ]
            },
            False,
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        ),
        (
            LARGE,
            {
                "toolConfig": TOOLS,
                "messages": [
                    user(),
                    {
                        "role": "assistant",
                        "content": [{"toolUse": {"toolUseId": "t1", "name": "top_song", "input": {}}}],
                    },
                    {
                        "role": "user",
                        "content": [{"text": "x"}, {"toolResult": {"toolUseId": "t1", "content": [{"text": "r"}]}}],
                    },
                ],
            },
            False,
            "messages.2.content: Conversation blocks and tool result blocks cannot be provided in the same turn.",
        ),
        (
            LARGE,
            {
                "toolConfig": TOOLS,
                "messages": [
                    user(),
                    {
                        "role": "assistant",
                        "content": [{"toolUse": {"toolUseId": "t1", "name": "top_song", "input": {}}}],
                    },
                    user("next"),
                ],
            },
            False,
            "Expected toolResult blocks at messages.2.content for the following Ids: t1",
        ),
        (
            LARGE,
            {"messages": [user()], "inferenceConfig": {"maxTokens": 9000}},
            False,
            "The maximum tokens you requested exceeds the model limit of 8192. Try again with a maximum tokens value "
            "that is lower than 8192.",
        ),
        (
            LARGE,
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"text": "a", "image": {"format": "png", "source": {"bytes": "aGk="}}}],
                    }
                ]
            },
            False,
            "1 validation error detected: Value at 'messages.1.member.content.1.member' failed to satisfy constraint: "
            "Member must have one and only one member set",
        ),
        (
            LARGE,
            {
                "messages": [user()],
                "toolConfig": {"tools": [{"toolSpec": {"name": "bad name", "inputSchema": {"json": {}}}}]},
            },
            False,
            "1 validation error detected: Value 'bad name' at 'toolConfig.tools.1.member.toolSpec.name' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+",
        ),
        (
            LARGE,
            {
                "messages": [user()],
                "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": "x"}}}]},
            },
            False,
            "The format of the value at toolConfig.tools.0.toolSpec.inputSchema.json is invalid. Provide a json object "
            "for the field and try again.",
        ),
        (
            SEVEN_B,
            {"messages": [user()], "additionalModelRequestFields": {"foo": 1}},
            False,
            "Malformed input request: #: extraneous key [foo] is not permitted, please reformat your input and try again.",
        ),
    ],
)
def test_rules(spec, body: dict[str, Any], stream: bool, expected: str) -> None:  # type: ignore[no-untyped-def]
    error = error_of(spec, body, stream=stream)
    assert isinstance(error, ValidationException)
    assert error.message == expected


def test_wrong_types_are_serialization_errors() -> None:
    assert isinstance(error_of(LARGE, b"{"), SerializationException)
    assert isinstance(error_of(LARGE, {"messages": {"role": "user"}}), SerializationException)
    assert isinstance(
        error_of(LARGE, {"messages": [user()], "inferenceConfig": {"maxTokens": "9"}}), SerializationException
    )


def test_request_to_neutral_terms() -> None:
    doc = base64.b64encode(b"# Notes\nhello").decode()
    body = {
        "system": [{"text": "be brief"}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "Summarise"},
                    {"document": {"name": "n", "format": "md", "source": {"bytes": doc}}},
                ],
            },
        ],
        "inferenceConfig": {"maxTokens": 10, "temperature": 0.5, "topP": 0.9, "stopSequences": ["\n\n"]},
        "additionalModelRequestFields": {},
    }
    request = FMT.parse_request(LARGE, body, stream=True)
    assert request.messages[0] == Message.system("be brief")
    assert "# Notes\nhello" in request.messages[1].content
    assert request.params == Params(max_tokens=10, temperature=0.5, top_p=0.9, top_k=None, stop=("\n\n",))
    top_k = FMT.parse_request(
        SEVEN_B, {"messages": [user()], "additionalModelRequestFields": {"top_k": 50}}, stream=False
    )
    assert top_k.params.top_k == 50


def test_client_side_rules_are_applied_when_building() -> None:
    history = [
        Message.system("Be brief."),
        Message.user("Song on WZPZ?"),
        Message.assistant("Let me check.", [ToolCall("3NcHNntdRyaHu8zisKJAhQ", "top_song", {"sign": "WZPZ"})]),
        Message.tool("3NcHNntdRyaHu8zisKJAhQ", "Elemental Hotel"),
    ]
    tool = Tool("top_song", "", {"type": "object"})
    body = FMT.build_body(LARGE, history, Params(max_tokens=5, top_k=3), [tool], "auto")
    assert body["system"] == [{"text": "Be brief."}]
    assert body["messages"][1]["content"] == [
        {"toolUse": {"toolUseId": "3NcHNntdRyaHu8zisKJAhQ", "name": "top_song", "input": {"sign": "WZPZ"}}}
    ]
    assert body["messages"][2]["content"] == [
        {
            "toolResult": {
                "toolUseId": "3NcHNntdRyaHu8zisKJAhQ",
                "content": [{"json": {"content": "Elemental Hotel"}}],
                "status": "success",
            }
        }
    ]
    assert body["toolConfig"]["toolChoice"] == {"auto": {}}
    assert body["additionalModelRequestFields"] == {"top_k": 3}
    FMT.parse_request(LARGE, body, stream=False)  # what the client builds, the runtime accepts
    folded = FMT.build_body(SEVEN_B, [Message.system("S"), Message.user("Q")], Params())
    assert folded == {"messages": [{"role": "user", "content": [{"text": "S\n\nQ"}]}]}
    with pytest.raises(ValidationException, match="tool_choice 'none'"):
        FMT.build_body(LARGE, history, Params(), [tool], "none")


def test_response_maps_stop_reasons() -> None:
    request = FMT.parse_request(LARGE, {"messages": [user()], "toolConfig": TOOLS}, stream=False)
    cases = [
        (Completion("a", "stop"), "end_turn"),
        (Completion("a", "stop", stop_sequence="\n"), "stop_sequence"),
        (Completion("a", "length"), "max_tokens"),
        (Completion("", "tool_calls", (ToolCall("", "top_song", {"sign": "X"}),)), "tool_use"),
    ]
    for completion, expected in cases:
        body = FMT.build_response(request, completion, Metrics(11, 4))
        assert body["stopReason"] == expected
        assert set(body) == {"output", "stopReason", "usage", "metrics"}
        parsed = FMT.parse_response(body)
        assert parsed.stop_reason == completion.stop_reason
    tool_body = FMT.build_response(request, cases[-1][0], Metrics(1, 1))
    tool_id = tool_body["output"]["message"]["content"][0]["toolUse"]["toolUseId"]
    assert tool_id.startswith("tooluse_") and len(tool_id) == 30


def test_stream_grammar_and_reader() -> None:
    request = FMT.parse_request(LARGE, {"messages": [user()]}, stream=True)
    writer = FMT.stream_writer(request)
    events = (
        writer.text("Hel")
        + writer.text("lo")
        + writer.tool_calls([ToolCall("", "top_song", {"sign": "WZPZ"})])
        + writer.finish("tool_calls", Usage(10, 5), Metrics(40, 8))
    )
    assert [name for name, _ in events] == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    for name, payload in events:  # union members: exactly one set
        for key in ("start", "delta"):
            if key in payload:
                assert len(payload[key]) == 1, (name, payload)
    assert events[-2][1] == {"stopReason": "tool_use"}
    assert events[-1][1] == {
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 40},
    }
    reader = FMT.stream_reader()
    deltas = [d for e in events for d in reader.feed(*e)]
    assert "".join(d.text for d in deltas) == "Hello"
    calls = [c for d in deltas for c in d.tool_calls]
    assert [c.arguments for c in calls] == [{"sign": "WZPZ"}]
    assert calls[0].id.startswith("tooluse_")
    assert [d.stop_reason for d in deltas if d.stop_reason] == ["tool_calls"]
    assert [d.usage for d in deltas if d.usage] == [Usage(10, 5)]


def test_empty_answer_still_has_the_full_envelope() -> None:
    request = FMT.parse_request(LARGE, {"messages": [user()]}, stream=True)
    events = FMT.stream_writer(request).finish("length", Usage(1, 0), Metrics(1, 1))
    assert [name for name, _ in events] == ["messageStart", "messageStop", "metadata"]
