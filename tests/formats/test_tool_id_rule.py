"""Tool-call ids per model: which models take only 9 alphanumerics, their refusal, and the client's rewrite."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mistral_bedrock.catalog import Dialect, ModelSpec, all_models
from mistral_bedrock.conversation import Message, Params, Tool, ToolCall
from mistral_bedrock.errors import ValidationException
from mistral_bedrock.formats import ChatFormat, ChatOpenAIFormat, ConverseFormat
from mistral_bedrock.formats.tool_id_rules import (
    TOOL_CALL_ID_REFUSED,
    check_tool_call_ids,
    requires_alnum9_tool_ids,
    wire_tool_call_ids,
)
from mistral_bedrock.prompt import is_mistral_tool_call_id

TOOLUSE = "tooluse_Ha-S_2c3TTeRv5Hb2xWwtg"  # Converse's own shape
CHAT_22 = "3NcHNntdRyaHu8zisKJAhQ"  # the legacy chat dialect's own shape
SONG = Tool("top_song", "Get the most popular song.", {"type": "object", "properties": {"sign": {"type": "string"}}})


def spec(model_id: str) -> ModelSpec:
    return next(s for s in all_models() if s.model_id == model_id)


MINISTRAL = spec("mistral.ministral-3-8b-instruct")
LARGE_2407 = spec("mistral.mistral-large-2407-v1:0")


def history(*ids: str) -> list[Message]:
    """A user turn, one assistant turn calling ``top_song`` once per id, and a result for each."""
    calls = tuple(ToolCall(i, "top_song", {"sign": f"W{n}"}) for n, i in enumerate(ids))
    return [
        Message.user("Songs?"),
        Message.assistant("", calls),
        *(Message.tool(i, json.dumps({"song": f"s{n}"}), name="top_song") for n, i in enumerate(ids)),
    ]


def wire_ids(body: Any) -> list[str]:
    """Every id in a chat or Converse body, in order: calls first within a turn, then results."""
    found: list[str] = []
    for message in body["messages"]:
        found += [c["id"] for c in message.get("tool_calls") or ()]
        if message.get("tool_call_id") is not None:
            found.append(message["tool_call_id"])
        for block in message.get("content") if isinstance(message.get("content"), list) else ():
            for key in ("toolUse", "toolResult"):
                if key in block:
                    found.append(block[key]["toolUseId"])
    return found


def test_the_rule_is_the_openai_style_dialect() -> None:
    # Bedrock hands those models' ids to their own validator; the legacy chat dialect maps its own 22-character
    # ids, so Large 24.07 takes them although its v3 tokenizer has the same rule.
    for model in all_models():
        assert requires_alnum9_tool_ids(model) is (Dialect.CHAT_OPENAI in model.dialects), model.model_id
    assert requires_alnum9_tool_ids(MINISTRAL)
    assert not requires_alnum9_tool_ids(LARGE_2407)


def test_check_names_the_first_bad_id_in_message_order() -> None:
    check_tool_call_ids(MINISTRAL, history("abcDEF123", "XYZ987abc"))
    check_tool_call_ids(LARGE_2407, history(CHAT_22, TOOLUSE))
    with pytest.raises(ValidationException) as info:
        check_tool_call_ids(MINISTRAL, history("abcDEF123", TOOLUSE, "call_1"))
    assert info.value.message == (
        f"The model returned the following errors: Tool call id was {TOOLUSE} but must be a-z, A-Z, 0-9, "
        "with a length of 9."
    )
    assert info.value.status == 400
    # A result's id is checked too (the model checks each message in turn, calls before their results).
    answered = [*history("abcDEF123")[:2], Message.tool("short", "{}")]
    with pytest.raises(ValidationException, match="Tool call id was short but"):
        check_tool_call_ids(MINISTRAL, answered)


def test_wire_ids_rewrite_consistently_and_leave_the_caller_alone() -> None:
    given = history(TOOLUSE, CHAT_22, "abcDEF123", "call_1")
    before = list(given)
    sent = wire_tool_call_ids(MINISTRAL, given)
    assert given == before
    calls = [c.id for c in sent[1].tool_calls]
    results = [m.tool_call_id for m in sent[2:]]
    assert calls == results
    assert all(is_mistral_tool_call_id(i) for i in calls)
    assert len(set(calls)) == 4
    assert calls[2] == "abcDEF123"  # valid ids are kept
    assert wire_tool_call_ids(MINISTRAL, given) == sent  # deterministic
    assert wire_tool_call_ids(LARGE_2407, given) == given  # Bedrock maps ids itself there


@pytest.mark.parametrize("fmt", [ChatOpenAIFormat(), ConverseFormat()])
def test_built_bodies_carry_ids_the_model_takes(fmt: ChatOpenAIFormat | ConverseFormat) -> None:
    given = [*history(TOOLUSE, "call_1"), Message.assistant("Two songs."), Message.user("Thanks")]
    body = fmt.build_body(MINISTRAL, given, Params(), [SONG])
    ids = wire_ids(body)
    assert len(ids) == 4
    assert all(is_mistral_tool_call_id(i) for i in ids)
    assert ids[0] != ids[1]
    parsed = fmt.parse_request(MINISTRAL, body, stream=False)
    assert [m.role for m in parsed.messages] == ["user", "assistant", "tool", "tool", "assistant", "user"]
    assert given[1].tool_calls[0].id == TOOLUSE


def test_native_bodies_are_refused_as_the_model_does() -> None:
    raw: dict[str, Any] = {
        "messages": [
            {"role": "user", "content": "Song on WZPZ?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": CHAT_22, "function": {"name": "top_song", "arguments": '{"sign": "WZPZ"}'}}],
            },
            {"role": "tool", "tool_call_id": CHAT_22, "content": '{"song": "x"}'},
        ]
    }
    with pytest.raises(ValidationException) as info:
        ChatOpenAIFormat().parse_request(MINISTRAL, raw, stream=False)
    assert info.value.message == TOOL_CALL_ID_REFUSED.format(id=CHAT_22)
    ChatFormat().parse_request(LARGE_2407, raw, stream=False)  # the legacy dialect takes its own ids back


def test_converse_bodies_are_refused_after_the_front_end_checks() -> None:
    use = {"toolUse": {"toolUseId": TOOLUSE, "name": "top_song", "input": {"sign": "WZPZ"}}}
    result = {"toolResult": {"toolUseId": TOOLUSE, "content": [{"json": {"song": "x"}}]}}
    body: dict[str, Any] = {
        "messages": [
            {"role": "user", "content": [{"text": "Song on WZPZ?"}]},
            {"role": "assistant", "content": [use]},
            {"role": "user", "content": [result]},
        ],
        "toolConfig": {"tools": [{"toolSpec": {"name": "top_song", "inputSchema": {"json": {"type": "object"}}}}]},
    }
    with pytest.raises(ValidationException) as info:
        ConverseFormat().parse_request(MINISTRAL, body, stream=False)
    assert info.value.message == TOOL_CALL_ID_REFUSED.format(id=TOOLUSE)
    ConverseFormat().parse_request(LARGE_2407, body, stream=False)
    # A front-end violation is reported first: the request never reaches the model.
    del body["toolConfig"]
    with pytest.raises(ValidationException, match="toolConfig field must be defined"):
        ConverseFormat().parse_request(MINISTRAL, body, stream=False)
