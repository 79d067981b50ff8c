"""Runs one job through its phases, as an asyncio task on the server's loop.

Submitted → Validating (:mod:`.inputs`) → Scheduled → InProgress (the records through
:func:`~mistral_bedrock.batch.runner.run_records` with the :class:`~.engine_backend.EngineBackend`) → the final
status. Each waiting phase lasts what :class:`~.settings.PhaseTiming` says, and as long as a control hold keeps it.
Output is written under ``{outputUri}/{jobId}/`` when the job ends, whatever the end: a stopped or expired job
writes the records it answered, and the manifest counts them [D].

The job's records are answered on this process's engine; blocking storage calls run in worker threads. The job
has a work directory of its own from Validating on: the copies of its input files (:mod:`.inputs`), and one output
file per input file, each with the runner's resume index beside it, so no two files share a record index.
"""

from __future__ import annotations

import asyncio
import logging
import random
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from mistral_bedrock.batch.output import MANIFEST_NAME, Manifest, output_name
from mistral_bedrock.batch.runner import RunSettings, run_records
from mistral_bedrock.batch.runner.manifest import manifest_bytes
from mistral_bedrock.batch.runner.progress import Progress
from mistral_bedrock.batch.status import JobStatus
from mistral_bedrock.batch.storage import ObjectStore, StoreError

from .engine_backend import EngineBackend, RecordContext
from .inputs import Abandoned, InputFile, JobFailure, read_inputs
from .job import Interrupt, Job
from .lifecycle import Lifecycle
from .settings import BatchSettings, OutputOrder

__all__ = ["Executor"]

logger = logging.getLogger("mistral_bedrock.runtime.batch")

# Messages of the statuses that end a job early [I]: Bedrock's words are not known. Expired and PartiallyCompleted
# paraphrase the status documentation [D].
_EXPIRED = "The job did not start before its timeout of {hours} hours."
_PARTIAL = "Not all records could be processed before the job's timeout of {hours} hours."
_INTERNAL = "The job failed because of an internal error."


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            yield chunk


class Executor:
    """Runs jobs.

    Args:
        lifecycle: Status changes, holds and the waiters on them.
        settings: Timing, order, limits, concurrency.
        store: Where the ``s3://`` URIs point.
        context: The shared parts of a record's call, for a job (its model and Region).
    """

    def __init__(
        self,
        lifecycle: Lifecycle,
        settings: BatchSettings,
        store: ObjectStore,
        context: Callable[[Job], RecordContext],
    ) -> None:
        self.lifecycle = lifecycle
        self.settings = settings
        self.store = store
        self.context = context

    async def run(self, job: Job) -> None:
        """The job from Submitted to its final status; a failure anywhere ends it Failed, never raises."""
        try:
            with tempfile.TemporaryDirectory(prefix=f"batch-{job.job_id}-", ignore_cleanup_errors=True) as work:
                await self._run(job, Path(work))
        except JobFailure as failure:
            self.lifecycle.move(job, JobStatus.FAILED, failure.message)
        except asyncio.CancelledError:  # the server is stopping: the job ends with it
            raise
        except Exception:
            logger.exception("batch job %s failed", job.job_id)
            self.lifecycle.move(job, JobStatus.FAILED, _INTERNAL)

    async def _run(self, job: Job, work: Path) -> None:
        lifecycle = self.lifecycle
        if not await self._wait_phase(job, JobStatus.SUBMITTED):
            return
        lifecycle.move(job, JobStatus.VALIDATING)
        files = await self._read(job, work)
        if files is not None:
            job.counts = Manifest(total=sum(len(f.offsets) for f in files))
            lifecycle.touch(job)
        if not await self._wait_phase(job, JobStatus.VALIDATING) or files is None:
            return
        lifecycle.move(job, JobStatus.SCHEDULED)
        if not await self._wait_phase(job, JobStatus.SCHEDULED):
            return
        lifecycle.move(job, JobStatus.IN_PROGRESS)
        if JobStatus.IN_PROGRESS in lifecycle.holds:
            job.allowance = 0  # a held InProgress lets records through only by the count (Lifecycle.advance)
        await self._process(job, self._plan(job, files), work)

    async def _read(self, job: Job, work: Path) -> list[InputFile] | None:
        """The job's input, read in a worker thread; None if the job was stopped or expired meanwhile.

        The thread asks between chunks whether to go on: a stop, an expiry or the server's shutdown (which cancels
        this task but cannot stop a thread) ends the read within one chunk, not at the end of the file.
        """
        cancelled = threading.Event()
        try:
            return await asyncio.to_thread(self._validate, job, work, cancelled)
        except Abandoned:
            return None
        except asyncio.CancelledError:
            cancelled.set()
            raise

    def _validate(self, job: Job, work: Path, cancelled: threading.Event) -> list[InputFile]:
        output_uri = job.request.output_uri
        try:
            self.store.list(output_uri)
        except StoreError:
            raise JobFailure(f"Unable to access the output location {output_uri}: the bucket does not exist.") from None
        try:
            self.store.check_writable(_output_prefix(job))
        except StoreError as exc:
            raise JobFailure(f"Unable to write to the output location {output_uri}: {exc}.") from None
        return read_inputs(
            self.store,
            job.request.input_uri,
            self.settings.limits,
            work,
            lambda: cancelled.is_set() or job.interrupt is not None,
        )

    async def _wait_phase(self, job: Job, phase: JobStatus) -> bool:
        """Wait out a phase (its timing, then any hold); False if the job ended meanwhile.

        ``phase`` is named rather than read from the job: a Stop may have moved the job to Stopping meanwhile.
        """
        lifecycle = self.lifecycle
        seconds = self.settings.timing.seconds(phase)
        if seconds:
            await lifecycle.wait_for(lambda: job.interrupt is not None, timeout=seconds)
        if lifecycle.held(job) and job.interrupt is None:
            job.parked = job.status
            lifecycle.notify()
            await lifecycle.wait_for(lambda: job.interrupt is not None or not lifecycle.held(job))
            job.parked = None
        if job.passes:
            job.passes -= 1
        if job.interrupt is None and lifecycle.clock.now() >= job.expiration:
            job.interrupt = Interrupt.EXPIRE
        if job.interrupt is Interrupt.STOP:
            await self._stopped(job)
        elif job.interrupt is Interrupt.EXPIRE:
            lifecycle.move(job, JobStatus.EXPIRED, _EXPIRED.format(hours=job.request.timeout_hours))
        return job.interrupt is None

    async def _stopped(self, job: Job) -> None:
        """Stopping → Stopped, after a hold on ``Stopping`` (if any) lets the job go."""
        lifecycle = self.lifecycle
        if lifecycle.held(job):
            job.parked = JobStatus.STOPPING
            lifecycle.notify()
            await lifecycle.wait_for(lambda: not lifecycle.held(job))
            job.parked = None
        lifecycle.move(job, JobStatus.STOPPED)

    def _plan(self, job: Job, files: Sequence[InputFile]) -> list[tuple[InputFile, Sequence[int]]]:
        """What the InProgress phase answers: each file and its record positions in feed order, shuffled (seeded
        by the job) or the input's."""
        if self.settings.order is OutputOrder.INPUT:
            return [(f, range(len(f.offsets))) for f in files]
        rng = random.Random(f"{self.settings.seed}:{job.job_id}")
        return [(f, rng.sample(range(len(f.offsets)), len(f.offsets))) for f in files]

    async def _process(self, job: Job, plan: Sequence[tuple[InputFile, Sequence[int]]], work: Path) -> None:
        lifecycle = self.lifecycle
        backend = EngineBackend(self.context(job))
        # In input order, one record at a time: concurrency would let completion order reshuffle the lines.
        concurrency = 1 if self.settings.order is OutputOrder.INPUT else self.settings.concurrency
        run_settings = RunSettings(concurrency=concurrency, progress_interval=0)
        stop = asyncio.Event()
        watcher = asyncio.ensure_future(self._watch_interrupt(job, stop))
        done = Manifest(total=job.counts.total if job.counts else 0)
        written: list[tuple[InputFile, Path]] = []
        try:
            for index, (input_file, order) in enumerate(plan):
                if stop.is_set():
                    break
                output = work / f"output-{index}.jsonl.out"  # its own file, and its own resume index beside it
                written.append((input_file, output))
                file_counts = await self._answer(job, input_file, order, backend, output, run_settings, stop, done)
                done = _plus(done, file_counts)
                job.counts = replace(done)
                lifecycle.touch(job)
        finally:
            watcher.cancel()
        await asyncio.to_thread(self._write_output, job, written, done)
        if job.interrupt is Interrupt.STOP:
            await self._stopped(job)
        elif job.interrupt is Interrupt.EXPIRE and done.processed < done.total:
            lifecycle.move(job, JobStatus.PARTIALLY_COMPLETED, _PARTIAL.format(hours=job.request.timeout_hours))
        else:
            lifecycle.move(job, JobStatus.COMPLETED)

    async def _watch_interrupt(self, job: Job, stop: asyncio.Event) -> None:
        await self.lifecycle.wait_for(lambda: job.interrupt is not None)
        stop.set()

    async def _answer(
        self,
        job: Job,
        input_file: InputFile,
        order: Sequence[int],
        backend: EngineBackend,
        output: Path,
        run_settings: RunSettings,
        stop: asyncio.Event,
        before: Manifest,
    ) -> Manifest:
        """One file's records, in runs the InProgress hold allows (all at once without one); its counts.

        Each run appends to the same output, which the runner resumes: the counts of its last report cover every
        run of the file.
        """
        lifecycle = self.lifecycle
        pending = order
        counts = Manifest(total=len(order))

        def progress(report: Progress) -> None:
            run = Manifest(processed=report.done, success=report.done - report.errors, errors=report.errors)
            job.counts = _plus(before, counts, run)
            lifecycle.touch(job)

        while pending and not stop.is_set():
            if job.allowance == 0:
                job.parked = JobStatus.IN_PROGRESS
                lifecycle.notify()
                await lifecycle.wait_for(lambda: job.interrupt is not None or job.allowance != 0)
                job.parked = None
            if job.interrupt is not None:
                break
            take = len(pending) if job.allowance is None else min(job.allowance, len(pending))
            batch, pending = pending[:take], pending[take:]
            report = await run_records(
                input_file.records(batch),
                backend,
                model_id=job.request.catalog_id,
                invocation=job.request.invocation,
                output=output,
                settings=run_settings,
                stop=stop,
                progress=progress,
            )
            counts = replace(report.manifest, total=len(order))
            if job.allowance is not None:
                job.allowance -= take
            job.counts = _plus(before, counts)
            lifecycle.touch(job)
        return counts

    def _write_output(self, job: Job, written: list[tuple[InputFile, Path]], manifest: Manifest) -> None:
        prefix = _output_prefix(job)
        try:
            for input_file, path in written:
                if path.exists():
                    self.store.write(prefix + output_name(input_file.name), _chunks(path))
            # The store writes each object whole, so the manifest needs no local file of its own first.
            self.store.write(prefix + MANIFEST_NAME, iter((manifest_bytes(manifest),)))
        except StoreError:
            raise JobFailure(f"Unable to write the output to {prefix}.") from None


def _output_prefix(job: Job) -> str:
    """``{outputUri}/{jobId}/``, where Bedrock writes a job's output [D]."""
    return f"{job.request.output_uri.rstrip('/')}/{job.job_id}/"


def _plus(*manifests: Manifest) -> Manifest:
    """Counts added up; ``total`` is the first one's (the job's)."""
    first = manifests[0]
    return Manifest(
        total=first.total,
        processed=sum(m.processed for m in manifests),
        success=sum(m.success for m in manifests),
        errors=sum(m.errors for m in manifests),
        input_tokens=sum(m.input_tokens for m in manifests),
        output_tokens=sum(m.output_tokens for m in manifests),
    )
