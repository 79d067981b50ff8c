"""Accepting what users naturally pass: strings, neutral messages or wire-shaped dicts; tools as objects or dicts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..conversation import Message, Tool
from ..formats.chat import message_from_wire

__all__ = ["MessagesInput", "ToolsInput", "to_messages", "to_tools"]

MessagesInput = str | Sequence[Message | Mapping[str, Any]]
ToolsInput = Sequence[Tool | Mapping[str, Any] | Callable[..., Any]]


def to_messages(value: MessagesInput) -> list[Message]:
    """A string is one user turn; dicts in Mistral's chat shape are read like the chat dialect reads them."""
    if isinstance(value, str):
        return [Message.user(value)]
    return [m if isinstance(m, Message) else message_from_wire(m) for m in value]


def to_tools(value: ToolsInput | None) -> list[Tool]:
    """Tools as :class:`Tool`, Mistral/OpenAI-shaped dicts, or Python functions (schema from their signature)."""
    from .tools import tool_from_function

    tools: list[Tool] = []
    for item in value or ():
        if isinstance(item, Tool):
            tools.append(item)
        elif isinstance(item, Mapping):
            function = item.get("function", item)
            tools.append(
                Tool(
                    name=str(function["name"]),
                    description=str(function.get("description") or ""),
                    parameters=function.get("parameters") or {"type": "object", "properties": {}},
                )
            )
        elif callable(item):
            tools.append(tool_from_function(item))
        else:
            raise TypeError(f"cannot use {item!r} as a tool")
    return tools
