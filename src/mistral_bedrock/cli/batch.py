"""``mistral-bedrock batch``: Bedrock batch inference from the command line, and its local stand-in.

Prepare and check a records file (``build``, ``validate``, ``estimate``), run it as a Bedrock batch job (``submit``,
``status``, ``wait``, ``results``, ``stop``, ``list``), or run the same file on demand, locally or against Bedrock
(``run``). One subcommand per module, imported only when it runs; ``docs/BATCH.md`` is the guide.
"""

from __future__ import annotations

import importlib

import click

__all__ = ["BATCH_COMMANDS", "command"]

# name → (module, one-line help), in the order a job goes through them.
BATCH_COMMANDS: dict[str, tuple[str, str]] = {
    "build": ("batch_build", "Turn prompts or conversations into a records file (JSONL) for a model."),
    "validate": ("batch_validate", "Check every record as Bedrock would answer it; FILE:LINE: recordId: message."),
    "estimate": ("batch_estimate", "Exact input tokens, the output bound, and the on-demand and batch prices."),
    "submit": ("batch_submit", "Validate, upload and create a batch job; a re-run never creates a second one."),
    "status": ("batch_status", "A job's status, record counts and times."),
    "wait": ("batch_wait", "Wait for a job to end, with its progress; Ctrl-C leaves the job running."),
    "results": ("batch_results", "Download a job's output, join it to the input by recordId, check the counts."),
    "stop": ("batch_stop", "Stop a job (processed tokens are still charged)."),
    "list": ("batch_list", "The account's batch jobs, newest first."),
    "run": ("batch_run", "Run a records file on demand (locally or on Bedrock), resumably, in Bedrock's format."),
}


class _BatchGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(BATCH_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = BATCH_COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"{__package__}.{entry[0]}")
        found: click.Command = module.command
        return found

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_text) for name, (_, help_text) in BATCH_COMMANDS.items()])


@click.group("batch", cls=_BatchGroup)
def command() -> None:
    """Bedrock batch inference: build, validate and estimate a records file, submit it and follow the job, or run
    it on demand.

    A job is named by its name (submit keeps a handle file per job), its 12-character id or its ARN.
    See docs/BATCH.md.
    """
