"""The ``bedrock`` control plane of batch inference: create, get, list and stop model invocation jobs.

:class:`BatchControlCore` does everything that is not I/O: it builds each request from the one operation table
(:data:`~mistral_bedrock.protocol.batch_operations.BATCH_OPERATIONS`), signs it with the client's own
:class:`~.signing.Signer` (scope ``…/bedrock/aws4_request``, as for bedrock-runtime), parses the answers into
:class:`~mistral_bedrock.batch.jobs.BatchJob` values, and types errors by their AWS code. :class:`BatchControl`
(sync) and :class:`AsyncBatchControl` (async) only move bytes and wait between retries, as the model client's
shells do; a test holds their requests to what botocore sends for the same calls, byte for byte.

Two things differ from boto3 on purpose:

* ``clientRequestToken`` is required. boto3 fills it with a fresh UUID on every call, so running a script twice
  bills two jobs; a token derived from the job (:func:`~mistral_bedrock.batch.jobs.idempotency_token`) makes
  Bedrock answer the second Create with the first job.
* The Create body is checked before it is sent (:func:`~mistral_bedrock.batch.jobs.check_create_request`), with
  Bedrock's messages, so a malformed request fails before any I/O.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote

import httpx

from ..batch.invocation import InvocationType
from ..batch.jobs import BatchJob, check_create_request, check_job_identifier, create_job_request
from ..batch.status import JobStatus
from ..errors import BedrockError, MalformedResponseError, MistralBedrockError, TransportError
from ..protocol.batch_operations import BATCH_OPERATIONS, BatchOperationName, batch_path
from .closing import AsyncClosing, Closing
from .core import ClientCore
from .retry import RetryPolicy
from .settings import ClientSettings
from .signing import Signer, default_region
from .usage_errors import ClientClosedError

__all__ = [
    "CONTROL_ENDPOINT_ENVS",
    "AsyncBatchControl",
    "BatchControl",
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


def control_endpoint_for(region: str, explicit: str | None) -> str:
    """The control plane's URL: explicit, else :data:`CONTROL_ENDPOINT_ENVS`, else ``https://bedrock.{region}…``.

    Args:
        region: The signing Region; it names the regional endpoint (``.com.cn`` for the China Regions).
        explicit: An endpoint given by the caller.

    Returns:
        The endpoint, without a trailing slash.
    """
    for candidate in (explicit, *(os.environ.get(name) for name in CONTROL_ENDPOINT_ENVS)):
        if candidate:
            return candidate.rstrip("/")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://bedrock.{region}.{suffix}"


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
        explicit = settings.endpoint_url or next(
            (os.environ[name] for name in CONTROL_ENDPOINT_ENVS if os.environ.get(name)), None
        )
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


def _transport_error(exc: httpx.TransportError) -> TransportError:
    return TransportError(f"{type(exc).__name__}: {exc}")


class _Shell:
    """What both shells hold: the core, the retry policy and the settings that made them."""

    def __init__(self, settings: ClientSettings, retry: RetryPolicy | None) -> None:
        self._settings = settings
        self._core = BatchControlCore.from_settings(settings)
        self.retry = retry or RetryPolicy()
        self._closed = False

    @property
    def endpoint_url(self) -> str:
        """Where the requests go."""
        return self._core.endpoint_url

    @property
    def region(self) -> str:
        """The signing Region."""
        return self._core.region

    def _next_delay(self, attempt: int, error: MistralBedrockError, started: float) -> float:
        """The wait before the next attempt; raises ``error`` when there is none."""
        delay = self.retry.next_delay(attempt, error, time.monotonic() - started)
        if delay is None:
            raise error
        return delay


class BatchControl(_Shell, Closing):
    """Batch inference jobs on Amazon Bedrock's control plane, synchronously.

    With no arguments it uses the standard AWS chain for credentials and Region, and honours
    ``AWS_ENDPOINT_URL_BEDROCK`` (then ``AWS_ENDPOINT_URL``) and ``AWS_BEARER_TOKEN_BEDROCK``. Throttling and
    transient failures are retried with the client's :class:`~.retry.RetryPolicy`; every other error is raised
    typed by its AWS code (``ValidationException``, ``ResourceNotFoundException``, ``ConflictException``…).

    Args:
        region: AWS Region; from the chain when omitted.
        profile: Shared-config profile.
        endpoint_url: Another endpoint (``mistral-bedrock serve``, a proxy, a VPC endpoint).
        aws_access_key_id: Explicit credentials (with ``aws_secret_access_key``, ``aws_session_token``).
        api_key: A Bedrock API key, sent as ``Authorization: Bearer``.
        timeout: Read timeout in seconds; ``connect_timeout`` for connecting.
        retry: Retry policy (5 attempts with jittered backoff by default).
        http_client: An ``httpx.Client`` to use (the client will not close one it did not create).
    """

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        settings = ClientSettings(
            region, profile, endpoint_url, aws_access_key_id, aws_secret_access_key, aws_session_token, api_key,
            timeout, connect_timeout,
        )  # fmt: skip
        super().__init__(settings, retry)
        self._owns_http = http_client is None
        self._http = http_client or settings.sync_http()

    def close(self) -> None:
        """Close the connections; later calls raise :class:`~.usage_errors.ClientClosedError`."""
        self._closed = True
        if self._owns_http:
            self._http.close()

    def _send(self, request: ControlRequest) -> bytes:
        """Send with retries until a 200 arrives; its body."""
        if self._closed:
            raise ClientClosedError
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            error: MistralBedrockError
            try:
                response = self._http.request(
                    request.method, request.url, headers=self._core.headers(request), content=request.payload or None
                )
                if response.status_code == 200:
                    return response.content
                error = self._core.error(response.status_code, response.headers, response.content)
            except httpx.TransportError as exc:
                error = _transport_error(exc)
            time.sleep(self._next_delay(attempt, error, started))

    def create_job(
        self,
        *,
        job_name: str,
        role_arn: str,
        model_id: str,
        input_uri: str,
        output_uri: str,
        client_request_token: str,
        invocation: InvocationType = InvocationType.INVOKE_MODEL,
        timeout_hours: int | None = None,
        tags: Mapping[str, str] | None = None,
        output_kms_key_id: str | None = None,
        bucket_owner: str | None = None,
    ) -> str:
        """Create a batch inference job (CreateModelInvocationJob); its ARN.

        Args:
            job_name: Unique in the account and Region, 1 to 63 characters.
            role_arn: The service role Bedrock reads and writes S3 with.
            model_id: The model id or inference profile that answers the records.
            input_uri: ``s3://…`` of the input ``.jsonl`` file, or a prefix of several.
            output_uri: ``s3://…`` prefix the output goes under (``{output_uri}/{job id}/``).
            client_request_token: Makes Create idempotent: Bedrock answers a repeat with the first job. Derive it
                from the job (:func:`~mistral_bedrock.batch.jobs.idempotency_token`), never per call.
            invocation: What each record's ``modelInput`` is: an InvokeModel body, or a Converse request.
            timeout_hours: 24 to 168; Bedrock's default (24) when None.
            tags: Tags for the job.
            output_kms_key_id: The KMS key the output is encrypted with.
            bucket_owner: The account expected to own both buckets (``s3BucketOwner``): S3 then refuses a bucket
                of another account rather than let the job read or write it.

        Raises:
            ValidationException: The request breaks a constraint (before any I/O), or Bedrock refused it.
        """
        body = create_job_request(
            job_name=job_name, role_arn=role_arn, model_id=model_id, input_uri=input_uri, output_uri=output_uri,
            client_request_token=client_request_token, invocation=invocation, timeout_hours=timeout_hours, tags=tags,
            output_kms_key_id=output_kms_key_id, bucket_owner=bucket_owner,
        )  # fmt: skip
        return self._core.job_arn(self._send(self._core.create(body)))

    def get_job(self, job_identifier: str) -> BatchJob:
        """A job's state (GetModelInvocationJob), by its 12-character id or its ARN."""
        return self._core.job(self._send(self._core.get(job_identifier)))

    def stop_job(self, job_identifier: str) -> None:
        """Stop a job (StopModelInvocationJob); tokens already processed are charged.

        Raises:
            ValidationException: The job has already ended (Bedrock's message says its state).
        """
        self._send(self._core.stop(job_identifier))

    def list_jobs(self, query: JobQuery | None = None, *, limit: int | None = None) -> Iterator[BatchJob]:
        """Every job ``query`` selects, page after page (ListModelInvocationJobs); at most ``limit`` when given."""
        query = query or JobQuery()
        token: str | None = None
        remaining = limit
        while remaining is None or remaining > 0:
            page = self._core.page(self._send(self._core.list_page(query, token)))
            yield from page.jobs[:remaining]
            if remaining is not None:
                remaining -= min(remaining, len(page.jobs))
            token = page.next_token
            if token is None:
                return


class AsyncBatchControl(_Shell, AsyncClosing):
    """:class:`BatchControl`, asynchronously: the same methods, awaited; :meth:`list_jobs` is an async iterator.

    Args:
        region: AWS Region; from the chain when omitted.
        profile: Shared-config profile.
        endpoint_url: Another endpoint (``mistral-bedrock serve``, a proxy, a VPC endpoint).
        aws_access_key_id: Explicit credentials (with ``aws_secret_access_key``, ``aws_session_token``).
        api_key: A Bedrock API key, sent as ``Authorization: Bearer``.
        timeout: Read timeout in seconds; ``connect_timeout`` for connecting.
        retry: Retry policy (5 attempts with jittered backoff by default).
        http_client: An ``httpx.AsyncClient`` to use (the client will not close one it did not create).
    """

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        settings = ClientSettings(
            region, profile, endpoint_url, aws_access_key_id, aws_secret_access_key, aws_session_token, api_key,
            timeout, connect_timeout,
        )  # fmt: skip
        super().__init__(settings, retry)
        self._owns_http = http_client is None
        self._http = http_client or settings.async_http()

    async def close(self) -> None:
        """Close the connections; later calls raise :class:`~.usage_errors.ClientClosedError`."""
        self._closed = True
        if self._owns_http:
            await self._http.aclose()

    async def _send(self, request: ControlRequest) -> bytes:
        """Send with retries until a 200 arrives; its body."""
        if self._closed:
            raise ClientClosedError
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            error: MistralBedrockError
            try:
                response = await self._http.request(
                    request.method, request.url, headers=self._core.headers(request), content=request.payload or None
                )
                if response.status_code == 200:
                    return response.content
                error = self._core.error(response.status_code, response.headers, response.content)
            except httpx.TransportError as exc:
                if self._closed:  # closed by another task while this call waited
                    raise ClientClosedError from exc
                error = _transport_error(exc)
            await asyncio.sleep(self._next_delay(attempt, error, started))

    async def create_job(
        self,
        *,
        job_name: str,
        role_arn: str,
        model_id: str,
        input_uri: str,
        output_uri: str,
        client_request_token: str,
        invocation: InvocationType = InvocationType.INVOKE_MODEL,
        timeout_hours: int | None = None,
        tags: Mapping[str, str] | None = None,
        output_kms_key_id: str | None = None,
        bucket_owner: str | None = None,
    ) -> str:
        """:meth:`BatchControl.create_job`, awaited."""
        body = create_job_request(
            job_name=job_name, role_arn=role_arn, model_id=model_id, input_uri=input_uri, output_uri=output_uri,
            client_request_token=client_request_token, invocation=invocation, timeout_hours=timeout_hours, tags=tags,
            output_kms_key_id=output_kms_key_id, bucket_owner=bucket_owner,
        )  # fmt: skip
        return self._core.job_arn(await self._send(self._core.create(body)))

    async def get_job(self, job_identifier: str) -> BatchJob:
        """:meth:`BatchControl.get_job`, awaited."""
        return self._core.job(await self._send(self._core.get(job_identifier)))

    async def stop_job(self, job_identifier: str) -> None:
        """:meth:`BatchControl.stop_job`, awaited."""
        await self._send(self._core.stop(job_identifier))

    async def list_jobs(self, query: JobQuery | None = None, *, limit: int | None = None) -> AsyncIterator[BatchJob]:
        """:meth:`BatchControl.list_jobs`, as an async iterator."""
        query = query or JobQuery()
        token: str | None = None
        remaining = limit
        while remaining is None or remaining > 0:
            page = self._core.page(await self._send(self._core.list_page(query, token)))
            for job in page.jobs[:remaining]:
                yield job
            if remaining is not None:
                remaining -= min(remaining, len(page.jobs))
            token = page.next_token
            if token is None:
                return
