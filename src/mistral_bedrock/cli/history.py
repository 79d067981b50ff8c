"""Saving and loading a chat's history as JSON (the REPL's ``/save`` and ``/load``).

The file holds ``{"model": …, "messages": [...]}``; each message is in Mistral's chat shape (``role``,
``content``, ``tool_calls`` with JSON-string ``arguments``, ``tool_call_id``), so a saved history can also be
sent as the ``messages`` of a chat request. ``/load`` accepts that object or a bare list of messages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MistralBedrockError

if TYPE_CHECKING:
    from ..conversation import Message

__all__ = ["HistoryFileError", "load_history", "messages_json", "save_history"]

_ROLES = ("system", "user", "assistant", "tool")


class HistoryFileError(Exception):
    """A history file that cannot be read, written or understood."""


def messages_json(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Messages in Mistral's chat shape.

    Args:
        messages: The history.

    Returns:
        JSON-ready dicts; tool turns keep the tool's ``name`` when known.
    """
    from ..formats.chat import message_to_wire

    wire: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = dict(message_to_wire(message))
        if message.role == "tool" and message.name:
            item["name"] = message.name
        wire.append(item)
    return wire


def save_history(path: str, model: str, messages: Sequence[Message]) -> None:
    """Write the history to ``path``.

    Args:
        path: The file to (over)write.
        model: The conversation's model, recorded for reference.
        messages: The history.

    Raises:
        HistoryFileError: When the file cannot be written.
    """
    document = {"model": model, "messages": messages_json(messages)}
    try:
        Path(path).expanduser().write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    except OSError as exc:
        raise HistoryFileError(f"cannot write {path}: {exc.strerror or exc}") from None


def load_history(path: str) -> list[Message]:
    """Read a history written by :func:`save_history` (or a bare list of chat-shaped messages).

    Args:
        path: The file.

    Returns:
        The messages.

    Raises:
        HistoryFileError: When the file cannot be read or does not hold a history.
    """
    from ..client.inputs import to_messages

    try:
        data = json.loads(Path(path).expanduser().read_text("utf-8"))
    except OSError as exc:
        raise HistoryFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise HistoryFileError(f"{path} is not valid JSON: {exc}") from None
    items = data.get("messages") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise HistoryFileError(f"{path} holds no list of messages")
    roles = {str(item.get("role")) for item in items} - set(_ROLES)
    if roles:
        raise HistoryFileError(f"{path} holds messages with unknown roles: {', '.join(sorted(roles))}")
    try:
        return to_messages(items)
    except (KeyError, TypeError, ValueError, MistralBedrockError) as exc:
        raise HistoryFileError(f"{path} holds a message that is not in Mistral's chat shape: {exc}") from None
