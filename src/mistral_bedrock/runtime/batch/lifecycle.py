"""A job's statuses over time: the job clock, the transitions, and the holds that let tests drive them.

``Submitted → Validating → Scheduled → InProgress → Completed | PartiallyCompleted | Failed``; a stop goes
``Stopping → Stopped``; a job still waiting when its clock passes ``jobExpirationTime`` ends ``Expired``, one
running then ends ``PartiallyCompleted`` [D]. Every change wakes whoever waits on :attr:`Lifecycle.changed`: the
executor at a hold, and the control endpoint that waits for a job to settle, so nothing polls or sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone

from mistral_bedrock.batch.status import JobStatus

from .job import Interrupt, Job

__all__ = ["HOLDABLE", "JobClock", "Lifecycle"]

#: The phases a control hold can keep a job in. At ``InProgress`` a hold lets records through by the count; at
#: ``Stopping`` it keeps a stopped job from becoming ``Stopped``, so a test can see the phase.
HOLDABLE = (
    JobStatus.SUBMITTED,
    JobStatus.VALIDATING,
    JobStatus.SCHEDULED,
    JobStatus.IN_PROGRESS,
    JobStatus.STOPPING,
)


class JobClock:
    """The time jobs see: the wall clock, moved forward by the control endpoint (never back).

    Args:
        wall: Where the real time comes from.
    """

    def __init__(self, wall: Callable[[], datetime] | None = None) -> None:
        self._wall = wall or (lambda: datetime.now(timezone.utc))
        self.offset = timedelta()

    def now(self) -> datetime:
        return self._wall() + self.offset

    def advance(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError(f"the job clock only moves forward; got {seconds}")
        try:
            offset = self.offset + timedelta(seconds=seconds)
            # A clock past datetime's range (the year 9999) would fail every later job, not this request.
            self._wall() + offset
        except OverflowError:
            raise ValueError(
                f"advanceSeconds {seconds:g} moves the job clock past the latest time it can show (year 9999)"
            ) from None
        self.offset = offset


class Lifecycle:
    """Status changes, holds and expiry, and the one condition every waiter waits on."""

    def __init__(self, clock: JobClock) -> None:
        self.clock = clock
        self.holds: set[JobStatus] = set()
        # One event per generation of changes: a change sets the current one and starts the next, so a waiter
        # that checked its predicate and then waits on the event it read cannot miss a change in between.
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Wake every waiter (they re-check their own predicate)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def touch(self, job: Job) -> None:
        """The job's counts or state changed: stamp it and wake the waiters."""
        job.last_modified = self.clock.now()
        self.notify()

    def move(self, job: Job, status: JobStatus, message: str | None = None) -> None:
        """Set the job's status (and its message); a final status stamps ``endTime``."""
        job.status = status
        if message is not None:
            job.message = message
        if status.terminal:
            job.end_time = self.clock.now()
            job.parked = None
        self.touch(job)

    def request_interrupt(self, job: Job, reason: Interrupt) -> None:
        """Ask a job to stop early; the first reason wins."""
        if job.interrupt is None:
            job.interrupt = reason
        job.parked = None  # released now, not when its task next runs: a settle that follows must wait for it
        self.notify()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        """Wait until ``predicate()`` holds (re-checked at every change); False if ``timeout`` seconds pass first."""

        async def until() -> None:
            while not predicate():
                await self._changed.wait()

        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            return predicate()
        return True

    def held(self, job: Job) -> bool:
        """Whether a hold keeps the job in its current phase (a pass from ``advance`` lets it go once)."""
        return job.status in self.holds and job.passes == 0

    def advance(self, job: Job, records: int | None) -> None:
        """Let a held job go on: one phase, or (at a held ``InProgress``) ``records`` more records, or all of them."""
        if job.status is JobStatus.IN_PROGRESS:
            job.allowance = None if records is None else (job.allowance or 0) + records
        else:
            job.passes += 1
        job.parked = None  # as in request_interrupt
        self.notify()

    def set_holds(self, phases: set[JobStatus], jobs: Iterable[Job]) -> None:
        """Replace the holds; jobs parked in a phase no longer held go on (a lifted InProgress hold lets every
        record through)."""
        self.holds = phases
        for job in jobs:
            if JobStatus.IN_PROGRESS not in phases:
                job.allowance = None
            if job.parked is not None and job.parked not in phases:
                job.parked = None
        self.notify()
