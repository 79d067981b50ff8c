"""Tool-call ids as each dialect spells them on the wire.

Bedrock's chat dialect returns 22 characters of the base64url alphabet (``3NcHNntdRyaHu8zisKJAhQ``), Converse
returns ``tooluse_`` plus 22 such characters, and the OpenAI-style dialect of the newer models uses Mistral's
own 9 alphanumerics. Ids are derived from a seed (the request and the call's position), so a deterministic
engine gives deterministic ids while two calls in one conversation never share one.
"""

from __future__ import annotations

import base64
import hashlib
import string
from collections.abc import Sequence
from dataclasses import replace
from enum import Enum

from ..conversation import ToolCall

__all__ = ["IdStyle", "assign_ids", "make_id"]

_ALNUM = string.ascii_letters + string.digits


class IdStyle(str, Enum):
    BASE64URL_22 = "base64url22"
    TOOLUSE = "tooluse"
    ALNUM_9 = "alnum9"


def make_id(style: IdStyle, seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    if style is IdStyle.ALNUM_9:
        number = int.from_bytes(digest[:12], "big")
        chars = []
        for _ in range(9):
            number, index = divmod(number, len(_ALNUM))
            chars.append(_ALNUM[index])
        return "".join(chars)
    token = base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")  # 22 characters
    return token if style is IdStyle.BASE64URL_22 else f"tooluse_{token}"


def assign_ids(calls: Sequence[ToolCall], style: IdStyle, seed: str) -> tuple[ToolCall, ...]:
    """Give every call without an id one in ``style``; calls that already have an id keep it."""
    return tuple(
        call if call.id else replace(call, id=make_id(style, f"{seed}/{index}/{call.name}"))
        for index, call in enumerate(calls)
    )
