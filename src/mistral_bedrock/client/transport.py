"""The async client's HTTP transport: httpx's API over aiohttp's connection pool.

httpcore's async pool re-examines every queued request against every connection each time a request starts or
ends (encode/httpcore#1035), so its cost per call grows with the calls in flight: at 64 at once the async client
managed a quarter of aiobotocore's calls per second at 4.5 times its CPU per call. aiohttp's connector hands out a
kept-alive connection in constant time. ``bench/client_concurrency.py`` measures both, and httpx2 and httpx-aiohttp
beside them (``docs/BENCHMARKS.md``, "Client: async at 64 concurrent calls").

Only the transport changes: the client still talks to an ``httpx.AsyncClient``, so timeouts, proxies from the
environment, redirects and response decoding behave as before. What this adapter guarantees the shell:

* every aiohttp failure is raised as the httpx exception of the same meaning (connect, read, timeout, protocol), so
  the shell's ``except httpx.TransportError`` still turns it into a typed error;
* a body is handed up piece by piece as it arrives, so a stream stays incremental;
* the request goes out as httpx built it: the path byte for byte (SigV4 signs it as sent), and no header that
  httpx did not put there.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import lru_cache

import aiohttp
import httpx
import yarl

__all__ = ["AiohttpTransport"]

# Most specific first: the first class an exception is an instance of decides. aiohttp's "connect" timeout covers
# the wait for a pooled connection as well as the handshake, which httpx calls a pool timeout and a connect timeout.
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.ClientOSError, httpx.ReadError),
    (aiohttp.ClientError, httpx.NetworkError),
    (asyncio.TimeoutError, httpx.TimeoutException),
)


@contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        # The last two rows of the table take every exception this clause catches.
        target = next(target for source, target in _ERRORS if isinstance(exc, source))
        # A timeout may come without a message of its own; its class then says which one it was.
        raise target(str(exc) or type(exc).__name__, request=request) from exc


@lru_cache(maxsize=256)
def _url(url: str) -> yarl.URL:
    # As httpx wrote it, not re-normalized: yarl would send the %3A of a model id as ":", and the bytes on the wire
    # must be those the signature was computed over (SigV4 signs the path as sent).
    return yarl.URL(url, encoded=True)


@lru_cache(maxsize=32)
def _timeout(connect: float | None, read: float | None, pool: float | None) -> aiohttp.ClientTimeout:
    # No total: a stream may run as long as it keeps sending; httpx's read timeout is per read, as sock_read is.
    return aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)


class _Body(httpx.AsyncByteStream):
    """A response body, read as the bytes arrive (``iter_any``), never gathered first."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors(self._request):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        # Back to the pool when the body was read to its end; closed otherwise (aiohttp decides, as httpcore did).
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` that sends through one ``aiohttp.ClientSession``.

    Args:
        limits: The most connections open at once (``max_connections``, None for no cap) and how long an idle
            one is kept (``keepalive_expiry``). ``max_keepalive_connections`` has no counterpart: aiohttp keeps
            every idle connection until it expires.

    The session is made on the first request, inside the running event loop (aiohttp ties it to that loop), and
    made anew if that loop has since been closed. TLS verifies against httpx's CA bundle; ``TCP_NODELAY`` is
    aiohttp's default.
    """

    def __init__(self, *, limits: httpx.Limits) -> None:
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Responses whose bodies are still being read: closing the transport cuts them, so that a reader waiting
        # for a stream's next bytes wakes with an error instead of waiting forever (closing the session alone
        # leaves a connection that is in use open).
        self._open: weakref.WeakSet[aiohttp.ClientResponse] = weakref.WeakSet()

    async def _session_now(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is not None and self._loop is not None and self._loop.is_closed():
            # Its connections died with their loop; closing it only marks it closed.
            await self._session.close()
            self._session = None
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                limit_per_host=0,
                keepalive_timeout=self._limits.keepalive_expiry,
                ssl=httpx.create_ssl_context(),  # httpx's CA bundle (certifi, or SSL_CERT_FILE), as before
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                # httpx decodes bodies, keeps cookies and follows redirects itself; aiohttp must not do it twice.
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("Content-Type",),
                timeout=aiohttp.ClientTimeout(total=None),
            )
            self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = await self._session_now()
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        with _httpx_errors(request):
            response = await session.request(
                request.method,
                _url(str(request.url)),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                timeout=_timeout(timeout.get("connect"), timeout.get("read"), timeout.get("pool")),
            )
        self._open.add(response)
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()},
        )

    async def aclose(self) -> None:
        for response in list(self._open):
            response.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
