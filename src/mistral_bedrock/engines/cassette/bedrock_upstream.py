"""Amazon Bedrock itself, reached with the user's credentials: the far side of a recording.

The client talked to the runtime with whatever credentials it had (dummy ones, in a test). Its signature is
dropped; each request is signed anew, with SigV4 for service ``bedrock``, by the credentials of the standard AWS
chain (environment, shared files, SSO, instance roles) — botocore's own signer, so it signs exactly as an AWS SDK
would. Only the headers that carry meaning for Bedrock are forwarded. Stream bytes are handed on as they arrive.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.session import Session

from ...errors import ServiceUnavailableException
from ..relay import RelayRequest

__all__ = ["BedrockUpstream", "UpstreamAnswer"]

# The request headers Bedrock reads besides the body: its type, the accept header, and Bedrock's own
# (X-Amzn-Bedrock-Accept, -Trace, -GuardrailIdentifier, -GuardrailVersion, -PerformanceConfig-Latency…).
_FORWARDED = re.compile(r"^(content-type|accept|x-amzn-bedrock-.*)$")
_EVENT_STREAM = "application/vnd.amazon.eventstream"
# A model may think for minutes before its first token; connecting should be quick.
_TIMEOUT = httpx.Timeout(connect=10.0, read=900.0, write=60.0, pool=10.0)


@dataclass
class UpstreamAnswer:
    """Bedrock's response: a whole body, or (a 200 event stream) its raw bytes as they arrive."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    chunks: AsyncGenerator[bytes, None] | None = None


class BedrockUpstream:
    """Sends validated requests on to Bedrock, signed with the user's credentials.

    Each request goes to the Region its client signed for, as the client meant it (a model is served only in some
    Regions); ``region`` pins one instead. A request without a Region (a bearer token) goes to the default Region:
    ``AWS_REGION``, ``AWS_DEFAULT_REGION`` or the profile's, else us-east-1.

    Args:
        region: The one Region to reach and sign for, whatever the client signed for.
        url: Another endpoint than Bedrock's ``https://bedrock-runtime.{region}.amazonaws.com`` (a stand-in).
        credentials: Credentials to sign with (botocore's, or anything with ``access_key``, ``secret_key`` and
            ``token``); default the standard chain's, read now.

    Raises:
        ValueError: No credentials in the standard chain.
    """

    def __init__(self, *, region: str | None = None, url: str | None = None, credentials: Any = None) -> None:
        session = Session() if credentials is None or region is None else None
        self.pinned_region = region
        # botocore reads AWS_DEFAULT_REGION and the profile; AWS_REGION is what the other SDKs read first.
        configured = (session.get_config_variable("region") if session else None) or os.environ.get("AWS_REGION")
        self.default_region = region or configured or "us-east-1"
        if credentials is None and session is not None:
            credentials = session.get_credentials()
        if credentials is None:
            raise ValueError(
                "Recording needs AWS credentials to sign requests to Amazon Bedrock, and the standard chain "
                "(AWS_ACCESS_KEY_ID…, ~/.aws, SSO, an instance role) has none."
            )
        self._credentials = credentials
        self._url = url.rstrip("/") if url else None
        # Loading the CA certificates takes ~20 ms: once here, not for every request's client.
        self._tls = httpx.create_ssl_context()

    def region_for(self, request: RelayRequest) -> str:
        """The Region ``request`` is sent to and signed for."""
        return self.pinned_region or request.region or self.default_region

    def url_for(self, region: str) -> str:
        """Bedrock's runtime endpoint in ``region``, or the endpoint given."""
        return self._url or f"https://bedrock-runtime.{region}.amazonaws.com"

    def describe(self) -> str:
        where = self._url or "https://bedrock-runtime.{Region}.amazonaws.com"
        region = (
            f"Region {self.pinned_region}"
            if self.pinned_region
            else f"each client's Region (default {self.default_region})"
        )
        return f"{where}, {region}"

    def credentials(self) -> ReadOnlyCredentials:
        """The credentials as they are now (refreshable ones may have rotated): also what a cassette must not hold."""
        frozen = getattr(self._credentials, "get_frozen_credentials", None)
        if callable(frozen):
            result: ReadOnlyCredentials = frozen()
            return result
        creds = self._credentials
        return ReadOnlyCredentials(creds.access_key, creds.secret_key, getattr(creds, "token", None))

    def _signed(self, request: RelayRequest) -> tuple[str, dict[str, str]]:
        region = self.region_for(request)
        url = self.url_for(region) + request.path
        headers = {name: value for name, value in request.headers.items() if _FORWARDED.match(name)}
        prepared = AWSRequest(method=request.operation.method, url=url, data=request.body, headers=headers)
        SigV4Auth(self.credentials(), "bedrock", region).add_auth(prepared)
        return url, {name: str(value) for name, value in prepared.headers.items()}

    async def send(self, request: RelayRequest) -> UpstreamAnswer:
        """Bedrock's answer to ``request``.

        Raises:
            ServiceUnavailableException: Bedrock could not be reached.
        """
        url, headers = self._signed(request)
        # A client per request: the runtime serves from several event loops (workers, test threads), and a
        # recording is no hot path; a model's answer takes far longer than a new connection.
        client = httpx.AsyncClient(timeout=_TIMEOUT, verify=self._tls)
        try:
            response = await client.send(
                client.build_request(request.operation.method, url, headers=headers, content=request.body),
                stream=True,
            )
        except httpx.HTTPError as exc:
            await client.aclose()
            where = url.split("/model/", 1)[0]
            raise ServiceUnavailableException(f"Amazon Bedrock could not be reached at {where}: {exc}") from None
        answer_headers = dict(response.headers.items())
        if response.status_code == 200 and response.headers.get("content-type", "").startswith(_EVENT_STREAM):
            return UpstreamAnswer(200, answer_headers, chunks=_chunks(client, response))
        try:
            body = await response.aread()
        except httpx.HTTPError as exc:
            raise ServiceUnavailableException(f"Amazon Bedrock's answer broke off: {exc}") from None
        finally:
            await response.aclose()
            await client.aclose()
        return UpstreamAnswer(response.status_code, answer_headers, body=body)


async def _chunks(client: httpx.AsyncClient, response: httpx.Response) -> AsyncGenerator[bytes, None]:
    """The stream's bytes as they arrive; the connection is closed however the reading ends."""
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except httpx.HTTPError as exc:
        raise ServiceUnavailableException(f"Amazon Bedrock's stream broke off: {exc}") from None
    finally:
        await response.aclose()
        await client.aclose()
