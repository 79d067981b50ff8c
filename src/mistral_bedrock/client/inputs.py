"""Accepting what users naturally pass: strings, neutral messages or Mistral-shaped dicts; tools as objects, dicts
or Python functions.

This is the one reader of a caller's dicts, for every method of the client and for the Mistral-shaped
``client.chat`` API (which adds its own refusals first): a dict that is not what it should be is a ``TypeError``
naming where it is (``messages[2].tool_calls[0].function``), never a ``KeyError`` from deep inside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..conversation import Message, Role, Tool, ToolCall
from ..errors import ModelErrorException, ValidationException
from ..formats.common import decode_arguments

__all__ = [
    "MessagesInput",
    "ToolsInput",
    "as_mapping",
    "plain_content",
    "read_message",
    "read_tool",
    "read_tool_call",
    "to_messages",
    "to_tools",
]

MessagesInput = str | Sequence[Message | Mapping[str, Any]]
ToolsInput = Sequence[Tool | Mapping[str, Any] | Callable[..., Any]]

_ROLES: tuple[Role, ...] = ("system", "user", "assistant", "tool")
_NO_PARAMETERS = {"type": "object", "properties": {}}


def plain_content(content: object, where: str) -> str:
    """A message's content as this client sends it: a string (None is empty)."""
    if content is None or isinstance(content, str):
        return content or ""
    raise TypeError(f"{where} is {type(content).__name__}, not a string")


def as_mapping(item: object, where: str) -> Mapping[str, Any]:
    """A dict as given, or a ``mistralai`` (pydantic) object, or an answer of ``client.chat``, as its dict."""
    if isinstance(item, Mapping):
        return item
    dump = getattr(item, "model_dump", None)
    if callable(dump):
        value = dump()
        if isinstance(value, Mapping):
            return value
    raise TypeError(f"{where} is {type(item).__name__}, neither a dict nor a mistralai object")


def _name(function: Mapping[str, Any], where: str) -> str:
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise TypeError(f"{where}.name must be a non-empty string, not {name!r}")
    return name


def read_tool_call(call: Mapping[str, Any], where: str) -> ToolCall:
    """``{"id", "function": {"name", "arguments"}}``, arguments as a JSON string or an object.

    Raises:
        ValidationException: The arguments are not a JSON object.
    """
    function = as_mapping(call.get("function"), f"{where}.function")
    name = _name(function, f"{where}.function")
    try:
        return decode_arguments(str(call.get("id") or ""), name, function.get("arguments"))
    except ModelErrorException:  # that reader's words are for a model's answer; this is the caller's input
        raise ValidationException(f"{where}.function.arguments is not a JSON object") from None


def read_message(item: Mapping[str, Any], where: str, content: Callable[[object, str], str] = plain_content) -> Message:
    """A chat message dict (``role``, ``content``, ``tool_calls``, ``tool_call_id``, ``name``) as a :class:`Message`.

    Args:
        item: The dict.
        where: Its place in the caller's arguments, for error messages.
        content: Reads the ``content`` value (the Mistral-shaped API also takes lists of text chunks).
    """
    role = item.get("role")
    if role not in _ROLES:
        raise TypeError(f"{where} has role {role!r}, not system, user, assistant or tool")
    text = content(item.get("content"), f"{where}.content")
    if role == "tool":
        name = item.get("name")
        return Message.tool(str(item.get("tool_call_id") or ""), text, None if name is None else str(name))
    if role != "assistant":  # only an assistant's turn carries calls; anything else a dict holds is not sent
        return Message(role, text)
    listed = item.get("tool_calls") or ()
    if isinstance(listed, (str, bytes, Mapping)) or not isinstance(listed, Iterable):
        raise TypeError(f"{where}.tool_calls must be a list, not {type(listed).__name__}")
    calls = tuple(
        read_tool_call(as_mapping(call, f"{where}.tool_calls[{i}]"), f"{where}.tool_calls[{i}]")
        for i, call in enumerate(listed)
    )
    return Message.assistant(text, calls)


def read_tool(item: Mapping[str, Any], where: str) -> Tool:
    """``{"type": "function", "function": {...}}``, or the function object itself, as a :class:`Tool`."""
    function = as_mapping(item.get("function", item), f"{where}.function")
    parameters = function.get("parameters") or _NO_PARAMETERS
    if not isinstance(parameters, Mapping):
        raise TypeError(f"{where}.function.parameters must be a JSON schema object, not {type(parameters).__name__}")
    return Tool(
        name=_name(function, f"{where}.function"),
        description=str(function.get("description") or ""),
        parameters=dict(parameters),
    )


def to_messages(value: MessagesInput) -> list[Message]:
    """A string is one user turn; messages are taken as they are; dicts are read by :func:`read_message`."""
    if isinstance(value, str):
        return [Message.user(value)]
    return [
        m if isinstance(m, Message) else read_message(as_mapping(m, f"messages[{i}]"), f"messages[{i}]")
        for i, m in enumerate(value)
    ]


def to_tools(value: ToolsInput | None) -> list[Tool]:
    """Tools as :class:`Tool`, Mistral/OpenAI-shaped dicts, or Python functions (schema from their signature)."""
    from .tools import tool_from_function

    tools: list[Tool] = []
    for index, item in enumerate(value or ()):
        if isinstance(item, Tool):
            tools.append(item)
        elif isinstance(item, Mapping) or (hasattr(item, "model_dump") and not isinstance(item, type)):
            tools.append(read_tool(as_mapping(item, f"tools[{index}]"), f"tools[{index}]"))
        elif callable(item):
            tools.append(tool_from_function(item))
        else:
            raise TypeError(f"cannot use {item!r} as a tool")
    return tools
