"""Tool-call ids: deterministic 9-alphanumeric ids for v3+, consistent between calls and results."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mistral_bedrock.catalog import ModelSpec, lookup
from mistral_bedrock.conversation import Message, ToolCall
from mistral_bedrock.prompt import (
    is_mistral_tool_call_id,
    mistral_tool_call_id,
    new_tool_call_id,
    normalize_tool_call_ids,
    render,
)
from tests.prompt.prompt_cases import CALL_ID, WEATHER, tool_conversation

VALID = re.compile(r"[a-zA-Z0-9]{9}")
_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _spec(name: str) -> ModelSpec:
    return lookup(name)


def test_mistral_tool_call_id_is_deterministic_and_valid() -> None:
    first = mistral_tool_call_id(CALL_ID, set())
    assert VALID.fullmatch(first)
    assert mistral_tool_call_id(CALL_ID, set()) == first
    assert mistral_tool_call_id(CALL_ID, {"unrelated"}) == first
    assert mistral_tool_call_id("tooluse_" + CALL_ID, set()) != first


def test_mistral_tool_call_id_avoids_taken_ids() -> None:
    first = mistral_tool_call_id(CALL_ID, set())
    second = mistral_tool_call_id(CALL_ID, {first})
    assert second != first
    assert VALID.fullmatch(second)
    assert mistral_tool_call_id(CALL_ID, {first}) == second
    third = mistral_tool_call_id(CALL_ID, {first, second})
    assert third not in {first, second}


def test_new_tool_call_id() -> None:
    ids = {new_tool_call_id() for _ in range(50)}
    assert all(VALID.fullmatch(value) for value in ids)
    assert len(ids) == 50


def test_is_mistral_tool_call_id() -> None:
    assert is_mistral_tool_call_id("abcDEF123")
    assert not is_mistral_tool_call_id("abcDEF12")
    assert not is_mistral_tool_call_id("abcDEF12_")
    assert not is_mistral_tool_call_id(CALL_ID)


def _conversation(ids: list[str]) -> list[Message]:
    """One assistant turn per group of ids, each call answered by a tool result."""
    messages = [Message.user("go")]
    for start in range(0, len(ids), 2):
        group = ids[start : start + 2]
        messages.append(Message.assistant(tool_calls=[ToolCall(value, "f", {"i": i}) for i, value in enumerate(group)]))
        messages.extend(Message.tool(value, f"result {value}") for value in group)
    return messages


_BEDROCK_ID = st.text(alphabet=_B64URL, min_size=22, max_size=22)
_CONVERSE_ID = _BEDROCK_ID.map(lambda value: f"tooluse_{value}")
_VALID_ID = st.text(alphabet=_B64URL[:62], min_size=9, max_size=9)
_ANY_ID = st.text(min_size=1, max_size=30)
_IDS = st.lists(st.one_of(_BEDROCK_ID, _CONVERSE_ID, _VALID_ID, _ANY_ID), min_size=1, max_size=12, unique=True)


@settings(max_examples=200, deadline=None)
@given(ids=_IDS)
def test_normalize_is_valid_collision_free_consistent_and_deterministic(ids: list[str]) -> None:
    spec = _spec("mistral-large-2407")
    messages = _conversation(ids)
    normalized, mapping = normalize_tool_call_ids(messages, spec)

    final = {value: mapping.get(value, value) for value in ids}
    assert all(VALID.fullmatch(value) for value in final.values())
    assert len(set(final.values())) == len(ids)  # no two calls share an id
    for value in ids:  # valid ids are kept, others rewritten
        assert (value in mapping) is (not VALID.fullmatch(value))

    # Calls and results stay paired.
    calls = [call.id for message in normalized for call in message.tool_calls]
    results = [message.tool_call_id for message in normalized if message.role == "tool"]
    assert calls == [final[value] for value in ids]
    assert results == calls

    # Deterministic, and idempotent.
    assert normalize_tool_call_ids(messages, spec) == (normalized, mapping)
    assert normalize_tool_call_ids(normalized, spec) == (normalized, {})
    # Everything else is untouched.
    assert [m.content for m in normalized] == [m.content for m in messages]


def test_ids_sharing_their_first_characters_do_not_collide() -> None:
    """A naive "first 9 alphanumerics" remapping gives these the same id (vercel/ai#11802)."""
    ids = ["tooluse_abcdefghiJKLMNOPQRSTUV", "tooluse_abcdefghiZZZZZZZZZZZZZ", "abcdefghi"]
    _, mapping = normalize_tool_call_ids(_conversation(ids), _spec("mistral-large-2407"))
    assert set(mapping) == set(ids[:2])
    assert len({*mapping.values(), "abcdefghi"}) == 3


def test_hash_collision_with_a_valid_id_later_in_the_conversation() -> None:
    """An id already valid anywhere in the conversation is reserved before anything is rewritten."""
    taken_later = mistral_tool_call_id(CALL_ID, set())
    ids = [CALL_ID, taken_later]
    _, mapping = normalize_tool_call_ids(_conversation(ids), _spec("mistral-large-2407"))
    assert mapping[CALL_ID] != taken_later
    assert mapping == {CALL_ID: mistral_tool_call_id(CALL_ID, {taken_later})}


@pytest.mark.parametrize("model", ["mistral-7b", "mistral-small", "mistral-large-2402"])
def test_v1_and_v2_have_no_id_rule(model: str) -> None:
    messages = tool_conversation()
    normalized, mapping = normalize_tool_call_ids(messages, _spec(model))
    assert normalized == messages
    assert mapping == {}


def test_v2_renders_no_ids_at_all() -> None:
    text = render(tool_conversation(follow_up=False), _spec("mistral-small"), [WEATHER]).text
    assert CALL_ID not in text
    assert '"id"' not in text
    assert "call_id" not in text


@pytest.mark.parametrize("model", ["mistral-large-2407", "pixtral-large", "mistral-large", "ministral-8b"])
def test_render_normalizes_bedrock_and_converse_ids(model: str) -> None:
    spec = _spec(model)
    for original in (CALL_ID, "tooluse_" + CALL_ID):
        messages = tool_conversation(original, follow_up=False)
        _, mapping = normalize_tool_call_ids(messages, spec)
        text = render(messages, spec, [WEATHER]).text
        assert original not in text
        assert text.count(mapping[original]) == 2  # in the call and in its result
