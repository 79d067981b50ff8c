"""Saving and loading a chat's history as JSON (the REPL's ``/save`` and ``/load``).

The file holds ``{"model": …, "messages": [...]}``; each message is in Mistral's chat shape (``role``,
``content``, ``tool_calls`` with JSON-string ``arguments``, ``tool_call_id``), so a saved history can also be
sent as the ``messages`` of a chat request. ``/load`` accepts that object or a bare list of messages, and only a
history the chat's model could go on from (:func:`refuse_unsendable`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MistralBedrockError, ValidationException

if TYPE_CHECKING:
    from ..catalog import ModelSpec
    from ..conversation import Message

__all__ = ["HistoryFileError", "SavedHistory", "load_history", "messages_json", "refuse_unsendable", "save_history"]

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


@dataclass(frozen=True)
class SavedHistory:
    """A history read from a file.

    Attributes:
        model: The model it was saved with, as the file names it; None for a bare list of messages.
        messages: The messages.
    """

    model: str | None
    messages: list[Message]


def load_history(path: str) -> SavedHistory:
    """Read a history written by :func:`save_history` (or a bare list of chat-shaped messages).

    Args:
        path: The file.

    Returns:
        The messages, and the model the file names.

    Raises:
        HistoryFileError: When the file cannot be read or does not hold a history.
    """
    from ..client.inputs import to_messages

    try:
        data = json.loads(Path(path).expanduser().read_text("utf-8"))
    except OSError as exc:
        raise HistoryFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # UnicodeDecodeError included: bytes that are not text
        raise HistoryFileError(f"{path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise HistoryFileError(f"{path} nests deeper than a history can") from None
    items = data.get("messages") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise HistoryFileError(f"{path} holds no list of messages")
    model = data.get("model") if isinstance(data, dict) else None
    if model is not None and not isinstance(model, str):
        raise HistoryFileError(f"{path} names its model with a {type(model).__name__}, not a string")
    roles = {str(item.get("role")) for item in items} - set(_ROLES)
    if roles:
        raise HistoryFileError(f"{path} holds messages with unknown roles: {', '.join(sorted(roles))}")
    try:
        return SavedHistory(model, to_messages(items))
    except (KeyError, TypeError, ValueError, MistralBedrockError) as exc:
        raise HistoryFileError(f"{path} holds a message that is not in Mistral's chat shape: {exc}") from None


def refuse_unsendable(path: str, spec: ModelSpec, messages: Sequence[Message]) -> None:
    """Refuse a history the chat could not go on from: one its next turn could never be sent with.

    The check is the client's own before it sends a turn: the request body for the history plus a user turn is
    built in the model's native dialect and validated with the runtime's format code (a conversation that
    starts with an assistant turn, a tool result answering no call, tools for a model without them…).

    Args:
        path: The file, for the message.
        spec: The chat's model.
        messages: The loaded history.

    Raises:
        HistoryFileError: With the validation's reason.
    """
    from ..conversation import Message, Params
    from ..formats import format_for

    fmt = format_for(spec.native_dialect)
    try:
        body = fmt.build_body(spec, [*messages, Message.user("next")], Params())
        fmt.parse_request(spec, body, stream=False)
    except ValidationException as exc:
        raise HistoryFileError(f"{path} holds a history {spec.model_id} cannot go on from: {exc.message}") from None
