"""What every store offers: fault rules with how often each fired, and a journal bounded by entries and by body
bytes. The runtime's fault controller and journal speak only to this interface, whichever store is behind it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..journal import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, JournalEntry

__all__ = ["Store", "StoredRule"]


@dataclass(frozen=True)
class StoredRule:
    """A fault rule as stored: its id, its JSON form, and how often it fired."""

    id: int
    spec: dict[str, Any]
    fired: int = 0


class Store(ABC):
    """Fault rules with their counts, and the journal, bounded by entries and by body bytes.

    Args:
        journal_size: How many entries the journal keeps at most.
        journal_bytes: How many bytes of bodies the journal keeps at most; the newest entries win.

    Raises:
        ValueError: a negative bound.
    """

    def __init__(self, journal_size: int = DEFAULT_JOURNAL_SIZE, journal_bytes: int = DEFAULT_JOURNAL_BYTES) -> None:
        if journal_size < 0 or journal_bytes < 0:
            raise ValueError(f"journal bounds must not be negative, got {journal_size} entries, {journal_bytes} bytes")
        self.journal_size = journal_size
        self.journal_bytes = journal_bytes

    @abstractmethod
    def rules_version(self) -> int:
        """A number that changes whenever rules are added or cleared (not when they fire)."""

    @abstractmethod
    def rules(self) -> list[StoredRule]:
        """Every rule, in the order added, with how often it fired."""

    @abstractmethod
    def add_rules(self, specs: Sequence[Mapping[str, Any]]) -> None:
        """Add rules (their JSON forms), all at once."""

    @abstractmethod
    def clear_rules(self) -> None:
        """Remove every rule."""

    @abstractmethod
    def fire(self, rule_id: int, count: int | None) -> bool:
        """Count one firing of a rule, atomically; False (and nothing counted) once ``count`` firings are used."""

    @abstractmethod
    def append(self, entry: JournalEntry) -> None:
        """Add a journal entry, dropping the oldest beyond the bounds."""

    @abstractmethod
    def entries(self) -> list[JournalEntry]:
        """The newest entries within the bounds, oldest first."""

    @abstractmethod
    def clear_journal(self) -> None:
        """Remove every journal entry."""

    @abstractmethod
    def close(self) -> None:
        """Release what the store holds open."""
