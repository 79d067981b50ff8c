"""The store inside one process: rules in a list, the journal in a deque, both under one lock. It is the store of
every runtime that shares its state with no other process.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..journal import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, JournalEntry
from .interface import Store, StoredRule

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """A store inside one process; thread-safe."""

    def __init__(self, journal_size: int = DEFAULT_JOURNAL_SIZE, journal_bytes: int = DEFAULT_JOURNAL_BYTES) -> None:
        super().__init__(journal_size, journal_bytes)
        self._lock = threading.Lock()
        self._version = 0
        self._next_id = 1
        self._rules: list[StoredRule] = []
        self._fired: dict[int, int] = {}
        self._entries: deque[JournalEntry] = deque()
        self._bytes = 0

    def rules_version(self) -> int:
        return self._version

    def rules(self) -> list[StoredRule]:
        with self._lock:
            return [replace(rule, fired=self._fired[rule.id]) for rule in self._rules]

    def add_rules(self, specs: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            for spec in specs:
                self._rules.append(StoredRule(self._next_id, dict(spec)))
                self._fired[self._next_id] = 0
                self._next_id += 1
            self._version += 1

    def clear_rules(self) -> None:
        with self._lock:
            self._rules.clear()
            self._fired.clear()
            self._version += 1

    def fire(self, rule_id: int, count: int | None) -> bool:
        with self._lock:
            fired = self._fired.get(rule_id)
            if fired is None or (count is not None and fired >= count):
                return False
            self._fired[rule_id] = fired + 1
            return True

    def append(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            self._bytes += len(entry.raw_body)
            while len(self._entries) > self.journal_size or (self._bytes > self.journal_bytes and self._entries):
                self._bytes -= len(self._entries.popleft().raw_body)

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    def clear_journal(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def close(self) -> None:
        """Nothing to release."""
