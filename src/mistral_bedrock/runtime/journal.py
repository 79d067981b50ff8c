"""A bounded log of the requests a runtime received, readable from the control endpoint.

Tests of apps (and of our own CLI) use it to check what actually went over the wire — for example that the
third turn of a chat carried the first two in its prompt.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from mistral_bedrock.formats.json_body import load_json

__all__ = ["Journal", "JournalEntry"]


@dataclass(frozen=True)
class JournalEntry:
    request_id: str
    operation: str
    model: str  # as sent in the path
    model_id: str | None  # as resolved, None when it did not resolve
    status: int
    error_code: str | None
    raw_body: bytes  # kept raw: parsing every body on the request path would cost every request

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["body"] = Journal.body_of(data.pop("raw_body"))
        return data


class Journal:
    """The last ``size`` requests, oldest first."""

    def __init__(self, size: int = 1000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @staticmethod
    def body_of(raw: bytes) -> Any:
        try:
            # NaN and Infinity stay text: the control endpoint's JSON encoder refuses floats that are not finite.
            return load_json(raw)
        except (ValueError, UnicodeDecodeError):
            return raw.decode("utf-8", "replace")
