"""Which store a runtime uses, and the state directory where ``serve``'s workers share one.

``serve`` with several workers, or with ``--state-dir DIR``, prepares the database once, before its workers start
(:class:`SharedState`), in ``DIR`` or in a fresh temporary directory removed when it exits. A directory you give
keeps the journal across restarts; the rules start each run from the ``--fault`` flags.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from ..config import RuntimeConfig
from .interface import Store
from .memory import MemoryStore
from .sqlite import DATABASE_NAME, SqliteStore

__all__ = ["SharedState", "check_state_dir", "open_store"]


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
        from ..fault_specs import parse_fault_spec

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
