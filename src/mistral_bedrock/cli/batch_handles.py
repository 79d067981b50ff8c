"""Handle files: what ``batch submit`` writes before it creates a job, so that running it again never creates two.

A handle is ``STATE_DIR/<job name>.json``. It is written before the upload and CreateModelInvocationJob, holding
everything that submission is (name, model, Region, the endpoint used, the store, URIs, input digest, the
idempotency token), and the job ARN is added once Create answers. A re-run finds the handle: with an ARN it
creates nothing (and refuses other settings); without one (the process died between Create and the write) it sends
Create again with the same token, which Bedrock answers with the job it already made [D]. A handle file whose
fields have the wrong JSON types is refused naming the field, never read into a half-valid handle.

Every later command takes JOB as a job name with a handle, a 12-character job id, a job ARN, or the name of a job
submitted elsewhere (looked up with ListModelInvocationJobs): :func:`resolve_job`. A handle also tells them the
job's Region, endpoint and store.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import MISSING, asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .failures import UsageFailure

if TYPE_CHECKING:
    from ..client.sync_batch import BatchControl

__all__ = ["JobHandle", "ResolvedJob", "handle_path", "load_handle", "resolve_job", "save_handle"]


@dataclass(frozen=True)
class JobHandle:
    """One submission, as its handle file holds it.

    Attributes:
        name: The job name (the file's name too).
        model: The model id sent.
        invocation: ``InvokeModel`` or ``Converse``.
        region: The Region of the control plane (and of S3).
        endpoint_url: The control plane's endpoint the submit used (``--endpoint-url``, else the environment's);
            None for Amazon Bedrock.
        store: ``--store`` when given (an absolute directory or an S3 endpoint URL); None for Amazon S3.
        input_file: The local input file, absolute.
        input_uri: The uploaded input object.
        output_uri: The output prefix.
        input_digest: SHA-256 of the input's bytes.
        records: Records in the input.
        client_request_token: The idempotency token Create is sent with.
        role_arn: The service role.
        timeout_hours: ``timeoutDurationInHours``, None for Bedrock's default.
        job_arn: The ARN, once Create has answered.
    """

    name: str
    model: str
    invocation: str
    region: str
    endpoint_url: str | None
    store: str | None
    input_file: str
    input_uri: str
    output_uri: str
    input_digest: str
    records: int
    client_request_token: str
    role_arn: str
    timeout_hours: int | None = None
    job_arn: str | None = None

    def with_arn(self, arn: str) -> JobHandle:
        """The same handle, with the job's ARN."""
        return replace(self, job_arn=arn)


def handle_path(state_dir: Path, name: str) -> Path:
    """Where the handle of job ``name`` lives."""
    return state_dir / f"{name}.json"


def load_handle(state_dir: Path, name: str) -> JobHandle | None:
    """The handle of job ``name``; None when there is none.

    Raises:
        UsageFailure: The file exists but is not a handle (it is left as it is).
    """
    path = handle_path(state_dir, name)
    try:
        data: Any = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageFailure(f"cannot read the job handle {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise UsageFailure(
            f"{path} is not a batch job handle (not JSON); move it away or pass another --name"
        ) from None
    problem = _handle_problem(data)
    if problem is not None:
        raise UsageFailure(f"{path} is not a batch job handle ({problem}); move it away or pass another --name")
    return JobHandle(**data)


# A handle's fields by JSON type; the rest are strings. A handle edited by hand is refused naming the field.
_JSON_TYPES = {str: "a string", int: "an integer"}
_INTEGER_FIELDS = frozenset({"records", "timeout_hours"})
_OPTIONAL_FIELDS = frozenset({"endpoint_url", "store", "timeout_hours", "job_arn"})
_INVOCATIONS = ("InvokeModel", "Converse")


def _handle_problem(data: Any) -> str | None:
    """What makes a handle file's JSON no handle, in the file's own terms (its fields), or None."""
    if not isinstance(data, dict):
        return "not a JSON object"
    known = {field.name: field for field in fields(JobHandle)}
    for key in data:
        if key not in known:
            return f"unknown field {key!r}"
    for field in known.values():
        if field.name not in data:
            if field.default is MISSING:
                return f"no field {field.name!r}"
            continue
        value = data[field.name]
        base = int if field.name in _INTEGER_FIELDS else str
        optional = field.name in _OPTIONAL_FIELDS
        # bool is an int to Python, never a count to a handle.
        if (value is None and optional) or (isinstance(value, base) and not isinstance(value, bool)):
            continue
        expected = _JSON_TYPES[base] + (" or null" if optional else "")
        return f"field {field.name!r} must be {expected}, not {json.dumps(value)}"
    if data["invocation"] not in _INVOCATIONS:
        allowed = " or ".join(map(json.dumps, _INVOCATIONS))
        return f"field 'invocation' must be {allowed}, not {json.dumps(data['invocation'])}"
    return None


def save_handle(state_dir: Path, handle: JobHandle) -> Path:
    """Write a handle whole (a temporary file renamed over it), so a crash never leaves half of one.

    Returns:
        Its path.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    path = handle_path(state_dir, handle.name)
    fd, temporary = tempfile.mkstemp(dir=state_dir, prefix=".handle-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            json.dump(asdict(handle), stream, indent=2)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


@dataclass(frozen=True)
class ResolvedJob:
    """What JOB named.

    Attributes:
        job: JOB as given.
        identifier: The job id or ARN to send; None for a name without a handle, looked up by :meth:`identify`.
        handle: The job's handle, when it has one.
        handle_dir: Where handles were looked for.
    """

    job: str
    identifier: str | None
    handle: JobHandle | None
    handle_dir: Path

    def identify(self, client: BatchControl) -> str:
        """The identifier to send: as resolved, or the ARN of the job of this name in the account (job names are
        unique per account and Region).

        Raises:
            UsageFailure: No job has this name.
        """
        if self.identifier is not None:
            return self.identifier
        from ..client.batch_control import JobQuery

        for found in client.list_jobs(JobQuery(name_contains=self.job)):
            if found.job_name == self.job:
                return found.job_arn
        raise UsageFailure(
            f"no job {self.job!r}: no handle in {self.handle_dir} and no job of that name in {client.region} "
            "(mistral-bedrock batch list shows the jobs)"
        )


def resolve_job(job: str, state_dir: Path) -> ResolvedJob:
    """JOB as a job name with a handle, a 12-character job id, a job ARN, or else a job name to look up.

    A handle wins over an id of the same spelling: a name of 12 lowercase letters and digits is a name here when
    ``submit`` made it.

    Raises:
        UsageFailure: A handle without an ARN (its submit did not finish).
    """
    from ..batch.jobs import JOB_IDENTIFIER_PATTERN

    handle = load_handle(state_dir, job) if "/" not in job and not job.startswith(".") else None
    if handle is not None:
        if handle.job_arn is None:
            raise UsageFailure(
                f"job {job} was never created (its submit stopped before Create answered): run the same "
                "mistral-bedrock batch submit again to finish it"
            )
        return ResolvedJob(job, handle.job_arn, handle, state_dir)
    if re.fullmatch(JOB_IDENTIFIER_PATTERN, job):  # a job id, or a job ARN, as the service model spells them
        return ResolvedJob(job, job, None, state_dir)
    return ResolvedJob(job, None, None, state_dir)
