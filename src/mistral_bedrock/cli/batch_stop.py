"""``mistral-bedrock batch stop JOB``: stop a job (StopModelInvocationJob).

Bedrock charges the tokens already processed [D]. Stopping a job that has already ended is Bedrock's
``ValidationException`` (its message says the state), reported in one line with exit status 1.
"""

from __future__ import annotations

import click

from .batch_handles import resolve_job
from .batch_options import ControlOptions, control_options, open_control
from .failures import guard

__all__ = ["command"]


@click.command("stop")
@click.argument("job")
@control_options
def command(job: str, control: ControlOptions) -> None:
    """Stop JOB (a job name with a handle, a 12-character job id, or an ARN); what it processed is kept."""
    resolved = resolve_job(job, control.state_dir)
    with guard(), open_control(control, resolved.handle) as client:
        client.stop_job(identifier := resolved.identify(client))
    click.echo(f"stopping {identifier} (mistral-bedrock batch wait {job} follows it to Stopped)")
