"""Where batch files live: ``s3://bucket/key`` URIs, on a local directory or an S3(-compatible) endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

__all__ = ["ObjectStore"]


class ObjectStore(Protocol):
    """The few S3 operations batch needs, by ``s3://bucket/key`` URI."""

    def list(self, prefix_uri: str) -> list[str]:
        """The URIs of the objects under a prefix (a key is its own prefix), sorted."""
        ...

    def read(self, uri: str) -> Iterator[bytes]:
        """An object's bytes in chunks, streamed."""
        ...

    def write(self, uri: str, chunks: Iterator[bytes]) -> None:
        """Create or replace an object from chunks (multipart where the store has it)."""
        ...
