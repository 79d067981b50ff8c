"""The emulated batch control plane of one app: its jobs, their clock, and the tasks that run them.

Jobs run as asyncio tasks on the loop that serves the app, started by the Create that accepts them. The plane
keeps a reference to each until it ends (the loop keeps only weak ones). When the server stops, its loop cancels
whatever is still running (``asyncio.run`` does so on the way out): a job cut off so stays where it was, and its
local work files go with it; nothing outlives the process [I] (Bedrock's jobs outlive any client).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from mistral_bedrock.batch.status import JobStatus
from mistral_bedrock.batch.storage import ObjectStore, open_store
from mistral_bedrock.catalog import resolve
from mistral_bedrock.engines import Engine
from mistral_bedrock.engines.relay import Relay
from mistral_bedrock.errors import ValidationException
from mistral_bedrock.formats.window import WindowPolicy

from ..config import RuntimeConfig
from ..faults import FaultController
from .create import parse_create
from .engine_backend import RecordContext
from .executor import Executor
from .job import Interrupt, Job
from .lifecycle import HOLDABLE, JobClock, Lifecycle
from .listing import ListQuery, page
from .registry import JobRegistry
from .settings import DEFAULT_ACCOUNT, DEFAULT_REGION, BatchSettings
from .shapes import job_shape
from .temporary_store import TemporaryStore

__all__ = ["BatchPlane"]


def _account(role_arn: str) -> str:
    """The account job ARNs carry: the role's (the caller's own, in the usual set-up) or a placeholder [I].

    A role ARN is ``arn:aws[-partition]:iam::{account}:role/…``; the account may be empty in its pattern.
    """
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else DEFAULT_ACCOUNT


class BatchPlane:
    """Create, Get, List and Stop, and the control endpoint's holds, clock and waits.

    Args:
        settings: The batch settings.
        config: The app's settings (the engine's window policy, token counting, the state directory).
        engine: The app's engine.
        faults: The app's fault rules (drawn per record).
        store: Where ``s3://`` URIs point; by default from ``settings.store``, else ``STATE_DIR/batch-store``,
            else a temporary directory made on first use (:class:`~.temporary_store.TemporaryStore`).
        wall: Where the job clock's real time comes from.
    """

    def __init__(
        self,
        settings: BatchSettings,
        config: RuntimeConfig,
        engine: Engine | Relay,
        faults: FaultController,
        *,
        store: ObjectStore | None = None,
        wall: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or self._default_store(settings, config)
        self.clock = JobClock(wall)
        self.lifecycle = Lifecycle(self.clock)
        self.registry = JobRegistry(settings.limits.in_progress_jobs_per_model)
        self._config = config
        self._engine = engine
        self._faults = faults
        self.executor = Executor(self.lifecycle, settings, self.store, self._record_context)
        self._tasks: set[asyncio.Task[None]] = set()

    def _default_store(self, settings: BatchSettings, config: RuntimeConfig) -> ObjectStore:
        if settings.store is not None:
            return open_store(settings.store)
        if config.state_dir is not None:
            root = Path(config.state_dir) / "batch-store"
            root.mkdir(parents=True, exist_ok=True)
            return open_store(root)
        return TemporaryStore()

    def _record_context(self, job: Job) -> RecordContext:
        return RecordContext(
            engine=self._engine,
            faults=self._faults,
            model=resolve(job.request.model_id, enforce_profile=False),
            region=job.region,
            padding=self._config.padding,
            count_tokens=self._config.count_tokens,
            window=WindowPolicy(self._config.window_policy),
        )

    # -- the four operations -------------------------------------------------------------------------------

    def create_job(self, body: bytes, region: str | None) -> dict[str, Any]:
        """CreateModelInvocationJob: the job's ARN (an earlier one's, for a token seen before)."""
        scope = region or DEFAULT_REGION
        request = parse_create(body, region if self._config.check_region else None, self.settings)
        earlier = self.registry.replay(scope, request)
        if earlier is not None:
            return {"jobArn": earlier.arn}
        job = self.registry.add(scope, _account(request.role_arn), request, self.clock.now())
        self.lifecycle.touch(job)
        self._start(job)
        return {"jobArn": job.arn}

    def _start(self, job: Job) -> None:
        loop = asyncio.get_running_loop()
        task = loop.create_task(self.executor.run(job), name=f"batch-job-{job.job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # Expiry in real time; the control clock's moves check it at once (advance_clock).
        delay = (job.expiration - self.clock.now()).total_seconds()
        loop.call_later(max(0.0, delay), self.expire_due)

    def get_job(self, identifier: str, region: str | None) -> dict[str, Any]:
        """GetModelInvocationJob."""
        return job_shape(self.registry.find(identifier, region or DEFAULT_REGION))

    def list_jobs(self, params: Mapping[str, str], region: str | None) -> dict[str, Any]:
        """ListModelInvocationJobs: one page, and the next page's token."""
        query = ListQuery.parse(params, self.settings.limits)
        jobs, token = page(self.registry.in_scope(region or DEFAULT_REGION), query)
        answer: dict[str, Any] = {"invocationJobSummaries": [job_shape(job) for job in jobs]}
        if token is not None:
            answer["nextToken"] = token
        return answer

    def stop_job(self, identifier: str, region: str | None) -> dict[str, Any]:
        """StopModelInvocationJob: a job not yet ended goes Stopping, then Stopped once its task has written what
        it answered.

        Raises:
            ValidationException: The job has ended already; the message names its status (``State was:
                Completed``) [R].
        """
        job = self.registry.find(identifier, region or DEFAULT_REGION)
        if job.status.terminal or job.status is JobStatus.STOPPING:
            raise ValidationException(f"The job {job.arn} can't be stopped. State was: {job.status.value}")
        self.lifecycle.move(job, JobStatus.STOPPING)
        self.lifecycle.request_interrupt(job, Interrupt.STOP)
        return {}

    # -- expiry and the control endpoint -------------------------------------------------------------------

    def expire_due(self) -> None:
        """Interrupt every job whose expiration the job clock has passed: one still waiting ends Expired, one
        running ends PartiallyCompleted (the executor tells which by where the job is)."""
        now = self.clock.now()
        for job in self.registry:
            if not job.status.terminal and job.interrupt is None and now >= job.expiration:
                self.lifecycle.request_interrupt(job, Interrupt.EXPIRE)

    def advance_clock(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.expire_due()

    def hold(self, phases: list[str]) -> None:
        """Keep jobs in these phases until ``advance`` lets each go (replaces the holds in force).

        Raises:
            ValueError: A phase that cannot be held.
        """
        holdable = {p.value: p for p in HOLDABLE}
        unknown = [p for p in phases if p not in holdable]
        if unknown:
            raise ValueError(f"phases that can be held are {', '.join(holdable)}; got {', '.join(unknown)}")
        self.lifecycle.set_holds({holdable[p] for p in phases}, self.registry)

    def advance(self, identifier: str, region: str | None, records: int | None) -> None:
        self.lifecycle.advance(self.registry.find(identifier, region or DEFAULT_REGION), records)

    async def settle(self, identifier: str, region: str | None, timeout: float) -> dict[str, Any]:
        """The job once it has ended or waits at a hold (or ``timeout`` seconds on, whichever comes first)."""
        job = self.registry.find(identifier, region or DEFAULT_REGION)
        await self.lifecycle.wait_for(lambda: job.status.terminal or job.parked is not None, timeout)
        return job_shape(job)

    def describe(self) -> dict[str, Any]:
        return {
            "clock": self.clock.now().isoformat(),
            "offsetSeconds": self.clock.offset.total_seconds(),
            "holds": sorted(p.value for p in self.lifecycle.holds),
            "store": repr(self.store),
        }
