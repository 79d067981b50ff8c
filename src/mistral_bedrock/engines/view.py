"""What an engine reads from a request: the turns, the last question, pending tool results.

Every dialect arrives as :class:`~mistral_bedrock.conversation.Message` values (a text-completion prompt's turns
are recovered by the runtime once the prompt fits: ``Format.with_turns``); a raw prompt in a request built by hand,
with no messages, is split into turns here the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..conversation import Message
from ..formats import ParsedRequest
from ..formats.text import messages_from_prompt

__all__ = ["conversation", "last_user_text", "tool_name_for", "trailing_tool_results", "user_turns"]


def conversation(request: ParsedRequest) -> tuple[Message, ...]:
    """The request's turns; for a raw prompt without parsed messages, the turns recovered from the prompt."""
    if request.messages:
        return request.messages
    if request.prompt is not None:
        return messages_from_prompt(request.prompt)
    return ()


def last_user_text(request: ParsedRequest) -> str:
    """The content of the last user turn, stripped; empty when there is none."""
    for message in reversed(conversation(request)):
        if message.role == "user":
            return message.content.strip()
    return ""


def user_turns(request: ParsedRequest) -> int:
    """How many user turns the conversation has (the current question included)."""
    return sum(1 for message in conversation(request) if message.role == "user")


def trailing_tool_results(request: ParsedRequest) -> tuple[Message, ...]:
    """The tool results at the end of the conversation (several after parallel calls), oldest first."""
    messages = conversation(request)
    end = len(messages)
    start = end
    while start > 0 and messages[start - 1].role == "tool":
        start -= 1
    return messages[start:end]


def tool_name_for(result: Message, messages: Sequence[Message]) -> str:
    """The name of the tool a result answers: its own ``name``, else that of the call it answers."""
    if result.name:
        return result.name
    for message in reversed(messages):
        for call in message.tool_calls:
            if call.id == result.tool_call_id:
                return call.name
    return "the tool"
