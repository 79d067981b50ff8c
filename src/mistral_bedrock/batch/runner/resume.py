"""Resuming a run that was killed: the output file, its index sidecar, and the records they say are done.

The writer appends each record's output line to ``<output>``, then one entry to ``<output>.idx``: the record's
input index, whether it failed, and its token counts (:data:`ENTRY`, 16 bytes little-endian). A ``kill -9`` can
land anywhere, so on start (:func:`recover`):

1. The output is cut after its last ``\\n`` (a line cut short is dropped; its record is re-done).
2. The index is cut to whole entries, then reconciled with the output's line count. They differ by at most one
   line, written in the moment between the two appends: that line is dropped and its record re-done. Finding its
   record would mean scanning the input for its ``recordId`` (ids need not be unique, positions are); dropping it
   costs one request and can neither lose nor duplicate a record. An index longer than the output (only a lost
   write can do that, never a kill) is cut to the output's lines, and those records are re-done too.
3. The entries become a bitmap of done indices (125 KB per million records, against about 100 MB for a set of
   their ids) and the manifest's counts so far, so the final manifest covers every run.

Re-done work is therefore at most what was in flight when the run stopped, plus that one line.

An output whose index is lost (copied without it, deleted) is refused by :func:`recover`, but each of its lines
carries its ``recordId``: :func:`rebuild_index` writes the index again from them, where the input's recordIds are
unique, with one streaming pass over the input. It is a separate step, taken on request, because it needs the
input a second time while :func:`~.run.run_records` consumes its records once, lazily. The rebuilt entries' token
counts come from each line's ``modelOutput.usage`` where the body has one (the OpenAI-style chat body and Converse);
the other bodies carry none, so those records count 0 tokens in the final manifest.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..outcome import RecordError, RecordOutcome
from ..output import Manifest
from ..records import InputRecord, positional_id, split_lines

__all__ = ["ENTRY", "Bitmap", "OutputWriter", "ResumeError", "Resumed", "index_path", "rebuild_index", "recover"]

#: One index entry: the record's input index, flags (bit 0: it failed), input tokens, output tokens.
ENTRY = struct.Struct("<IIII")
_FAILED = 1
# Stands for the error of a record an earlier run wrote: the manifest counts errors, not what they were.
_EARLIER = RecordError(0, "written by an earlier run")
_CHUNK = 1 << 20


class ResumeError(ValueError):
    """The output and its index cannot both have been written by this runner: resuming would lose records."""


def index_path(output: Path) -> Path:
    """``input.jsonl.out`` → ``input.jsonl.out.idx``."""
    return output.with_name(output.name + ".idx")


class Bitmap:
    """A set of record indices, one bit each, grown as needed."""

    def __init__(self) -> None:
        self._bits = bytearray()

    def add(self, index: int) -> None:
        byte = index >> 3
        if byte >= len(self._bits):
            self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits))))
        self._bits[byte] |= 1 << (index & 7)

    def __contains__(self, index: int) -> bool:
        byte = index >> 3
        return byte < len(self._bits) and bool(self._bits[byte] >> (index & 7) & 1)

    @property
    def nbytes(self) -> int:
        return len(self._bits)


@dataclass
class Resumed:
    """What earlier runs finished: the done indices and their counts."""

    done: Bitmap = field(default_factory=Bitmap)
    manifest: Manifest = field(default_factory=Manifest)

    @property
    def count(self) -> int:
        return self.manifest.processed


def _last_newline_end(stream: BinaryIO, size: int, before: int | None = None) -> int:
    """The offset just after the last ``\\n`` that ends before ``before`` (the end by default); 0 for none."""
    end = size if before is None else before
    while end > 0:
        start = max(0, end - _CHUNK)
        stream.seek(start)
        found = stream.read(end - start).rfind(b"\n")
        if found >= 0:
            return start + found + 1
        end = start
    return 0


def _count_lines(stream: BinaryIO) -> int:
    stream.seek(0)
    return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(_CHUNK), b""))


def _entries(stream: BinaryIO, count: int) -> Iterator[tuple[int, ...]]:
    stream.seek(0)
    left = count
    while left:
        chunk = stream.read(min(left, _CHUNK // ENTRY.size) * ENTRY.size)
        if not chunk:  # the caller counted entries from the file's size: only a file cut meanwhile ends early
            return
        left -= len(chunk) // ENTRY.size
        yield from ENTRY.iter_unpack(chunk)


def recover(output: Path) -> Resumed:
    """Make ``output`` and its index agree after whatever ended the last run, and read what that run finished.

    Creates both files when the output does not exist yet.

    Raises:
        ResumeError: The output holds records without a matching index.
    """
    index = index_path(output)
    if not output.exists() or output.stat().st_size == 0:
        output.write_bytes(b"")
        index.write_bytes(b"")
        return Resumed()
    if not index.exists():
        raise ResumeError(
            f"{output} holds records but {index.name} is missing, so which input records it covers is unknown; "
            f"rebuild {index.name} from the output's recordIds (rebuild_index, when the input's recordIds are "
            "unique) and run again, or move the output away to start afresh"
        )
    with output.open("r+b") as out, index.open("r+b") as idx:
        size = _last_newline_end(out, output.stat().st_size)
        out.truncate(size)
        lines = _count_lines(out)
        entries = index.stat().st_size // ENTRY.size
        if lines == entries + 1:
            out.truncate(_last_newline_end(out, size, before=size - 1))
        elif lines > entries + 1:
            raise ResumeError(
                f"{output} holds {lines} lines but {index.name} only {entries} entries: they were not written "
                "together by this runner; move the output away to start afresh"
            )
        entries = min(entries, lines)
        idx.truncate(entries * ENTRY.size)
        return _read_entries(idx, entries, index)


def _read_entries(idx: BinaryIO, count: int, index: Path) -> Resumed:
    resumed = Resumed()
    for position, (record, flags, input_tokens, output_tokens) in enumerate(_entries(idx, count)):
        if record in resumed.done:
            raise ResumeError(f"{index.name}: entry {position + 1} repeats record index {record}; it is corrupt")
        resumed.done.add(record)
        failed = flags & _FAILED
        resumed.manifest.add(
            RecordOutcome(error=_EARLIER if failed else None, input_tokens=input_tokens, output_tokens=output_tokens)
        )
    return resumed


class OutputWriter:
    """Appends output lines and their index entries, each straight to the file (no buffer to lose in a kill)."""

    def __init__(self, output: Path) -> None:
        self._out = output.open("ab", buffering=0)
        self._idx = index_path(output).open("ab", buffering=0)

    def write(self, index: int, line: bytes, outcome: RecordOutcome) -> None:
        """The line first, then its entry: a kill between the two leaves one line without an entry (re-done)."""
        _write_all(self._out, line)
        flags = 0 if outcome.ok else _FAILED
        _write_all(self._idx, ENTRY.pack(index, flags, outcome.input_tokens, outcome.output_tokens))

    def close(self) -> None:
        self._out.close()
        self._idx.close()


def _write_all(stream: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = stream.write(view)
        view = view[written or 0 :]


class _InputIds:
    """recordId → input index: positional ids at their own position as bits, the others in a dict."""

    def __init__(self, records: Iterable[InputRecord]) -> None:
        self._at_position = Bitmap()
        self._others: dict[str, int] = {}
        for record in records:
            if record.record_id == positional_id(record.index):
                self._at_position.add(record.index)
            elif self._others.setdefault(record.record_id, record.index) != record.index:
                raise ResumeError(f"the input's recordId {record.record_id!r} is not unique: {_NOT_UNIQUE}")
        for record_id in self._others:
            position = self._positional(record_id)
            if position >= 0 and position in self._at_position:
                raise ResumeError(f"the input's recordId {record_id!r} is not unique: {_NOT_UNIQUE}")

    @staticmethod
    def _positional(record_id: str) -> int:
        digits = record_id[1:]
        if len(record_id) == 12 and record_id[0] == "r" and digits.isascii() and digits.isdigit():
            return int(digits)
        return -1

    def index_of(self, record_id: str) -> int | None:
        found = self._others.get(record_id)
        if found is not None:
            return found
        position = self._positional(record_id)
        return position if position >= 0 and position in self._at_position else None


_NOT_UNIQUE = "which input record each output line answers is unknown; move the output away to start afresh"


def _usage(line: Mapping[str, Any]) -> tuple[int, int]:
    """A line's (input, output) tokens from its body's usage: Converse's or the OpenAI-style chat body's; else 0."""
    output = line.get("modelOutput")
    usage = output.get("usage") if isinstance(output, Mapping) else None
    if not isinstance(usage, Mapping):
        return 0, 0

    def tokens(*keys: str) -> int:
        value = next((usage[key] for key in keys if key in usage), 0)
        return min(value, 0xFFFFFFFF) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    return tokens("inputTokens", "prompt_tokens"), tokens("outputTokens", "completion_tokens")


def rebuild_index(output: Path, records: Iterable[InputRecord]) -> int:
    """Write ``<output>.idx`` again from the recordIds of ``output``'s lines, matched against the input's.

    A line cut short at the end is dropped (its record is re-done), as :func:`recover` drops it. The index is
    written whole to a temporary file and then renamed, so a kill leaves either no index or a complete one.

    Args:
        output: An output whose index is missing.
        records: The input the output was written from, read once (streamed); its recordIds must be unique.

    Returns:
        The entries written: the records the next run skips.

    Raises:
        ResumeError: The index exists; the input's recordIds are not unique; a line is not an output line, names
            a recordId the input lacks, or repeats an earlier line's.
    """
    index = index_path(output)
    if index.exists():
        raise ResumeError(f"{index.name} exists: run again to resume from it, or remove it to rebuild it")
    ids = _InputIds(records)
    with output.open("r+b") as out:
        out.truncate(_last_newline_end(out, output.stat().st_size))
    done = Bitmap()
    entries = bytearray()
    with output.open("rb") as out:
        for number, raw in enumerate(split_lines(iter(lambda: out.read(_CHUNK), b"")), 1):
            try:
                line = json.loads(raw)
                record_id = line["recordId"]
            except (ValueError, TypeError, KeyError):
                raise ResumeError(f"{output}, line {number}: not an output line with a recordId") from None
            position = ids.index_of(record_id) if isinstance(record_id, str) else None
            if position is None:
                raise ResumeError(f"{output}, line {number}: recordId {record_id!r} is not in the input")
            if position in done:
                raise ResumeError(f"{output}, line {number}: recordId {record_id!r} is answered twice")
            done.add(position)
            flags = _FAILED if "error" in line else 0
            entries += ENTRY.pack(position, flags, *_usage(line))
    partial = index.with_name(index.name + ".partial")
    partial.write_bytes(entries)
    os.replace(partial, index)
    return len(entries) // ENTRY.size
