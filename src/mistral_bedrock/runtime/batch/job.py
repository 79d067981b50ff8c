"""One batch job: the request it was created from (a value) and the state it moves through (an entity)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.output import Manifest
from mistral_bedrock.batch.status import JobStatus

__all__ = ["Interrupt", "Job", "JobRequest"]


@dataclass(frozen=True)
class JobRequest:
    """What CreateModelInvocationJob asked for, as Get and List echo it.

    Attributes:
        name: ``jobName``.
        role_arn: ``roleArn``.
        model_id: ``modelId`` as sent (Get echoes it so).
        catalog_id: The catalog's id of that model (inference profiles and ARNs resolved).
        input_config: ``inputDataConfig``, echoed.
        output_config: ``outputDataConfig``, echoed.
        invocation: ``modelInvocationType``.
        timeout_hours: ``timeoutDurationInHours``.
        client_token: ``clientRequestToken``.
        vpc_config: ``vpcConfig``, accepted and echoed (not emulated).
        tags: ``tags``, accepted (not emulated).
    """

    name: str
    role_arn: str
    model_id: str
    catalog_id: str
    input_config: Mapping[str, Any]
    output_config: Mapping[str, Any]
    invocation: InvocationType
    timeout_hours: int
    client_token: str | None = None
    vpc_config: Mapping[str, Any] | None = None
    tags: tuple[Mapping[str, Any], ...] = ()

    @property
    def input_uri(self) -> str:
        return str(self.input_config["s3InputDataConfig"]["s3Uri"])

    @property
    def output_uri(self) -> str:
        return str(self.output_config["s3OutputDataConfig"]["s3Uri"])


class Interrupt(str, enum.Enum):
    """Why a job stops before its records are all answered."""

    STOP = "stop"  # StopModelInvocationJob
    EXPIRE = "expire"  # the job clock passed jobExpirationTime


@dataclass(eq=False)
class Job:
    """A job's identity and its state, changed only by :class:`~.lifecycle.Lifecycle` and the executor.

    Attributes:
        job_id: The 12 lowercase alphanumerics that end the ARN.
        arn: The job ARN.
        account: The account the job belongs to.
        region: The Region the job belongs to.
        request: What Create asked for.
        submit_time: When Create accepted it (job clock).
        status: The current status.
        message: The failure (or stop) reason Get shows, if any.
        last_modified: When the status or counts last changed.
        end_time: When the job reached a final status.
        counts: Records counted and answered so far; None until validation has counted them.
        interrupt: Why the job is to stop early, once something asked.
        parked: The phase the job waits in because a control hold keeps it there, if any.
        passes: Holds the control endpoint let the job pass (one per ``advance``).
        allowance: Records the job may still answer while its InProgress phase is held; None: no limit.
    """

    job_id: str
    arn: str
    account: str
    region: str
    request: JobRequest
    submit_time: datetime
    status: JobStatus = JobStatus.SUBMITTED
    message: str | None = None
    last_modified: datetime | None = None
    end_time: datetime | None = None
    counts: Manifest | None = None
    interrupt: Interrupt | None = None
    parked: JobStatus | None = None
    passes: int = 0
    allowance: int | None = None

    @property
    def expiration(self) -> datetime:
        """``jobExpirationTime``: submit time plus the timeout [D]."""
        return self.submit_time + timedelta(hours=self.request.timeout_hours)
