"""The store in a SQLite database that several processes open at once: ``serve``'s workers share their rules,
their counts and their journal through it.

The journal write is on every request's path: it is one ``INSERT`` in WAL mode without fsync
(``synchronous=NORMAL``: a crash of the machine may lose the last entries, never the database), and the table is
trimmed to its bounds only every :data:`_TRIM_EVERY` inserts, or at once after a large body; reads apply the bounds
exactly.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..journal import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, JournalEntry
from .interface import Store, StoredRule

__all__ = ["DATABASE_NAME", "SqliteStore"]

DATABASE_NAME = "runtime.sqlite3"
_SCHEMA_VERSION = 1
# How many inserts a process makes between trims of the journal table; reads apply the bounds exactly meanwhile.
_TRIM_EVERY = 32

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 0), rules_version INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO state (id, rules_version) VALUES (0, 0)",
    """CREATE TABLE IF NOT EXISTS rules (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        spec TEXT NOT NULL,
        count INTEGER,
        fired INTEGER NOT NULL DEFAULT 0
    )""",
    # start: the bytes of all bodies stored before this one, so that "the newest entries within the byte budget"
    # is a comparison with the newest row rather than a running sum. Rows are only ever removed from the old end
    # (or all at once), so seq has no gaps and "the newest N" is a comparison too. No AUTOINCREMENT: it would
    # rewrite its counter's page on every insert.
    """CREATE TABLE IF NOT EXISTS journal (
        seq INTEGER PRIMARY KEY,
        start INTEGER NOT NULL,
        size INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        operation TEXT NOT NULL,
        model TEXT NOT NULL,
        model_id TEXT,
        status INTEGER NOT NULL,
        error_code TEXT,
        faults TEXT NOT NULL,
        body_size INTEGER NOT NULL,
        body_truncated INTEGER NOT NULL,
        body BLOB NOT NULL
    )""",
)

# The newest row's seq and where its body ends; every bound is a comparison with them.
_NEWEST = "SELECT seq AS last, start + size AS total FROM journal ORDER BY seq DESC LIMIT 1"
_COLUMNS = "request_id, operation, model, model_id, status, error_code, faults, body_size, body_truncated, body"


class SqliteStore(Store):
    """A store in a SQLite database that several processes open at once.

    Every process opens its own connection (after any fork). Writes that must be atomic across processes take
    the database's write lock (``BEGIN IMMEDIATE``); a firing is one ``UPDATE … WHERE fired < count``.

    Args:
        path: The database file; created with its tables if missing.
        journal_size: See :class:`Store`.
        journal_bytes: See :class:`Store`.

    Raises:
        ValueError: The file holds a database of another schema version.
    """

    def __init__(
        self,
        path: str | Path,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        journal_bytes: int = DEFAULT_JOURNAL_BYTES,
    ) -> None:
        super().__init__(journal_size, journal_bytes)
        self.path = Path(path)
        # One connection per store, shared by the threads of a process (ServerThread creates the app in one thread
        # and serves it in another) under a lock; autocommit, with explicit transactions where needed.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        self._inserts = 0
        try:
            # WAL lets readers in other workers go on while one writes; NORMAL skips the fsync of each commit.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._transaction():  # workers may open a new database at the same moment
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                if version not in (0, _SCHEMA_VERSION):
                    raise ValueError(f"{self.path} holds a runtime state of another version ({version})")
                for statement in _SCHEMA:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        except BaseException:
            self._db.close()
            raise

    def rules_version(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT rules_version FROM state WHERE id = 0").fetchone()
        return int(row[0])

    def rules(self) -> list[StoredRule]:
        with self._lock:
            rows = self._db.execute("SELECT id, spec, fired FROM rules ORDER BY id").fetchall()
        return [StoredRule(int(row[0]), json.loads(row[1]), int(row[2])) for row in rows]

    def add_rules(self, specs: Sequence[Mapping[str, Any]]) -> None:
        rows = [(json.dumps(dict(spec)), spec.get("count")) for spec in specs]
        with self._lock, self._transaction():
            self._db.executemany("INSERT INTO rules (spec, count) VALUES (?, ?)", rows)
            self._db.execute("UPDATE state SET rules_version = rules_version + 1 WHERE id = 0")

    def clear_rules(self) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM rules")
            self._db.execute("UPDATE state SET rules_version = rules_version + 1 WHERE id = 0")

    def fire(self, rule_id: int, count: int | None) -> bool:
        with self._lock:
            # One statement, so atomic across processes: the count can never be overshot.
            cursor = self._db.execute(
                "UPDATE rules SET fired = fired + 1 WHERE id = ? AND (count IS NULL OR fired < count)", (rule_id,)
            )
        return cursor.rowcount == 1

    def append(self, entry: JournalEntry) -> None:
        row = (
            len(entry.raw_body),
            entry.request_id,
            entry.operation,
            entry.model,
            entry.model_id,
            entry.status,
            entry.error_code,
            json.dumps(list(entry.faults)),
            entry.body_size,
            int(entry.body_truncated),
            entry.raw_body,
        )
        with self._lock:
            # One statement, so one write transaction: the running total cannot interleave with another worker's.
            self._db.execute(
                f"INSERT INTO journal (start, size, {_COLUMNS}) VALUES "
                f"(COALESCE((SELECT total FROM ({_NEWEST})), 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            self._inserts += 1
            # Trimming costs about as much as the insert; reads apply the bounds exactly, so it can wait, except
            # after a large body, which should not sit on disk beyond the budget for long.
            if self._inserts % _TRIM_EVERY == 0 or len(entry.raw_body) * 8 > self.journal_bytes:
                self._db.execute(
                    f"DELETE FROM journal WHERE seq <= (SELECT last FROM ({_NEWEST})) - :size "
                    f"OR start < (SELECT total FROM ({_NEWEST})) - :bytes",
                    self._bounds(),
                )

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM journal, ({_NEWEST}) "
                "WHERE seq > last - :size AND start >= total - :bytes ORDER BY seq",
                self._bounds(),
            ).fetchall()
        return [
            JournalEntry(
                request_id=row[0],
                operation=row[1],
                model=row[2],
                model_id=row[3],
                status=int(row[4]),
                error_code=row[5],
                faults=tuple(json.loads(row[6])),
                body_size=int(row[7]),
                body_truncated=bool(row[8]),
                raw_body=bytes(row[9]),
            )
            for row in rows
        ]

    def clear_journal(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM journal")

    def reset_rules(self, specs: Sequence[Mapping[str, Any]]) -> None:
        """Replace every rule by ``specs`` in one transaction (a new ``serve`` run starts from its flags)."""
        rows = [(json.dumps(dict(spec)), spec.get("count")) for spec in specs]
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM rules")
            self._db.executemany("INSERT INTO rules (spec, count) VALUES (?, ?)", rows)
            self._db.execute("UPDATE state SET rules_version = rules_version + 1 WHERE id = 0")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _bounds(self) -> dict[str, int]:
        return {"bytes": self.journal_bytes, "size": self.journal_size}

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
