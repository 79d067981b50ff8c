"""Reading a records file once for every check ``validate`` and ``submit`` make: the validation report, the
SHA-256 of its bytes, and each record's line in the file.

:func:`~mistral_bedrock.batch.validation.validate_lines` numbers records among the non-blank lines; people read a
file by its physical lines, so the reader here remembers where each record was (4 bytes per record) and problems
are printed ``FILE:LINE: recordId: message`` with the line an editor shows.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..batch.invocation import InvocationType
from ..batch.limits import DEFAULT_LIMITS
from ..batch.records import numbered_lines
from ..batch.validation import Problem, ValidationReport, validate_lines
from ..errors import MistralBedrockError
from .failures import fail

__all__ = ["CheckedInput", "check_input", "file_chunks", "problem_line"]

_CHUNK_BYTES = 1 << 20


def file_chunks(path: Path) -> Iterator[bytes]:
    """A file's bytes in 1 MiB chunks, opened when the first is asked for and closed after the last."""
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            yield chunk


@dataclass(frozen=True)
class CheckedInput:
    """A records file, read once.

    Attributes:
        path: The file.
        report: What validation found.
        digest: SHA-256 of the file's bytes, hex.
        lines: The physical line (from 1) of each record, by its position among the records.
    """

    path: Path
    report: ValidationReport
    digest: str
    lines: array[int]

    def line_of(self, problem: Problem) -> int:
        """The physical line of a problem's record; 0 for a problem of the whole file."""
        return self.lines[problem.line - 1] if problem.line else 0


def check_input(
    path: Path,
    *,
    model: str,
    invocation: InvocationType,
    region: str | None = None,
    on_demand: bool = False,
    max_problems: int = 100,
) -> CheckedInput:
    """Validate a records file as a job's input (or, with ``on_demand``, as ``batch run``'s: no job-size quotas).

    Raises:
        UsageFailure: The catalog does not know the model, or the file cannot be read.
    """
    digest = hashlib.sha256()
    lines: array[int] = array("L")

    def hashed() -> Iterator[bytes]:
        for chunk in file_chunks(path):
            digest.update(chunk)
            yield chunk

    def non_blank() -> Iterator[bytes]:
        for line in numbered_lines(hashed()):
            lines.append(line.number)
            yield line.data

    limits = DEFAULT_LIMITS
    if on_demand:  # nothing is a job: no floor, no per-file ceilings
        limits = replace(limits, min_records_per_job=0, records_per_file=2**63, bytes_per_file=2**63)
    try:
        report = validate_lines(
            non_blank(),
            model=model,
            invocation=invocation,
            limits=limits,
            region=region,
            file_name=None if on_demand else path.name,
            max_problems=max_problems,
        )
    except MistralBedrockError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror or exc}") from None
    return CheckedInput(path, report, digest.hexdigest(), lines)


def problem_line(checked: CheckedInput, problem: Problem) -> str:
    """``FILE:LINE: recordId: message`` (``warning:`` before a warning's message; ``FILE: message`` for the file)."""
    where = f"{checked.path}:{checked.line_of(problem)}" if problem.line else str(checked.path)
    parts = [where]
    if problem.record_id is not None:
        parts.append(problem.record_id)
    if problem.severity == "warning":
        parts.append("warning")
    parts.append(" ".join(problem.message.split()))
    return ": ".join(parts)
