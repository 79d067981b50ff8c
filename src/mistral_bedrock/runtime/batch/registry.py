"""The jobs of one runtime: by id, by idempotency token and by name, per account and Region.

Checks that need the other jobs live here, in this order after :func:`~.create.parse_create`:

1. A ``clientRequestToken`` seen before returns that job's ARN, and no second job [D] ("Amazon Bedrock ignores the
   request").
2. A job name already used in the Region is a ``ConflictException`` [I]: names are unique there, but
   which error Bedrock gives is not known.
3. More jobs of the model submitted or in progress than the cap allow is a ``ServiceQuotaExceededException`` [I]
   (the code is in Create's error list [D]; the message is ours).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from datetime import datetime

from mistral_bedrock.batch.jobs import check_job_identifier, job_arn
from mistral_bedrock.errors import ConflictException, ResourceNotFoundException, ServiceQuotaExceededException

from .job import Job, JobRequest

__all__ = ["JobRegistry", "Scope"]

# Where job names and tokens are unique: the Region. The runtime has one account (whose number job ARNs take from
# the role ARN, see .plane), so the account adds nothing.
Scope = str
_ID_ALPHABET = string.ascii_lowercase + string.digits


class JobRegistry:
    """Every job this runtime has accepted, for the life of the process.

    Args:
        in_progress_cap: Jobs per model and scope that may be submitted or running at once.
    """

    def __init__(self, in_progress_cap: int) -> None:
        self.in_progress_cap = in_progress_cap
        self._jobs: dict[str, Job] = {}
        self._tokens: dict[tuple[Scope, str], str] = {}
        self._names: dict[tuple[Scope, str], str] = {}

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def in_scope(self, scope: Scope) -> Iterator[Job]:
        return (job for job in self._jobs.values() if job.region == scope)

    def replay(self, scope: Scope, request: JobRequest) -> Job | None:
        """The job an earlier Create with the same token made, if any."""
        if request.client_token is None:
            return None
        job_id = self._tokens.get((scope, request.client_token))
        return self._jobs[job_id] if job_id else None

    def add(self, scope: Scope, account: str, request: JobRequest, now: datetime) -> Job:
        """A new job, after the name and cap checks.

        Raises:
            ConflictException: The name is taken in this Region [I].
            ServiceQuotaExceededException: Too many jobs of this model are submitted or in progress [I].
        """
        if (scope, request.name) in self._names:
            raise ConflictException(f"A batch inference job with the name {request.name} already exists.")
        running = sum(
            1
            for job in self.in_scope(scope)
            if job.request.catalog_id == request.catalog_id and not job.status.terminal
        )
        if running >= self.in_progress_cap:
            raise ServiceQuotaExceededException(
                f"You have reached the limit of {self.in_progress_cap} batch inference jobs that are submitted or in "
                f"progress for the model {request.model_id}. Wait for a job to finish, or stop one, and try again."
            )
        job_id = self._new_id()
        job = Job(job_id, job_arn(scope, account, job_id), account, scope, request, submit_time=now)
        self._jobs[job_id] = job
        self._names[(scope, request.name)] = job_id
        if request.client_token is not None:
            self._tokens[(scope, request.client_token)] = job_id
        return job

    def _new_id(self) -> str:
        while True:
            job_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
            if job_id not in self._jobs:
                return job_id

    def find(self, identifier: str, scope: Scope) -> Job:
        """The job a Get or Stop names: its id, or its ARN.

        Raises:
            ValidationException: The identifier breaks the service model's pattern.
            ResourceNotFoundException: No such job in the caller's Region (an ARN naming another account or
                Region is not found either).
        """
        job_id = check_job_identifier(identifier)
        job = self._jobs.get(job_id)
        if job is None or job.region != scope or ("/" in identifier and identifier != job.arn):
            raise ResourceNotFoundException(f"The specified job {identifier} could not be found.")
        return job
