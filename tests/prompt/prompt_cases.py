"""Conversations shared by the prompt tests, in neutral form and built directly with mistral-common.

The mistral-common side is written out by hand here (not with ``to_chat_request``), so the tests compare
``render()`` with an independent construction of the same request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from mistral_common.protocol.instruct.messages import AssistantMessage, SystemMessage, ToolMessage, UserMessage
from mistral_common.protocol.instruct.request import ChatCompletionRequest
from mistral_common.protocol.instruct.tool_calls import Function, FunctionCall, Tool, ToolCall
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

from mistral_bedrock import conversation as c

# Bedrock chat-dialect ids: 22 characters of base64url.
CALL_ID = "3NcHNntdRyaHu8zisKJAhQ"

WEATHER = c.Tool(
    "get_weather",
    "Current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@cache
def mistral_tokenizer(name: str) -> MistralTokenizer[Any, Any, Any, Any, Any]:
    """The tokenizer loaded straight from mistral-common (not through mistral_bedrock.prompt)."""
    factories: dict[str, Callable[[], MistralTokenizer[Any, Any, Any, Any, Any]]] = {
        "v1": MistralTokenizer.v1,
        "v2": MistralTokenizer.v2,
        "v3": MistralTokenizer.v3,
        "v7": MistralTokenizer.v7,
        "v7-mm": lambda: MistralTokenizer.v7(is_mm=True),
        "v3-tekken": lambda: MistralTokenizer.v3(is_tekken=True),
    }
    return factories[name]()


def mistral_tokens(name: str, messages: list[Any], tools: list[Tool] | None = None) -> tuple[int, ...]:
    request: ChatCompletionRequest[Any] = ChatCompletionRequest(messages=messages, tools=tools)
    return tuple(mistral_tokenizer(name).encode_chat_completion(request).tokens)


# --- single user turn ---------------------------------------------------------------------------------------
SINGLE = [c.Message.user("Hello, what's your name?")]
SINGLE_MC = [UserMessage(content="Hello, what's your name?")]

# --- system prompt and several turns ------------------------------------------------------------------------
MULTI = [
    c.Message.system("You are a terse assistant."),
    c.Message.user("What is the capital of France?"),
    c.Message.assistant("Paris."),
    c.Message.user("And of Italy?"),
    c.Message.assistant("Rome."),
    c.Message.user("Thanks!\nOne more: Spain?"),
]
MULTI_MC = [
    SystemMessage(content="You are a terse assistant."),
    UserMessage(content="What is the capital of France?"),
    AssistantMessage(content="Paris."),
    UserMessage(content="And of Italy?"),
    AssistantMessage(content="Rome."),
    UserMessage(content="Thanks!\nOne more: Spain?"),
]


# --- tools, a call, its result, and a follow-up -------------------------------------------------------------
def tool_conversation(call_id: str = CALL_ID, *, follow_up: bool = True) -> list[c.Message]:
    messages = [
        c.Message.system("Use the tools when useful."),
        c.Message.user("What's the weather in Paris?"),
        c.Message.assistant(tool_calls=[c.ToolCall(call_id, "get_weather", {"city": "Paris"})]),
        c.Message.tool(call_id, json.dumps({"temperature": 21, "sky": "clear"})),
    ]
    if follow_up:
        messages += [c.Message.assistant("It is 21 degrees and clear."), c.Message.user("And in Rome?")]
    return messages


def tool_conversation_mc(call_id: str | None, *, follow_up: bool = True) -> list[Any]:
    """The same conversation for mistral-common; ``call_id`` as mistral-common should see it."""
    call = ToolCall(function=FunctionCall(name="get_weather", arguments='{"city": "Paris"}'))
    if call_id is not None:
        call = ToolCall(id=call_id, function=call.function)
    messages: list[Any] = [
        SystemMessage(content="Use the tools when useful."),
        UserMessage(content="What's the weather in Paris?"),
        AssistantMessage(tool_calls=[call]),
        ToolMessage(content='{"temperature": 21, "sky": "clear"}', tool_call_id=call_id, name="get_weather"),
    ]
    if follow_up:
        messages += [AssistantMessage(content="It is 21 degrees and clear."), UserMessage(content="And in Rome?")]
    return messages


TOOLS_MC = [
    Tool(
        function=Function(
            name="get_weather",
            description="Current weather for a city",
            parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        )
    )
]
