"""Text that every tokenizer can encode: the one place where the prompt layer makes input safe to tokenize.

A Python ``str`` can hold what no Unicode text can: a lone UTF-16 surrogate (U+D800 to U+DFFF), from a
``"\\ud800"`` literal, an unpaired JSON escape, or bytes read with ``surrogateescape`` (``sys.argv`` and
``os.environ`` on a non-UTF-8 locale). SentencePiece cannot take one (pybind11 fails to convert the string to
UTF-8 and raises a bare ``RuntimeError``), and Tekken's byte-level encoding silently writes something else.
Each lone surrogate becomes U+FFFD, the replacement character [I], which is also what a request body's
``\\ud800`` escape reads as (``mistral_bedrock.formats.json_body``): the client, the CLI and the runtime count
and render the same tokens for the same input. Two code points that form a surrogate pair become the character
they encode, as they would in a JSON escape.

Everything else Unicode allows goes through unchanged — NUL and other control characters, the noncharacters
U+FFFE and U+FFFF, private use, very long words: both tokenizer families encode them (SentencePiece's byte
fallback, Tekken's bytes), so refusing or rewriting them would only make the prompt differ from Bedrock's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..conversation import Message, Tool, ToolCall

__all__ = ["has_lone_surrogate", "holds_lone_surrogate", "tokenizable", "tokenizable_conversation", "tokenizable_value"]


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a surrogate code point, which no UTF-8 encoder (nor tokenizer) takes."""
    # C-speed checks: a regex over a long prompt would hold the GIL for as long as tokenizing a part of it.
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def tokenizable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (and split pairs joined); unchanged otherwise."""
    if not has_lone_surrogate(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def holds_lone_surrogate(value: object) -> bool:
    """Whether a JSON-like value holds a lone surrogate in any string, keys included (O(1) per ASCII string)."""
    if isinstance(value, str):
        return has_lone_surrogate(value)
    if isinstance(value, Mapping):
        return any(holds_lone_surrogate(k) or holds_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(holds_lone_surrogate(v) for v in value)
    return False


def tokenizable_value(value: Any) -> Any:
    """A JSON-like value with :func:`tokenizable` applied to every string in it, keys included."""
    if isinstance(value, str):
        return tokenizable(value)
    if isinstance(value, Mapping):
        return {tokenizable_value(k): tokenizable_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tokenizable_value(v) for v in value]
    return value


def _message(message: Message) -> Message:
    calls = tuple(
        ToolCall(tokenizable(c.id), tokenizable(c.name), tokenizable_value(c.arguments)) for c in message.tool_calls
    )
    return replace(
        message,
        content=tokenizable(message.content),
        tool_calls=calls,
        tool_call_id=None if message.tool_call_id is None else tokenizable(message.tool_call_id),
        name=None if message.name is None else tokenizable(message.name),
    )


def _tool(tool: Tool) -> Tool:
    return Tool(tokenizable(tool.name), tokenizable(tool.description), tokenizable_value(tool.parameters))


def tokenizable_conversation(
    messages: Sequence[Message], tools: Sequence[Tool] | None
) -> tuple[list[Message], list[Tool] | None]:
    """A conversation and its tools with every string made :func:`tokenizable`; the same objects when clean."""
    out = [_message(m) if holds_lone_surrogate(_strings(m)) else m for m in messages]
    if tools is None:
        return out, None
    return out, [_tool(t) if holds_lone_surrogate((t.name, t.description, t.parameters)) else t for t in tools]


def _strings(message: Message) -> tuple[object, ...]:
    calls = ((c.id, c.name, c.arguments) for c in message.tool_calls)
    return (message.content, message.tool_call_id or "", message.name or "", *calls)
