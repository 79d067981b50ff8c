"""``mistral-bedrock batch estimate FILE --model M``: what a records file will cost, before it is submitted.

Input tokens are counted exactly, with the model's tokenizer, as Bedrock's usage counts them (``--sample N``
counts about N records and scales, and says so). Output is bounded by each record's max tokens. The batch price is
the catalog's: where the catalog has none for the model, the command says so and shows none rather than guess.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import MistralBedrockError
from .batch_options import invocation
from .failures import fail
from .output import json_option

if TYPE_CHECKING:
    from ..batch.cost import Estimate
    from ..batch.invocation import InvocationType

__all__ = ["command", "estimate_file", "estimate_rows"]


def estimate_file(path: Path, *, model: str, kind: InvocationType, sample: int | None = None) -> Estimate:
    """The estimate of a records file, streamed.

    Raises:
        UsageFailure: A line that is not a record (``batch validate`` lists them all), an unknown model, or a file
            that cannot be read.
    """
    from ..batch.cost import estimate
    from ..batch.records import RecordLineError, read_records

    try:
        with path.open("rb") as stream:
            return estimate(read_records(stream), model=model, invocation=kind, sample=sample)
    except RecordLineError as exc:
        raise fail(f"{path}: {exc} (mistral-bedrock batch validate lists every problem)") from None
    except MistralBedrockError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror or exc}") from None


def _usd(amount: float) -> str:
    return f"${amount:,.6f}" if amount < 1 else f"${amount:,.2f}"


def estimate_rows(estimate: Estimate) -> list[tuple[str, str]]:
    """The estimate as (label, value) rows, for people."""
    exact = "exact" if estimate.exact else "estimated"
    rows = [
        ("records", f"{estimate.records:,} for {estimate.model_id} ({estimate.invocation.value})"),
        ("input", f"{estimate.input_tokens:,} tokens ({exact})"),
        ("output", f"at most {estimate.output_tokens_max:,} tokens (the records' max tokens)"),
        ("on demand", f"at most {_usd(estimate.on_demand_cost)}"),
    ]
    if estimate.batch_cost is None:
        rows.append(("batch", f"unknown: {estimate.batch_note}"))
    else:
        saving = estimate.saving or 0.0
        rows.append(("batch", f"at most {_usd(estimate.batch_cost)} (saves {_usd(saving)}; {estimate.batch_note})"))
    rows.extend(("note", note) for note in estimate.notes)
    return rows


@click.command("estimate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "-m", required=True, help="Model id, alias, ARN or inference profile the job is for.")
@click.option("--converse", is_flag=True, help="Records are Converse requests (modelInvocationType Converse).")
@click.option("--sample", type=click.IntRange(1), metavar="N", help="Count about N records' tokens and scale.")
@json_option
def command(file: Path, model: str, converse: bool, sample: int | None, as_json: bool) -> None:
    """Estimate what FILE (JSONL records) costs on MODEL, on demand and as a batch job."""
    found = estimate_file(file, model=model, kind=invocation(converse), sample=sample)
    if as_json:
        data = asdict(found) | {"invocation": found.invocation.value, "saving": found.saving}
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    for label, value in estimate_rows(found):
        click.echo(f"{label:<10} {value}")
