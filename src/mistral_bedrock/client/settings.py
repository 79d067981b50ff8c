"""Constructor arguments shared by both shells, turned into a :class:`ClientCore` in one place."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from typing import Any, TypedDict

import httpx
from typing_extensions import Unpack

from ..conversation import Params
from .core import ClientCore, endpoint_for
from .signing import Signer, default_region

__all__ = ["LOCAL_CREDENTIALS", "ClientSettings", "NoCookies", "Sampling", "params"]

# httpx writes a request's headers and body separately; without TCP_NODELAY, Nagle's algorithm holds the body
# until the server's delayed ACK (~40 ms) on every call. urllib3 (and so boto3) sets it too.
NO_DELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]

# As many calls in flight as a caller starts (up to 1,000), each on its own kept-alive connection.
ASYNC_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)

# What the embedded runtime is signed with: any well-formed signature is accepted there.
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


class NoCookies(CookieJar):
    """A cookie jar that keeps nothing: Bedrock sets no cookies and no AWS SDK keeps any, yet httpx would parse
    every response's headers into an ``email.message`` to look for them (5% of a call's client CPU)."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


@dataclass(frozen=True)
class ClientSettings:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = field(default=None, repr=False)  # secrets stay out of tracebacks
    aws_session_token: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 120.0
    connect_timeout: float = 10.0

    def core(self) -> ClientCore:
        region = self.region or default_region(self.profile)
        if region is None:
            if self.endpoint_url is None:
                raise ValueError("no AWS region configured: pass region=… or set AWS_REGION")
            region = "us-east-1"  # a custom endpoint still needs a signing region
        signer = Signer(
            region=region,
            profile=self.profile,
            access_key_id=self.aws_access_key_id,
            secret_access_key=self.aws_secret_access_key,
            session_token=self.aws_session_token,
            api_key=self.api_key,
        )
        return ClientCore(region=region, endpoint_url=_checked(endpoint_for(region, self.endpoint_url)), signer=signer)

    def httpx_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=self.connect_timeout)

    def sync_http(self) -> httpx.Client:
        transport = httpx.HTTPTransport(socket_options=NO_DELAY)
        return httpx.Client(timeout=self.httpx_timeout(), transport=transport, cookies=NoCookies())

    def async_http(self) -> httpx.AsyncClient:
        """The async shell's HTTP client: httpx over aiohttp's pool, which keeps up at many calls in flight."""
        # aiohttp takes ~0.15 s to import: only a program that makes an async client pays for it.
        from .transport import AiohttpTransport

        transport = AiohttpTransport(limits=ASYNC_LIMITS)
        return httpx.AsyncClient(timeout=self.httpx_timeout(), transport=transport, cookies=NoCookies())


def _checked(endpoint: str) -> str:
    """An endpoint URL as given, once it is one a request can go to (a typo must not be retried five times)."""
    try:
        url = httpx.URL(endpoint)
    except httpx.InvalidURL as exc:
        raise ValueError(f"endpoint URL {endpoint!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"endpoint URL {endpoint!r} must be http://HOST[:PORT] or https://HOST[:PORT]")
    return endpoint


class Sampling(TypedDict, total=False):
    """The inference parameters every call takes as keywords; unset ones leave Bedrock's per-model default.

    Not every dialect has every one: Mistral's chat body has no ``top_k`` or ``stop``, and asking for them there
    is a clear ValidationException before any I/O rather than a silent drop.
    """

    max_tokens: int | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    stop: str | Sequence[str] | None


def params(**sampling: Unpack[Sampling]) -> Params:
    """Keyword arguments → :class:`Params`; a single stop string is one stop sequence.

    Raises:
        TypeError: A keyword that is not a sampling parameter (a typo must not be dropped in silence).
    """
    unknown = sorted(set(sampling) - Sampling.__optional_keys__)
    if unknown:
        known = ", ".join(sorted(Sampling.__optional_keys__))
        raise TypeError(f"unexpected keyword argument {unknown[0]!r} (the sampling parameters are {known})")
    stop = sampling.get("stop")
    stops = (stop,) if isinstance(stop, str) else (tuple(stop) if stop else None)
    return Params(
        max_tokens=sampling.get("max_tokens"),
        temperature=sampling.get("temperature"),
        top_p=sampling.get("top_p"),
        top_k=sampling.get("top_k"),
        stop=stops,
    )
