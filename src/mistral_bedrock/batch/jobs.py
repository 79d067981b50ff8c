"""A batch job on the ``bedrock`` control plane: the CreateModelInvocationJob request, checked as the service's front
end checks it, the idempotency token, and the job as Get/List return it.

:func:`check_create_request` is the one check of a Create body: the client runs it before sending and the runtime's
emulated Create runs it on what arrives, so the two cannot drift. Its messages are the front end's (Coral), worded
by the same code that words bedrock-runtime's (:mod:`mistral_bedrock.formats.service_constraints`)::

    1 validation error detected: Value 'my_job' at 'jobName' failed to satisfy constraint: Member must satisfy
    regular expression pattern: [a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\\+\\-\\.]){0,63}

The constraints are those of botocore's ``bedrock`` service model (2023-04-20), written here as data so that the
check needs no model loading; ``tests/batch/test_jobs.py`` checks every one against botocore's model.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..errors import SerializationException
from ..formats.messages import coral_error
from ..formats.service_constraints import ConstraintWalk
from ..formats.service_model import Shape
from .invocation import InvocationType
from .limits import DEFAULT_LIMITS, JOB_NAME_PATTERN, BatchLimits
from .status import JobStatus

__all__ = [
    "BATCH_NOT_SUPPORTED",
    "JOB_ARN_PATTERN",
    "JOB_IDENTIFIER_PATTERN",
    "PATTERNS",
    "BatchJob",
    "check_create_request",
    "check_job_identifier",
    "create_job_request",
    "format_timestamp",
    "idempotency_token",
    "input_digest",
    "job_arn",
    "job_id_of",
    "parse_timestamp",
]

#: Bedrock's answer to a Create for a model (or id form) that takes no batch jobs in the Region [R].
BATCH_NOT_SUPPORTED = "Batch inference is not supported for the requested model."

#: The service model's patterns, by shape name (botocore ``bedrock`` 2023-04-20) [D].
PATTERNS: Mapping[str, str] = {
    "ModelInvocationJobName": JOB_NAME_PATTERN,
    "RoleArn": r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+",
    "ModelInvocationIdempotencyToken": r"[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}",
    "ModelId": (
        r"(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:(([0-9]{12}:custom-model/[a-z0-9-]{1,63}[.]{1}[a-z0-9-:]{1,63}/"
        r"[a-z0-9]{12}$)|(:foundation-model/([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})"
        r"([:][a-z0-9-]{1,63}){0,2})|(([0-9a-zA-Z][_-]?)+)$)|([0-9]{12}:(inference-profile|"
        r"application-inference-profile)/[a-zA-Z0-9-:.]+$)))|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}"
        r"([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})|(([0-9a-zA-Z][_-]?)+)"
    ),
    "S3Uri": r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?",
    "AccountId": r"[0-9]{12}",
    "KmsKeyId": (
        r"(arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)))"
        r"|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)"
    ),
    "SubnetId": r"[-0-9a-zA-Z]+",
    "SecurityGroupId": r"[-0-9a-zA-Z]+",
    "TagKey": r"[a-zA-Z0-9\s._:/=+@-]*",
    "TagValue": r"[a-zA-Z0-9\s._:/=+@-]*",
    "ModelInvocationJobArn": (
        r"(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/[a-z0-9]{12})"
    ),
    "ModelInvocationJobIdentifier": (
        r"((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/)?[a-z0-9]{12})"
    ),
}
JOB_ARN_PATTERN = PATTERNS["ModelInvocationJobArn"]
JOB_IDENTIFIER_PATTERN = PATTERNS["ModelInvocationJobIdentifier"]


# -- the Create input shape, as the walker of service_constraints reads shapes ---------------------------------


def _string(name: str, lo: int | None = None, hi: int | None = None, *, enum: tuple[str, ...] = ()) -> Shape:
    pattern = PATTERNS.get(name)
    return Shape(name, "string", min=lo, max=hi, pattern=re.compile(pattern) if pattern else None, enum=enum)


def _structure(
    name: str, members: Iterable[tuple[str, Shape]], required: Iterable[str], *, union: bool = False
) -> Shape:
    shape = Shape(name, "union" if union else "structure", required=frozenset(required))
    shape.members = tuple(members)
    shape.body_members = {m: (order, member) for order, (m, member) in enumerate(shape.members)}
    return shape


def _list(name: str, member: Shape, lo: int | None, hi: int | None) -> Shape:
    shape = Shape(name, "list", min=lo, max=hi)
    shape.member = member
    return shape


@functools.lru_cache(maxsize=8)
def _create_shape(limits: BatchLimits) -> Shape:
    """CreateModelInvocationJobRequest, members in the model's order; the bounds that are quotas from ``limits``."""
    job_name = Shape(
        "ModelInvocationJobName",
        "string",
        min=limits.min_job_name,
        max=limits.max_job_name,
        pattern=re.compile(limits.job_name_pattern),
    )
    owner = _string("AccountId")
    s3_input = _structure(
        "ModelInvocationJobS3InputDataConfig",
        (
            ("s3InputFormat", _string("S3InputFormat", enum=("JSONL",))),
            ("s3Uri", _string("S3Uri", 1, 1024)),
            ("s3BucketOwner", owner),
        ),
        ("s3Uri",),
    )
    s3_output = _structure(
        "ModelInvocationJobS3OutputDataConfig",
        (
            ("s3Uri", _string("S3Uri", 1, 1024)),
            ("s3EncryptionKeyId", _string("KmsKeyId", 1, 2048)),
            ("s3BucketOwner", owner),
        ),
        ("s3Uri",),
    )
    vpc = _structure(
        "VpcConfig",
        (
            ("subnetIds", _list("SubnetIds", _string("SubnetId", 0, 32), 1, 16)),
            ("securityGroupIds", _list("SecurityGroupIds", _string("SecurityGroupId", 0, 32), 1, 5)),
        ),
        ("subnetIds", "securityGroupIds"),
    )
    tag = _structure(
        "Tag", (("key", _string("TagKey", 1, 128)), ("value", _string("TagValue", 0, 256))), ("key", "value")
    )
    return _structure(
        "CreateModelInvocationJobRequest",
        (
            ("jobName", job_name),
            ("roleArn", _string("RoleArn", 0, 2048)),
            ("clientRequestToken", _string("ModelInvocationIdempotencyToken", 1, 256)),
            ("modelId", _string("ModelId", 1, 2048)),
            (
                "inputDataConfig",
                _structure("ModelInvocationJobInputDataConfig", (("s3InputDataConfig", s3_input),), (), union=True),
            ),
            (
                "outputDataConfig",
                _structure("ModelInvocationJobOutputDataConfig", (("s3OutputDataConfig", s3_output),), (), union=True),
            ),
            ("vpcConfig", vpc),
            (
                "timeoutDurationInHours",
                Shape(
                    "ModelInvocationJobTimeoutDurationInHours",
                    "integer",
                    min=limits.min_timeout_hours,
                    max=limits.max_timeout_hours,
                ),
            ),
            ("tags", _list("TagList", tag, 0, limits.max_tags)),
            ("modelInvocationType", _string("ModelInvocationType", enum=tuple(t.value for t in InvocationType))),
        ),
        ("jobName", "roleArn", "modelId", "inputDataConfig", "outputDataConfig"),
    )


def check_create_request(body: Mapping[str, Any], limits: BatchLimits = DEFAULT_LIMITS) -> None:
    """Check a CreateModelInvocationJob body as the front end does: every constraint of the input shape.

    Unknown members are ignored, as the front end ignores them. Model support (:data:`BATCH_NOT_SUPPORTED`), the
    role's trust and S3 access are the service's later checks, not this one's.

    Raises:
        SerializationException: The body is not an object, or a member holds a value of the wrong JSON type.
        ValidationException: One message listing every violated constraint, in the model's member order.
    """
    if not isinstance(body, Mapping):
        raise SerializationException("Start of list found where not expected")
    walk = ConstraintWalk()
    walk.structure(_create_shape(limits), body, "", False)
    if walk.problems:
        raise coral_error(walk.problems)


def check_job_identifier(identifier: str) -> str:
    """The job id (12 characters) of a Get/Stop ``jobIdentifier``: a job id or a job ARN.

    Raises:
        ValidationException: The identifier breaks the service model's constraint, in the front end's words.
    """
    shape = Shape("ModelInvocationJobIdentifier", "string", min=0, max=1011, pattern=re.compile(JOB_IDENTIFIER_PATTERN))
    walk = ConstraintWalk()
    walk.value(shape, identifier, "jobIdentifier", False)
    if walk.problems:
        raise coral_error(walk.problems)
    return job_id_of(identifier)


# -- building a request ----------------------------------------------------------------------------------------


def create_job_request(
    *,
    job_name: str,
    role_arn: str,
    model_id: str,
    input_uri: str,
    output_uri: str,
    invocation: InvocationType,
    client_request_token: str,
    timeout_hours: int | None = None,
    tags: Mapping[str, str] | None = None,
    output_kms_key_id: str | None = None,
    bucket_owner: str | None = None,
    limits: BatchLimits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """The JSON body of CreateModelInvocationJob, checked with :func:`check_create_request`.

    ``modelInvocationType`` is always sent, ``InvokeModel`` included: the AWS CLI 2.33.15 cannot send it and silently
    defaults to InvokeModel, which fails every Converse-shaped record [R]; an explicit value leaves no doubt.

    Args:
        client_request_token: Use :func:`idempotency_token`: the same submission then never creates a second job.
        bucket_owner: The account expected to own both buckets (``s3BucketOwner``), where known.

    Raises:
        ValidationException: As :func:`check_create_request`.
    """
    s3_input: dict[str, Any] = {"s3Uri": input_uri, "s3InputFormat": "JSONL"}
    s3_output: dict[str, Any] = {"s3Uri": output_uri}
    if output_kms_key_id is not None:
        s3_output["s3EncryptionKeyId"] = output_kms_key_id
    if bucket_owner is not None:
        s3_input["s3BucketOwner"] = bucket_owner
        s3_output["s3BucketOwner"] = bucket_owner
    body: dict[str, Any] = {
        "jobName": job_name,
        "roleArn": role_arn,
        "clientRequestToken": client_request_token,
        "modelId": model_id,
        "inputDataConfig": {"s3InputDataConfig": s3_input},
        "outputDataConfig": {"s3OutputDataConfig": s3_output},
    }
    if timeout_hours is not None:
        body["timeoutDurationInHours"] = timeout_hours
    if tags:
        body["tags"] = [{"key": key, "value": value} for key, value in tags.items()]
    body["modelInvocationType"] = InvocationType(invocation).value
    check_create_request(body, limits)
    return body


def input_digest(chunks: Iterable[bytes]) -> str:
    """The SHA-256 of a submission's input bytes (all its files, in order), hex: what :func:`idempotency_token`
    takes."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def idempotency_token(job_name: str, input_digest: str) -> str:
    """A ``clientRequestToken`` derived from the job's name and its input, the same on every run.

    boto3 puts a fresh UUID on every call, so its idempotency covers only botocore's own retries: a process that
    crashes between Create and saving the job ARN, then runs again, creates and bills a second job [R]. With this
    token Bedrock "ignores the request" the second time [D]. 64 hex digits: inside the token's pattern and length.
    """
    return hashlib.sha256(f"mistral-bedrock-batch\n{job_name}\n{input_digest}".encode()).hexdigest()


def job_arn(region: str, account: str, job_id: str, partition: str = "aws") -> str:
    """``arn:aws:bedrock:{region}:{account}:model-invocation-job/{job_id}``."""
    return f"arn:{partition}:bedrock:{region}:{account}:model-invocation-job/{job_id}"


def job_id_of(arn_or_id: str) -> str:
    """The job id: the last segment of a job ARN, or the id itself."""
    return arn_or_id.rsplit("/", 1)[-1]


# -- timestamps ------------------------------------------------------------------------------------------------


def parse_timestamp(value: object) -> datetime:
    """An aware UTC datetime from a wire timestamp: ISO 8601 text (the members' ``timestampFormat``), epoch seconds,
    or a datetime (boto3 hands those over); a naive one is taken as UTC.

    Raises:
        ValueError: Not a timestamp.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, ``2026-12-01T03:09:06.123Z``: what botocore's ``iso8601`` timestamp
    members read."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _time(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    return None if value is None else parse_timestamp(value)


def _count(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return None if value is None else int(value)


# -- the job ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchJob:
    """A job as GetModelInvocationJob returns it (a ListModelInvocationJobs summary has the same members).

    The four record counts are set only on newer jobs [D]; ``modelInvocationType`` may be absent on jobs from
    before it existed (they are InvokeModel jobs: :attr:`invocation_type`).
    """

    job_arn: str
    job_name: str
    model_id: str
    role_arn: str
    status: JobStatus
    submit_time: datetime
    input_uri: str
    output_uri: str
    message: str | None = None
    last_modified_time: datetime | None = None
    end_time: datetime | None = None
    job_expiration_time: datetime | None = None
    timeout_hours: int | None = None
    invocation: InvocationType | None = None
    total_records: int | None = None
    processed_records: int | None = None
    success_records: int | None = None
    error_records: int | None = None
    client_request_token: str | None = None
    input_bucket_owner: str | None = None
    input_format: str | None = "JSONL"
    output_bucket_owner: str | None = None
    output_kms_key_id: str | None = None
    vpc_config: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def job_id(self) -> str:
        """The last segment of the ARN: 12 lowercase alphanumerics, the ``{jobId}`` of the output prefix."""
        return job_id_of(self.job_arn)

    @property
    def terminal(self) -> bool:
        return self.status.terminal

    @property
    def invocation_type(self) -> InvocationType:
        """The job's invocation type; InvokeModel (the default) when the job does not say."""
        return self.invocation or InvocationType.INVOKE_MODEL

    @property
    def partial_failure(self) -> bool:
        """PartiallyCompleted, or Completed with error records: "Completed" does not mean every record worked [R]."""
        if self.status is JobStatus.PARTIALLY_COMPLETED:
            return True
        return self.status is JobStatus.COMPLETED and bool(self.error_records)

    @property
    def output_prefix(self) -> str:
        """Where the output files are: ``{outputUri}/{jobId}/`` (not the output URI itself [R])."""
        return f"{self.output_uri.rstrip('/')}/{self.job_id}/"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchJob:
        """Parse a GetModelInvocationJob response or a ListModelInvocationJobs summary (wire JSON, or boto3's dict
        with datetimes).

        Raises:
            ValueError: A required member is missing, or a status or timestamp cannot be read.
        """
        try:
            s3_input = data["inputDataConfig"]["s3InputDataConfig"]
            s3_output = data["outputDataConfig"]["s3OutputDataConfig"]
            status = data["status"]
            job = cls(
                job_arn=data["jobArn"],
                job_name=data.get("jobName", ""),
                model_id=data["modelId"],
                role_arn=data["roleArn"],
                status=JobStatus(status),
                submit_time=parse_timestamp(data["submitTime"]),
                input_uri=s3_input["s3Uri"],
                output_uri=s3_output["s3Uri"],
                message=data.get("message"),
                last_modified_time=_time(data, "lastModifiedTime"),
                end_time=_time(data, "endTime"),
                job_expiration_time=_time(data, "jobExpirationTime"),
                timeout_hours=_count(data, "timeoutDurationInHours"),
                invocation=InvocationType(data["modelInvocationType"]) if data.get("modelInvocationType") else None,
                total_records=_count(data, "totalRecordCount"),
                processed_records=_count(data, "processedRecordCount"),
                success_records=_count(data, "successRecordCount"),
                error_records=_count(data, "errorRecordCount"),
                client_request_token=data.get("clientRequestToken"),
                input_bucket_owner=s3_input.get("s3BucketOwner"),
                input_format=s3_input.get("s3InputFormat"),
                output_bucket_owner=s3_output.get("s3BucketOwner"),
                output_kms_key_id=s3_output.get("s3EncryptionKeyId"),
                vpc_config=data.get("vpcConfig"),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a model invocation job: missing or malformed {exc}") from None
        return job

    def to_json(self) -> dict[str, Any]:
        """The wire shape of GetModelInvocationJob's response: members in the model's order, unset ones left out,
        timestamps as ISO 8601 text (:func:`format_timestamp`)."""
        s3_input: dict[str, Any] = {}
        if self.input_format is not None:
            s3_input["s3InputFormat"] = self.input_format
        s3_input["s3Uri"] = self.input_uri
        if self.input_bucket_owner is not None:
            s3_input["s3BucketOwner"] = self.input_bucket_owner
        s3_output: dict[str, Any] = {"s3Uri": self.output_uri}
        if self.output_kms_key_id is not None:
            s3_output["s3EncryptionKeyId"] = self.output_kms_key_id
        if self.output_bucket_owner is not None:
            s3_output["s3BucketOwner"] = self.output_bucket_owner
        members: list[tuple[str, Any]] = [
            ("jobArn", self.job_arn),
            ("jobName", self.job_name),
            ("modelId", self.model_id),
            ("clientRequestToken", self.client_request_token),
            ("roleArn", self.role_arn),
            ("status", self.status.value),
            ("message", self.message),
            ("submitTime", format_timestamp(self.submit_time)),
            ("lastModifiedTime", self.last_modified_time and format_timestamp(self.last_modified_time)),
            ("endTime", self.end_time and format_timestamp(self.end_time)),
            ("inputDataConfig", {"s3InputDataConfig": s3_input}),
            ("outputDataConfig", {"s3OutputDataConfig": s3_output}),
            ("vpcConfig", dict(self.vpc_config) if self.vpc_config is not None else None),
            ("timeoutDurationInHours", self.timeout_hours),
            ("jobExpirationTime", self.job_expiration_time and format_timestamp(self.job_expiration_time)),
            ("modelInvocationType", self.invocation.value if self.invocation is not None else None),
            ("totalRecordCount", self.total_records),
            ("processedRecordCount", self.processed_records),
            ("successRecordCount", self.success_records),
            ("errorRecordCount", self.error_records),
        ]
        return {key: value for key, value in members if value is not None}
