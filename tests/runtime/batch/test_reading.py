"""Reading a job's input without holding it: the quotas counted across files as the bytes arrive, a read that
gives up between chunks, and the line splitter that keeps a long line's pieces rather than re-splitting them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from mistral_bedrock.batch.limits import DEFAULT_LIMITS
from mistral_bedrock.batch.records import Line, numbered_lines, split_lines
from mistral_bedrock.batch.storage import DirStore
from mistral_bedrock.runtime.batch.inputs import Abandoned, JobFailure, read_inputs
from tests.runtime.batch.conftest import records


class _Watched(DirStore):
    """A directory store that remembers which objects were opened."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.opened: list[str] = []

    def read(self, uri: str) -> Iterator[bytes]:
        self.opened.append(uri.rsplit("/", 1)[-1])
        return super().read(uri)


def _write(root: Path, key: str, count: int) -> None:
    path = root / "in" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records(count)))


def test_the_job_quota_is_counted_across_files_as_they_stream(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        _write(tmp_path / "store", f"p/{name}.jsonl", 100)
    store = _Watched(tmp_path / "store")
    limits = replace(DEFAULT_LIMITS, records_per_job=150)
    (tmp_path / "work").mkdir()
    with pytest.raises(JobFailure, match="more than the quota of 150 records per job"):
        read_inputs(store, "s3://in/p/", limits, tmp_path / "work")
    assert store.opened == ["a.jsonl", "b.jsonl"]  # failed at record 151: the third file never read


def test_a_read_gives_up_between_chunks(tmp_path: Path) -> None:
    class Endless(DirStore):
        def read(self, uri: str) -> Iterator[bytes]:
            while True:
                yield b'{"modelInput": {}}\n' * 1000

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.jsonl").write_bytes(b"")
    asked: list[int] = []

    def abandoned() -> bool:
        asked.append(1)
        return len(asked) > 3

    with pytest.raises(Abandoned):
        read_inputs(Endless(tmp_path), "s3://in/x.jsonl", DEFAULT_LIMITS, tmp_path, abandoned)
    assert len(asked) == 4


def test_lines_longer_than_a_chunk_come_out_whole_with_their_place() -> None:
    chunks = [b"\n  \nab", b"c", b"d\n", b"\n", b"e" * 5, b"f\nlast"]
    assert list(numbered_lines(chunks)) == [
        Line(3, 4, b"abcd"),
        Line(5, 10, b"eeeeef"),
        Line(6, 17, b"last"),
    ]
    assert list(split_lines(chunks)) == [b"abcd", b"eeeeef", b"last"]
    separator = "\u2028".encode()  # only \n splits: a U+2028 or a \r stays inside its line
    assert list(split_lines([b"a" + separator + b"b", b"\r\n"])) == [b"a" + separator + b"b\r"]
