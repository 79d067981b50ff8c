"""``mistral-bedrock batch status JOB``: a job's status, record counts and times (GetModelInvocationJob)."""

from __future__ import annotations

import json

import click

from .backend import note
from .batch_handles import resolve_job
from .batch_options import ControlOptions, control_options, open_control
from .batch_show import summary_lines, verdict
from .failures import guard
from .output import json_option

__all__ = ["command"]


@click.command("status")
@click.argument("job")
@control_options
@json_option
def command(job: str, control: ControlOptions, as_json: bool) -> None:
    """Show JOB (a job name with a handle, a 12-character job id, or an ARN).

    Exits 1 when the job has ended without every record working (Completed with errors included).
    """
    resolved = resolve_job(job, control.state_dir)
    with guard(), open_control(control, resolved.handle) as client:
        found = client.get_job(resolved.identify(client))
    if as_json:
        click.echo(json.dumps(found.to_json(), ensure_ascii=False))
    else:
        for label, value in summary_lines(found):
            click.echo(f"{label:<10} {value}")
    problem = verdict(found)
    if problem is not None:
        note(problem)
        raise click.exceptions.Exit(1)
