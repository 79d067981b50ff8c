"""The wire payloads of each dialect, as typed dictionaries.

Bodies stay plain JSON-ready dicts (what boto3 and httpx send), and these types say exactly which keys each one
has, so a type checker catches ``stop_sequences`` for ``stop`` or ``finish_reason`` for ``stop_reason`` in user
code as well as in ours. The formats return and accept these types; validation of what arrives from outside is
the formats' ``parse_request`` (Bedrock's rules), not the types.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, TypedDict

if sys.version_info >= (3, 11):
    from typing import NotRequired, Required
else:  # pragma: no cover - Python 3.10
    from typing_extensions import NotRequired, Required

__all__ = [
    "ChatChoice",
    "ChatChunk",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "ChatTool",
    "ChatToolCall",
    "ConverseRequest",
    "ConverseResponse",
    "InvocationMetrics",
    "TextChunk",
    "TextOutput",
    "TextRequest",
    "TextResponse",
]

# The stop reasons a native body may carry; ``mistral_bedrock.formats.stops`` says what each one means.
MistralStopReason = Literal[
    "stop",
    "length",
    "tool_calls",
    "model_length",
    "error",
    "content_filter",
    "guardrail_intervened",
    "content_filtered",
    "malformed_model_output",
    "malformed_tool_use",
    "model_context_window_exceeded",
]


class InvocationMetrics(TypedDict):
    """``amazon-bedrock-invocationMetrics`` of a stream's last chunk."""

    inputTokenCount: int
    outputTokenCount: int
    invocationLatency: int
    firstByteLatency: int


# -- text completion -------------------------------------------------------------------------------------------
class TextRequest(TypedDict, total=False):
    """``{"prompt": "<s>[INST] … [/INST]", …}`` — note ``stop``, never ``stop_sequences``."""

    prompt: Required[str]
    max_tokens: int
    temperature: float
    top_p: float
    top_k: int
    stop: list[str]


class TextOutput(TypedDict):
    text: str
    stop_reason: MistralStopReason | None


class TextResponse(TypedDict):
    """``{"outputs": [{"text", "stop_reason"}]}`` — the stop reason sits inside ``outputs[0]``."""

    outputs: list[TextOutput]


TextChunk = TypedDict(
    "TextChunk",
    {"outputs": list[TextOutput], "amazon-bedrock-invocationMetrics": NotRequired[InvocationMetrics]},
)


# -- Mistral chat completion (and its OpenAI-style sibling) -------------------------------------------------------
class ChatFunctionCall(TypedDict):
    name: str
    arguments: str  # JSON text


class ChatToolCall(TypedDict, total=False):
    id: Required[str]
    type: Literal["function"]  # sent by the OpenAI-style dialect only
    function: Required[ChatFunctionCall]


class ChatMessage(TypedDict, total=False):
    role: Required[Literal["system", "user", "assistant", "tool"]]
    content: str | list[dict[str, Any]] | None
    tool_calls: list[ChatToolCall]
    tool_call_id: str


class ChatFunction(TypedDict, total=False):
    name: Required[str]
    description: str
    parameters: dict[str, Any]


class ChatTool(TypedDict):
    type: Literal["function"]
    function: ChatFunction


class ChatRequest(TypedDict, total=False):
    """``{"messages", "tools", "tool_choice": "auto"|"any"|"none", "max_tokens", "temperature", "top_p"}``.

    The OpenAI-style dialect of newer models also takes ``stop``.
    """

    messages: Required[list[ChatMessage]]
    tools: list[ChatTool]
    tool_choice: Literal["auto", "any", "none", "required"] | dict[str, Any]
    max_tokens: int
    temperature: float
    top_p: float
    stop: list[str]


class ChatChoice(TypedDict, total=False):
    index: int
    message: ChatMessage
    stop_reason: MistralStopReason | None  # Mistral's chat dialect
    finish_reason: MistralStopReason | None  # the OpenAI-style dialect


class ChatResponse(TypedDict, total=False):
    """``{"choices": [{"index", "message", "stop_reason"}]}`` (OpenAI-style adds id, object, usage…)."""

    choices: Required[list[ChatChoice]]
    id: str
    object: str
    created: int
    model: str
    usage: dict[str, int]


ChatChunk = TypedDict(
    "ChatChunk",
    {
        "choices": list[dict[str, Any]],  # ``message`` increments (Mistral) or ``delta`` (OpenAI-style)
        "amazon-bedrock-invocationMetrics": NotRequired[InvocationMetrics],
        "usage": NotRequired[dict[str, int]],
    },
)


# -- Converse --------------------------------------------------------------------------------------------------
class ConverseRequest(TypedDict, total=False):
    """The body of Converse / ConverseStream (the model id travels in the path)."""

    messages: Required[list[dict[str, Any]]]
    system: list[dict[str, Any]]
    inferenceConfig: dict[str, Any]
    toolConfig: dict[str, Any]
    additionalModelRequestFields: dict[str, Any]


class ConverseResponse(TypedDict):
    output: dict[str, Any]
    stopReason: str
    usage: dict[str, int]
    metrics: dict[str, int]
