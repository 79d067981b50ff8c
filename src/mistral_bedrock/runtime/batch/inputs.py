"""The Validating phase: find the job's input files, read their records, and check the job against the quotas.

What Bedrock checks here [D]: S3 access, that the files are JSONL with a JSON object per line, and the record-count
and size quotas. What it does not check here: whether each ``modelInput`` is a valid request body for the model;
that is each record's outcome later. A failure here ends the job ``Failed`` with a message; Bedrock's exact words
for each are not known, so ours say what went wrong plainly [I].

Which objects count [I]: the input URI names one object (it must end ``.jsonl``), or a prefix whose ``.jsonl``
objects are the input (others are skipped). The records are kept in memory for the run: the quotas bound them
(50,000 records per job by default).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mistral_bedrock.batch.limits import BatchLimits
from mistral_bedrock.batch.records import InputRecord, RecordLineError, parse_record, split_lines
from mistral_bedrock.batch.storage import ObjectStore, StoreError, parse_s3_uri

__all__ = ["InputFile", "JobFailure", "read_inputs"]

_SUFFIX = ".jsonl"


class JobFailure(Exception):
    """The job cannot run: its message becomes the job's ``message``, and the job ends ``Failed``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class InputFile:
    """One input file and its records.

    Attributes:
        uri: Where it is.
        name: Its name under the output prefix, before ``.out``: the key relative to the input prefix (the file's
            own name when the URI names the file).
        records: Its records, in input order.
        size: Its size in bytes.
    """

    uri: str
    name: str
    records: tuple[InputRecord, ...]
    size: int


def _relative_name(prefix_key: str, key: str) -> str:
    if key == prefix_key or (not prefix_key.endswith("/") and not key[len(prefix_key) :].startswith("/")):
        return key.rsplit("/", 1)[-1]
    return key[len(prefix_key) :].lstrip("/")


def _input_uris(store: ObjectStore, input_uri: str) -> list[str]:
    try:
        found = store.list(input_uri)
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


def _read(store: ObjectStore, uri: str, name: str, limits: BatchLimits) -> InputFile:
    size = 0

    def counted() -> Iterator[bytes]:
        nonlocal size
        for chunk in store.read(uri):
            size += len(chunk)
            if size > limits.bytes_per_file:
                raise JobFailure(
                    f"The input file {name} is larger than the quota of {limits.bytes_per_file} bytes per file."
                )
            yield chunk

    records: list[InputRecord] = []
    try:
        for index, line in enumerate(split_lines(counted())):
            records.append(parse_record(index, line))
            if len(records) > limits.records_per_file:
                raise JobFailure(
                    f"The input file {name} has more than the quota of {limits.records_per_file} records per file."
                )
    except RecordLineError as exc:
        raise JobFailure(
            f"The input file {name} has an invalid record at line {exc.index + 1}: {exc.reason}."
        ) from None
    except StoreError:
        raise JobFailure(f"Unable to read the input file {uri}.") from None
    return InputFile(uri, name, tuple(records), size)


def read_inputs(store: ObjectStore, input_uri: str, limits: BatchLimits) -> list[InputFile]:
    """The job's input files, read and checked (blocking: run it off the event loop).

    Raises:
        JobFailure: No input, a file that is not JSONL, a line that is not a record, or a quota broken.
    """
    prefix_key = parse_s3_uri(input_uri).key
    files = [
        _read(store, uri, _relative_name(prefix_key, parse_s3_uri(uri).key), limits)
        for uri in _input_uris(store, input_uri)
    ]
    total = sum(len(f.records) for f in files)
    if total > limits.records_per_job:
        raise JobFailure(f"The job has {total} records, more than the quota of {limits.records_per_job} per job.")
    if sum(f.size for f in files) > limits.bytes_per_job:
        raise JobFailure(f"The job's input is larger than the quota of {limits.bytes_per_job} bytes per job.")
    if total < limits.min_records_per_job:
        raise JobFailure(
            f"The job has {total} records, fewer than the minimum of {limits.min_records_per_job} records per job."
        )
    return files
