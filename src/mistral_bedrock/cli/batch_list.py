"""``mistral-bedrock batch list``: the account's batch jobs, newest first (ListModelInvocationJobs, every page)."""

from __future__ import annotations

import json

import click

from ..batch.status import JobStatus
from .batch_options import ControlOptions, control_options, open_control
from .batch_show import counts_text, time_text
from .failures import guard
from .output import json_option

__all__ = ["command"]


@click.command("list")
@click.option("--status", "status", type=click.Choice([s.value for s in JobStatus]), help="Only jobs in this status.")
@click.option("--name-contains", metavar="TEXT", help="Only jobs whose name contains TEXT.")
@click.option("--max", "limit", type=click.IntRange(1), metavar="N", help="At most N jobs.")
@control_options
@json_option
def command(status: str | None, name_contains: str | None, limit: int | None, control: ControlOptions,
            as_json: bool) -> None:  # fmt: skip
    """List batch jobs, newest first: name, id, status, counts, submit time."""
    from ..client.batch_control import JobQuery

    query = JobQuery(
        status=JobStatus(status) if status else None,
        name_contains=name_contains,
        sort_order="Descending",
        page_size=min(limit, 1000) if limit else None,
    )
    with guard(), open_control(control) as client:
        jobs = list(client.list_jobs(query, limit=limit))
    if as_json:
        click.echo(json.dumps([job.to_json() for job in jobs], ensure_ascii=False))
        return
    if not jobs:
        click.echo("no batch jobs", err=True)
        return
    for job in jobs:
        click.echo(f"{job.job_name}  {job.job_id}  {job.status.value:<18} {counts_text(job):<28} "
                   f"{time_text(job.submit_time)}")  # fmt: skip
