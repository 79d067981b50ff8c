"""``mistral-bedrock batch run FILE --model M``: a batch input answered on demand, in Bedrock's output format.

The same records file a job takes, sent record by record through the async client (the runner's HTTP backend) to
the embedded local runtime (``--local``, or when no AWS credentials are found), another endpoint
(``--endpoint-url``) or Amazon Bedrock on demand, under ``--concurrency``, ``--rpm`` and ``--tpm``, retrying
throttling. It writes ``<FILE stem>.out/<FILE name>.out`` (lines in completion order, as Bedrock's come shuffled)
and ``manifest.json.out`` beside it: a folder per run, as a job writes its own ``{outputUri}/{jobId}/``, so two
runs never share a manifest (an ``--out`` into a folder that holds another run's output is refused).

Stopping it (Ctrl-C, or a kill) loses nothing: running the same command again continues where it stopped, and the
manifest counts every run; its total is always the input's record count, however far the run got. At the end it
prints what the run cost on demand and what the same records would cost as a Bedrock batch job (or that the
catalog has no batch price for the model). Exit status 1 when any record failed.
"""

from __future__ import annotations

import asyncio
import math
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import MistralBedrockError
from .backend import BackendOptions, backend_options, note, open_backend
from .batch_options import invocation
from .batch_words import plural
from .failures import EXIT_INTERRUPTED, UsageFailure, fail, guard

if TYPE_CHECKING:
    from ..batch.output import Manifest
    from ..batch.runner import Progress, RunReport, RunSettings
    from ..catalog import ModelSpec

__all__ = ["command", "output_path"]


def _count_records(path: Path) -> int:
    """Records in the file (non-blank lines), for the progress bar's total; no JSON is parsed."""
    from ..batch.records import split_lines
    from .batch_input import file_chunks

    return sum(1 for _ in split_lines(file_chunks(path)))


@contextmanager
def _progress_display(total: int) -> Iterator[Callable[[Progress], None] | None]:
    """A rich progress bar on stderr at a terminal; nothing elsewhere (the summary says it all at the end)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    with Bar(
        TextColumn("batch run"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("run", total=total, detail="")

        def show(progress: Progress) -> None:
            detail = (
                f"{progress.errors} errors · {progress.retries} retries · {progress.records_per_second:.1f} rec/s · "
                f"{progress.tokens_per_second:,.0f} tok/s"
            )
            bar.update(task, completed=progress.resumed + progress.done, detail=detail)

        yield show


def _costs(spec: ModelSpec, report: RunReport) -> list[tuple[str, str]]:
    manifest = report.manifest
    rows = [
        ("tokens", f"{manifest.input_tokens:,} in · {manifest.output_tokens:,} out"),
        ("on demand", f"${spec.cost(manifest.input_tokens, manifest.output_tokens):,.6f}"),
    ]
    if spec.batch is None:
        rows.append(("as batch", f"unknown: the catalog has no batch price for {spec.model_id}"))
    else:
        rows.append(("as batch", f"${spec.batch.cost(manifest.input_tokens, manifest.output_tokens):,.6f}"))
    return rows


async def _run(
    path: Path, out: Path, backend: BackendOptions, model: str, converse: bool, settings: RunSettings, total: int
) -> tuple[RunReport, ModelSpec]:
    from ..batch.records import read_records
    from ..batch.runner import run_records
    from ..catalog import for_region
    from ..client import AsyncMistralBedrock
    from ..client.batch_backend import HttpBackend

    with open_backend(backend) as opened:
        client = AsyncMistralBedrock.like(opened.client)
        try:
            resolved = for_region(model, client.region)
            note(f"answering with {opened.label}")
            with (
                path.open("rb") as stream,
                _progress_display(total) as show,
                _stop_on_interrupt() as stop,
            ):
                report = await run_records(
                    read_records(stream),
                    HttpBackend(client),
                    model_id=resolved.identifier,
                    invocation=invocation(converse),
                    output=out,
                    settings=settings,
                    stop=stop,
                    progress=show,
                )
        finally:
            await client.close()
    return report, resolved.spec


@contextmanager
def _stop_on_interrupt() -> Iterator[asyncio.Event]:
    """An event Ctrl-C sets: the runner then takes no new record and writes those in flight, so the manifest and
    the resume index stay whole. A second Ctrl-C interrupts at once (the next run still resumes)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def first() -> None:
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)  # a second Ctrl-C is an ordinary KeyboardInterrupt
        note("stopping: the records in flight finish first; Ctrl-C again stops at once")

    loop.add_signal_handler(signal.SIGINT, first)
    try:
        yield stop
    finally:
        loop.remove_signal_handler(signal.SIGINT)


class _Rate(click.ParamType[float]):
    """A positive, finite number: NaN and infinity pass click's float ranges, and no quota is either."""

    name = "number"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or number <= 0:
            self.fail(f"{value!r} is not a positive, finite number", param, ctx)
        return number


def output_path(file: Path, out: Path | None) -> Path:
    """Where a run's output goes: ``--out``, else ``<FILE stem>.out/<FILE name>.out`` beside FILE, a folder of its
    own as a job's ``{outputUri}/{jobId}/``, so each run's ``manifest.json.out`` sits with its one output."""
    return out or file.with_name(f"{file.stem}.out") / f"{file.name}.out"


def _prepare_folder(output: Path) -> None:
    """Make the output's folder, refusing one that holds another run's output: the manifest there is that run's.

    Raises:
        UsageFailure: The folder cannot be made, or holds another run's output.
    """
    from ..batch.runner import index_path

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        others = sorted(
            found.name.removesuffix(".idx")
            for found in output.parent.glob("*.out.idx")
            if found.name != index_path(output).name
        )
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror or exc}") from None
    if others:
        raise fail(
            f"--out {output}: {output.parent} holds another run's output ({others[0]}), and its manifest.json.out "
            "belongs to that run; give this run a folder of its own"
        )


def _check_reservation(file: Path, model: str, converse: bool, tpm: float) -> None:
    """Refuse a ``--tpm`` below what the first record reserves (input + max tokens): the limiter would admit it
    only once a minute at best, and Bedrock's quota would throttle it the same way. Later records are the run's to
    pace; a first line that is no record is the run's to report.

    Raises:
        UsageFailure: The first record's reservation is over ``tpm``.
    """
    from ..batch.records import RecordLineError, read_records
    from ..batch.runner.reservation import reserved_tokens
    from ..catalog import lookup

    spec = lookup(model)
    with file.open("rb") as stream:
        try:
            first = next(read_records(stream), None)
        except RecordLineError:
            return
    if first is None:
        return
    reserved = reserved_tokens(spec, invocation(converse), first.model_input)
    if reserved > tpm:
        raise UsageFailure(
            f"--tpm {tpm:g} is below what record {first.record_id} reserves ({reserved:,} tokens: its input plus its "
            "max tokens, as Bedrock's quota counts it); raise --tpm or lower the records' max_tokens"
        )


def _final_manifest(output: Path, total: int) -> Manifest | None:
    """The manifest of what ``output`` holds, read from its resume index: after a run cut off at once (a second
    Ctrl-C) the written records are all the index knows. None when the index cannot be read."""
    from ..batch.runner.resume import ResumeError, recover

    try:
        manifest = recover(output).manifest
    except (ResumeError, OSError):
        return None
    manifest.total = total
    return manifest


@click.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "-m", required=True, help="Model id, alias, ARN or inference profile that answers.")
@click.option("--converse", is_flag=True, help="Records are Converse requests (modelInvocationType Converse).")
@click.option("--concurrency", type=click.IntRange(1, 1000), default=8, show_default=True, help="Records in flight.")
@click.option("--rpm", type=_Rate(), help="Requests-per-minute quota to stay under.")
@click.option("--tpm", type=_Rate(), help="Tokens-per-minute quota to stay under.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file (default: FILE_STEM.out/FILE.out); manifest.json.out goes beside it.",
)
@backend_options
def command(
    file: Path,
    model: str,
    converse: bool,
    concurrency: int,
    rpm: float | None,
    tpm: float | None,
    out: Path | None,
    backend: BackendOptions,
) -> None:
    """Answer FILE (JSONL records) on demand and write FILE_STEM.out/FILE.out and manifest.json.out beside it, as a
    batch job writes its output folder.

    Re-running the same command resumes. Exits 1 when any record failed.
    """
    from ..batch.output import MANIFEST_NAME
    from ..batch.records import RecordLineError
    from ..batch.runner import ResumeError, RunSettings, write_manifest

    output = output_path(file, out)
    manifest_path = output.with_name(MANIFEST_NAME)
    try:
        settings = RunSettings(
            concurrency=concurrency, requests_per_minute=rpm, tokens_per_minute=tpm, max_attempts=backend.max_attempts
        )
        total = _count_records(file)  # a manifest's total is the input's, however far a run got
        if tpm is not None:
            _check_reservation(file, model, converse, tpm)
    except (MistralBedrockError, ValueError) as exc:  # an unknown model; settings the runner refuses
        raise fail(exc) from None
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}") from None
    _prepare_folder(output)
    try:
        with guard():
            report, spec = asyncio.run(_run(file, output, backend, model, converse, settings, total))
    except click.exceptions.Exit as exc:
        if exc.exit_code == EXIT_INTERRUPTED:
            cut = _final_manifest(output, total)
            if cut is not None:
                write_manifest(manifest_path, cut)
            note(f"stopped; what was written stays in {output}: run the same command to resume")
        raise
    except RecordLineError as exc:
        raise fail(f"{file}: {exc}; what was written stays in {output} (batch validate lists every problem)") from None
    except ResumeError as exc:
        raise fail(f"{output}: {exc}") from None
    except (MistralBedrockError, OSError) as exc:
        raise fail(exc) from None
    manifest = replace(report.manifest, total=total)
    write_manifest(manifest_path, manifest)
    if report.stopped:
        note(
            f"stopped after {plural(manifest.processed, 'record')}; they stay in {output}: run the "
            "same command to resume"
        )
        raise click.exceptions.Exit(EXIT_INTERRUPTED)
    click.echo(
        f"wrote {output} and {manifest_path}: {plural(manifest.processed, 'record')}, {manifest.success:,} succeeded, "
        f"{manifest.errors:,} failed" + (f" ({report.resumed:,} from an earlier run)" if report.resumed else "")
    )
    for label, value in _costs(spec, report):
        click.echo(f"{label:<10} {value}")
    if manifest.errors:
        note(f"{plural(manifest.errors, 'record')} failed; their error lines are in {output}")
        raise click.exceptions.Exit(1)
