"""Shared by the load benchmarks (``runtime_fairness``, ``runtime_memory``, ``runtime_pacing``).

* :func:`start_serve`: ``mistral-bedrock serve`` (1 worker, no first-byte floor) on a free port, in its own process
  group (:class:`~_servers.ServerProcess`), with the worker's RSS read from ``/proc``.
* :class:`Connection`: one keep-alive HTTP/1.1 connection on raw asyncio sockets that sends prebuilt requests and
  reads responses with ``Content-Length`` or chunked bodies, handing each body piece to a callback as it arrives
  (so a stream's frames can be timed). httpx is far too slow on the client side to time 1,000 streams with.
* :func:`prompt_body`: text-completion bodies of a given size from a seeded vocabulary, every one distinct.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

_BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(_BENCH))

from _servers import ServerProcess, free_port  # noqa: E402

__all__ = ["WORDS", "Connection", "build_request", "connect", "prompt_body", "start_serve", "worker_rss_mib"]

READY_LINE = "mistral-bedrock runtime listening on"
_AUTH = "Bearer bench"  # lenient auth takes any bearer token
WORDS = (  # noqa: SIM905 (a sentence of words reads better than a list of strings)
    "the a of and to in is you that it he was for on are as with his they I at be this have from or one had by word "
    "but not what all were we when your can said there use an each which she do how their if will up other about "
    "out many then them these so some her would make like him into time has look two more write go see number no "
    "weather river mountain story music song radio station city country history science market price train garden"
).split()


def _serve_argv() -> list[str]:
    script = Path(sys.executable).with_name("mistral-bedrock")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from mistral_bedrock.cli import main; sys.exit(main())"]


def start_serve(*extra: str) -> ServerProcess:
    """``mistral-bedrock serve`` with one worker and no first-byte floor, started and listening."""
    port = free_port()
    argv = [*_serve_argv(), "serve", "--port", str(port), "--workers", "1", "--min-first-byte-ms", "0", *extra]
    return ServerProcess("mistral-bedrock serve", argv, port, ready_line=READY_LINE).start()


def worker_rss_mib(server: ServerProcess) -> float:
    """The RSS of the server's worker process, in MiB."""
    return server.rss_kib()[0] / 1024


def prompt_body(rng: random.Random, words: int, number: int, **extra: object) -> bytes:
    """A text-completion body: ``words`` words drawn from a small vocabulary, numbered so no two are the same."""
    text = " ".join(rng.choices(WORDS, k=words))
    return json.dumps({"prompt": f"<s>[INST] Document {number}: {text} [/INST]", **extra}).encode()


def build_request(port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {_AUTH}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._done: asyncio.Future[int] | None = None
        self._on_body: Callable[[bytes], None] = lambda data: None
        self._status = 0
        self._remaining = -1  # bytes left of a Content-Length body, or of the current chunk
        self._chunked = False
        self._in_head = True
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_exception(ConnectionError(f"connection lost: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)

    async def send(self, request: bytes, on_body: Callable[[bytes], None] = lambda data: None) -> int:
        """Send one request; the response's status once its body has been read to the end."""
        assert self.transport is not None
        assert self._done is None
        self._done = asyncio.get_running_loop().create_future()
        self._on_body, self._in_head, self._buffer = on_body, True, bytearray()
        self.transport.write(request)
        try:
            return await self._done
        finally:
            self._done = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._done is not None and not self._done.done() and self._step():
            pass

    def _step(self) -> bool:
        """Consume what the buffer allows; True when more may be consumed."""
        if self._in_head:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
            del self._buffer[: end + 4]
            self._status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            self._chunked = headers.get("transfer-encoding", "").lower() == "chunked"
            self._remaining = -1 if self._chunked else int(headers.get("content-length", "0"))
            self._in_head = False
            if not self._chunked and self._remaining == 0:
                self._finish()
                return False
            return True
        if not self._chunked:
            take = bytes(self._buffer[: self._remaining])
            del self._buffer[: len(take)]
            self._remaining -= len(take)
            if take:
                self._on_body(take)
            if self._remaining == 0:
                self._finish()
            return False
        if self._remaining < 0:  # at a chunk-size line
            end = self._buffer.find(b"\r\n")
            if end < 0:
                return False
            size = int(bytes(self._buffer[:end]).split(b";")[0], 16)
            del self._buffer[: end + 2]
            if size == 0:
                if self._buffer.find(b"\r\n") < 0:
                    self._buffer[:0] = b"0\r\n"  # wait for the closing CRLF
                    return False
                del self._buffer[:2]
                self._finish()
                return False
            self._remaining = size
            return True
        if len(self._buffer) < self._remaining + 2:
            return False
        self._on_body(bytes(self._buffer[: self._remaining]))
        del self._buffer[: self._remaining + 2]
        self._remaining = -1
        return True

    def _finish(self) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(self._status)


async def connect(port: int) -> Connection:
    _, protocol = await asyncio.get_running_loop().create_connection(Connection, "127.0.0.1", port)
    return protocol


def now() -> float:
    return time.perf_counter()
