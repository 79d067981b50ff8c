"""Render a neutral conversation as a Mistral instruct prompt, with mistral-common.

The conversation is turned into a mistral-common ``ChatCompletionRequest`` and encoded with
``MistralTokenizer.encode_chat_completion``; the token ids are exactly mistral-common's. Everything about the
template (BOS once, ``</s>`` after each answer, where the system prompt goes, how tools, calls and results are
written) is mistral-common's; nothing here re-implements it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..catalog import ModelSpec
from ..conversation import Message, Tool
from ..errors import ValidationException
from .raw import decode_prompt
from .rendered import Rendered
from .sanitize import tokenizable_conversation
from .tokenizers import TokenizerInfo, tokenizer_info
from .tool_ids import normalize_tool_call_ids

if TYPE_CHECKING:
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

__all__ = ["render", "to_chat_request"]


def _where(spec: ModelSpec) -> str:
    return f"{spec.model_id} (tokenizer {spec.tokenizer})"


def _check(
    messages: Sequence[Message], spec: ModelSpec, info: TokenizerInfo, *, has_tools: bool, continue_final: bool
) -> None:
    """Structural checks with clear messages, before mistral-common sees the conversation."""
    if not messages:
        raise ValidationException("The conversation is empty: it needs at least one user message.")
    first = next((m for m in messages if m.role != "system"), None)
    if first is None or first.role != "user":
        raise ValidationException("The conversation must start with a user turn (after any system prompts).")
    uses_tools = has_tools or any(m.tool_calls or m.role == "tool" for m in messages)
    if uses_tools and not info.supports_tools:
        raise ValidationException(f"{_where(spec)} has no tool support: remove the tools, tool calls and tool results.")
    last = messages[-1]
    if continue_final and last.role != "assistant":
        raise ValidationException("continue_final needs a conversation that ends with an assistant turn.")
    if last.role == "assistant" and not continue_final:
        raise ValidationException(
            "The conversation ends with an assistant turn; a prompt must end with a user turn or a tool "
            "result (pass continue_final=True to have the model continue the assistant's text)."
        )
    pending: dict[str, str] = {}  # call id → tool name, for the latest assistant turn with calls
    previous: Message | None = None
    for index, message in enumerate(messages):
        if message.role == "assistant":
            final_prefix = continue_final and index == len(messages) - 1
            if not message.content and not message.tool_calls and not final_prefix:
                raise ValidationException(f"Assistant turn {index} has neither content nor tool calls.")
            pending = {call.id: call.name for call in message.tool_calls}
        elif message.role == "tool":
            if previous is None or previous.role not in ("assistant", "tool"):
                raise ValidationException(f"Tool result {index} does not follow an assistant turn with tool calls.")
            if message.tool_call_id is None:
                raise ValidationException(f"Tool result {index} has no tool_call_id.")
            if message.tool_call_id not in pending:
                raise ValidationException(
                    f"Tool result {index} answers tool call {message.tool_call_id!r}, which the assistant "
                    "turn before it did not make."
                )
        elif message.role not in ("system", "user"):
            raise ValidationException(f"Message {index} has an unknown role {message.role!r}.")
        previous = message


def _with_tool_names(messages: Sequence[Message]) -> list[Message]:
    """Tool results without a name take the name of the call they answer (v2 writes it into the prompt)."""
    names: dict[str, str] = {}
    out = []
    for message in messages:
        for call in message.tool_calls:
            names[call.id] = call.name
        if message.role == "tool" and message.name is None and message.tool_call_id in names:
            message = replace(message, name=names[message.tool_call_id])
        out.append(message)
    return out


def to_chat_request(
    messages: Sequence[Message],
    tools: Sequence[Tool] | None = None,
    *,
    continue_final: bool = False,
) -> ChatCompletionRequest[Any]:
    """The mistral-common ``ChatCompletionRequest`` for neutral messages and tools, as given (no checks)."""
    from mistral_common.protocol.instruct.messages import (
        AssistantMessage,
        SystemMessage,
        ToolMessage,
        UserMessage,
    )
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.protocol.instruct.tool_calls import Function, FunctionCall, ToolCall
    from mistral_common.protocol.instruct.tool_calls import Tool as MistralTool

    converted: list[Any] = []
    for index, message in enumerate(messages):
        if message.role == "system":
            converted.append(SystemMessage(content=message.content))
        elif message.role == "user":
            converted.append(UserMessage(content=message.content))
        elif message.role == "assistant":
            calls = [
                ToolCall(id=call.id, function=FunctionCall(name=call.name, arguments=call.arguments_json))
                for call in message.tool_calls
            ]
            converted.append(
                AssistantMessage(
                    content=message.content or None,
                    tool_calls=calls or None,
                    prefix=continue_final and index == len(messages) - 1,
                )
            )
        else:
            converted.append(ToolMessage(content=message.content, tool_call_id=message.tool_call_id, name=message.name))
    mistral_tools = [
        MistralTool(function=Function(name=tool.name, description=tool.description, parameters=dict(tool.parameters)))
        for tool in tools or ()
    ]
    return ChatCompletionRequest(messages=converted, tools=mistral_tools or None)


def render(
    messages: Sequence[Message],
    spec: ModelSpec,
    tools: Sequence[Tool] | None = None,
    *,
    continue_final: bool = False,
) -> Rendered:
    """Render a conversation for ``spec`` with mistral-common.

    ``token_ids`` are exactly ``encode_chat_completion(...).tokens``; ``text`` is the prompt a text-completion
    body sends (see :func:`~mistral_bedrock.prompt.decode_prompt`), and ``encode_prompt(text)`` gives the same
    ids back. Tool-call ids are normalised first where the tokenizer requires it
    (:func:`~mistral_bedrock.prompt.normalize_tool_call_ids`); tool results without a name take their call's.

    Args:
        messages: The conversation. It must end with a user turn or a tool result.
        spec: The model.
        tools: Tools the model may call (v2 and later tokenizers only).
        continue_final: The conversation ends with a partial assistant turn that the model is to continue
            (mistral-common's ``prefix``): it is rendered without ``</s>``.

    Raises:
        ValidationException: For a conversation the model cannot be prompted with: empty, ending with an
            assistant turn, a tool result that answers no call, tools on a model without tool support, or
            anything mistral-common's validator or tokenizer rejects (its message is kept).
    """
    messages, tools = tokenizable_conversation(messages, tools)  # lone surrogates: see .sanitize
    info = tokenizer_info(spec)
    _check(messages, spec, info, has_tools=bool(tools), continue_final=continue_final)
    messages, _ = normalize_tool_call_ids(_with_tool_names(messages), spec)

    from mistral_common.exceptions import MistralCommonException

    try:
        request = to_chat_request(messages, tools, continue_final=continue_final)
        tokenized = info.mistral.encode_chat_completion(request)
    except (MistralCommonException, ValueError, AssertionError, NotImplementedError) as exc:
        detail = str(exc).strip() or type(exc).__name__
        raise ValidationException(f"Cannot render this conversation for {_where(spec)}: {detail}") from exc
    ids = tuple(int(token) for token in tokenized.tokens)
    return Rendered(decode_prompt(ids, spec), ids)
