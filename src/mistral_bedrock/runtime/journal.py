"""A bounded log of the requests a runtime received, readable from the control endpoint.

Tests of apps (and of our own CLI) use it to check what actually went over the wire — for example that the
third turn of a chat carried the first two in its prompt — and what the runtime answered: the status, the AWS
error code delivered (an HTTP error's, or an in-stream exception's), and the faults that took effect.

Bounds. The journal keeps the newest ``journal_size`` entries whose bodies fit in ``journal_bytes`` together, so a
burst of 25 MB bodies cannot make it hold gigabytes. A body longer than the whole byte budget is kept as its first
``journal_bytes`` bytes, with ``body_truncated`` set and ``body_size`` saying how long it was.

When an entry is written. A whole response's entry is stored before its first byte leaves; a stream's when the
stream ends, just before its last bytes leave (its outcome — an in-stream exception, a cut connection — is only
known then). Either way, a client that has seen the end of an answer finds its entry, whichever worker it asks.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mistral_bedrock.formats.json_body import load_json

from .responses import EventStreamResponse, StreamEnd

if TYPE_CHECKING:
    from .faults import Faults
    from .store import Store

__all__ = ["DEFAULT_JOURNAL_BYTES", "DEFAULT_JOURNAL_SIZE", "Journal", "JournalEntry"]

DEFAULT_JOURNAL_SIZE = 1000
logger = logging.getLogger("mistral_bedrock.runtime")
DEFAULT_JOURNAL_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class JournalEntry:
    """One request as received, and what it got."""

    request_id: str
    operation: str
    model: str  # as sent in the path
    model_id: str | None  # as resolved, None when it did not resolve
    status: int
    error_code: str | None
    raw_body: bytes  # kept raw: parsing every body on the request path would cost every request
    faults: tuple[dict[str, Any], ...] = ()
    body_size: int = -1  # the body's length as received; -1: len(raw_body)
    body_truncated: bool = False

    def __post_init__(self) -> None:
        if self.body_size < 0:
            object.__setattr__(self, "body_size", len(self.raw_body))

    @property
    def body(self) -> Any:
        """The body as parsed JSON, or as text when it is not JSON (or was cut): what tests assert on."""
        return Journal.body_of(self.raw_body, truncated=self.body_truncated)

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "operation": self.operation,
            "model": self.model,
            "model_id": self.model_id,
            "status": self.status,
            "error_code": self.error_code,
            "faults": list(self.faults),
            "body": self.body,
            "body_size": self.body_size,
            "body_truncated": self.body_truncated,
        }


@dataclass
class Journal:
    """The journal of one runtime, kept in its store (shared by ``serve``'s workers).

    Args:
        store: Where the entries live; it applies the bounds.
        max_bytes: The byte budget, used here to cut a body that alone exceeds it.
    """

    store: Store
    max_bytes: int = DEFAULT_JOURNAL_BYTES

    def __post_init__(self) -> None:
        if self.max_bytes < 0:
            raise ValueError(f"the journal's byte budget must not be negative, got {self.max_bytes}")

    def add(self, entry: JournalEntry) -> None:
        if len(entry.raw_body) > self.max_bytes:
            entry = replace(entry, raw_body=entry.raw_body[: self.max_bytes], body_truncated=True)
        try:
            self.store.append(entry)
        except (sqlite3.Error, OSError):
            # A journal that cannot be written (a full disk) must not cost the client its answer.
            logger.exception("the journal could not record request %s", entry.request_id)

    def record(self, entry: JournalEntry, faults: Faults, response: object) -> None:
        """Journal a request about to be answered with ``response``.

        A whole response's entry is added now, before it is sent. A stream's is added when it ends, with the
        in-stream exception it delivered (if any) and the stream faults that took effect.
        """
        if isinstance(response, EventStreamResponse):
            response.on_end = lambda end: self.add(_ended(entry, faults, end))
        else:
            self.add(replace(entry, faults=tuple(faults.applied())))

    def entries(self) -> list[JournalEntry]:
        """The entries within the bounds, oldest first."""
        return self.store.entries()

    def clear(self) -> None:
        self.store.clear_journal()

    @staticmethod
    def body_of(raw: bytes, *, truncated: bool = False) -> Any:
        """The body for the control endpoint: parsed JSON, or text when it is not JSON (or was cut)."""
        if not truncated:
            try:
                # NaN and Infinity stay text: the control endpoint's JSON encoder refuses floats that are not finite.
                return load_json(raw)
            except (ValueError, UnicodeDecodeError):
                pass
        return raw.decode("utf-8", "replace")


def _ended(entry: JournalEntry, faults: Faults, end: StreamEnd) -> JournalEntry:
    applied = faults.applied(events=end.events, exception=end.exception, dropped=end.dropped)
    return replace(entry, error_code=end.exception, faults=tuple(applied))
