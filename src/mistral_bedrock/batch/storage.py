"""Where batch files live: ``s3://bucket/key`` URIs, on a local directory or an S3(-compatible) endpoint.

:class:`DirStore` maps ``s3://bucket/key`` to ``ROOT/bucket/key`` (tests, the runtime's default, offline work);
:class:`S3Store` speaks to S3 itself through boto3 (the ``[batch]`` extra), or to any S3-compatible endpoint such as
moto's server. :func:`open_store` builds either from one string.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = ["DirStore", "ObjectStore", "S3Store", "S3Uri", "StoreError", "open_store", "parse_s3_uri"]

_CHUNK_BYTES = 1 << 20
_MISSING_CODES = frozenset({"NoSuchBucket", "NoSuchKey", "404", "NotFound"})
_URI = re.compile(r"^s3://(?P<bucket>[^/]+)(?:/(?P<key>.*))?$")


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

    def check_writable(self, prefix_uri: str) -> None:
        """Raise :class:`StoreError` where objects under the prefix could not be written (before any is)."""
        ...


class StoreError(OSError):
    """A URI the store cannot serve: a missing bucket or object, a key that escapes the store, or (a directory
    store) a path the file system refuses."""


@dataclass(frozen=True)
class S3Uri:
    """An ``s3://bucket/key`` URI, split; ``key`` is ``""`` for the bucket itself."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(uri: str) -> S3Uri:
    """Split an ``s3://bucket/key`` URI.

    Raises:
        StoreError: Not an ``s3://`` URI with a bucket.
    """
    found = _URI.match(uri)
    if not found:
        raise StoreError(f"not an s3:// URI: {uri!r}")
    return S3Uri(found["bucket"], found["key"] or "")


class DirStore:
    """``s3://bucket/key`` ↔ ``root/bucket/key`` on a local directory.

    A bucket is a directory directly under ``root``; it must exist for reads and lists (as an S3 bucket must), and
    is created on write. Keys that would leave ``root`` (``..`` segments, absolute paths) are refused.

    Args:
        root: The directory holding the buckets.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"DirStore({str(self.root)!r})"

    def _bucket(self, uri: S3Uri) -> Path:
        if uri.bucket in (".", "..") or "/" in uri.bucket or "\\" in uri.bucket:
            raise StoreError(f"not a bucket name: {uri.bucket!r}")
        return self.root / uri.bucket

    def _existing_bucket(self, uri: S3Uri) -> Path:
        bucket = self._bucket(uri)
        if not bucket.is_dir():
            raise StoreError(f"no such bucket: {uri.bucket}")
        return bucket

    def _path(self, uri: S3Uri) -> Path:
        bucket = self._bucket(uri)
        parts = uri.key.split("/")
        if uri.key.startswith("/") or any(part in ("..", ".") for part in parts) or "\\" in uri.key:
            raise StoreError(f"the key leaves the store: {str(uri)!r}")
        path = (bucket / uri.key).resolve()
        if not path.is_relative_to(bucket.resolve()):  # a symbolic link that points out
            raise StoreError(f"the key leaves the store: {str(uri)!r}")
        return path

    def list(self, prefix_uri: str) -> list[str]:
        """The URIs under a key prefix, sorted; prefix matching is on the key's characters, as S3's.

        Raises:
            StoreError: The bucket does not exist, or the prefix leaves the store.
        """
        uri = parse_s3_uri(prefix_uri)
        bucket = self._existing_bucket(uri)
        # Walk only the directory the prefix's last "/" names: a prefix is not a path, so "in/da" matches
        # "in/data.jsonl" but must not walk the whole bucket.
        directory, _, _ = uri.key.rpartition("/")
        start = self._path(S3Uri(uri.bucket, directory)) if directory else bucket
        if not start.is_dir():
            return []
        found: list[str] = []
        for dirpath, _, filenames in os.walk(start):
            for name in filenames:
                key = (Path(dirpath) / name).relative_to(bucket).as_posix()
                if key.startswith(uri.key):
                    found.append(f"s3://{uri.bucket}/{key}")
        return sorted(found)

    def read(self, uri: str) -> Iterator[bytes]:
        """The object's bytes, in chunks of 1 MiB.

        Raises:
            StoreError: No such object.
        """
        path = self._path(parse_s3_uri(uri))
        if not path.is_file():
            raise StoreError(f"no such object: {uri}")
        return self._chunks(path)

    @staticmethod
    def _chunks(path: Path) -> Iterator[bytes]:
        try:
            with path.open("rb") as stream:
                while chunk := stream.read(_CHUNK_BYTES):
                    yield chunk
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None

    def write(self, uri: str, chunks: Iterator[bytes]) -> None:
        """Write the object whole: into a temporary file beside it, then renamed, so no reader sees half of it.

        Raises:
            StoreError: The key leaves the store, or the file system refuses the path (a key below an existing
                object's, which S3 allows and a directory cannot hold; no space; no permission).
        """
        path = self._path(parse_s3_uri(uri))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        except OSError as exc:
            raise StoreError(f"cannot write {uri}: {exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "wb") as stream:
                for chunk in chunks:
                    stream.write(chunk)
            os.replace(temporary, path)
        except BaseException as exc:
            Path(temporary).unlink(missing_ok=True)
            if isinstance(exc, OSError) and not isinstance(exc, StoreError):
                raise StoreError(f"cannot write {uri}: {exc.strerror or exc}") from None
            raise

    def check_writable(self, prefix_uri: str) -> None:
        """The bucket exists, and no object stands where a directory of the prefix must go.

        S3 lets ``a/in.jsonl`` and ``a/in.jsonl/x/out`` both be keys; a directory cannot hold both, so such a
        prefix is refused here, before a job answers any record, rather than when its output is written.

        Raises:
            StoreError: The bucket does not exist, the prefix leaves the store, or an object is in the way.
        """
        uri = parse_s3_uri(prefix_uri)
        bucket = self._existing_bucket(uri)
        directory = uri.key.rpartition("/")[0]
        path = self._path(S3Uri(uri.bucket, directory)) if directory else bucket
        for ancestor in (path, *path.parents):
            if ancestor == bucket:
                break
            if ancestor.exists() and not ancestor.is_dir():
                key = ancestor.relative_to(bucket).as_posix()
                raise StoreError(f"the object s3://{uri.bucket}/{key} is where a folder of {prefix_uri} must be")


class _ChunkReader:
    """A read-only file object over an iterator of chunks, for boto3's ``upload_fileobj``."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._pending) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending += chunk
        if size < 0:
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:size], self._pending[size:]
        return out


@contextmanager
def _missing_as_store_error() -> Iterator[None]:
    """A missing bucket or object, as boto3 reports it, raised as a :class:`StoreError`; any other failure is
    raised as it is."""
    try:
        yield
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        # upload_fileobj may wrap the ClientError in boto3's S3UploadFailedError, which keeps only its text.
        if code in _MISSING_CODES or any(name in str(exc) for name in ("NoSuchBucket", "NoSuchKey")):
            raise StoreError(str(exc)) from None
        raise


class S3Store:
    """S3, or an S3-compatible endpoint, through a boto3 ``s3`` client.

    Uploads go through boto3's transfer manager (multipart above its threshold, with its checksums); downloads
    stream ``get_object``'s body. A missing bucket or object is a :class:`StoreError`.

    Args:
        client: A boto3 ``s3`` client.
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"S3Store({self.client.meta.endpoint_url!r})"

    def list(self, prefix_uri: str) -> list[str]:
        """Every key under the prefix, through ``list_objects_v2``'s paginator, sorted."""
        uri = parse_s3_uri(prefix_uri)
        found: list[str] = []
        with _missing_as_store_error():
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=uri.bucket, Prefix=uri.key):
                found.extend(f"s3://{uri.bucket}/{item['Key']}" for item in page.get("Contents", ()))
        return sorted(found)

    def read(self, uri: str) -> Iterator[bytes]:
        """The object's body, streamed in chunks of 1 MiB."""
        where = parse_s3_uri(uri)
        with _missing_as_store_error():
            body = self.client.get_object(Bucket=where.bucket, Key=where.key)["Body"]
        return self._chunks(body)

    @staticmethod
    def _chunks(body: Any) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(_CHUNK_BYTES)
        finally:
            body.close()

    def check_writable(self, prefix_uri: str) -> None:
        """The bucket exists (S3 keys are flat: any key under an existing bucket can be written, permissions
        aside, which the emulation does not model [I]).

        Raises:
            StoreError: The bucket does not exist.
        """
        uri = parse_s3_uri(prefix_uri)
        with _missing_as_store_error():
            self.client.list_objects_v2(Bucket=uri.bucket, Prefix=uri.key, MaxKeys=1)

    def write(self, uri: str, chunks: Iterator[bytes]) -> None:
        """Upload through the transfer manager (multipart for large objects)."""
        where = parse_s3_uri(uri)
        with _missing_as_store_error():
            self.client.upload_fileobj(_ChunkReader(chunks), where.bucket, where.key)


def open_store(spec: str | Path) -> ObjectStore:
    """A store from one string: an ``http(s)://`` endpoint URL (:class:`S3Store`) or a directory (:class:`DirStore`).

    The endpoint's client takes its credentials and Region as boto3 finds them; where it finds none, placeholder
    ones, which local S3 servers accept. Addressing is path-style, which local servers need under a host name such
    as ``localhost``.

    Raises:
        ImportError: An endpoint URL without boto3 (the ``[batch]`` extra).
    """
    text = str(spec)
    if not text.startswith(("http://", "https://")):
        return DirStore(Path(text))
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    options: dict[str, Any] = {}
    if session.get_credentials() is None:
        options = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    client = session.client(
        "s3",
        endpoint_url=text,
        region_name=session.region_name or "us-east-1",
        config=Config(s3={"addressing_style": "path"}),
        **options,
    )
    return S3Store(client)
