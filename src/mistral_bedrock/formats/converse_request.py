"""A Converse request, both ways: the body for a neutral conversation (client side), and a body read back into one
(runtime side, after :mod:`.converse_rules` has checked it as Bedrock does).

Mistral's rules for Converse are *applied* as a body is built: system prompts folded into the first user turn for
models without system support, tool results alone in their turn as JSON, no text beside a tool use in one
assistant turn.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..catalog import Dialect, ModelSpec
from ..conversation import Message, Params, Tool, ToolCall
from ..errors import SerializationException, ValidationException
from .body_types import ConverseRequest
from .common import decode_arguments
from .converse_response import tool_use_block
from .converse_rules import check_model_support, check_request, check_turns
from .format import ParsedRequest
from .json_body import load_json
from .tool_id_rules import check_tool_call_ids, wire_tool_call_ids

__all__ = ["body_for", "messages_from_wire", "request_from_body"]

_TEXT_DOCUMENTS = ("txt", "md", "csv", "html")


def _document_text(document: Mapping[str, Any]) -> str:
    name = str(document.get("name") or "document")
    fmt = str(document.get("format") or "txt")
    source = document.get("source") or {}
    text = source.get("text")
    if text is None and fmt in _TEXT_DOCUMENTS and isinstance(source.get("bytes"), str):
        try:
            text = base64.b64decode(source["bytes"], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise SerializationException(f"The document {name} is not valid base64-encoded UTF-8 text.") from None
    return f'<document name="{name}" format="{fmt}">\n{text if text is not None else ""}\n</document>'


def _result_text(result: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for item in result.get("content") or ():
        if item.get("json") is not None:
            parts.append(json.dumps(item["json"], ensure_ascii=False))
        elif item.get("text") is not None:
            parts.append(str(item["text"]))
    return "".join(parts)


def messages_from_wire(body: Mapping[str, Any]) -> list[Message]:
    """Neutral messages from a (validated) Converse body: system, turns, tool uses and results."""
    out: list[Message] = []
    system = "\n\n".join(str(b.get("text") or "") for b in body.get("system") or () if "text" in b)
    if system:
        out.append(Message.system(system))
    for message in body.get("messages") or ():
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in message.get("content") or ():
            if block.get("text") is not None:
                texts.append(str(block["text"]))
            elif block.get("document") is not None:
                texts.append(_document_text(block["document"]))
            elif block.get("image") is not None:
                texts.append("[image]")
            elif block.get("audio") is not None:
                texts.append("[audio]")
            elif block.get("toolUse") is not None:
                use = block["toolUse"]
                calls.append(decode_arguments(use["toolUseId"], use["name"], use.get("input") or {}))
            elif block.get("toolResult") is not None:
                result = block["toolResult"]
                out.append(Message.tool(result["toolUseId"], _result_text(result)))
        if message["role"] == "assistant":
            out.append(Message.assistant("".join(texts), calls))
        elif texts:
            out.append(Message.user("\n".join(texts)))
    return out


def _tool_result_content(content: str) -> list[dict[str, Any]]:
    """Mistral on Converse wants JSON tool results: objects pass as they are, anything else is wrapped."""
    try:
        parsed = json.loads(content)
    except ValueError:
        parsed = None
    return [{"json": parsed if isinstance(parsed, dict) else {"content": content}}]


def _turns(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The turns of a conversation, its system prompts left out; consecutive tool results share one user turn."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            block = {
                "toolResult": {
                    "toolUseId": message.tool_call_id,
                    "content": _tool_result_content(message.content),
                    "status": "success",
                }
            }
            if turns and turns[-1]["role"] == "user" and all("toolResult" in b for b in turns[-1]["content"]):
                turns[-1]["content"].append(block)
            else:
                turns.append({"role": "user", "content": [block]})
        elif message.role == "assistant" and message.tool_calls:
            # Mistral rejects text beside a tool use in one turn; the calls are what the history needs.
            turns.append(
                {
                    "role": "assistant",
                    "content": [tool_use_block(c) for c in message.tool_calls],
                }
            )
        else:
            turns.append({"role": message.role, "content": [{"text": message.content}]})
    return turns


def _tool_config(tools: Sequence[Tool], tool_choice: str | None) -> dict[str, Any]:
    """``toolConfig``: the tools, and the choice among them where Converse can say it."""
    tool_config: dict[str, Any] = {
        "tools": [
            {
                "toolSpec": {
                    "name": t.name,
                    "description": t.description or t.name,
                    "inputSchema": {"json": dict(t.parameters)},
                }
            }
            for t in tools
        ]
    }
    if tool_choice in ("auto", "any"):
        tool_config["toolChoice"] = {tool_choice: {}}
    elif tool_choice is not None:
        # A tool's name forces that tool; no Mistral model takes it, and validation says so in Bedrock's
        # words rather than the choice being dropped.
        if tool_choice not in {t.name for t in tools}:
            raise ValidationException(
                f"tool_choice must be auto, any, none or the name of one of the tools, not {tool_choice!r}"
            )
        tool_config["toolChoice"] = {"tool": {"name": tool_choice}}
    return tool_config


def body_for(
    spec: ModelSpec,
    messages: Sequence[Message],
    params: Params,
    tools: Sequence[Tool],
    tool_choice: str | None,
) -> ConverseRequest:
    """The Converse body for a neutral conversation, Mistral's rules applied."""
    messages = wire_tool_call_ids(spec, messages)
    system = [m.content for m in messages if m.role == "system"]
    turns = _turns(messages)
    if system and not spec.converse.system:
        first_user = next((t for t in turns if t["role"] == "user" and "text" in t["content"][0]), None)
        if first_user is None:
            raise ValidationException(
                f"{spec.name} takes no system prompt through Converse and there is no user turn to fold it into."
            )
        first_user["content"][0]["text"] = "\n\n".join([*system, first_user["content"][0]["text"]])
        system = []
    body: ConverseRequest = {"messages": turns}
    if system:
        body["system"] = [{"text": text} for text in system]
    config: dict[str, Any] = {}
    for key, wire in (
        ("max_tokens", "maxTokens"),
        ("temperature", "temperature"),
        ("top_p", "topP"),
    ):
        value = getattr(params, key)
        if value is not None:
            config[wire] = value
    if params.stop:
        config["stopSequences"] = list(params.stop)
    if config:
        body["inferenceConfig"] = config
    if params.top_k is not None:
        body["additionalModelRequestFields"] = {"top_k": params.top_k}
    history_has_tools = any(m.tool_calls or m.role == "tool" for m in messages)
    if tool_choice == "none" and history_has_tools:
        raise ValidationException(
            "Converse cannot express tool_choice 'none' once the history holds tool calls; use the "
            "chat dialect, or leave tool_choice unset."
        )
    if tools and tool_choice != "none":
        body["toolConfig"] = _tool_config(tools, tool_choice)
    return body


def request_from_body(spec: ModelSpec, body: object, dialect: Dialect, *, stream: bool) -> ParsedRequest:
    """A Converse body checked as Bedrock checks it, in neutral terms."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            body = load_json(body)
        except (ValueError, UnicodeDecodeError):
            raise SerializationException("Could not parse the request body as JSON.") from None
    if not isinstance(body, dict):
        raise SerializationException("Start of list found where not expected")
    check_request(body, stream=stream)
    check_model_support(spec, body, stream=stream)
    check_turns(body)
    messages = messages_from_wire(body)
    check_tool_call_ids(spec, messages)
    config = body.get("inferenceConfig") or {}
    extra = body.get("additionalModelRequestFields") or {}
    tool_config = body.get("toolConfig") or {}
    choice = tool_config.get("toolChoice") or {}
    forced = (choice.get("tool") or {}).get("name")
    tools = tuple(
        Tool(
            name=t["toolSpec"]["name"],
            description=str(t["toolSpec"].get("description") or ""),
            parameters=t["toolSpec"]["inputSchema"]["json"],
        )
        for t in tool_config.get("tools") or ()
    )
    return ParsedRequest(
        spec=spec,
        dialect=dialect,
        messages=tuple(messages),
        params=Params(
            max_tokens=config.get("maxTokens"),
            temperature=config.get("temperature"),
            top_p=config.get("topP"),
            top_k=extra.get("top_k"),
            stop=tuple(config["stopSequences"]) if config.get("stopSequences") else None,
        ),
        tools=tools,
        tool_choice=("any" if forced else next((k for k in ("auto", "any") if k in choice), None)),
        forced_tool=forced,
        stream=stream,
    )
