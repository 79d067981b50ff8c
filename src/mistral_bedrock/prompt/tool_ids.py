"""Tool-call ids that Mistral's v3+ tokenizers accept.

From v3 on, mistral-common's validator requires every tool-call id (on the assistant's call and on the tool
result answering it) to be exactly 9 characters ``[a-zA-Z0-9]``, and the id is part of the rendered prompt.
Bedrock's own ids do not fit: the chat dialect returns 22 characters of base64url (``3NcHNntdRyaHu8zisKJAhQ``),
Converse returns ``tooluse_…``. v1 has no tools; v2 renders no ids at all (and accepts any).

Ids are rewritten deterministically, from a SHA-256 of the original, and checked against every id already used
in the conversation, so two calls never share an id (a naive "first 9 alphanumerics" remapping collides).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import string
from collections.abc import Sequence, Set
from dataclasses import replace
from enum import Enum

from ..catalog import ModelSpec
from ..conversation import Message
from .tokenizers import tokenizer_info

__all__ = [
    "MISTRAL_TOOL_CALL_ID",
    "IdStyle",
    "is_mistral_tool_call_id",
    "make_id",
    "mistral_tool_call_id",
    "new_tool_call_id",
    "normalize_tool_call_ids",
    "remap_tool_call_ids",
]

_ALPHABET = string.ascii_letters + string.digits
_LENGTH = 9
#: The id format mistral-common's v3+ validator enforces.
MISTRAL_TOOL_CALL_ID = re.compile(r"[a-zA-Z0-9]{9}")


def is_mistral_tool_call_id(value: str) -> bool:
    """Whether ``value`` is a valid v3+ tool-call id (9 characters ``[a-zA-Z0-9]``)."""
    return MISTRAL_TOOL_CALL_ID.fullmatch(value) is not None


class IdStyle(str, Enum):
    """How a dialect spells a tool-call id on the wire."""

    BASE64URL_22 = "base64url22"  # Bedrock's chat dialect: ``3NcHNntdRyaHu8zisKJAhQ``
    TOOLUSE = "tooluse"  # Converse: ``tooluse_`` and 22 base64url characters
    ALNUM_9 = "alnum9"  # Mistral's own, and what v3+ tokenizers require


def make_id(style: IdStyle, seed: str) -> str:
    """The id in ``style`` derived from ``seed``: the one hash behind every id this package makes or rewrites."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    if style is IdStyle.ALNUM_9:
        number = int.from_bytes(digest, "big")
        chars = []
        for _ in range(_LENGTH):
            number, index = divmod(number, len(_ALPHABET))
            chars.append(_ALPHABET[index])
        return "".join(chars)
    token = base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")  # 22 characters
    return token if style is IdStyle.BASE64URL_22 else f"tooluse_{token}"


def mistral_tool_call_id(original: str, taken: Set[str]) -> str:
    """A valid 9-character id derived from ``original``, not in ``taken``.

    Deterministic: the same ``original`` and ``taken`` always give the same id. The id comes from a SHA-256 of
    ``original``; on a clash with ``taken`` the hash is salted with a counter until it is free. ``taken`` is not
    modified: add the result to it before deriving the next id.
    """
    attempt = 0
    while True:
        candidate = make_id(IdStyle.ALNUM_9, original if attempt == 0 else f"{original}\x00{attempt}")
        if candidate not in taken:
            return candidate
        attempt += 1


def new_tool_call_id() -> str:
    """A fresh random valid id (9 characters ``[a-zA-Z0-9]``)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))


def _ids_in_order(messages: Sequence[Message]) -> list[str]:
    seen: dict[str, None] = {}
    for message in messages:
        for call in message.tool_calls:
            seen.setdefault(call.id, None)
        if message.tool_call_id is not None:
            seen.setdefault(message.tool_call_id, None)
    return list(seen)


def normalize_tool_call_ids(messages: Sequence[Message], spec: ModelSpec) -> tuple[list[Message], dict[str, str]]:
    """Rewrite tool-call ids to the 9-character form where ``spec``'s tokenizer requires it.

    As :func:`remap_tool_call_ids`, for tokenizers with the rule (v3 and later); for the others (v1, v2) the
    messages are returned unchanged, with an empty mapping.
    """
    if not tokenizer_info(spec).short_tool_ids:
        return list(messages), {}
    return remap_tool_call_ids(messages)


def remap_tool_call_ids(messages: Sequence[Message]) -> tuple[list[Message], dict[str, str]]:
    """Rewrite every tool-call id that is not 9 characters ``[a-zA-Z0-9]`` to one that is.

    Assistant ``tool_calls`` ids and the matching tool messages' ``tool_call_id`` are rewritten through one
    mapping, so calls and results stay paired. Ids that are already valid are kept (and reserved, so no
    rewritten id can take them). The messages given are not modified.

    Returns:
        The messages, and the mapping original id → new id for every id that was rewritten (empty when none
        was). Invert it to translate the model's references back to the caller's ids.
    """
    result = list(messages)
    originals = _ids_in_order(result)
    taken = {value for value in originals if is_mistral_tool_call_id(value)}
    mapping: dict[str, str] = {}
    for original in originals:
        if is_mistral_tool_call_id(original):
            continue
        new = mistral_tool_call_id(original, taken)
        taken.add(new)
        mapping[original] = new
    if not mapping:
        return result, {}
    rewritten = []
    for message in result:
        if message.tool_calls:
            calls = tuple(replace(call, id=mapping.get(call.id, call.id)) for call in message.tool_calls)
            message = replace(message, tool_calls=calls)
        if message.tool_call_id is not None and message.tool_call_id in mapping:
            message = replace(message, tool_call_id=mapping[message.tool_call_id])
        rewritten.append(message)
    return rewritten, mapping
