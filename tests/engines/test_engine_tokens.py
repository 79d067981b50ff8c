"""Input-token counts: raw prompts, rendered conversations, and the fallback for unrenderable ones."""

from __future__ import annotations

from mistral_bedrock.catalog import Dialect
from mistral_bedrock.conversation import Message, ToolCall
from mistral_bedrock.engines import input_tokens
from mistral_bedrock.prompt import encode_prompt, render
from mistral_bedrock.prompt.input_tokens import approximate_input_tokens
from tests.engines.engines_support import TOP_SONG, chat, text_prompt


def test_raw_prompt_is_counted_as_sent() -> None:
    request = text_prompt("<s>[INST] Hello, what's your name? [/INST]")
    assert input_tokens(request) == encode_prompt(request.prompt or "", request.spec).count


def test_conversation_is_rendered_with_its_tools() -> None:
    request = chat("What is the most popular song on WZPZ?", dialect=Dialect.CONVERSE, tools=[TOP_SONG])
    assert input_tokens(request) == render(request.messages, request.spec, [TOP_SONG]).count
    assert input_tokens(request) > input_tokens(chat("What is the most popular song on WZPZ?"))


def test_prefilled_answer_is_rendered_as_a_prefix() -> None:
    request = chat("Write a haiku", "Autumn", dialect=Dialect.CONVERSE)
    assert input_tokens(request) == render(request.messages, request.spec, continue_final=True).count


def test_unrenderable_conversations_get_an_approximate_count() -> None:
    # Tools on a model without tool support, and a tool result that answers no call: mistral-common refuses both.
    no_tools = chat("Hi", model="mistral-7b", dialect=Dialect.CONVERSE, tools=[TOP_SONG])
    orphan = chat("Hi", Message.assistant(tool_calls=[ToolCall("abc", "f", {})]), Message.tool("zzz", "{}"))
    for request in (no_tools, orphan):
        count = input_tokens(request)
        assert count == approximate_input_tokens(request.messages, request.spec, request.tools)
        assert count > len(request.messages)


def test_approximation_is_close_to_a_real_render() -> None:
    request = chat("Hi there", "Hello! How can I help?", "Tell me about the sea.", model="mistral-large-2407")
    real = input_tokens(request)
    assert abs(approximate_input_tokens(request.messages, request.spec) - real) <= 3


def test_empty_conversation_counts_bos() -> None:
    assert input_tokens(chat()) == 1
