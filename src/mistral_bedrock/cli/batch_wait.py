"""``mistral-bedrock batch wait JOB``: follow a job to its end.

Polls GetModelInvocationJob every ``--interval`` seconds, with ±20 % jitter so that many waiters do not poll in
step. On a terminal it shows a live line (rich): phase, processed/total, errors, elapsed, expiration; elsewhere one
line per change on stderr. Waiting never changes the job: Ctrl-C stops only the waiting (exit 130), and
``--timeout`` gives up waiting with :data:`EXIT_TIMEOUT` and says how to resume.

Exit status: 0 when the job completed with no error record; 1 when it ended any other way (Completed with errors
included: "Completed" does not mean the records worked); :data:`EXIT_TIMEOUT` on ``--timeout``.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import click

from .backend import note
from .batch_handles import resolve_job
from .batch_options import ControlOptions, chosen_endpoint, control_options, open_control
from .batch_show import counts_text, elapsed_text, time_text, verdict
from .failures import EXIT_INTERRUPTED, UsageFailure, guard

if TYPE_CHECKING:
    from ..batch.jobs import BatchJob

__all__ = ["EXIT_TIMEOUT", "command"]

#: Gave up waiting; the job goes on (the status timeout(1) exits with).
EXIT_TIMEOUT = 124
_JITTER = 0.2
# Seconds: faster polling only spends the account's GetModelInvocationJob quota; a local runtime has none.
_BEDROCK_FLOOR = 1.0


def progress_text(job: BatchJob, now: datetime) -> str:
    """``InProgress · 40/120 records, 2 errors · 3m12s · expires 2026-12-02 03:04:05 UTC``."""
    elapsed = elapsed_text(((job.end_time or now) - job.submit_time).total_seconds())
    return f"{job.status.value} · {counts_text(job)} · {elapsed} · expires {time_text(job.job_expiration_time)}"


@contextmanager
def _display(live: bool) -> Iterator[Callable[[BatchJob], None]]:
    """A function that shows each polled state: a live rich line on a terminal, else one stderr line per change."""
    if not live:
        last: list[str] = []

        def line(job: BatchJob) -> None:
            # Elapsed time changes on every poll: only a change of phase or counts makes a new line.
            key = f"{job.status.value} · {counts_text(job)}"
            if not last or last[-1] != key:
                last.append(key)
                click.echo(progress_text(job, datetime.now(timezone.utc)), err=True)

        yield line
        return
    from rich.console import Console
    from rich.live import Live
    from rich.spinner import Spinner

    spinner = Spinner("dots", "waiting…")
    with Live(spinner, console=Console(stderr=True), transient=False):

        def update(job: BatchJob) -> None:
            spinner.update(text=progress_text(job, datetime.now(timezone.utc)))  # Live redraws it, still spinning

        yield update


@click.command("wait")
@click.argument("job")
@click.option(
    "--interval", type=click.FloatRange(min=0), default=30.0, show_default=True, metavar="SECONDS",
    help="Seconds between polls (jittered by 20%); at least 1 against Amazon Bedrock.",
)  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0), metavar="SECONDS", help="Give up waiting after this long.")
@control_options
def command(job: str, interval: float, timeout: float | None, control: ControlOptions) -> None:
    """Wait for JOB (a job name with a handle, a 12-character job id, or an ARN) to end; the job is never stopped.

    Exits 0 when it completed with no error record, 1 when it ended otherwise, 124 on --timeout.
    """
    resolved = resolve_job(job, control.state_dir)
    if interval < _BEDROCK_FLOOR and chosen_endpoint(control, resolved.handle) is None:
        raise UsageFailure(
            f"--interval {interval:g}: poll Amazon Bedrock at most once a second (GetModelInvocationJob is throttled "
            "per account); pass 1 or more"
        )
    deadline = None if timeout is None else time.monotonic() + timeout
    rng = random.Random()
    try:
        with guard(), open_control(control, resolved.handle) as client, _display(sys.stderr.isatty()) as show:
            identifier = resolved.identify(client)
            while True:
                found = client.get_job(identifier)
                show(found)
                if found.terminal:
                    break
                pause = interval * rng.uniform(1 - _JITTER, 1 + _JITTER)
                if deadline is not None and time.monotonic() + pause > deadline:
                    note(
                        f"gave up waiting after {timeout:g} s; {found.job_id} is still "
                        f"{found.status.value} and goes on: resume with mistral-bedrock batch wait {job}"
                    )
                    raise click.exceptions.Exit(EXIT_TIMEOUT)
                time.sleep(pause)
    except click.exceptions.Exit as exc:
        if exc.exit_code == EXIT_INTERRUPTED:
            note(
                f"stopped waiting; the job goes on (mistral-bedrock batch wait {job} resumes, "
                f"mistral-bedrock batch stop {job} stops it)"
            )
        raise
    problem = verdict(found)
    if problem is not None:
        # Only records that were answered have error lines to show.
        hint = f" (mistral-bedrock batch results {job} shows them)" if found.partial_failure else ""
        note(f"{problem}{hint}")
        raise click.exceptions.Exit(1)
    click.echo(f"{found.job_name}: Completed · {counts_text(found)}")
