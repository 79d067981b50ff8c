"""The Validating phase: find the job's input files, read their records, and check the job against the quotas.

What Bedrock checks here [D]: S3 access, that the files are JSONL with a JSON object per line, and the record-count
and size quotas. What it does not check here: whether each ``modelInput`` is a valid request body for the model;
that is each record's outcome later. A failure here ends the job ``Failed`` with a message; Bedrock's exact words
for each are not known, so ours say what went wrong plainly [I].

Which objects count [I]: the input URI names one object (it must end ``.jsonl``), or a prefix whose ``.jsonl``
objects are the input (others are skipped). A key ending ``/`` is a prefix, never an object: the S3 console's
"Create folder" leaves such a zero-byte marker, and it is no input file.

Memory stays bounded whatever the input: each file is copied to the job's work directory as it streams in, and
only each record's byte offset is kept (the records are read back from the copy when they run). The record quotas
are counted across files as the bytes arrive, so a job over its quota fails at the first record too many.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mistral_bedrock.batch.limits import BatchLimits
from mistral_bedrock.batch.records import InputRecord, RecordLineError, numbered_lines, parse_record
from mistral_bedrock.batch.storage import ObjectStore, StoreError, parse_s3_uri

__all__ = ["Abandoned", "InputFile", "JobFailure", "read_inputs"]

_SUFFIX = ".jsonl"


class JobFailure(Exception):
    """The job cannot run: its message becomes the job's ``message``, and the job ends ``Failed``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Abandoned(Exception):
    """The read was given up: the job was stopped or expired, or the server is stopping."""


@dataclass(frozen=True)
class InputFile:
    """One input file, copied to the job's work directory, and where its records are in the copy.

    Attributes:
        name: Its name under the output prefix, before ``.out`` (see :func:`output_name_of`).
        copy: The local copy.
        offsets: The byte offset of each record's line in the copy, in input order.
    """

    name: str
    copy: Path
    offsets: array[int]

    def records(self, order: Iterable[int]) -> Iterator[InputRecord]:
        """The records at these positions (from 0, in input order), read back from the copy one at a time."""
        with self.copy.open("rb") as stream:
            for index in order:
                stream.seek(self.offsets[index])
                yield parse_record(index, stream.readline().rstrip(b"\n"))


def output_name_of(input_key: str, key: str) -> str:
    """An input object's name under ``{outputUri}/{jobId}/``, before ``.out``.

    Bedrock writes one ``.out`` per input file [D]; what it names a file found under a prefix is not documented.
    Here [I]: the file's own name when the input URI names it; else its key relative to the directory of the
    prefix (the prefix up to its last ``/``), so ``x/in.jsonl`` and ``y/in.jsonl`` under ``s3://b/`` stay apart,
    and a prefix that ends mid-name (``s3://b/p`` over ``p/in.jsonl`` and ``p2/in.jsonl``) keeps the differing part.
    Distinct keys get distinct names: each is its key less the same leading characters.
    """
    if key == input_key:
        return key.rsplit("/", 1)[-1]
    directory = input_key.rpartition("/")[0]
    return key[len(directory) + 1 :] if directory else key


def _input_uris(store: ObjectStore, input_uri: str) -> list[str]:
    try:
        found = [uri for uri in store.list(input_uri) if not uri.endswith("/")]  # folder markers are no files
    except StoreError:
        raise JobFailure(f"Unable to access the input location {input_uri}: the bucket does not exist.") from None
    key = parse_s3_uri(input_uri).key
    exact = [uri for uri in found if parse_s3_uri(uri).key == key]
    if exact and not key.endswith(_SUFFIX):
        raise JobFailure(f"The input file {input_uri} is not a JSONL file: input files must have the .jsonl extension.")
    chosen = exact or [uri for uri in found if uri.endswith(_SUFFIX)]
    if not chosen:
        raise JobFailure(f"No .jsonl input files were found at {input_uri}.")
    return chosen


class _Reader:
    """The running totals of one job's read, checked against its quotas as the bytes and records arrive."""

    def __init__(self, store: ObjectStore, limits: BatchLimits, abandoned: Callable[[], bool]) -> None:
        self.store = store
        self.limits = limits
        self.abandoned = abandoned
        self.records = 0
        self.bytes = 0

    def _chunks(self, uri: str, name: str, copy: Path) -> Iterator[bytes]:
        limits = self.limits
        size = 0
        with copy.open("wb") as stream:
            for chunk in self.store.read(uri):
                if self.abandoned():  # between chunks: a stop or a server going down need not wait for the file
                    raise Abandoned
                size += len(chunk)
                self.bytes += len(chunk)
                if size > limits.bytes_per_file:
                    raise JobFailure(
                        f"The input file {name} is larger than the quota of {limits.bytes_per_file} bytes per file."
                    )
                if self.bytes > limits.bytes_per_job:
                    raise JobFailure(
                        f"The job's input is larger than the quota of {limits.bytes_per_job} bytes per job."
                    )
                stream.write(chunk)
                yield chunk

    def read(self, uri: str, name: str, copy: Path) -> InputFile:
        limits = self.limits
        offsets = array("q")
        line_number = 0
        try:
            for line in numbered_lines(self._chunks(uri, name, copy)):
                line_number = line.number
                parse_record(len(offsets), line.data)
                offsets.append(line.offset)
                self.records += 1
                if len(offsets) > limits.records_per_file:
                    raise JobFailure(
                        f"The input file {name} has more than the quota of {limits.records_per_file} records per file."
                    )
                if self.records > limits.records_per_job:
                    raise JobFailure(f"The job has more than the quota of {limits.records_per_job} records per job.")
        except RecordLineError as exc:
            # The physical line number, blank lines counted, as the CLI's validate counts them [I].
            raise JobFailure(
                f"The input file {name} has an invalid record at line {line_number}: {exc.reason}."
            ) from None
        except StoreError:
            raise JobFailure(f"Unable to read the input file {uri}.") from None
        return InputFile(name, copy, offsets)


def read_inputs(
    store: ObjectStore,
    input_uri: str,
    limits: BatchLimits,
    work: Path,
    abandoned: Callable[[], bool] = lambda: False,
) -> list[InputFile]:
    """The job's input files, copied into ``work`` and checked (blocking: run it off the event loop).

    Args:
        store: Where the input is.
        input_uri: The job's input URI.
        limits: The quotas.
        work: A directory of the job's own for the copies.
        abandoned: Asked between chunks; True gives the read up (:class:`Abandoned`).

    Raises:
        JobFailure: No input, a file that is not JSONL, a line that is not a record, or a quota broken.
        Abandoned: ``abandoned()`` said so.
    """
    input_key = parse_s3_uri(input_uri).key
    reader = _Reader(store, limits, abandoned)
    files = [
        reader.read(uri, output_name_of(input_key, parse_s3_uri(uri).key), work / f"input-{index}.jsonl")
        for index, uri in enumerate(_input_uris(store, input_uri))
    ]
    if reader.records < limits.min_records_per_job:
        raise JobFailure(
            f"The job has {reader.records} records, fewer than the minimum of {limits.min_records_per_job} records "
            "per job."
        )
    return files
