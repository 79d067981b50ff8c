"""render() is exactly mistral-common's encode_chat_completion, for every model of the catalog."""

from __future__ import annotations

import re
from typing import Any

import pytest
from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy

from mistral_bedrock.catalog import ModelSpec, lookup
from mistral_bedrock.conversation import Message, ToolCall
from mistral_bedrock.errors import ValidationException
from mistral_bedrock.prompt import (
    Rendered,
    count_tokens,
    decode_prompt,
    normalize_tool_call_ids,
    render,
    tokenizer_info,
)
from tests.prompt.prompt_cases import (
    CALL_ID,
    MULTI,
    MULTI_MC,
    SINGLE,
    SINGLE_MC,
    TOOLS_MC,
    WEATHER,
    mistral_tokenizer,
    mistral_tokens,
    tool_conversation,
    tool_conversation_mc,
)


def _expected_call_id(spec: ModelSpec) -> str:
    _, mapping = normalize_tool_call_ids(tool_conversation(), spec)
    return mapping.get(CALL_ID, CALL_ID)


def test_single_user_turn(spec: ModelSpec) -> None:
    rendered = render(SINGLE, spec)
    assert rendered.token_ids == mistral_tokens(spec.tokenizer, SINGLE_MC)
    assert rendered.token_ids[0] == 1
    assert rendered.count == len(rendered.token_ids)


def test_system_prompt_and_several_turns(spec: ModelSpec) -> None:
    rendered = render(MULTI, spec)
    assert rendered.token_ids == mistral_tokens(spec.tokenizer, MULTI_MC)
    assert rendered.token_ids.count(1) == 1  # BOS once
    assert rendered.token_ids.count(2) == 2  # </s> after each answer


@pytest.mark.parametrize("follow_up", [True, False], ids=["follow-up", "ends-with-result"])
def test_tools_call_result_and_follow_up(spec: ModelSpec, follow_up: bool) -> None:
    conversation = tool_conversation(follow_up=follow_up)
    if not tokenizer_info(spec).supports_tools:
        with pytest.raises(ValidationException, match="no tool support"):
            render(conversation, spec, [WEATHER])
        return
    call_id = _expected_call_id(spec)
    expected = mistral_tokens(spec.tokenizer, tool_conversation_mc(call_id, follow_up=follow_up), TOOLS_MC)
    rendered = render(conversation, spec, [WEATHER])
    assert rendered.token_ids == expected
    assert CALL_ID not in rendered.text
    if tokenizer_info(spec).short_tool_ids:
        assert re.fullmatch(r"[a-zA-Z0-9]{9}", call_id)
        if not follow_up or spec.tokenizer != "v2":
            assert call_id in rendered.text


def test_text_is_the_prompt_for_the_ids(spec: ModelSpec) -> None:
    rendered = render(MULTI, spec)
    assert rendered.text == decode_prompt(rendered.token_ids, spec)


def _runs(token_ids: tuple[int, ...], control_ids: frozenset[int]) -> int:
    runs, inside = 0, False
    for token in token_ids:
        if token in control_ids:
            inside = False
        elif not inside:
            runs, inside = runs + 1, True
    return runs


@pytest.mark.parametrize("build", ["single", "multi", "tools"])
def test_text_against_mistral_commons_own_rendering(spec: ModelSpec, build: str) -> None:
    """mistral-common spells SentencePiece pieces (``▁``, ``<0x0A>``); its text, decoded, is ours plus the
    dummy-prefix space at the start of each run of text. Tekken's text is ours exactly."""
    info = tokenizer_info(spec)
    if build == "tools" and not info.supports_tools:
        pytest.skip("no tools for v1")
    conversation, tools = {
        "single": (SINGLE, None),
        "multi": (MULTI, None),
        "tools": (tool_conversation(), [WEATHER]),
    }[build]
    rendered = render(conversation, spec, tools)
    theirs: str = mistral_tokenizer(spec.tokenizer).decode(
        list(rendered.token_ids),
        special_token_policy=SpecialTokenPolicy.KEEP,  # type: ignore[arg-type]  # an enum member mypy reads as auto()
    )
    if not info.sentencepiece:
        assert theirs == rendered.text
        return
    visible = theirs.replace("▁", " ").replace("<0x0A>", "\n")
    assert visible.replace(" ", "") == rendered.text.replace(" ", "")
    assert len(visible) - len(rendered.text) == _runs(rendered.token_ids, info.control_ids)


def test_v1_system_prompt_goes_into_the_first_user_turn() -> None:
    spec = lookup("mistral-7b")
    assert render(MULTI, spec).text == (
        "<s>[INST] You are a terse assistant.\n\nWhat is the capital of France? [/INST] Paris.</s>"
        "[INST] And of Italy? [/INST] Rome.</s>[INST] Thanks!\nOne more: Spain? [/INST]"
    )


def test_v2_v3_system_prompt_goes_into_the_last_user_turn() -> None:
    for name in ("mistral-small", "mistral-large-2402", "mistral-large-2407"):
        text = render(MULTI, lookup(name)).text
        assert text.endswith("[INST]You are a terse assistant.\n\nThanks!\nOne more: Spain?[/INST]")
        assert text.startswith("<s>[INST]What is the capital of France?[/INST]Paris.</s>")


def test_v7_system_prompt_has_its_own_tokens() -> None:
    spec = lookup("pixtral-large")
    assert render(MULTI, spec).text.startswith(
        "<s>[SYSTEM_PROMPT]You are a terse assistant.[/SYSTEM_PROMPT][INST]What is the capital of France?[/INST]"
    )


def test_consecutive_user_turns_are_merged_as_mistral_common_does(spec: ModelSpec) -> None:
    from mistral_common.protocol.instruct.messages import UserMessage

    messages = [Message.user("first"), Message.user("second")]
    expected = mistral_tokens(spec.tokenizer, [UserMessage(content="first"), UserMessage(content="second")])
    assert render(messages, spec).token_ids == expected


def test_continue_final_renders_the_partial_answer_without_eos(spec: ModelSpec) -> None:
    from mistral_common.protocol.instruct.messages import AssistantMessage, UserMessage

    messages = [Message.user("Count to three."), Message.assistant("One, two,")]
    expected = mistral_tokens(
        spec.tokenizer, [UserMessage(content="Count to three."), AssistantMessage(content="One, two,", prefix=True)]
    )
    rendered = render(messages, spec, continue_final=True)
    assert rendered.token_ids == expected
    assert rendered.token_ids[-1] != 2


def test_count_tokens(spec: ModelSpec) -> None:
    assert count_tokens("Hello, what's your name?", spec) == render(SINGLE, spec).count
    assert count_tokens(MULTI, spec) == render(MULTI, spec).count


def test_rendered_is_frozen() -> None:
    rendered = Rendered("<s>", (1,))
    with pytest.raises(AttributeError):
        rendered.text = "x"  # type: ignore[misc]


# --- conversations that cannot be rendered -----------------------------------------------------------------

_TEXT_MODELS = ["mistral-7b", "mistral-small", "mistral-large-2407", "pixtral-large", "mistral-large"]


def _spec(name: str) -> ModelSpec:
    return lookup(name)


BAD: dict[str, tuple[list[Message], str]] = {
    "empty": ([], "empty"),
    "ends-with-assistant": ([Message.user("a"), Message.assistant("b")], "ends with an assistant turn"),
    "starts-with-assistant": ([Message.assistant("b"), Message.user("a")], "must start with a user turn"),
    "system-only": ([Message.system("x")], "must start with a user turn"),
    "empty-assistant": ([Message.user("a"), Message("assistant"), Message.user("c")], "neither content nor"),
}


@pytest.mark.parametrize("model", _TEXT_MODELS)
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_conversations_raise_validation_exception(model: str, case: str) -> None:
    messages, message = BAD[case]
    with pytest.raises(ValidationException, match=message):
        render(messages, _spec(model))


@pytest.mark.parametrize("model", _TEXT_MODELS[1:])
def test_tool_result_without_a_preceding_call(model: str) -> None:
    with pytest.raises(ValidationException, match="does not follow an assistant turn with tool calls"):
        render([Message.user("a"), Message.tool(CALL_ID, "1")], _spec(model))
    call = ToolCall(CALL_ID, "get_weather", {})
    messages = [Message.user("a"), Message.assistant(tool_calls=[call]), Message.tool("otherid12", "1")]
    with pytest.raises(ValidationException, match="which the assistant turn before it did not make"):
        render(messages, _spec(model))
    no_id = [Message.user("a"), Message.assistant(tool_calls=[call]), Message("tool", "1")]
    with pytest.raises(ValidationException, match="has no tool_call_id"):
        render(no_id, _spec(model))


def test_tools_on_a_v1_model_are_rejected_not_dropped() -> None:
    with pytest.raises(ValidationException, match=r"mistral\.mistral-7b-instruct-v0:2 \(tokenizer v1\) has no tool"):
        render(SINGLE, _spec("mistral-7b"), [WEATHER])


def test_continue_final_needs_a_final_assistant_turn() -> None:
    with pytest.raises(ValidationException, match="continue_final"):
        render(SINGLE, _spec("mistral-7b"), continue_final=True)


def _rejected_by_mistral_common(model: str, messages: list[Message], tools: Any = None) -> ValidationException:
    with pytest.raises(ValidationException, match="Cannot render this conversation") as caught:
        render(messages, _spec(model), tools)
    assert caught.value.__cause__ is not None
    assert type(caught.value.__cause__).__module__.startswith("mistral_common")
    return caught.value


def test_mistral_common_rejections_become_validation_exceptions() -> None:
    two_calls = [ToolCall(CALL_ID, "get_weather", {}), ToolCall("b" * 22, "get_weather", {})]
    messages = [
        Message.user("a"),
        Message.assistant(tool_calls=two_calls),
        Message.tool(CALL_ID, "1"),
        Message.tool("b" * 22, "2"),
    ]
    error = _rejected_by_mistral_common("mistral-small", messages)
    assert "multiple tool results" in str(error)
    render(messages, _spec("mistral-large-2407"))  # v3 encodes each result on its own

    from mistral_bedrock.conversation import Tool

    error = _rejected_by_mistral_common("mistral-large-2407", [Message.user("a")], [Tool("bad name!")])
    assert "Function name" in str(error)
    error = _rejected_by_mistral_common("mistral-large-2407", [Message.user("a")], [Tool("f", parameters={"type": 5})])
    assert "Invalid tool schema" in str(error)


def test_content_and_tool_calls_in_one_turn() -> None:
    call = ToolCall(CALL_ID, "get_weather", {})
    messages = [Message.user("a"), Message.assistant("thinking", [call]), Message.tool(CALL_ID, "1")]
    error = _rejected_by_mistral_common("mistral-large-2407", messages)
    assert "not both" in str(error)
    # v7 writes both: mistral-common's choice, kept.
    assert "thinking[TOOL_CALLS]" in render(messages, _spec("pixtral-large")).text


def test_tool_result_name_is_taken_from_its_call_for_v2() -> None:
    text = render(tool_conversation(follow_up=False), _spec("mistral-small"), [WEATHER]).text
    assert '[TOOL_RESULTS][{"name": "get_weather", "content": {"temperature": 21, "sky": "clear"}}]' in text
