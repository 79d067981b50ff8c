"""The store of a runtime given none: a directory store in a temporary directory, made when a job first needs it
and removed with the plane (or at exit), so that apps that never see a batch job cost nothing."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

from mistral_bedrock.batch.storage import DirStore

__all__ = ["TemporaryStore"]


class TemporaryStore:
    """An :class:`~mistral_bedrock.batch.storage.ObjectStore` over a temporary directory made on first use."""

    def __init__(self) -> None:
        self._store: DirStore | None = None

    def __repr__(self) -> str:
        return f"TemporaryStore({str(self._store.root) if self._store else 'not made yet'!r})"

    @property
    def root(self) -> Path:
        """The directory (made now if it was not)."""
        return self._dir().root

    def _dir(self) -> DirStore:
        if self._store is None:
            path = tempfile.mkdtemp(prefix="mistral-bedrock-batch-")
            weakref.finalize(self, shutil.rmtree, path, ignore_errors=True)
            self._store = DirStore(Path(path))
        return self._store

    def list(self, prefix_uri: str) -> list[str]:
        return self._dir().list(prefix_uri)

    def read(self, uri: str) -> Iterator[bytes]:
        return self._dir().read(uri)

    def write(self, uri: str, chunks: Iterator[bytes]) -> None:
        self._dir().write(uri, chunks)

    def check_writable(self, prefix_uri: str) -> None:
        self._dir().check_writable(prefix_uri)
