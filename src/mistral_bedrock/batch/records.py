"""Reading batch input: one JSON object per line, ``{"recordId": …, "modelInput": {…}}``, streamed.

Lines are split on ``\\n`` only: Bedrock writes non-ASCII raw inside JSON strings, and a U+0085 or U+2028 in a
record would cut it in two under ``str.splitlines()`` [R].
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, NamedTuple

from mistral_bedrock.formats.json_body import load_json

__all__ = [
    "InputRecord",
    "Line",
    "RecordLineError",
    "numbered_lines",
    "parse_record",
    "positional_id",
    "read_records",
    "split_lines",
]


@dataclass(frozen=True)
class InputRecord:
    """One input line.

    Attributes:
        index: The line's position among the file's non-blank lines, from 0.
        record_id: Its ``recordId``; a line without one gets :func:`positional_id` (Bedrock adds one in the output
            when it is omitted [D]; what Bedrock adds is not documented [I]).
        model_input: The ``modelInput`` object.
    """

    index: int
    record_id: str
    model_input: Mapping[str, Any]


class RecordLineError(ValueError):
    """A line that is not a batch record: not JSON, not an object, or without an object ``modelInput``."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"line {index + 1}: {message}")
        self.index = index
        self.reason = message


def positional_id(index: int) -> str:
    """``r00000000042``: eleven alphanumerics after the ``r``, so ids sort, join and resume by position."""
    return f"r{index:011d}"


class Line(NamedTuple):
    """One non-blank line of a byte stream, and where it is.

    Attributes:
        number: Its physical line number, from 1 (blank lines counted, as an editor counts them).
        offset: The byte offset of its first byte.
        data: Its bytes, without the ``\\n``.
    """

    number: int
    offset: int
    data: bytes


def numbered_lines(chunks: Iterable[bytes]) -> Iterator[Line]:
    """The non-blank lines of a byte stream with their line numbers and offsets; split as :func:`split_lines`.

    Only each new chunk is split: a line longer than a chunk is kept as a list of pieces and joined once, so a long
    line costs its length, not its length times its chunks.
    """
    pieces: list[bytes] = []  # the line under way: the tail of earlier chunks
    number, offset = 1, 0
    for chunk in chunks:
        *ends, tail = chunk.split(b"\n")
        for end in ends:
            if pieces:
                pieces.append(end)
                end = b"".join(pieces)
                pieces = []
            if end and not end.isspace():
                yield Line(number, offset, end)
            number += 1
            offset += len(end) + 1
        if tail:
            pieces.append(tail)
    last = b"".join(pieces)
    if last and not last.isspace():
        yield Line(number, offset, last)


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a byte stream, split on ``\\n`` alone; blank lines (whitespace only) are skipped."""
    return (line.data for line in numbered_lines(chunks))


def parse_record(index: int, line: bytes) -> InputRecord:
    """One line as a record.

    Raises:
        RecordLineError: The line is not a record.
    """
    try:
        # The runtime's own reader: a bare NaN or Infinity stays a token that the record's body check then refuses
        # with the on-demand message, rather than a float that would be echoed as non-JSON [I].
        data = load_json(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordLineError(index, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RecordLineError(index, "not a JSON object")
    model_input = data.get("modelInput")
    if not isinstance(model_input, dict):
        raise RecordLineError(index, "has no modelInput object")
    record_id = data.get("recordId", positional_id(index))
    if not isinstance(record_id, str) or not record_id:
        raise RecordLineError(index, "recordId must be a non-empty string")
    return InputRecord(index, record_id, model_input)


def read_records(stream: BinaryIO, *, chunk_bytes: int = 1 << 20) -> Iterator[InputRecord]:
    """The records of a JSONL stream, one at a time (memory stays flat whatever the file's size).

    Raises:
        RecordLineError: At the first line that is not a record.
    """
    chunks = iter(lambda: stream.read(chunk_bytes), b"")
    for index, line in enumerate(split_lines(chunks)):
        yield parse_record(index, line)
