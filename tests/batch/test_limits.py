"""Bedrock's batch quotas as data, the batch-capable question, and sharding within the quotas."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mistral_bedrock.batch.limits import (
    DEFAULT_LIMITS,
    BatchLimits,
    Shard,
    batch_capable,
    batch_support,
    plan_shards,
)
from mistral_bedrock.catalog import lookup


def test_defaults_are_the_researched_values() -> None:
    limits = DEFAULT_LIMITS
    assert limits.min_records_per_job == 100
    assert (limits.records_per_file, limits.records_per_job) == (50_000, 50_000)
    assert (limits.bytes_per_file, limits.bytes_per_job) == (10**9, 5 * 10**9)
    assert (limits.min_timeout_hours, limits.max_timeout_hours) == (24, 168)
    assert (limits.min_job_name, limits.max_job_name) == (1, 63)
    assert limits.max_tags == 200
    assert limits.in_progress_jobs_per_model == 10
    assert (limits.min_list_results, limits.max_list_results) == (1, 1000)


def test_every_limit_has_its_evidence() -> None:
    evidence = DEFAULT_LIMITS.evidence
    shared = {"min_timeout_hours": "timeout_hours", "max_timeout_hours": "timeout_hours"}
    shared |= {"min_job_name": "job_name", "max_job_name": "job_name", "job_name_pattern": "job_name"}
    shared |= {"min_list_results": "list_max_results", "max_list_results": "list_max_results"}
    for f in fields(BatchLimits):
        if f.name != "evidence":
            grade = evidence[shared.get(f.name, f.name)]
            assert grade.startswith("["), f.name
    assert "not adjustable" in evidence["min_records_per_job"]
    assert "conflict" in evidence["in_progress_jobs_per_model"]  # [D] 10 vs [R] 100: said so


def test_limits_are_overridable_and_hashable() -> None:
    mine = replace(DEFAULT_LIMITS, records_per_job=100_000)
    assert mine.records_per_job == 100_000
    assert mine.evidence == DEFAULT_LIMITS.evidence
    assert hash(mine) != hash(DEFAULT_LIMITS)


def test_batch_capable_is_verified_or_unknown() -> None:
    assert batch_support(lookup("mistral-large-3")) == "verified"
    assert batch_capable(lookup("ministral-3-8b")) is True
    assert batch_support(lookup("mistral.mistral-7b-instruct-v0:2")) == "unknown"
    assert batch_capable(lookup("mistral.mistral-7b-instruct-v0:2")) is None


def test_shards_split_on_records_per_file_and_per_job() -> None:
    limits = replace(DEFAULT_LIMITS, records_per_file=3, records_per_job=5)
    assert list(plan_shards([10] * 12, limits)) == [
        Shard(0, 0, 0, 3, 30),
        Shard(0, 1, 3, 2, 20),
        Shard(1, 0, 5, 3, 30),
        Shard(1, 1, 8, 2, 20),
        Shard(2, 0, 10, 2, 20),
    ]


def test_shards_split_on_bytes() -> None:
    limits = replace(DEFAULT_LIMITS, bytes_per_file=100, bytes_per_job=250)
    shards = list(plan_shards([60, 30, 20, 90, 90, 10], limits))
    assert [(s.job, s.file, s.start, s.count, s.bytes) for s in shards] == [
        (0, 0, 0, 2, 90),
        (0, 1, 2, 1, 20),
        (0, 2, 3, 1, 90),
        (1, 0, 4, 2, 100),
    ]
    with pytest.raises(ValueError, match="record 1"):
        list(plan_shards([10, 101], limits))
    assert list(plan_shards([], limits)) == []


@given(
    st.lists(st.integers(1, 50), max_size=200),
    st.integers(1, 20),
    st.integers(1, 40),
    st.integers(50, 200),
    st.integers(50, 600),
)
def test_shards_cover_every_record_once_within_limits(
    sizes: list[int], per_file: int, per_job: int, file_bytes: int, job_bytes: int
) -> None:
    limits = replace(
        DEFAULT_LIMITS,
        records_per_file=per_file,
        records_per_job=per_job,
        bytes_per_file=file_bytes,
        bytes_per_job=job_bytes,
    )
    shards = list(plan_shards(sizes, limits))
    position = 0
    jobs: dict[int, list[Shard]] = {}
    for shard in shards:
        assert shard.start == position
        assert 0 < shard.count <= per_file
        assert shard.bytes == sum(sizes[shard.start : shard.stop]) <= file_bytes
        position = shard.stop
        jobs.setdefault(shard.job, []).append(shard)
    assert position == len(sizes)
    for number, (job, parts) in enumerate(sorted(jobs.items())):
        assert job == number
        assert [p.file for p in parts] == list(range(len(parts)))
        assert sum(p.count for p in parts) <= per_job
        assert sum(p.bytes for p in parts) <= job_bytes
