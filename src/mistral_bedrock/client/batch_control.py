"""The ``bedrock`` control plane of batch inference: create, get, list and stop model invocation jobs.

:class:`BatchControlCore` does everything that is not I/O: it builds each request from the one operation table
(:data:`~mistral_bedrock.protocol.batch_operations.BATCH_OPERATIONS`), signs it with the client's own
:class:`~.signing.Signer` (scope ``…/bedrock/aws4_request``, as for bedrock-runtime), parses the answers into
:class:`~mistral_bedrock.batch.jobs.BatchJob` values, and types errors by their AWS code. The shells,
:class:`~.aio_batch.AsyncBatchControl` and :class:`~.sync_batch.BatchControl` (generated from it), only move bytes
and wait between retries, as the model client's shells do; a test holds their requests to what botocore sends for
the same calls, byte for byte.

Two things differ from boto3 on purpose:

* ``clientRequestToken`` is required. boto3 fills it with a fresh UUID on every call, so running a script twice
  bills two jobs; a token derived from the job (:func:`~mistral_bedrock.batch.jobs.idempotency_token`) makes
  Bedrock answer the second Create with the first job.
* The Create body is checked before it is sent (:func:`~mistral_bedrock.batch.jobs.check_create_request`), with
  Bedrock's messages, so a malformed request fails before any I/O.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote

from ..batch.jobs import BatchJob, check_create_request, check_job_identifier
from ..batch.status import JobStatus
from ..errors import BedrockError, MalformedResponseError
from ..protocol.batch_operations import BATCH_OPERATIONS, BatchOperationName, batch_path
from .core import ClientCore, endpoint_for
from .settings import ClientSettings
from .signing import Signer, default_region

__all__ = [
    "CONTROL_ENDPOINT_ENVS",
    "BatchControlCore",
    "ControlRequest",
    "JobPage",
    "JobQuery",
    "control_endpoint_for",
]

#: Where the control plane is, after an explicit endpoint: the service-specific variable first, as botocore reads
#: them (``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` is the data plane's and does not apply here).
CONTROL_ENDPOINT_ENVS = ("AWS_ENDPOINT_URL_BEDROCK", "AWS_ENDPOINT_URL")

# botocore's query-string encoding: everything but RFC 3986's unreserved characters is percent-encoded.
_UNRESERVED = "-_.~"
_JSON = {"Content-Type": "application/json"}


def _environment_endpoint() -> str | None:
    """The first of :data:`CONTROL_ENDPOINT_ENVS` that is set and not empty."""
    return next((os.environ[name] for name in CONTROL_ENDPOINT_ENVS if os.environ.get(name)), None)


def control_endpoint_for(region: str, explicit: str | None) -> str:
    """The control plane's URL: explicit, else :data:`CONTROL_ENDPOINT_ENVS`, else ``https://bedrock.{region}…``.

    Args:
        region: The signing Region; it names the regional endpoint (``.com.cn`` for the China Regions).
        explicit: An endpoint given by the caller.

    Returns:
        The endpoint, without a trailing slash.
    """
    return endpoint_for(region, explicit, host="bedrock", envs=CONTROL_ENDPOINT_ENVS)


def _query_time(value: datetime) -> str:
    """A timestamp as botocore writes one in a query string: ISO 8601 in UTC (a naive time is taken as UTC)."""
    utc = value.astimezone(timezone.utc) if value.tzinfo is not None else value
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if utc.microsecond else "%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class JobQuery:
    """The filters of ListModelInvocationJobs; unset ones are not sent.

    Attributes:
        status: Only jobs in this status (``statusEquals``).
        name_contains: Only jobs whose name contains this text (``nameContains``).
        submitted_after: Only jobs submitted after this time (``submitTimeAfter``).
        submitted_before: Only jobs submitted before this time (``submitTimeBefore``).
        sort_order: ``Ascending`` or ``Descending`` by creation time (``sortOrder``, with ``sortBy=CreationTime``,
            the only sort key).
        page_size: Jobs per page, 1 to 1,000 (``maxResults``); Bedrock's default when None.
    """

    status: JobStatus | None = None
    name_contains: str | None = None
    submitted_after: datetime | None = None
    submitted_before: datetime | None = None
    sort_order: Literal["Ascending", "Descending"] | None = None
    page_size: int | None = None

    def pairs(self, next_token: str | None) -> list[tuple[str, str]]:
        """The query parameters in the service model's member order, unencoded."""
        by_name: dict[str, object | None] = {
            "submitTimeAfter": _query_time(self.submitted_after) if self.submitted_after else None,
            "submitTimeBefore": _query_time(self.submitted_before) if self.submitted_before else None,
            "statusEquals": self.status.value if self.status is not None else None,
            "nameContains": self.name_contains,
            "maxResults": self.page_size,
            "nextToken": next_token,
            "sortBy": "CreationTime" if self.sort_order else None,
            "sortOrder": self.sort_order,
        }
        return [(name, str(value)) for name, value in by_name.items() if value is not None]


@dataclass(frozen=True)
class ControlRequest:
    """One request to the control plane, ready to sign and send.

    Attributes:
        operation: Which of the four operations it is.
        url: The whole URL: endpoint, path (a job identifier percent-encoded whole) and query.
        payload: The body: JSON for Create, empty for the others (as botocore sends them).
    """

    operation: BatchOperationName
    url: str
    payload: bytes = b""

    @property
    def method(self) -> str:
        return BATCH_OPERATIONS[self.operation].method


@dataclass(frozen=True)
class JobPage:
    """One page of ListModelInvocationJobs.

    Attributes:
        jobs: The page's jobs, in the order asked for.
        next_token: The token of the next page; None on the last.
    """

    jobs: tuple[BatchJob, ...]
    next_token: str | None


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:  # UnicodeDecodeError included
        raise MalformedResponseError(f"Malformed response: the body is not valid JSON ({exc}).", body=body) from None
    if not isinstance(data, dict):
        raise MalformedResponseError("Malformed response: the body is not a JSON object.", body=body)
    return data


def _job(data: Mapping[str, Any], body: bytes) -> BatchJob:
    try:
        return BatchJob.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedResponseError(f"Malformed response: not a model invocation job ({exc}).", body=body) from None


class BatchControlCore:
    """Everything the batch control client does that is not I/O.

    Args:
        region: Signing Region.
        endpoint_url: The control plane's URL (:func:`control_endpoint_for`).
        signer: Signs each attempt (service ``bedrock``).
    """

    def __init__(self, *, region: str, endpoint_url: str, signer: Signer) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self.signer = signer

    @classmethod
    def from_settings(cls, settings: ClientSettings) -> BatchControlCore:
        """A core for the client settings: Region and credentials from the standard chain, like the model client.

        Raises:
            ValueError: No Region is configured and no endpoint given, or the endpoint is not an http(s) URL.
        """
        explicit = settings.endpoint_url or _environment_endpoint()
        region = settings.region or default_region(settings.profile)
        if region is None and explicit is None:
            raise ValueError("no AWS region configured: pass region=… or set AWS_REGION")
        region = region or "us-east-1"  # a custom endpoint still needs a signing Region
        # The model client's settings check the endpoint and build the signer; only the URL differs.
        core = replace(settings, region=region, endpoint_url=control_endpoint_for(region, explicit)).core()
        return cls(region=core.region, endpoint_url=core.endpoint_url, signer=core.signer)

    # -- building -----------------------------------------------------------------------------------
    def create(self, body: Mapping[str, Any]) -> ControlRequest:
        """CreateModelInvocationJob for a body made by :func:`~mistral_bedrock.batch.jobs.create_job_request`.

        Raises:
            ValidationException: The body breaks a constraint of the service model (Bedrock's message).
        """
        check_create_request(body)
        return ControlRequest(
            BatchOperationName.CREATE, self.endpoint_url + batch_path(BatchOperationName.CREATE), _payload(body)
        )

    def get(self, job_identifier: str) -> ControlRequest:
        """GetModelInvocationJob for a job id or ARN (an ARN goes percent-encoded whole, ``/`` as ``%2F``).

        Raises:
            ValidationException: The identifier is neither (Bedrock's message), before any I/O.
        """
        check_job_identifier(job_identifier)
        return ControlRequest(
            BatchOperationName.GET, self.endpoint_url + batch_path(BatchOperationName.GET, job_identifier)
        )

    def stop(self, job_identifier: str) -> ControlRequest:
        """StopModelInvocationJob for a job id or ARN.

        Raises:
            ValidationException: The identifier is neither (Bedrock's message), before any I/O.
        """
        check_job_identifier(job_identifier)
        return ControlRequest(
            BatchOperationName.STOP, self.endpoint_url + batch_path(BatchOperationName.STOP, job_identifier)
        )

    def list_page(self, query: JobQuery, next_token: str | None = None) -> ControlRequest:
        """ListModelInvocationJobs: one page of the jobs ``query`` selects."""
        pairs = query.pairs(next_token)
        encoded = "&".join(f"{name}={quote(value, safe=_UNRESERVED)}" for name, value in pairs)
        url = self.endpoint_url + batch_path(BatchOperationName.LIST) + (f"?{encoded}" if encoded else "")
        return ControlRequest(BatchOperationName.LIST, url)

    def headers(self, request: ControlRequest) -> dict[str, str]:
        """Signed headers for one attempt; only a request with a body says its type, as botocore's do."""
        return self.signer.sign(request.method, request.url, _JSON if request.payload else {}, request.payload)

    # -- parsing ------------------------------------------------------------------------------------
    @staticmethod
    def error(status: int, headers: Mapping[str, str], body: bytes) -> BedrockError:
        """The typed error of a non-200 answer, by its AWS code (:meth:`.core.ClientCore.error`)."""
        return ClientCore.error(status, headers, body)

    @staticmethod
    def job_arn(body: bytes) -> str:
        """The ``jobArn`` of a Create answer."""
        arn = _parse_json(body).get("jobArn")
        if not isinstance(arn, str) or not arn:
            raise MalformedResponseError("Malformed response: CreateModelInvocationJob answered no jobArn.", body=body)
        return arn

    @staticmethod
    def job(body: bytes) -> BatchJob:
        """The job of a Get answer."""
        return _job(_parse_json(body), body)

    @staticmethod
    def page(body: bytes) -> JobPage:
        """The jobs of a List answer, and the token of the next page."""
        data = _parse_json(body)
        summaries = data.get("invocationJobSummaries", [])
        token = data.get("nextToken")
        if not isinstance(summaries, list) or not (token is None or isinstance(token, str)):
            raise MalformedResponseError("Malformed response: not a page of model invocation jobs.", body=body)
        return JobPage(tuple(_job(summary, body) for summary in summaries), token or None)


def _payload(body: Mapping[str, Any]) -> bytes:
    # botocore's separators, so the bytes (and the signature over them) are the ones boto3 sends.
    return json.dumps(body).encode()
