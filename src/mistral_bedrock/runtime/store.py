"""Where a runtime keeps its fault rules (with how often each fired) and its journal.

One interface, :class:`Store`, two implementations:

* :class:`MemoryStore` — inside one process: a list and a deque under a lock. ``ServerThread`` and
  :func:`~mistral_bedrock.runtime.app.create_app` use it unless given a state directory.
* :class:`SqliteStore` — a SQLite database in a state directory, opened by every worker of ``serve``, so a rule
  posted to one worker holds for all of them, a ``count`` is exact whichever worker answers (an atomic
  ``UPDATE … WHERE fired < count``), and the journal lists every worker's requests.

The journal write is on every request's path, so both keep it cheap: the memory store appends to a deque (~1 µs);
the SQLite store makes one ``INSERT`` in WAL mode without fsync (``synchronous=NORMAL``: a crash of the machine may
lose the last entries, never the database), and trims the table to its bounds only every
:data:`_TRIM_EVERY` inserts, or at once after a large body; reads apply the bounds exactly. Checking the rules costs
one read of a version number per request; the rules themselves are read again only when it moves.

``serve`` with several workers, or with ``--state-dir DIR``, prepares the database once, before its workers start
(:class:`SharedState`), in ``DIR`` or in a fresh temporary directory removed when it exits. A directory you give
keeps the journal across restarts; the rules start each run from the ``--fault`` flags.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .config import RuntimeConfig
from .journal import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, JournalEntry

__all__ = [
    "DATABASE_NAME",
    "MemoryStore",
    "SharedState",
    "SqliteStore",
    "Store",
    "StoredRule",
    "check_state_dir",
    "open_store",
]

DATABASE_NAME = "runtime.sqlite3"
_SCHEMA_VERSION = 1
# How many inserts a process makes between trims of the journal table; reads apply the bounds exactly meanwhile.
_TRIM_EVERY = 32


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


def open_store(config: RuntimeConfig) -> Store:
    """The store a runtime built from ``config`` uses: SQLite in ``config.state_dir``, else memory."""
    if config.state_dir is None:
        return MemoryStore(config.journal_size, config.journal_bytes)
    return SqliteStore(Path(config.state_dir) / DATABASE_NAME, config.journal_size, config.journal_bytes)


def check_state_dir(path: str | Path) -> None:
    """Make sure a state directory can hold the store: made if missing, its database opened (and created).

    Raises:
        ValueError: the directory holds a state of another version.
        OSError: the directory cannot be made.
        sqlite3.Error: the database cannot be opened or written.
    """
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    SqliteStore(directory / DATABASE_NAME).close()


class SharedState:
    """The store a server's workers share, prepared in the parent before they start; :meth:`close` after they end.

    With several workers, or a ``state_dir`` given, the database is created in ``config.state_dir`` (made if
    missing, kept afterwards) or in a fresh temporary directory (removed by :meth:`close`), its rules are replaced
    by ``config.faults`` (parsed once, here), and :attr:`config` points the workers at it and carries no faults,
    so that no worker adds them again. One worker without a ``state_dir`` shares with nobody: it keeps its rules
    and journal in memory, which behaves the same and costs ~20 µs less per request (docs/RUNTIME.md).

    Raises:
        ValueError: a fault spec is invalid, or the directory holds a state of another version.
        OSError: the directory cannot be made or written.
    """

    def __init__(self, config: RuntimeConfig, workers: int = 1) -> None:
        self.config = config
        self._temporary: Path | None = None
        if workers <= 1 and config.state_dir is None:
            return
        from .faults import parse_fault_spec

        rules = [parse_fault_spec(spec).to_json() for spec in config.faults]
        if config.state_dir is None:
            self._temporary = directory = Path(tempfile.mkdtemp(prefix="mistral-bedrock-state-"))
        else:
            directory = Path(config.state_dir)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            store = SqliteStore(directory / DATABASE_NAME, config.journal_size, config.journal_bytes)
            try:
                store.reset_rules(rules)
            finally:
                store.close()  # before any worker starts: a connection must not cross a fork
        except BaseException:
            self.close()
            raise
        self.config = replace(config, state_dir=str(directory), faults=())

    def close(self) -> None:
        """Remove the state directory if it was a temporary one."""
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None

    def __enter__(self) -> SharedState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
