"""The pieces of a chat-completion body both chat dialects spell alike: messages, tools, tool calls, answers.

Where the two differ (a tool call's ``type``, the content parts a request may list, the tool choices), the
caller passes its row's value in (:mod:`.chat_variant`); nothing here knows which dialect it serves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from ..catalog import ModelSpec
from ..conversation import Message, Tool, ToolCall
from ..errors import ValidationException
from . import schema as s
from .body_types import ChatMessage, ChatTool, ChatToolCall
from .common import decode_arguments
from .fields import each_object, obj, optional_text, text
from .messages import CONTAINER_VALIDATION_ERROR, SchemaViolation

__all__ = [
    "answer_from_wire",
    "check_modalities",
    "check_turns",
    "message_from_wire",
    "message_to_wire",
    "read_message",
    "read_tool_choice",
    "tool_call_to_wire",
    "tool_choice_to_wire",
    "tool_schema",
    "tools_from_wire",
    "tools_to_wire",
    "typed_tool_call_to_wire",
]


def tool_schema(**function_extras: s.Schema) -> s.Schema:
    """The schema of one ``tools`` entry; a dialect may let more keys through in its ``function``."""
    return s.obj(
        {
            "type": s.string(enum=("function",)),
            "function": s.obj(
                {
                    "name": s.string(),
                    "description": s.string(),
                    "parameters": s.obj({}, additional=True),
                    **function_extras,
                },
                ("name",),
            ),
        },
        ("function",),
    )


def tool_call_to_wire(call: ToolCall) -> ChatToolCall:
    """A tool call as Bedrock's chat dialect writes it: ``id`` and ``function``."""
    return {"id": call.id, "function": {"name": call.name, "arguments": call.arguments_json}}


def typed_tool_call_to_wire(call: ToolCall) -> ChatToolCall:
    """A tool call as the OpenAI-style dialect writes it: ``type`` first."""
    return {"type": "function", "id": call.id, "function": tool_call_to_wire(call)["function"]}


def tools_to_wire(tools: Sequence[Tool]) -> list[ChatTool]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": dict(tool.parameters),
            },
        }
        for tool in tools
    ]


def tools_from_wire(wire: Sequence[Mapping[str, Any]]) -> tuple[Tool, ...]:
    return tuple(
        Tool(
            name=tool["function"]["name"],
            description=str(tool["function"].get("description") or ""),
            parameters=tool["function"].get("parameters") or {"type": "object", "properties": {}},
        )
        for tool in wire
    )


def message_to_wire(
    message: Message, call_to_wire: Callable[[ToolCall], ChatToolCall] = tool_call_to_wire
) -> ChatMessage:
    wire: ChatMessage = {"role": message.role, "content": message.content}
    if message.tool_calls:
        wire["tool_calls"] = [call_to_wire(call) for call in message.tool_calls]
    if message.role == "tool":
        wire["tool_call_id"] = message.tool_call_id or ""
    return wire


def message_from_wire(wire: Mapping[str, Any]) -> Message:
    """A message in Mistral's chat shape, as a caller hands it over (the client's dict input)."""
    calls = tuple(
        decode_arguments(str(call.get("id") or ""), call["function"]["name"], call["function"]["arguments"])
        for call in wire.get("tool_calls") or ()
    )
    return Message(
        role=wire["role"],
        content=str(wire.get("content") or ""),
        tool_calls=calls,
        tool_call_id=wire.get("tool_call_id"),
        name=wire.get("name"),
    )


def read_message(
    wire: Mapping[str, Any], path: str, parts: Mapping[str, object], problems: list[SchemaViolation]
) -> Message:
    """A message of a validated request; content the schema let through but ``parts`` does not allow is added to
    ``problems`` (in the validator's words, so all of a body's problems are reported together)."""
    content = _content_text(wire.get("content"), f"{path}/content", parts, problems)
    calls = tuple(
        decode_arguments(
            str(call.get("id") or ""),
            str((call.get("function") or {}).get("name") or ""),
            (call.get("function") or {}).get("arguments") or "{}",
        )
        for call in wire.get("tool_calls") or ()
    )
    return Message(wire["role"], content, calls, wire.get("tool_call_id"), wire.get("name"))


def _content_text(content: object, path: str, parts: Mapping[str, object], problems: list[SchemaViolation]) -> str:
    """Flatten string-or-parts content to text; non-text parts become short placeholders."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        problems.append(SchemaViolation(path, "expected type: JSONArray, found: JSONObject"))
        return ""
    pieces: list[str] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in parts:
            problems.append(SchemaViolation(f"{path}/{index}/type", f"{kind} is not a valid enum value"))
        elif kind == "text":
            pieces.append(str(part.get("text") or ""))
        else:
            pieces.append(f"[{kind}]")
    return "".join(pieces)


def check_modalities(spec: ModelSpec, messages: Sequence[Mapping[str, Any]], parts: Mapping[str, str | None]) -> None:
    """Refuse media parts the model behind a well-formed body takes no input of [I], as its container does."""
    for wire in messages:
        content = wire.get("content")
        for part in content if isinstance(content, list) else ():
            flag = parts.get(part.get("type"))
            if flag is not None and not getattr(spec.converse, flag):
                raise ValidationException(CONTAINER_VALIDATION_ERROR)


def read_tool_choice(
    value: object, choices: Sequence[str], problems: list[SchemaViolation]
) -> tuple[str | None, str | None]:
    """``tool_choice`` of a validated request as (choice, forced tool): ``required`` is OpenAI's word for ``any``,
    and a function object forces that function."""
    if value is None:
        return None, None
    if isinstance(value, str):
        if value not in choices:
            problems.append(SchemaViolation("#/tool_choice", f"{value} is not a valid enum value"))
            return None, None
        return ("any" if value == "required" else value), None
    if isinstance(value, dict) and isinstance(value.get("function"), dict):
        return "any", str(value["function"].get("name") or "")
    problems.append(SchemaViolation("#/tool_choice", "expected type: String, found: JSONObject"))
    return None, None


def tool_choice_to_wire(value: str) -> Literal["auto", "any", "none", "required"]:
    choices: dict[str, Literal["auto", "any", "none", "required"]] = {
        "auto": "auto",
        "any": "any",
        "none": "none",
        "required": "required",
    }
    if value in choices:
        return choices[value]
    raise ValidationException(f"tool_choice must be auto, any or none, not {value!r}")


def answer_from_wire(message: Mapping[str, Any], where: str) -> Message:
    """The assistant's answer in a response's ``message`` (both chat dialects), every field checked.

    ``content`` may be null (a tool-call answer); each tool call needs ``function.name``.

    Raises:
        MalformedResponseError: A field of the wrong type, or a tool call without its function's name.
        ModelErrorException: Tool-call arguments that are not a JSON object (the model's fault, not the wire's).
    """
    content = optional_text(message.get("content"), f"{where}.content") or ""
    calls: list[ToolCall] = []
    for index, call in enumerate(each_object(message.get("tool_calls"), f"{where}.tool_calls")):
        at = f"{where}.tool_calls[{index}]"
        function = obj(call.get("function"), f"{at}.function")
        call_id = optional_text(call.get("id"), f"{at}.id") or ""
        name = text(function.get("name"), f"{at}.function.name")
        calls.append(decode_arguments(call_id, name, function.get("arguments")))
    return Message.assistant(content, calls)


def check_turns(messages: Sequence[Message]) -> None:
    """The rules Mistral's serving container enforces on a conversation.

    It answers violations with a terse ``Validation Error``; the conditions are the ones mistral-common checks:
    the conversation ends with a user or tool turn, and every tool result answers an earlier tool call.
    """
    calls: set[str] = set()
    for message in messages:
        calls.update(call.id for call in message.tool_calls)
        if message.role == "tool" and message.tool_call_id not in calls:
            raise ValidationException(CONTAINER_VALIDATION_ERROR)
    if not messages or messages[-1].role not in ("user", "tool"):
        raise ValidationException(CONTAINER_VALIDATION_ERROR)
