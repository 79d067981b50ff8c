"""``mistral-bedrock batch validate FILE --model M``: every record checked as Bedrock would answer it.

Each ``modelInput`` goes through the runtime's own request validation, so a problem carries Bedrock's message; the
batch-only rules (unique recordIds, ``.jsonl``, the 100-record floor, no ``toolConfig`` under Converse…) come from
:mod:`mistral_bedrock.batch.validation`. The file is streamed: memory stays flat at a million records.

Prints one ``FILE:LINE: recordId: message`` line per problem, then a summary; exits 1 when there is any error
(warnings alone exit 0).
"""

from __future__ import annotations

from pathlib import Path

import click

from .batch_options import invocation
from .batch_words import plural

__all__ = ["command"]


@click.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "-m", required=True, help="Model id, alias, ARN or inference profile the job is for.")
@click.option("--converse", is_flag=True, help="Records are Converse requests (modelInvocationType Converse).")
@click.option("--region", metavar="REGION", help="Warn when the catalog does not list the model in this Region.")
@click.option("--on-demand", is_flag=True, help="Check for batch run: no per-job floor or file quotas.")
@click.option("--max-problems", type=click.IntRange(1), default=100, show_default=True, help="Problems listed.")
def command(file: Path, model: str, converse: bool, region: str | None, on_demand: bool, max_problems: int) -> None:
    """Validate FILE (JSONL records) for MODEL; exit 1 when any record or the file has an error."""
    from .batch_input import check_input, problem_line

    checked = check_input(
        file, model=model, invocation=invocation(converse), region=region, on_demand=on_demand,
        max_problems=max_problems,
    )  # fmt: skip
    report = checked.report
    for problem in report.problems:
        click.echo(problem_line(checked, problem))
    listed = f" (the first {len(report.problems)} listed; --max-problems shows more)" if report.truncated else ""
    click.echo(
        f"{file}: {plural(report.records, 'record')}, {plural(report.errors, 'error')}, "
        f"{plural(report.warnings, 'warning')}{listed}"
    )
    if not report.ok:
        raise click.exceptions.Exit(1)
