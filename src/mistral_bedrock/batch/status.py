"""A batch job's statuses, as GetModelInvocationJob spells them, and which of them are final [D]."""

from __future__ import annotations

import enum

__all__ = ["JobStatus"]


class JobStatus(str, enum.Enum):
    """``Submitted → Validating → Scheduled → InProgress → Completed | PartiallyCompleted | Failed``; a stop goes
    ``Stopping → Stopped``; a job that never starts before its timeout ends ``Expired``."""

    SUBMITTED = "Submitted"
    VALIDATING = "Validating"
    SCHEDULED = "Scheduled"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    PARTIALLY_COMPLETED = "PartiallyCompleted"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    EXPIRED = "Expired"

    @property
    def terminal(self) -> bool:
        """Whether the job has ended: nothing more will be processed or written."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {JobStatus.COMPLETED, JobStatus.PARTIALLY_COMPLETED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.EXPIRED}
)
