"""Bedrock's batch quotas as data, each with its evidence grade and source, and the sharding that respects them.

Quotas are per account and Region (Service Quotas), so every value is a default that a caller may override::

    limits = replace(DEFAULT_LIMITS, records_per_job=100_000)

Grades: [D] AWS documentation or botocore's ``bedrock`` service model, [R] a real capture, [R-weak] second-hand,
[I] inference.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..catalog import ModelSpec

__all__ = [
    "DEFAULT_LIMITS",
    "JOB_NAME_PATTERN",
    "BatchLimits",
    "Shard",
    "batch_capable",
    "batch_support",
    "plan_shards",
]

#: ``jobName``'s pattern in the ``bedrock`` service model (``ModelInvocationJobName``) [D].
JOB_NAME_PATTERN = r"[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}"

_EVIDENCE: Mapping[str, str] = MappingProxyType(
    {
        "min_records_per_job": (
            "[R] 100, not adjustable per Service Quotas (No-Stream capture; Airflow's system test; litellm-docs#1408); "
            "1,000 in 2024 (langchain-aws#250)"
        ),
        "records_per_file": "[R-weak] 50,000 default (OliveTree library default; puppetllm); quota name [D]",
        "records_per_job": "[R-weak] 50,000 default (OliveTree library default; puppetllm); quota name [D]",
        "bytes_per_file": "[R-weak] 1 GB default (OliveTree, puppetllm); Portkey says 10 GB; read Service Quotas",
        "bytes_per_job": "[R-weak] 5 GB default (OliveTree, puppetllm); read Service Quotas",
        "timeout_hours": "[D] ModelInvocationJobTimeoutDurationInHours: min 24, max 168; [R] No-Stream",
        "job_name": "[D] ModelInvocationJobName: length 1-63, and its pattern; AWS CLI help claims a minimum of 10 [R]",
        "max_tags": "[D] TagList: at most 200",
        "in_progress_jobs_per_model": (
            "[D]/[R] conflict: 10 per model per Region (AWS ML blog, 2024/25) vs 100 in progress per base model "
            "(No-Stream capture, 2026): a quota changed or raised; 10 kept as the cautious default [I]"
        ),
        "list_max_results": "[D] ListModelInvocationJobs maxResults: 1-1000",
    }
)


@dataclass(frozen=True)
class BatchLimits:
    """Bedrock's batch quotas. Every value is a default; an account's own come from Service Quotas.

    Attributes:
        min_records_per_job: Fewest records a job may hold (not adjustable).
        records_per_file: Most records in one input file.
        records_per_job: Most records in one job (all its files).
        bytes_per_file: Largest input file, in bytes (1 GB = 10**9).
        bytes_per_job: Most input bytes in one job.
        min_timeout_hours: Smallest ``timeoutDurationInHours``.
        max_timeout_hours: Largest ``timeoutDurationInHours``.
        min_job_name: Shortest ``jobName``.
        max_job_name: Longest ``jobName``.
        job_name_pattern: ``jobName``'s pattern (the service model's).
        max_tags: Most tags on a job.
        in_progress_jobs_per_model: Jobs in progress or submitted at once per model and Region.
        min_list_results: Smallest ``maxResults`` of ListModelInvocationJobs.
        max_list_results: Largest ``maxResults``.
        evidence: Each limit's grade and source, keyed by the attribute's name (the two timeout bounds share
            ``timeout_hours``, the job name's ``job_name``, the list bounds ``list_max_results``).
    """

    min_records_per_job: int = 100
    records_per_file: int = 50_000
    records_per_job: int = 50_000
    bytes_per_file: int = 1_000_000_000
    bytes_per_job: int = 5_000_000_000
    min_timeout_hours: int = 24
    max_timeout_hours: int = 168
    min_job_name: int = 1
    max_job_name: int = 63
    job_name_pattern: str = JOB_NAME_PATTERN
    max_tags: int = 200
    in_progress_jobs_per_model: int = 10
    min_list_results: int = 1
    max_list_results: int = 1000
    evidence: Mapping[str, str] = field(default_factory=lambda: _EVIDENCE, compare=False)


DEFAULT_LIMITS = BatchLimits()


# -- which models take batch jobs ------------------------------------------------------------------------------


def batch_support(spec: ModelSpec) -> str:
    """``"verified"`` (the catalog's batch record is verified by price list, probe or doc) or ``"unknown"``.

    The catalog never records a model as not batch-capable: nothing read rules one out, and the authoritative answer
    is Bedrock's own ``Batch inference is not supported for the requested model.`` at Create [R].
    """
    return "verified" if spec.batch is not None and spec.batch.verified else "unknown"


def batch_capable(spec: ModelSpec) -> bool | None:
    """True where the catalog verifies batch support; None where it is unknown (never False: see
    :func:`batch_support`)."""
    return True if batch_support(spec) == "verified" else None


# -- sharding --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shard:
    """A run of consecutive records that goes into one input file of one job.

    Attributes:
        job: The job's number, from 0.
        file: The file's number within its job, from 0.
        start: Index of the first record (in the whole stream).
        count: Records in the file.
        bytes: The file's size: the records' sizes (each including its ``\\n``).
    """

    job: int
    file: int
    start: int
    count: int
    bytes: int

    @property
    def stop(self) -> int:
        """Index one past the last record."""
        return self.start + self.count


def plan_shards(record_sizes: Iterable[int], limits: BatchLimits = DEFAULT_LIMITS) -> Iterator[Shard]:
    """Split a stream of record byte sizes (each with its ``\\n``) into files and jobs within ``limits``.

    Greedy and streaming: a file closes when the next record would break a per-file limit; a job closes when it
    would break a per-job limit. Records keep their order, so a shard is a ``(start, count)`` range.
    The 100-record floor is not enforced here (a short last job is the caller's to refuse or run on demand).

    Raises:
        ValueError: A single record is larger than a file may be.
    """
    job = file = 0
    start = count = size = 0  # the open file
    job_records = job_bytes = 0  # the open job, closed files only
    for index, record_bytes in enumerate(record_sizes):
        if record_bytes > limits.bytes_per_file or record_bytes > limits.bytes_per_job:
            raise ValueError(f"record {index} is {record_bytes} bytes, more than an input file may hold")
        file_full = count + 1 > limits.records_per_file or size + record_bytes > limits.bytes_per_file
        job_full = (
            job_records + count + 1 > limits.records_per_job or job_bytes + size + record_bytes > limits.bytes_per_job
        )
        if count and (file_full or job_full):
            yield Shard(job, file, start, count, size)
            job_records += count
            job_bytes += size
            start, count, size = index, 0, 0
            if job_full:
                job, file, job_records, job_bytes = job + 1, 0, 0, 0
            else:
                file += 1
        count += 1
        size += record_bytes
    if count:
        yield Shard(job, file, start, count, size)
