"""Validation of Converse requests, in the front end's words and with Mistral's per-model rules.

Order matters and follows the service: the front end's reading of the body (types, then every constraint of the
service model, see :mod:`.service_constraints`) → Bedrock's content rules (no empty message, no blank text,
well-formed response field paths, tool schemas that are objects) → what the model supports (system prompts,
tools, tool choice, streaming tool use, documents, images, prompt caching) → conversation rules (first turn
from the user, alternating roles, tool results alone in their turn, every tool use answered).
The front end's paths are 1-based (``messages.14.member.content…``); the service's own messages count from 0
(``messages.3``, ``messages.1.content.0``), as real captures show.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from ..catalog import ModelSpec
from ..errors import AccessDeniedException, ValidationException
from .messages import coral_value
from .service_constraints import check_members

__all__ = ["check_content", "check_model_support", "check_request", "check_turns"]

# Java's String.isBlank(): Character.isWhitespace, which leaves out the no-break spaces and NEL.
_NOT_JAVA_WHITESPACE = "\u00a0\u2007\u202f\u0085"
# RFC 6901: "/"-separated reference tokens, in which "~" escapes only "0" and "1".
_JSON_POINTER = re.compile(r"(/([^~/]|~[01])*)+")
# Media blocks → their noun and the catalog flag of the models that take them (None: no Mistral model on Bedrock
# does, and its prompt template has no place for them; refused by analogy with images [I]).
_MEDIA_BLOCKS: dict[str, tuple[str, str | None]] = {
    "image": ("image", "images"),
    "audio": ("audio", "audio"),
    "video": ("video", None),
    "searchResult": ("search result", None),
    "toolAddition": ("tool addition", None),
    "toolRemoval": ("tool removal", None),
}
PROMPT_CACHING_REFUSED = "You invoked an unsupported model or your request did not allow prompt caching."


def _blank(text: str) -> bool:
    return all(ch.isspace() and ch not in _NOT_JAVA_WHITESPACE for ch in text)


def check_request(body: Mapping[str, Any], *, stream: bool) -> None:
    """The front end's checks (from the service model), then Bedrock's content rules."""
    check_members("ConverseStream" if stream else "Converse", body)
    check_content(body)


def check_content(body: Mapping[str, Any]) -> None:
    """Bedrock's rules on content that the service model cannot express, one message at a time."""
    for i, message in enumerate(body.get("messages") or ()):
        content = message.get("content") or []
        if not content:
            raise ValidationException(
                f"The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to "
                "the content field and try again."
            )
        for j, block in enumerate(content):
            text = block.get("text")
            if isinstance(text, str) and _blank(text):
                raise ValidationException(
                    f"The text field in the ContentBlock object at messages.{i}.content.{j} is blank. Add text to "
                    "the text field, and try again."
                )
    _check_attachments(body.get("messages") or ())
    for i, block in enumerate(body.get("system") or ()):
        text = block.get("text")
        if isinstance(text, str) and _blank(text):
            raise ValidationException(
                f"The text field in the SystemContentBlock object at system.{i} is blank. Add text to the text "
                "field, and try again."
            )
    for i, path in enumerate(body.get("additionalModelResponseFieldPaths") or ()):
        if not _JSON_POINTER.fullmatch(path):
            raise ValidationException(
                f"The format of the value at additionalModelResponseFieldPaths.{i} is invalid. Provide a JSON "
                "Pointer for the field and try again."
            )
    # Documents may hold any JSON; these must hold objects ([R] for the tool schema, the others by analogy [I]).
    objects = [
        (f"toolConfig.tools.{i}.toolSpec.inputSchema.json", (tool["toolSpec"].get("inputSchema") or {}).get("json"))
        for i, tool in enumerate((body.get("toolConfig") or {}).get("tools") or ())
        if tool.get("toolSpec") is not None
    ]
    objects += [
        (f"messages.{i}.content.{j}.toolUse.input", block["toolUse"].get("input"))
        for i, message in enumerate(body.get("messages") or ())
        for j, block in enumerate(message.get("content") or ())
        if block.get("toolUse") is not None
    ]
    if body.get("additionalModelRequestFields") is not None:
        objects.append(("additionalModelRequestFields", body["additionalModelRequestFields"]))
    for where, value in objects:
        if not isinstance(value, dict):
            raise ValidationException(
                f"The format of the value at {where} is invalid. Provide a json object for the field and try again."
            )


# Document names: alphanumerics, whitespace, hyphens, parentheses and square brackets, never two whitespace
# characters in a row [R].
_DOCUMENT_NAME = re.compile(r"[A-Za-z0-9\s\-()\[\]]+")
_DOUBLE_SPACE = re.compile(r"\s\s")
DOCUMENT_NAME_REFUSED = (
    "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, "
    "and square brackets. The name can't contain more than one consecutive whitespace character. Check that the "
    "file name conforms to these restrictions and retry your request."
)
# The Message doc string's limits [BC]: 20 images of at most 3.75 MB, 5 documents of at most 4.5 MB, both only in
# user turns, and a text block beside any document. The words of the last two are [R]; of the others [I].
_MAX_IMAGES, _MAX_IMAGE_BYTES = 20, 3_932_160
_MAX_DOCUMENTS, _MAX_DOCUMENT_BYTES = 5, 4_718_592


def _source_size(block: Mapping[str, Any]) -> int:
    """Decoded size of an image or document source: base64 on the wire, 3 bytes per 4 characters."""
    source = block.get("source") or {}
    raw = source.get("bytes") if isinstance(source, dict) else None
    if isinstance(raw, str):
        return len(raw) * 3 // 4 - raw[-2:].count("=")
    text = source.get("text") if isinstance(source, dict) else None
    return len(text.encode()) if isinstance(text, str) else 0


def _check_attachments(messages: Any) -> None:
    """Images and documents: who may send them, how many, how large, and how documents are named."""
    names: set[str] = set()
    images = documents = 0
    for i, message in enumerate(messages):
        content = message.get("content") or []
        has_media = any(b.get("image") is not None or b.get("document") is not None for b in content)
        if has_media and message.get("role") != "user":
            raise ValidationException(
                f"messages.{i}.content: You can only include images and documents if the role is user."
            )
        for block in content:
            if block.get("image") is not None:
                images += 1
                if _source_size(block["image"]) > _MAX_IMAGE_BYTES:
                    raise ValidationException("The image size must be no more than 3.75 MB.")
            document = block.get("document")
            if document is None:
                continue
            documents += 1
            name = str(document.get("name") or "")
            if not _DOCUMENT_NAME.fullmatch(name) or _DOUBLE_SPACE.search(name):
                raise ValidationException(DOCUMENT_NAME_REFUSED)
            if name in names:
                raise ValidationException("Messages can't contain duplicate document names.")
            names.add(name)
            if _source_size(document) > _MAX_DOCUMENT_BYTES:
                raise ValidationException("The document size must be no more than 4.5 MB.")
            if not any(b.get("text") is not None for b in content):
                raise ValidationException("A text block must be included when using documents.")
    if documents > _MAX_DOCUMENTS:
        raise ValidationException(f"You can't include more than {_MAX_DOCUMENTS} documents in a request.")
    if images > _MAX_IMAGES:
        raise ValidationException(f"You can't include more than {_MAX_IMAGES} images in a request.")


def _nested_blocks(block: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A block and, for a tool result, the blocks inside it (which may hold images and documents too)."""
    result = block.get("toolResult")
    inner = result.get("content") if isinstance(result, dict) else None
    return [block, *(b for b in inner or () if isinstance(b, dict))]


def _blocks(body: Mapping[str, Any], member: str) -> bool:
    return any(
        nested.get(member) is not None
        for message in body.get("messages") or ()
        for block in message.get("content") or ()
        for nested in _nested_blocks(block)
    )


def check_model_support(spec: ModelSpec, body: Mapping[str, Any], *, stream: bool) -> None:
    """What this model supports through Converse (the AWS feature table, as catalog data)."""
    features = spec.converse
    tools = (body.get("toolConfig") or {}).get("tools") or ()
    if (
        _blocks(body, "cachePoint")
        or any(b.get("cachePoint") is not None for b in body.get("system") or ())
        or any(t.get("cachePoint") is not None for t in tools)
    ):
        # No Mistral model caches prompts on Bedrock; a cachePoint is refused as a 403 [R].
        raise AccessDeniedException(PROMPT_CACHING_REFUSED)
    for i, tool in enumerate(tools):
        if tool.get("systemTool") is not None:
            raise ValidationException(
                f"This model doesn't support the toolConfig.tools.{i}.systemTool field. Remove "
                f"toolConfig.tools.{i}.systemTool and try again."
            )
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
    for member, (noun, flag) in _MEDIA_BLOCKS.items():
        if _blocks(body, member) and not (flag is not None and getattr(features, flag)):
            raise ValidationException(f"This model doesn't support {noun} content blocks.")
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
        # The model's enum now admits a "system" role in messages; Mistral's template knows only the two [I].
        if prev.get("role") == message.get("role") or message.get("role") not in ("user", "assistant"):
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
