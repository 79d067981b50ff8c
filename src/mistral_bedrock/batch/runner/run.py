"""The runner's pipeline: input records → a bounded queue → N workers → the output file.

Memory stays flat in the number of records: the input is read lazily, at most ``2 * concurrency`` records wait in
the queue, and finished records leave only a bit in the resume bitmap. (Gathering one task per record instead
holds every pending task: +2.7 GB for a million records [M].) Workers write each line as they finish it, between
two awaits, so lines never interleave and come out in completion order (shuffled, as Bedrock's are [R]).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mistral_bedrock.catalog import ModelSpec, resolve
from mistral_bedrock.errors import BedrockError

from ..invocation import InvocationType
from ..outcome import Backend, RecordOutcome
from ..output import Manifest, output_line
from ..records import InputRecord
from .limiter import Limiter
from .progress import Progress, Tally
from .reservation import reserved_tokens
from .resume import OutputWriter, Resumed, recover
from .settings import RunSettings

__all__ = ["DEFAULT_SETTINGS", "RunReport", "run_records"]

DEFAULT_SETTINGS = RunSettings()
THROTTLED = "ThrottlingException"
#: Skipping resumed records never awaits; this many in a row, then the loop gets a turn.
_SKIPS_PER_TURN = 1024


@dataclass
class RunReport:
    """How a run ended.

    Attributes:
        manifest: The counts for ``manifest.json.out``, earlier runs' records included; ``total`` is the records
            read from the input (resumed ones included).
        retries: Attempts beyond each record's first, in this run.
        resumed: Records already written by an earlier run, skipped.
        stopped: Whether ``stop`` was set before the input ran out (records not taken are left for a resume).
    """

    manifest: Manifest
    retries: int
    resumed: int
    stopped: bool


def _spec(model_id: str) -> ModelSpec:
    try:
        return resolve(model_id, enforce_profile=False).spec
    except BedrockError as exc:
        raise ValueError(f"model_id {model_id!r}: {exc.message}") from None


class _Run:
    """One run's state; :func:`run_records` is its only user."""

    def __init__(
        self,
        backend: Backend,
        model_id: str,
        invocation: InvocationType,
        settings: RunSettings,
        resumed: Resumed,
        writer: OutputWriter,
        stop: asyncio.Event,
        progress: Callable[[Progress], None] | None,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float],
    ) -> None:
        self.backend = backend
        self.model_id = model_id
        self.invocation = invocation
        self.settings = settings
        self.resumed = resumed
        self.writer = writer
        self.stop = stop
        self.progress = progress
        self.sleep = sleep
        self.clock = clock
        self.limiter = Limiter(settings, clock, sleep)
        # Counting tokens costs about 0.1 ms a record; only a token limit needs the count.
        self.spec = _spec(model_id) if self.limiter.counts_tokens else None
        self.rng = random.Random(settings.seed)
        self.queue: asyncio.Queue[InputRecord | None] = asyncio.Queue(2 * settings.concurrency)
        self.manifest = Manifest(**vars(resumed.manifest))
        self.tally = Tally()
        self.skipped = 0
        self.stopped = False
        self.started = clock()
        self.reported = self.started

    # -- the reader -------------------------------------------------------------------------------
    async def read(self, records: Iterator[InputRecord]) -> None:
        """Queue the records not done yet until the input runs out or ``stop`` is set, then an end mark per worker.

        No end marks on failure or cancellation: the workers are cancelled then, and a full queue would never take
        them.
        """
        while not self.stop.is_set():
            record = next(records, None)
            if record is None:
                break
            self.manifest.total += 1
            if record.index in self.resumed.done:
                self.skipped += 1
                if self.skipped % _SKIPS_PER_TURN == 0:
                    await asyncio.sleep(0)
                continue
            await self.queue.put(record)
        else:
            self.stopped = True
        for _ in range(self.settings.concurrency):
            await self.queue.put(None)

    # -- the workers ------------------------------------------------------------------------------
    async def work(self) -> None:
        while (record := await self.queue.get()) is not None:
            if self.stop.is_set():  # queued but not started: left for a resume
                self.stopped = True
                continue
            self.tally.in_flight += 1
            outcome = await self.answer(record)
            self.writer.write(record.index, output_line(record, outcome), outcome)
            self.tally.in_flight -= 1
            self.count(outcome)

    async def answer(self, record: InputRecord) -> RecordOutcome:
        """The record's final outcome: retryable failures are tried again, with full-jitter backoff."""
        spec = self.spec
        reserve = 0 if spec is None else reserved_tokens(spec, self.invocation, record.model_input)
        attempt = 1
        while True:
            ticket = await self.limiter.acquire(reserve)
            outcome = await self.backend.invoke(self.model_id, self.invocation, record.model_input)
            used = outcome.input_tokens + outcome.output_tokens
            self.limiter.settle(ticket, used, throttled=outcome.error_code == THROTTLED)
            if outcome.ok or not outcome.retryable or attempt >= self.settings.max_attempts:
                return outcome
            self.tally.retries += 1
            ceiling = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempt - 1))
            await self.sleep(self.rng.uniform(0, ceiling))
            attempt += 1

    def count(self, outcome: RecordOutcome) -> None:
        self.manifest.add(outcome)
        self.tally.done += 1
        self.tally.errors += not outcome.ok
        self.tally.input_tokens += outcome.input_tokens
        self.tally.output_tokens += outcome.output_tokens
        if self.progress is not None and self.clock() - self.reported >= self.settings.progress_interval:
            self.report()

    def report(self) -> None:
        if self.progress is None:
            return
        now = self.clock()
        self.reported = now
        requests, tokens = self.limiter.rates()
        tally = self.tally
        self.progress(
            Progress(
                done=tally.done,
                errors=tally.errors,
                resumed=self.skipped,
                retries=tally.retries,
                in_flight=tally.in_flight,
                input_tokens=tally.input_tokens,
                output_tokens=tally.output_tokens,
                elapsed=now - self.started,
                requests_per_minute=requests,
                tokens_per_minute=tokens,
            )
        )


async def _supervise(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for every task. If one raises, or this wait is cancelled (Ctrl-C), the others are cancelled and waited
    for, so none outlives the run; a task's exception is raised as itself, not in an ``ExceptionGroup``."""
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error


async def run_records(
    records: Iterable[InputRecord],
    backend: Backend,
    *,
    model_id: str,
    invocation: InvocationType,
    output: Path,
    settings: RunSettings = DEFAULT_SETTINGS,
    stop: asyncio.Event | None = None,
    progress: Callable[[Progress], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RunReport:
    """Answer every record through ``backend`` and append Bedrock's output lines to ``output``.

    A run resumes where an earlier one over the same input stopped (killed, or stopped with ``stop``): records
    already in ``output`` are skipped (see :mod:`.resume`). A retryable outcome (throttling, a 5xx) is tried again
    up to ``settings.max_attempts`` times, then written as its error line; any other error is written at once, as
    Bedrock writes a record it refuses, and the run goes on.

    Args:
        records: The input, consumed lazily (never held whole).
        backend: Answers each record.
        model_id: The model (or inference profile) every record goes to.
        invocation: What the records' ``modelInput`` are.
        output: The ``<input>.jsonl.out`` file, appended to; ``<output>.idx`` beside it records what is done.
        settings: Concurrency, limits and retries.
        stop: When set, no new record is taken; records in flight finish and are written.
        progress: Called with a :class:`Progress` every ``settings.progress_interval`` seconds and at the end, on
            the event loop (so it should return quickly: a display, not I/O).
        sleep: Waits for backoff and for the limits (tests inject one that advances a fake clock).
        clock: Monotonic seconds, for the limits and the progress figures.

    Returns:
        The manifest's counts (write them with :func:`~.manifest.write_manifest`), retries, resumed records, and
        whether the run was stopped.

    Raises:
        ResumeError: ``output`` holds records its index does not account for.
        ValueError: ``model_id`` names no model (only checked when a token limit needs the model).
        RecordLineError: A line of the input is not a record (raised by ``records``).
    """
    resumed = recover(output)
    writer = OutputWriter(output)
    try:
        run = _Run(
            backend, model_id, invocation, settings, resumed, writer, stop or asyncio.Event(), progress, sleep, clock
        )
        tasks = [asyncio.create_task(run.read(iter(records)))]
        tasks += [asyncio.create_task(run.work()) for _ in range(settings.concurrency)]
        await _supervise(tasks)
    finally:
        writer.close()
    run.report()
    return RunReport(run.manifest, run.tally.retries, run.skipped, run.stopped)
