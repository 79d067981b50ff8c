"""The two object stores: ``s3://bucket/key`` on a directory (no way out of it) and on moto's S3 server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from mistral_bedrock.batch.storage import DirStore, ObjectStore, StoreError, open_store, parse_s3_uri


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["dir", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """The same bucket, ``bucket-a``, empty, on each kind of store."""
    if request.param == "dir":
        (tmp_path / "bucket-a").mkdir()
        return open_store(tmp_path)
    url = request.getfixturevalue("s3_url")
    made = open_store(url)
    client = made.client  # type: ignore[attr-defined]
    name = f"bucket-a-{tmp_path.name.lower().replace('_', '-')}"[:63]
    client.create_bucket(Bucket=name)
    return _Renamed(made, name)


class _Renamed:
    """The S3 store with each test's own bucket standing for ``bucket-a`` (moto's buckets outlive a test)."""

    def __init__(self, store: ObjectStore, bucket: str) -> None:
        self.store, self.bucket = store, bucket

    def _uri(self, uri: str) -> str:
        return uri.replace("s3://bucket-a", f"s3://{self.bucket}", 1)

    def list(self, prefix_uri: str) -> list[str]:
        return [u.replace(f"s3://{self.bucket}", "s3://bucket-a", 1) for u in self.store.list(self._uri(prefix_uri))]

    def read(self, uri: str) -> Iterator[bytes]:
        return self.store.read(self._uri(uri))

    def write(self, uri: str, chunks: Iterator[bytes]) -> None:
        self.store.write(self._uri(uri), chunks)

    def check_writable(self, prefix_uri: str) -> None:
        self.store.check_writable(self._uri(prefix_uri))


def test_write_read_list(store: ObjectStore) -> None:
    store.write("s3://bucket-a/in/data.jsonl", iter([b"one\n", "two\u2028\n".encode()]))
    store.write("s3://bucket-a/in/sub/more.jsonl", iter([b"x"]))
    store.write("s3://bucket-a/input.jsonl", iter([b"y"]))
    assert b"".join(store.read("s3://bucket-a/in/data.jsonl")) == "one\ntwo\u2028\n".encode()
    assert store.list("s3://bucket-a/in/") == ["s3://bucket-a/in/data.jsonl", "s3://bucket-a/in/sub/more.jsonl"]
    # A prefix is characters, not a folder: "in" also matches "input.jsonl", as S3's prefixes do.
    assert store.list("s3://bucket-a/in") == [
        "s3://bucket-a/in/data.jsonl",
        "s3://bucket-a/in/sub/more.jsonl",
        "s3://bucket-a/input.jsonl",
    ]
    assert store.list("s3://bucket-a/in/da") == ["s3://bucket-a/in/data.jsonl"]
    assert store.list("s3://bucket-a/nothing/") == []


def test_missing_objects_are_store_errors(store: ObjectStore) -> None:
    with pytest.raises(StoreError):
        b"".join(store.read("s3://bucket-a/absent.jsonl"))


def test_a_missing_bucket_is_a_store_error(tmp_path: Path, s3_url: str) -> None:
    for store in (open_store(tmp_path), open_store(s3_url)):
        with pytest.raises(StoreError):
            store.list("s3://no-such-bucket/")
        with pytest.raises(StoreError):
            b"".join(store.read("s3://no-such-bucket/key"))


def test_a_large_upload_goes_multipart_and_comes_back_whole(s3_url: str) -> None:
    store = open_store(s3_url)
    client = store.client  # type: ignore[attr-defined]
    client.create_bucket(Bucket="big-objects")
    chunk = bytes(range(256)) * 4096  # 1 MiB
    store.write("s3://big-objects/large.jsonl", iter([chunk] * 12))
    etag = client.head_object(Bucket="big-objects", Key="large.jsonl")["ETag"]
    assert "-" in etag  # the transfer manager's multipart upload (over its 8 MiB threshold)
    assert b"".join(store.read("s3://big-objects/large.jsonl")) == chunk * 12


@pytest.mark.parametrize(
    "uri",
    ["s3://bucket-a/../other/x", "s3://bucket-a/a/../../x", "s3://bucket-a//etc/passwd", "s3://../x", "s3://./x"],
)
def test_a_directory_store_never_leaves_its_root(tmp_path: Path, uri: str) -> None:
    store = DirStore(tmp_path / "root")
    (tmp_path / "root" / "bucket-a").mkdir(parents=True)
    with pytest.raises(StoreError):
        store.write(uri, iter([b"escaped"]))
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_a_link_out_of_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root" / "bucket-a").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "root" / "bucket-a" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(StoreError):
        DirStore(tmp_path / "root").write("s3://bucket-a/link/x", iter([b"escaped"]))


def test_uris() -> None:
    assert (parse_s3_uri("s3://b/k/e/y").bucket, parse_s3_uri("s3://b/k/e/y").key) == ("b", "k/e/y")
    assert parse_s3_uri("s3://b").key == ""
    with pytest.raises(StoreError):
        parse_s3_uri("https://b/k")


def test_a_key_below_an_object_is_a_store_error_on_a_directory(tmp_path: Path) -> None:
    # S3 holds both keys; a directory cannot: refused as a StoreError, before and at the write, never an OSError.
    store = DirStore(tmp_path)
    store.write("s3://bucket-a/one/in.jsonl", iter([b"x"]))
    with pytest.raises(StoreError, match="is where a folder of"):
        store.check_writable("s3://bucket-a/one/in.jsonl/x/job/")
    with pytest.raises(StoreError, match="cannot write"):
        store.write("s3://bucket-a/one/in.jsonl/x/job/out", iter([b"y"]))
    store.check_writable("s3://bucket-a/one/other/")
