"""How the ``batch`` commands show a job: one summary for people, the wire JSON for scripts, and the verdict.

"Completed" does not mean the records worked: Bedrock reports Completed for a job whose every record failed [R]. So
the verdict (:func:`verdict`) reads the counts too, and every command that follows a job to its end exits 1 unless
it completed with no error record.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..batch.status import JobStatus

if TYPE_CHECKING:
    from ..batch.jobs import BatchJob

__all__ = ["counts_text", "elapsed_text", "summary_lines", "time_text", "verdict"]

# Why a job that ended did not work, by status; Completed is judged by its error count instead.
_ENDED_BADLY: dict[JobStatus, str] = {
    JobStatus.FAILED: "the job failed",
    JobStatus.STOPPED: "the job was stopped",
    JobStatus.EXPIRED: "the job expired before it started (it was never scheduled within its timeout)",
    JobStatus.PARTIALLY_COMPLETED: "not every record was processed before the job's timeout",
}


def time_text(moment: datetime | None) -> str:
    """``2026-12-01 03:04:05 UTC``, or ``-``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def elapsed_text(seconds: float) -> str:
    """``1h02m03s``, ``2m03s`` or ``3s``."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def counts_text(job: BatchJob) -> str:
    """``40/120 records, 2 errors``; Bedrock reports counts only for newer jobs, and this says so."""
    if job.total_records is None and job.processed_records is None:
        return "no record counts reported"
    total = "?" if job.total_records is None else str(job.total_records)
    errors = job.error_records or 0
    return f"{job.processed_records or 0}/{total} records, {errors} error{'s' if errors != 1 else ''}"


def summary_lines(job: BatchJob, now: datetime | None = None) -> list[tuple[str, str]]:
    """The job as (label, value) rows."""
    now = now or datetime.now(timezone.utc)
    end = job.end_time or now
    rows = [
        ("job", f"{job.job_name} ({job.job_arn})"),
        ("status", f"{job.status.value} · {counts_text(job)}"),
        ("model", f"{job.model_id} ({job.invocation_type.value})"),
        ("submitted", time_text(job.submit_time)),
        ("ended", time_text(job.end_time)),
        ("elapsed", elapsed_text((end - job.submit_time).total_seconds())),
        ("expires", time_text(job.job_expiration_time)),
        ("input", job.input_uri),
        ("output", job.output_prefix),
    ]
    if job.message:
        rows.append(("message", job.message))
    return rows


def verdict(job: BatchJob) -> str | None:
    """Why an ended job did not work, in one line; None when it completed with no error record (or has not ended).

    Completed with errors is a failure here: every record may have failed while the job says Completed.
    """
    if not job.terminal:
        return None
    if job.status is JobStatus.COMPLETED:
        if not job.error_records:
            return None
        return f"Completed, but {job.error_records} of {job.total_records or '?'} records failed"
    reason = _ENDED_BADLY[job.status]
    return f"{job.status.value}: {reason}" + (f": {job.message}" if job.message else "")
