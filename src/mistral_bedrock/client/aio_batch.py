"""The batch control-plane client's asynchronous shell, :class:`AsyncBatchControl`: the one source of both shells.

It only moves bytes and waits between retries; :class:`~.batch_control.BatchControlCore` does the rest. The
synchronous :class:`~.sync_batch.BatchControl` is generated from this module by ``scripts/unasync.py``.
"""

from __future__ import annotations

import asyncio  # sync: -
import time
from collections.abc import AsyncIterator, Mapping

import httpx

from ..batch.invocation import InvocationType
from ..batch.jobs import BatchJob, create_job_request
from ..errors import MistralBedrockError, TransportError
from .batch_control import BatchControlCore, ControlRequest, JobQuery
from .closing import AsyncClosing
from .retry import RetryPolicy
from .settings import ClientSettings
from .usage_errors import ClientClosedError

__all__ = ["AsyncBatchControl"]


class AsyncBatchControl(AsyncClosing):
    """Batch inference jobs on Amazon Bedrock's control plane, asynchronously.

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
        self._core = BatchControlCore.from_settings(settings)
        self.retry = retry or RetryPolicy()
        self._closed = False
        self._owns_http = http_client is None
        self._http = http_client or settings.async_http()

    async def close(self) -> None:
        """Close the connections; later calls raise :class:`~.usage_errors.ClientClosedError`."""
        self._closed = True
        if self._owns_http:
            await self._http.aclose()

    @property
    def endpoint_url(self) -> str:
        """Where the requests go."""
        return self._core.endpoint_url

    @property
    def region(self) -> str:
        """The signing Region."""
        return self._core.region

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
                if self._closed:  # closed by another task while this call waited  # sync: -
                    raise ClientClosedError from exc  # sync: -
                error = TransportError(f"{type(exc).__name__}: {exc}")
            delay = self.retry.next_delay(attempt, error, time.monotonic() - started)
            if delay is None:
                raise error
            await asyncio.sleep(delay)

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
        return self._core.job_arn(await self._send(self._core.create(body)))

    async def get_job(self, job_identifier: str) -> BatchJob:
        """A job's state (GetModelInvocationJob), by its 12-character id or its ARN."""
        return self._core.job(await self._send(self._core.get(job_identifier)))

    async def stop_job(self, job_identifier: str) -> None:
        """Stop a job (StopModelInvocationJob); tokens already processed are charged.

        Raises:
            ValidationException: The job has already ended (Bedrock's message says its state).
        """
        await self._send(self._core.stop(job_identifier))

    async def list_jobs(self, query: JobQuery | None = None, *, limit: int | None = None) -> AsyncIterator[BatchJob]:
        """Every job ``query`` selects, page after page (ListModelInvocationJobs); at most ``limit`` when given."""
        query = query or JobQuery()
        token: str | None = None
        remaining = limit
        while remaining is None or remaining > 0:
            page = self._core.page(await self._send(self._core.list_page(query, token)))
            for job in page.jobs[:remaining]:  # sync: yield from page.jobs[:remaining]
                yield job  # sync: -
            if remaining is not None:
                remaining -= min(remaining, len(page.jobs))
            token = page.next_token
            if token is None:
                return
