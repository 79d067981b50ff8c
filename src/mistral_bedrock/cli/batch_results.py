"""``mistral-bedrock batch results JOB``: a job's output, downloaded, joined to its input and checked.

Bedrock writes ``{outputUri}/{jobId}/<input>.jsonl.out`` and ``manifest.json.out``, not the output URI itself [R].
This command:

1. downloads every object under ``{outputUri}/{jobId}/`` to ``OUT/{jobId}/`` (the manifest included);
2. reads the input back from ``inputUri`` and joins the output lines to it by ``recordId`` (the lines come
   shuffled [R]): inputs without an output, outputs without an input and repeated ids are errors;
3. reconciles the job's counts, the manifest's and the lines' (any disagreement is an error);
4. writes ``OUT/{jobId}/results.jsonl``: one line per answered record, in input order, each read by its dialect's
   own parser (``recordId``, ``text``, ``stopReason``, ``usage``; or the record's ``error``).

Exit status 1 when the job did not complete with every record answered: "Completed" with error records included
(the summary says how many failed and the commonest message).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import MistralBedrockError
from .backend import note
from .batch_handles import resolve_job
from .batch_options import ControlOptions, control_options, open_control, open_object_store, store_option
from .batch_show import verdict
from .batch_words import plural
from .failures import CommandFailure, fail, guard

if TYPE_CHECKING:
    from ..batch.jobs import BatchJob
    from ..batch.records import InputRecord
    from ..batch.results import OutputRecord
    from ..batch.storage import ObjectStore

__all__ = ["RESULTS_NAME", "command"]

RESULTS_NAME = "results.jsonl"


def _download(store: ObjectStore, job: BatchJob, folder: Path) -> list[Path]:
    """Every object under the job's output prefix, into ``folder``; their local paths."""
    prefix = job.output_prefix
    uris = store.list(prefix)
    if not uris:
        raise CommandFailure(f"no output under {prefix}: {verdict(job) or job.status.value}")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for uri in uris:
        path = folder / uri[len(prefix) :]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as stream:
            for chunk in store.read(uri):
                stream.write(chunk)
        paths.append(path)
    return paths


def _inputs(store: ObjectStore, job: BatchJob) -> list[InputRecord]:
    """The job's input records, read back from its input URI (one ``.jsonl`` object, or every one under a prefix)."""
    from ..batch.records import parse_record, split_lines

    uris = [job.input_uri] if job.input_uri.endswith(".jsonl") else store.list(job.input_uri)
    records: list[InputRecord] = []
    for uri in (uri for uri in uris if uri.endswith(".jsonl")):
        records.extend(
            parse_record(len(records) + index, line) for index, line in enumerate(split_lines(store.read(uri)))
        )
    return records


def _outputs(paths: list[Path], problems: list[str]) -> list[OutputRecord]:
    """The output records of the downloaded files. A line that is no record (a torn last line) is added to
    ``problems`` and skipped, so the readable lines are still joined and the job reported, not refused whole."""
    from ..batch.records import split_lines
    from ..batch.results import OutputLineError, is_manifest, parse_output_line
    from .batch_input import file_chunks

    records: list[OutputRecord] = []
    for path in paths:
        if path.name.endswith(".out") and not is_manifest(path.name):
            for index, line in enumerate(split_lines(file_chunks(path))):
                try:
                    record = parse_output_line(index, line)
                except OutputLineError as exc:
                    problems.append(f"{path}: {exc}: the line is not counted")
                    continue
                if record is not None:
                    records.append(record)
    return records


@click.command("results")
@click.argument("job")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
    help="Directory the output goes under (OUT/<job id>/).",
)  # fmt: skip
@store_option
@control_options
def command(job: str, out: Path, store: str | None, control: ControlOptions) -> None:
    """Download JOB's output, join it to the input by recordId and write OUT/<job id>/results.jsonl.

    Exits 1 unless the job completed with every record answered.
    """
    from ..batch.output import MANIFEST_NAME
    from ..batch.results import OutputCounts, is_manifest, join, normalise, read_manifest, reconcile
    from ..batch.storage import StoreError

    resolved = resolve_job(job, control.state_dir)
    with guard(), open_control(control, resolved.handle) as client:
        found = client.get_job(resolved.identify(client))
        region = client.region
    if not found.terminal:
        raise CommandFailure(
            f"{found.job_id} is {found.status.value}: its output is not written yet (mistral-bedrock batch wait {job})"
        )
    where = store if store is not None else (resolved.handle.store if resolved.handle else None)
    objects = open_object_store(where, region=region, profile=control.profile)
    folder = out / found.job_id
    problems: list[str] = []
    try:
        paths = _download(objects, found, folder)
        inputs = _inputs(objects, found)
        outputs = _outputs(paths, problems)
        manifest_path = next((path for path in paths if is_manifest(path.name)), None)
        manifest = read_manifest([manifest_path.read_bytes()]) if manifest_path else None
    except StoreError as exc:
        raise fail(f"reading the job's files failed: {exc}") from None
    except OSError as exc:  # StoreError is one too: this is the local side, --out
        raise fail(f"cannot write under {out}: {exc.strerror or exc}") from None
    except ValueError as exc:  # an input line that is no record, a manifest that is none
        raise fail(f"the job's files cannot be read: {exc}") from None
    joined = join(inputs, outputs)
    problems.extend(joined.errors)
    if manifest is None:
        problems.append(f"no {MANIFEST_NAME} under {found.output_prefix}")
    else:
        problems.extend(reconcile(manifest, found, OutputCounts.of(outputs)))
    try:
        with (folder / RESULTS_NAME).open("w", encoding="utf-8") as stream:
            for _, record in joined.pairs:
                line = normalise(record, model=found.model_id, invocation=found.invocation_type).to_json()
                stream.write(json.dumps(line, ensure_ascii=False) + "\n")
    except MistralBedrockError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(f"cannot write {folder / RESULTS_NAME}: {exc.strerror or exc}") from None
    failed = [record for _, record in joined.pairs if record.error is not None]
    click.echo(
        f"{folder / RESULTS_NAME}: {len(joined.pairs)} of {plural(len(inputs), 'record')} answered, "
        f"{len(failed)} failed ({found.status.value}; files in {folder})"
    )
    if failed:
        message, count = Counter(record.error.message for record in failed if record.error).most_common(1)[0]
        note(f"the commonest error ({plural(count, 'record')}): {' '.join(message.split())}")
    for problem in problems:
        note(problem)
    if failed or problems or verdict(found) is not None:
        raise click.exceptions.Exit(1)
