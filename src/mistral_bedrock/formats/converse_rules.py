"""Validation of Converse requests, in the front end's words and with Mistral's per-model rules.

Order matters and follows the service: structure (types) → constraints (ranges, patterns, counts) → what the
model supports (system prompts, tools, tool choice, streaming tool use, documents, images) → conversation
rules (first turn from the user, alternating roles, tool results alone in their turn, every tool use answered).
Indices in constraint messages are 1-based, as the front end prints them (``messages.14.member.content…``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from ..catalog import ModelSpec
from ..errors import SerializationException, ValidationException
from . import schema as s
from .messages import coral_error, coral_value

__all__ = ["check_constraints", "check_model_support", "check_structure", "check_turns"]

_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]+")
_TOOL_USE_ID = re.compile(r"[a-zA-Z0-9_.:-]+")
_BLOCK_MEMBERS = (
    "text",
    "image",
    "document",
    "video",
    "audio",
    "toolUse",
    "toolResult",
    "guardContent",
    "cachePoint",
    "reasoningContent",
    "citationsContent",
    "searchResult",
)
_DOCUMENT_FORMATS = ("pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md")
_IMAGE_FORMATS = ("png", "jpeg", "gif", "webp")


_ANY_OBJECT = s.obj({}, additional=True)
_TEXT_BLOCK_SOURCE = s.obj({"bytes": s.string(), "text": s.string()}, additional=True)
_CONTENT_BLOCK = s.obj(
    {
        "text": s.string(),
        "image": s.obj({"format": s.string(), "source": _TEXT_BLOCK_SOURCE}, ("format", "source"), additional=True),
        "document": s.obj(
            {"format": s.string(), "name": s.string(), "source": _TEXT_BLOCK_SOURCE},
            ("name", "source"),
            additional=True,
        ),
        "toolUse": s.obj(
            {"toolUseId": s.string(), "name": s.string(), "input": _ANY_OBJECT},
            ("toolUseId", "name", "input"),
            additional=True,
        ),
        "toolResult": s.obj(
            {
                "toolUseId": s.string(),
                "content": s.array(s.obj({"json": s.anything(), "text": s.string()}, additional=True)),
                "status": s.string(),
            },
            ("toolUseId", "content"),
            additional=True,
        ),
    },
    additional=True,
)
# The request's structure as the service model gives it; unknown members are ignored, as AWS JSON protocols do.
CONVERSE_SCHEMA = s.obj(
    {
        "messages": s.array(
            s.obj({"role": s.string(), "content": s.array(_CONTENT_BLOCK)}, ("role", "content"), additional=True)
        ),
        "system": s.array(s.obj({"text": s.string()}, additional=True)),
        "inferenceConfig": s.obj(
            {
                "maxTokens": s.integer(),
                "temperature": s.number(),
                "topP": s.number(),
                "stopSequences": s.array(s.string()),
            },
            additional=True,
        ),
        "toolConfig": s.obj(
            {
                "tools": s.array(
                    s.obj(
                        {
                            "toolSpec": s.obj(
                                {"name": s.string(), "description": s.string(), "inputSchema": _ANY_OBJECT},
                                ("name", "inputSchema"),
                                additional=True,
                            )
                        },
                        additional=True,
                    )
                ),
                "toolChoice": s.obj(
                    {"auto": _ANY_OBJECT, "any": _ANY_OBJECT, "tool": s.obj({"name": s.string()}, ("name",))},
                    additional=True,
                ),
            },
            ("tools",),
            additional=True,
        ),
        "additionalModelRequestFields": _ANY_OBJECT,
        "additionalModelResponseFieldPaths": s.array(s.string()),
    },
    additional=True,
)


def _coral_path(pointer: str) -> str:
    """``#/messages/0/content/1/text`` → ``messages.1.member.content.2.member.text`` (1-based, as AWS prints)."""
    out: list[str] = []
    for part in pointer.lstrip("#").strip("/").split("/"):
        if part.isdigit():
            out.append(f"{int(part) + 1}.member")
        elif part:
            out.append(part)
    return ".".join(out)


def check_structure(body: Mapping[str, Any]) -> None:
    """Types and required members, as the service's deserializer and validator see them.

    A wrong type is a ``SerializationException`` (the JSON cannot be read into the request structure); a missing
    required member is the front end's "Member must not be null".
    """
    violations = s.check(body, CONVERSE_SCHEMA)
    for violation in violations:
        if violation.text.startswith("expected type"):
            raise SerializationException(
                f"Value at '{_coral_path(violation.path)}' could not be read: {violation.text}"
            )
    missing = [
        f"Value null at '{_coral_path(v.path + '/' + v.text.split('[', 1)[1].split(']', 1)[0])}' failed to satisfy "
        "constraint: Member must not be null"
        for v in violations
        if v.text.startswith("required key")
    ]
    if missing:
        raise coral_error(missing)


def check_constraints(body: Mapping[str, Any]) -> None:
    """Ranges, patterns, enums and union cardinality, reported together like the front end does."""
    problems: list[str] = []

    def bad(value: object, where: str, constraint: str) -> None:
        shown = "" if value is None else f" '{coral_value(value)}'"
        problems.append(f"Value{shown} at '{where}' failed to satisfy constraint: {constraint}")

    config = body.get("inferenceConfig") or {}
    if config.get("maxTokens") is not None and config["maxTokens"] < 1:
        bad(
            config["maxTokens"],
            "inferenceConfig.maxTokens",
            "Member must have value greater than or equal to 1",
        )
    for key in ("temperature", "topP"):
        value = config.get(key)
        if value is None:
            continue
        if value < 0:
            bad(value, f"inferenceConfig.{key}", "Member must have value greater than or equal to 0")
        elif value > 1:
            bad(value, f"inferenceConfig.{key}", "Member must have value less than or equal to 1")
    for index, stop in enumerate(config.get("stopSequences") or ()):
        if not isinstance(stop, str) or not stop:
            bad(
                stop,
                f"inferenceConfig.stopSequences.{index + 1}.member",
                "Member must have length greater than or equal to 1",
            )
    for i, message in enumerate(body.get("messages") or ()):
        where = f"messages.{i + 1}.member"
        role = message.get("role")
        if role not in ("user", "assistant"):
            bad(role, f"{where}.role", "Member must satisfy enum value set: [user, assistant]")
        for j, block in enumerate(message.get("content") or ()):
            set_members = [k for k in _BLOCK_MEMBERS if block.get(k) is not None]
            if len(set_members) != 1:
                bad(
                    None,
                    f"{where}.content.{j + 1}.member",
                    "Member must have one and only one member set",
                )
                continue
            _check_block(set_members[0], block[set_members[0]], f"{where}.content.{j + 1}.member", bad)
    for i, tool in enumerate((body.get("toolConfig") or {}).get("tools") or ()):
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        where = f"toolConfig.tools.{i + 1}.member.toolSpec"
        if not isinstance(spec, dict):
            bad(
                None,
                f"toolConfig.tools.{i + 1}.member",
                "Member must have one and only one member set",
            )
            continue
        name = spec.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name):
            bad(
                name,
                f"{where}.name",
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+",
            )
        elif len(name) > 64:
            bad(name, f"{where}.name", "Member must have length less than or equal to 64")
    if problems:
        raise coral_error(problems)
    for i, tool in enumerate((body.get("toolConfig") or {}).get("tools") or ()):
        schema = ((tool.get("toolSpec") or {}).get("inputSchema") or {}).get("json")
        if not isinstance(schema, dict):
            raise ValidationException(
                f"The format of the value at toolConfig.tools.{i}.toolSpec.inputSchema.json is invalid. "
                "Provide a json object for the field and try again."
            )


def _check_block(member: str, value: Any, where: str, bad: Any) -> None:
    if member == "toolUse":
        name = value.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name):
            bad(
                name,
                f"{where}.toolUse.name",
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+",
            )
        tool_id = value.get("toolUseId")
        if not isinstance(tool_id, str) or not _TOOL_USE_ID.fullmatch(tool_id):
            bad(
                tool_id,
                f"{where}.toolUse.toolUseId",
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+",
            )
    elif member == "toolResult":
        tool_id = value.get("toolUseId")
        if not isinstance(tool_id, str) or not _TOOL_USE_ID.fullmatch(tool_id):
            bad(
                tool_id,
                f"{where}.toolResult.toolUseId",
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+",
            )
        if value.get("status") not in (None, "success", "error"):
            bad(
                value.get("status"),
                f"{where}.toolResult.status",
                "Member must satisfy enum value set: [success, error]",
            )
    elif member == "document" and value.get("format") not in (None, *_DOCUMENT_FORMATS):
        bad(
            value.get("format"),
            f"{where}.document.format",
            f"Member must satisfy enum value set: [{', '.join(_DOCUMENT_FORMATS)}]",
        )
    elif member == "image" and value.get("format") not in _IMAGE_FORMATS:
        bad(
            value.get("format"),
            f"{where}.image.format",
            f"Member must satisfy enum value set: [{', '.join(_IMAGE_FORMATS)}]",
        )


def _blocks(body: Mapping[str, Any], member: str) -> bool:
    return any(
        block.get(member) is not None
        for message in body.get("messages") or ()
        for block in message.get("content") or ()
    )


def check_model_support(spec: ModelSpec, body: Mapping[str, Any], *, stream: bool) -> None:
    """What this model supports through Converse (the AWS feature table, as catalog data)."""
    features = spec.converse
    if body.get("system") and not features.system:
        raise ValidationException(
            "This model doesn't support system messages. Try again without a system message or use a "
            "model that supports system messages."
        )
    tool_config = body.get("toolConfig")
    if tool_config is not None:
        if not features.tools:
            raise ValidationException("This model doesn't support tool use.")
        choice = tool_config.get("toolChoice") or {}
        for name in ("auto", "any", "tool"):
            if choice.get(name) is not None and name not in features.tool_choice:
                raise ValidationException(
                    f"This model doesn't support the toolConfig.toolChoice.{name} field. Remove "
                    f"toolConfig.toolChoice.{name} and try again."
                )
        if stream and not features.streaming_tools:
            raise ValidationException("This model doesn't support tool use in streaming mode.")
    if _blocks(body, "image") and not features.images:
        raise ValidationException("This model doesn't support image content blocks.")
    if _blocks(body, "document") and not features.documents:
        raise ValidationException("This model doesn't support documents.")
    config = body.get("inferenceConfig") or {}
    if config.get("maxTokens") is not None and config["maxTokens"] > spec.max_output:
        raise ValidationException(
            f"The maximum tokens you requested exceeds the model limit of {spec.max_output}. Try again "
            f"with a maximum tokens value that is lower than {spec.max_output}."
        )
    extra = body.get("additionalModelRequestFields") or {}
    for key, value in extra.items():
        limits = spec.params.get(key)
        if key != "top_k" or limits is None:
            raise ValidationException(
                f"Malformed input request: #: extraneous key [{key}] is not permitted, please reformat "
                "your input and try again."
            )
        if not isinstance(value, int) or isinstance(value, bool) or not (limits.minimum <= value <= limits.maximum):
            raise ValidationException(
                f"Malformed input request: #/top_k: {coral_value(value)} is not a valid value in "
                f"[{limits.minimum}, {limits.maximum}], please reformat your input and try again."
            )


def check_turns(body: Mapping[str, Any]) -> None:
    """Conversation rules: first from the user, roles alternate, tool blocks paired and alone."""
    messages = body.get("messages") or []
    if not messages or messages[0].get("role") != "user":
        raise ValidationException(
            "A conversation must start with a user message. Try again with a conversation that starts "
            "with a user message."
        )
    for prev, message in itertools.pairwise(messages):
        if prev.get("role") == message.get("role"):
            raise ValidationException(
                "A conversation must alternate between user and assistant roles. Make sure the "
                "conversation alternates between user and assistant roles and try again."
            )
    has_tool_blocks = _blocks(body, "toolUse") or _blocks(body, "toolResult")
    if has_tool_blocks and body.get("toolConfig") is None:
        raise ValidationException(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks."
        )
    for index, message in enumerate(messages):
        content = message.get("content") or []
        results = [b for b in content if b.get("toolResult") is not None]
        uses = [b for b in content if b.get("toolUse") is not None]
        if results and len(results) != len(content):
            raise ValidationException(
                f"messages.{index}.content: Conversation blocks and tool result blocks cannot be provided "
                "in the same turn."
            )
        if uses and len(uses) != len(content):
            raise ValidationException(
                f"messages.{index}.content: Conversation blocks and tool use blocks cannot be provided "
                "in the same turn."
            )
        if uses:
            wanted = [b["toolUse"]["toolUseId"] for b in uses]
            following = messages[index + 1]["content"] if index + 1 < len(messages) else None
            if following is None:
                continue  # the model itself is answering after its own tool use: nothing to pair yet
            answered = {b["toolResult"]["toolUseId"] for b in following if b.get("toolResult")}
            missing = [tool_id for tool_id in wanted if tool_id not in answered]
            if missing:
                raise ValidationException(
                    f"Expected toolResult blocks at messages.{index + 1}.content for the following Ids: "
                    + ", ".join(missing)
                )
