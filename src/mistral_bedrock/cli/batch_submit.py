"""``mistral-bedrock batch submit FILE``: validate, estimate, upload and create a Bedrock batch job, once.

In order, stopping at the first failure with one line and nothing created:

1. every record is validated as Bedrock would answer it (``batch validate``); any error stops the submit, and so
   does a file under Bedrock's 100-record floor (``batch run`` answers those on demand);
2. the CreateModelInvocationJob request is built and checked as the service's front end checks it (names, ARNs,
   URI patterns);
3. the cost is estimated and, unless ``--yes``, confirmed at the terminal;
4. a handle file is written (:mod:`.batch_handles`): the job's name, Region, the endpoint used (from
   ``--endpoint-url`` or the environment), the store (a directory made absolute), URIs, input digest and
   idempotency token; a state directory that cannot hold it stops the submit here;
5. the file is uploaded to ``--input-uri`` through the object store (Amazon S3 with boto3, or ``--store``); a
   failed upload removes the new handle;
6. CreateModelInvocationJob is sent with a token derived from the name and the input digest, never a per-call
   UUID, and the ARN goes into the handle.

Running the same submit again finds the handle: with an ARN it creates nothing and says so, and refuses when an
option differs (another ``--name`` submits a new job); without one (the process died between Create and the
write) it uploads again and re-sends Create with the same token, which Bedrock answers with the job it already
made. The ARN is the one line on stdout; the rest goes to stderr.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import click

from ..batch.invocation import InvocationType
from ..errors import BedrockError, MistralBedrockError
from .backend import note
from .batch_handles import JobHandle, handle_path, load_handle, save_handle
from .batch_options import (
    ControlOptions,
    chosen_endpoint,
    control_options,
    invocation,
    open_control,
    open_object_store,
    store_option,
)
from .batch_words import plural
from .failures import CommandFailure, UsageFailure, describe, fail, guard

if TYPE_CHECKING:
    from ..batch.storage import ObjectStore
    from ..client.sync_batch import BatchControl
    from .batch_input import CheckedInput

__all__ = ["command", "default_job_name", "input_object_uri"]

_NOT_IN_NAME = re.compile(r"[^a-zA-Z0-9-]+")
_MAX_NAME = 63


def default_job_name(path: Path, digest: str) -> str:
    """``<file stem>-<12 hex digits of the input digest>``: the same input under the same name on every run."""
    stem = _NOT_IN_NAME.sub("-", path.name.removesuffix(".jsonl")).strip("-") or "batch"
    suffix = digest[:12]
    return f"{stem[: _MAX_NAME - len(suffix) - 1].rstrip('-')}-{suffix}"


def input_object_uri(input_uri: str, path: Path) -> str:
    """Where the file goes: ``--input-uri`` itself when it names a ``.jsonl`` object, else under it as a prefix.

    Raises:
        UsageFailure: Neither an ``s3://`` object nor a prefix ending in ``/``.
    """
    if not input_uri.startswith("s3://"):
        raise UsageFailure(f"--input-uri {input_uri!r} is not an s3:// URI")
    if input_uri.endswith(".jsonl"):
        return input_uri
    if input_uri.endswith("/"):
        return input_uri + path.name
    raise UsageFailure(f"--input-uri {input_uri!r} must name a .jsonl object or a prefix ending in /")


def _checked(file: Path, model: str, converse: bool, region: str | None) -> CheckedInput:
    from .batch_input import check_input, problem_line

    checked = check_input(file, model=model, invocation=invocation(converse), region=region)
    for problem in checked.report.problems:
        click.echo(problem_line(checked, problem), err=True)
    if not checked.report.ok:
        raise CommandFailure(
            f"{file}: {plural(checked.report.errors, 'error')}; nothing was uploaded or submitted "
            f"(mistral-bedrock batch validate {file} --model {model} lists them)"
        )
    return checked


def _confirm(yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageFailure("nothing submitted: confirm at a terminal, or pass --yes")
    if not click.confirm("Submit this batch job?", default=False, err=True):
        raise CommandFailure("nothing submitted")


def _upload(store: ObjectStore, uri: str, path: Path) -> None:
    from ..batch.storage import StoreError
    from .batch_input import file_chunks

    try:
        store.write(uri, file_chunks(path))
    except StoreError as exc:
        raise CommandFailure(f"upload to {uri} failed: {exc}") from None
    except OSError as exc:  # a --store directory that cannot be written
        raise CommandFailure(f"upload to {uri} failed: {exc.strerror or exc}: {exc.filename or store}") from None
    except Exception as exc:
        # boto3's transfer manager wraps S3's answer in its own exceptions (boto3.exceptions.S3UploadFailedError).
        if type(exc).__module__.startswith(("boto3.", "botocore.", "s3transfer.")):
            raise CommandFailure(f"upload to {uri} failed: {' '.join(str(exc).split())}") from None
        raise


@click.command("submit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "-m", required=True, help="Model id, alias, ARN or inference profile that answers.")
@click.option("--role-arn", required=True, metavar="ARN", help="The service role Bedrock reads and writes S3 with.")
@click.option("--input-uri", required=True, metavar="S3URI", help="s3://… .jsonl object, or a prefix ending in /.")
@click.option("--output-uri", required=True, metavar="S3URI", help="s3://… prefix the output goes under.")
@click.option("--name", metavar="NAME", help="Job name (default: the file's stem and its digest).")
@click.option("--converse", is_flag=True, help="Records are Converse requests (modelInvocationType Converse).")
@click.option("--timeout-hours", type=click.IntRange(24, 168), metavar="H", help="24 to 168 (Bedrock's default 24).")
@click.option("--yes", "-y", is_flag=True, help="Submit without asking.")
@store_option
@control_options
def command(
    file: Path,
    model: str,
    role_arn: str,
    input_uri: str,
    output_uri: str,
    name: str | None,
    converse: bool,
    timeout_hours: int | None,
    yes: bool,
    store: str | None,
    control: ControlOptions,
) -> None:
    """Submit FILE (JSONL records) as a Bedrock batch job; print its ARN. Re-running it never creates a second job."""
    from ..batch.jobs import idempotency_token
    from ..catalog import for_region
    from .batch_estimate import estimate_file, estimate_rows

    object_uri = input_object_uri(input_uri, file)
    checked = _checked(file, model, converse, control.region)
    job_name = name or default_job_name(file, checked.digest)
    handle = load_handle(control.state_dir, job_name)
    handle_file = handle_path(control.state_dir, job_name)
    if handle is not None and handle.input_digest != checked.digest:
        raise UsageFailure(f"job {job_name} was submitted from other input ({handle_file}); pass another --name")
    with guard(), open_control(control, handle) as client:
        try:
            model_id = for_region(model, client.region).identifier
        except MistralBedrockError as exc:
            raise fail(exc) from None
        asked = JobHandle(
            name=job_name,
            model=model_id,
            invocation=invocation(converse).value,
            region=client.region,
            endpoint_url=chosen_endpoint(control, handle),
            store=_absolute_store(store),
            input_file=str(file.resolve()),
            input_uri=object_uri,
            output_uri=output_uri,
            input_digest=checked.digest,
            records=checked.report.records,
            client_request_token=idempotency_token(job_name, checked.digest),
            role_arn=role_arn,
            timeout_hours=timeout_hours,
        )
        changed = None if handle is None else _changed(handle, asked)
        if handle is not None and handle.job_arn is not None:
            if changed is not None:
                raise UsageFailure(
                    f"job {job_name} was already submitted with another {changed} "
                    f"({handle_file}); to submit a new job, pass another --name"
                )
            note(f"{job_name} was already submitted; nothing new was created (mistral-bedrock batch status {job_name})")
            click.echo(handle.job_arn)
            return
        if changed is not None:
            raise UsageFailure(
                f"job {job_name} has an unfinished submit with another {changed} ({handle_file}): "
                "run it again as it was; its Create may have created the job"
            )
        _check_create(asked)  # a request the service would refuse stops here, before anything is uploaded
        if handle is None:
            for label, value in estimate_rows(estimate_file(file, model=model, kind=invocation(converse))):
                click.echo(f"{label:<10} {value}", err=True)
            _confirm(yes)
        else:
            note(f"finishing the submit of {job_name}: Create is sent again with its token, so no second job is made")
        fresh = handle is None
        handle = handle or asked
        # The handle is written before the upload: a state directory that cannot hold it stops the submit while
        # nothing is in the store yet.
        where = _save(control, handle)
        try:
            store_client = open_object_store(handle.store, region=client.region, profile=control.profile)
            _upload(store_client, handle.input_uri, file)
        except BaseException:
            if fresh:  # nothing was sent to Create: no job can exist, so a re-run starts afresh
                where.unlink(missing_ok=True)
            raise
        arn = _create(client, handle, where)
    _save(control, handle.with_arn(arn))
    note(f"submitted {job_name}; handle {where}; follow it with: mistral-bedrock batch wait {job_name}")
    click.echo(arn)


def _absolute_store(store: str | None) -> str | None:
    """``--store`` as the handle keeps it: a directory made absolute, so a command run elsewhere finds the same one."""
    if store is None or store.startswith(("http://", "https://")):
        return store
    return str(Path(store).resolve())


class _CreateArguments(TypedDict):
    job_name: str
    role_arn: str
    model_id: str
    input_uri: str
    output_uri: str
    client_request_token: str
    invocation: InvocationType
    timeout_hours: int | None


def _create_arguments(handle: JobHandle) -> _CreateArguments:
    """The Create the handle makes, as keywords of both ``create_job_request`` and ``BatchControl.create_job``: the
    request checked before the upload is the one sent after it."""
    return {
        "job_name": handle.name,
        "role_arn": handle.role_arn,
        "model_id": handle.model,
        "input_uri": handle.input_uri,
        "output_uri": handle.output_uri,
        "client_request_token": handle.client_request_token,
        "invocation": InvocationType(handle.invocation),
        "timeout_hours": handle.timeout_hours,
    }


def _check_create(handle: JobHandle) -> None:
    """Build the Create request the handle makes and check it as the service's front end would."""
    from ..batch.jobs import create_job_request

    try:
        create_job_request(**_create_arguments(handle))
    except MistralBedrockError as exc:
        raise CommandFailure(f"{describe(exc)}; nothing was uploaded or submitted") from None


def _save(control: ControlOptions, handle: JobHandle) -> Path:
    try:
        return save_handle(control.state_dir, handle)
    except OSError as exc:
        raise CommandFailure(
            f"cannot write the job's handle in --state-dir {control.state_dir}: {exc.strerror or exc}"
        ) from None


# What a re-run of an unfinished submit must repeat exactly: the Create it finishes is the one the token names.
_SETTINGS = ("model", "invocation", "role_arn", "input_uri", "output_uri", "timeout_hours")


def _changed(handle: JobHandle, asked: JobHandle) -> str | None:
    """The first setting the re-run asks differently from the unfinished submit, by its option's name."""
    for name in _SETTINGS:
        if getattr(handle, name) != getattr(asked, name):
            return "--converse" if name == "invocation" else f"--{name.replace('_', '-')}"
    return None


def _create(client: BatchControl, handle: JobHandle, where: Path) -> str:
    """Create the job with the handle's token; a definite refusal removes the handle, since no job exists then."""
    try:
        return client.create_job(**_create_arguments(handle))
    except BedrockError as exc:
        # A 4xx other than throttling is an answer: nothing was created, so a corrected re-run may start afresh.
        # Anything else (a 5xx, a broken connection) leaves it unknown; the handle stays, and a re-run re-sends
        # Create with the same token.
        if 400 <= exc.status < 500 and not exc.retryable and exc.status != 429:
            where.unlink(missing_ok=True)
        raise
