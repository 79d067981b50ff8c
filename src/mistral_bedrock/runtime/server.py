"""Serving the runtime: in the foreground for ``mistral-bedrock serve``, or in a background thread.

* Foreground: granian, with HTTP/1.1 and cleartext HTTP/2 on one port (``http=auto``). The AWS SDK for JS v3
  speaks HTTP/2 to bedrock-runtime by default, and granian delivers event streams whole over h2c. Workers are
  separate processes that build their own app from the environment (:func:`worker_app`).
* Background: :class:`ServerThread` runs uvicorn (HTTP/1.1) on an ephemeral loopback port inside this process —
  for tests and for the client's and CLI's embedded mode. It is a context manager exposing ``url``.

Stopping. Both stop accepting connections at once, let the responses in progress finish for a grace period, then
end those still open (:class:`OpenResponses`): a stream with an in-stream ``serviceUnavailableException``, a
request not yet answered with a 503 ``ServiceUnavailableException`` — Bedrock's own words for "try again". So a
stop takes at most the grace period plus a bounded moment, whatever the clients do.

``serve`` (granian's main process supervising its worker processes, :func:`serve`):

1. The first SIGINT or SIGTERM: every worker is sent SIGTERM; granian's server in each closes its listening socket
   and lets its connections finish.
2. When the grace period is over, the workers still running are sent SIGUSR1: each ends its open responses.
3. A worker still running :data:`WORKER_EXIT_S` later is killed. A second SIGINT or SIGTERM at any point kills
   every worker at once.

Then ``serve`` returns its exit status and has said, in one line, why it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import encodings.idna  # noqa: F401  (see serve(): must be imported before granian forks its workers)
import errno
import ipaddress
import json
import logging
import math
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import FrameType, TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mistral_bedrock.protocol.errors import ERROR_CODES
from mistral_bedrock.protocol.eventstream import encode_exception

from .app import app_from_env, create_app
from .config import ENV_VAR, RuntimeConfig
from .request_ids import new_request_id
from .responses import STOPPING, error_response
from .store import SharedState

__all__ = [
    "DEFAULT_GRACE_S",
    "STOPPING",
    "WORKER_EXIT_S",
    "Ended",
    "InsecureBindError",
    "OpenResponses",
    "PortInUseError",
    "ServerThread",
    "check_bind",
    "check_port_free",
    "serve",
    "worker_app",
]

DEFAULT_GRACE_S = 5.0
# After the grace period, how long a worker has to end its open responses and exit before it is killed. Ending
# them takes milliseconds; what can hold a worker longer are connections that never became a request (a client
# that stops halfway through its headers), which granian's server waits for and the app cannot see.
WORKER_EXIT_S = 5.0
# ServerThread serves in-process clients, whose answers are whole by the time they leave its block: a short grace
# keeps leaving it prompt when something was left open.
THREAD_GRACE_S = 0.5
# How long ending one response may take: a client that reads nothing leaves no room for the last frames.
_END_TIMEOUT_S = 2.0
# Where ``serve``'s workers write what they ended, for the parent's stop line (a file: it works with every
# start method of multiprocessing, fork or spawn).
STOP_REPORT_ENV = "MISTRAL_BEDROCK_STOP_REPORT"

_UNAVAILABLE = ERROR_CODES["ServiceUnavailableException"]
assert _UNAVAILABLE.stream_member is not None
# A member of both streaming operations' exception unions, so it needs no operation to be framed.
_UNAVAILABLE_FRAME = encode_exception(
    _UNAVAILABLE.stream_member, json.dumps({"message": _UNAVAILABLE.message}, separators=(",", ":")).encode()
)
_EVENT_STREAM = b"application/vnd.amazon.eventstream"


class InsecureBindError(ValueError):
    """Binding beyond loopback without strict auth, without saying so explicitly."""


class PortInUseError(OSError):
    """The port is taken by another program."""


def check_port_free(host: str, port: int) -> None:
    """Fail early and clearly if ``host:port`` cannot be bound, instead of announcing a server that never starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(f"port {port} on {host} is already in use") from None
            raise


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, auth: str, allow_insecure: bool) -> None:
    """Refuse to expose a runtime that accepts any credentials to other machines, unless told to."""
    if not _is_loopback(host) and not auth.startswith("strict") and not allow_insecure:
        raise InsecureBindError(
            f"refusing to bind {host} with --auth {auth}: anyone who can reach it could use it. "
            "Use --auth strict:… or pass --allow-insecure-bind."
        )


def _wait_for_port(host: str, port: int, stop: threading.Event, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            stop.wait(0.05)
    return False


@dataclass(frozen=True)
class Ended:
    """What a stop ended: streams cut with an in-stream exception, requests answered 503 before their response."""

    streams: int = 0
    requests: int = 0

    def __add__(self, other: Ended) -> Ended:
        return Ended(self.streams + other.streams, self.requests + other.requests)

    def __bool__(self) -> bool:
        return bool(self.streams or self.requests)

    def __str__(self) -> str:
        parts = [(self.streams, "stream"), (self.requests, "pending request")]
        return " and ".join(f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in parts if n)


class _Open:
    """One request in progress, and how far its response has gone."""

    __slots__ = ("complete", "ended", "started", "stream", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.started = False  # the response's start went out
        self.stream = False  # and it is an event stream
        self.complete = False  # its last body message went out
        self.ended = False  # end_all cancelled it


class OpenResponses:
    """An ASGI app wrapped so that a stopping server can end the responses still in progress.

    Each request runs in its own task (uvicorn and granian both do so); :meth:`end_all` cancels those whose
    response can still be ended the way Bedrock ends one — an event stream with a ``serviceUnavailableException``
    frame, a response not yet started with a 503 — and sends that ending. A whole response already under way is
    left to finish. Requests that arrive after :meth:`end_all` get the 503 at once.

    Args:
        app: The app to serve.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None  # the serving loop, known from the first request
        self._open: set[_Open] = set()
        self._ending = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task() if scope["type"] == "http" else None
        if task is None:  # lifespan events; or a server that runs requests outside tasks, which cannot be ended
            await self.app(scope, receive, send)
            return
        if self.loop is None:
            self.loop = task.get_loop()
        entry = _Open(task)
        if self._ending:
            await self._end(entry, scope, receive, send)
            return

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.started = True
                headers = message.get("headers", ())
                entry.stream = any(k.lower() == b"content-type" and v == _EVENT_STREAM for k, v in headers)
            elif not message.get("more_body", False):
                entry.complete = True  # before the send: once handed to the server, the response is whole
            await send(message)

        self._open.add(entry)
        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if not entry.ended:
                raise
            if sys.version_info >= (3, 11):
                task.uncancel()
            await self._end(entry, scope, receive, send)
        finally:
            self._open.discard(entry)

    def end_all(self) -> Ended:
        """End every response in progress that can be ended (on the serving loop); return how many."""
        self._ending = True
        streams = requests = 0
        for entry in self._open:
            if entry.ended or entry.complete or (entry.started and not entry.stream):
                continue
            entry.ended = True
            entry.task.cancel(STOPPING)
            if entry.started:
                streams += 1
            else:
                requests += 1
        return Ended(streams, requests)

    async def _end(self, entry: _Open, scope: Scope, receive: Receive, send: Send) -> None:
        with contextlib.suppress(Exception):  # the client is gone, or reads nothing: the connection is closed
            await asyncio.wait_for(self._send_ending(entry, scope, receive, send), _END_TIMEOUT_S)

    @staticmethod
    async def _send_ending(entry: _Open, scope: Scope, receive: Receive, send: Send) -> None:
        if entry.started:
            await send({"type": "http.response.body", "body": _UNAVAILABLE_FRAME, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        else:
            code, message = _UNAVAILABLE.code, _UNAVAILABLE.message
            await error_response(_UNAVAILABLE.status, code, message, new_request_id())(scope, receive, send)


def worker_app() -> OpenResponses:
    """The app each ``serve`` worker process builds (granian calls it): the runtime, with its settings from
    ``MISTRAL_BEDROCK_RUNTIME``, whose open responses SIGUSR1 ends (:class:`OpenResponses`).

    The handler is installed here, before granian's server installs its own for SIGINT and SIGTERM, which leave
    SIGUSR1 alone. What was ended is appended, one line per worker, to the file named by ``STOP_REPORT_ENV``.
    """
    app = OpenResponses(app_from_env())
    report = os.environ.get(STOP_REPORT_ENV)

    def end_open() -> None:
        ended = app.end_all()
        if report and ended:
            # One short write in append mode: the lines of several workers never interleave.
            with open(report, "a", encoding="ascii") as out:
                out.write(f"{ended.streams} {ended.requests}\n")

    def on_sigusr1(signum: int, frame: FrameType | None) -> None:
        loop = app.loop
        if loop is not None:  # None: no request ever came, so none is open
            with contextlib.suppress(RuntimeError):  # the loop has closed: the server has stopped already
                loop.call_soon_threadsafe(end_open)

    if sys.platform != "win32" and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGUSR1, on_sigusr1)
    return app


def _read_report(path: str) -> Ended:
    total = Ended()
    with contextlib.suppress(OSError, ValueError), open(path, encoding="ascii") as lines:
        for line in lines:
            streams, requests = line.split()
            total += Ended(int(streams), int(requests))
    return total


def _supervised_granian(grace: float, **options: Any) -> Any:
    """granian's multi-process server with a bounded stop (the module docstring's steps)."""
    from multiprocessing.connection import wait as wait_for_exit

    from granian.server.mp import MPServer

    # granian's code is untyped: its server is Any here, so that calling it needs no cast at every line.
    base: Any = MPServer

    class SupervisedServer(base):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(**options)
            self.grace = grace
            self.first_signal: int | None = None
            self.second_signal: int | None = None
            self.stop_began: float | None = None
            self.killed = 0  # workers that had to be killed after the grace period

        def signal_handler_interrupt(self, signum: int | None = None, *args: Any, **kwargs: Any) -> None:
            if self.first_signal is None:
                self.first_signal = signum or signal.SIGTERM
                self.stop_began = time.monotonic()
                super().signal_handler_interrupt()
            elif self.second_signal is None:
                self.second_signal = signum or signal.SIGTERM
                for worker in list(self.wrks):
                    worker.kill()  # the main thread is waiting for them to exit: it resumes at once

        def _running(self) -> list[Any]:
            # A worker's sentinel becomes readable when it exits. Unlike is_alive(), it cannot be fooled by
            # granian's watcher threads, which reap the same processes concurrently.
            return [worker for worker in self.wrks if not wait_for_exit([worker.inner.sentinel], 0)]

        def _wait_workers(self, deadline: float) -> None:
            running = {worker.inner.sentinel for worker in self.wrks}
            while running and (left := deadline - time.monotonic()) > 0:
                running.difference_update(wait_for_exit(list(running), left))

        def _stop_workers(self) -> None:
            began = self.stop_began if self.stop_began is not None else time.monotonic()
            for worker in self.wrks:
                if self.second_signal is None:
                    worker.terminate()
                else:  # both signals came before the workers were all started
                    worker.kill()
            self._wait_workers(began + self.grace)
            running = self._running()
            if running and self.second_signal is None and sys.platform != "win32":
                for worker in running:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(worker.inner.pid, signal.SIGUSR1)
                self._wait_workers(time.monotonic() + WORKER_EXIT_S)
            for worker in self._running():
                self.killed += self.second_signal is None
                worker.kill()
            for worker in self.wrks:
                worker.join()
            self.wrks.clear()

    return SupervisedServer()


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def serve(
    config: RuntimeConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8787,
    workers: int = 1,
    grace: float = DEFAULT_GRACE_S,
    allow_insecure_bind: bool = False,
    announce: Callable[[str], None] = print,
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> int:
    """Run the runtime in the foreground until SIGINT/SIGTERM, and return the exit status.

    ``announce`` gets the URL once it accepts connections; ``say`` gets one line saying why it stopped. The
    status: 0 after a stop on the first signal (open responses finished, or were ended after ``grace`` seconds);
    128 + the signal's number when a second signal stopped it at once; 1 when a worker exited by itself.
    """
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels

    check_bind(host, config.auth, allow_insecure_bind)
    check_port_free(host, port)
    shared = SharedState(config, workers)  # fault rules and the journal: one store for every worker
    # Worker processes are nothing but the runtime, so they may freeze the heap after loading tokenizers.
    os.environ[ENV_VAR] = replace(shared.config, freeze_gc=True).to_env()
    server = _supervised_granian(
        grace,
        target="mistral_bedrock.runtime.server:worker_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        http=HTTPModes.auto,
        workers=workers,
        websockets=False,
        log_level=LogLevels.warning,
        log_access=False,
    )
    report_fd, report = tempfile.mkstemp(prefix="mistral-bedrock-stop-")
    os.close(report_fd)
    os.environ[STOP_REPORT_ENV] = report
    # granian installs the same handlers once it starts; installed now, a signal that comes first stops it too.
    previous = {sig: signal.signal(sig, server.signal_handler_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    stop = threading.Event()
    shown = host if ":" not in host else f"[{host}]"

    # This thread is alive while granian forks its workers. A fork copies a held import lock into the child
    # forever, so the thread must not import anything then: ``encodings.idna``, which the first connect would
    # import, is imported at the top of this module.
    def watch() -> None:
        probe = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
        if _wait_for_port(probe, port, stop):
            announce(f"mistral-bedrock runtime listening on http://{shown}:{port}")

    watcher = threading.Thread(target=watch, name="mistral-bedrock-announce", daemon=True)
    watcher.start()
    crashed = False
    try:
        server.serve()
    except SystemExit as exc:  # granian's way of saying a worker exited by itself
        crashed = exc.code not in (None, 0)
    finally:
        stop.set()
        shared.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        ended = _read_report(report)
        with contextlib.suppress(OSError):
            os.unlink(report)
    if server.second_signal is not None:
        say(f"mistral-bedrock: stopped at once (second {_signal_name(server.second_signal)})")
        return 128 + int(server.second_signal)
    if crashed or server.first_signal is None:
        say("mistral-bedrock: stopped: a worker process exited unexpectedly")
        return 1
    line = f"mistral-bedrock: stopped ({_signal_name(server.first_signal)})"
    if ended:
        line += f"; {ended} ended after the {grace:g} s grace period"
    if server.killed:
        workers_killed = f"{server.killed} worker{'s' if server.killed != 1 else ''}"
        line += f"; killed {workers_killed} still running {WORKER_EXIT_S:g} s after the grace period"
    say(line)
    return 0


class _QuietDrops(logging.Filter):
    """An injected ``drop`` fault ends a response on purpose; uvicorn need not report it as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


class _Server(uvicorn.Server):
    """uvicorn, telling a waiting thread when it accepts connections, and on which loop."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready
        self.loop: asyncio.AbstractEventLoop | None = None
        error_log = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _QuietDrops) for f in error_log.filters):
            error_log.addFilter(_QuietDrops())

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)
        self.ready.set()

    def install_signal_handlers(self) -> None:
        """Signals belong to the main thread's program, not to an embedded server."""


class ServerThread:
    """A runtime on an ephemeral loopback port in a background thread.

    Example::

        with ServerThread() as server:
            boto3.client("bedrock-runtime", endpoint_url=server.url, ...)

    Stopping (``stop()``, or leaving the ``with`` block) closes the port, lets open responses finish for
    ``grace`` seconds, then ends them as ``serve`` does (:class:`OpenResponses`), so it returns promptly even
    with streams still open.

    Args:
        app: An ASGI app; by default :func:`create_app` with ``config``.
        config: Runtime settings used when ``app`` is not given.
        host: Address to bind (loopback by default).
        port: Port; 0 picks a free one.
        grace: Seconds open responses get to finish when the server stops.
    """

    def __init__(
        self,
        app: ASGIApp | None = None,
        *,
        config: RuntimeConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        grace: float = THREAD_GRACE_S,
    ) -> None:
        self.app = app if app is not None else create_app(config)
        self.host = host
        self.grace = grace
        self._responses = OpenResponses(self.app)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP, and
        # without it every keep-alive response waits ~40 ms for the client's delayed ACK (Nagle).
        self._socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        self._ready = threading.Event()
        self._server = _Server(
            uvicorn.Config(
                self._responses,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_keep_alive=30,
                backlog=2048,
                # A backstop only: the responses are ended before it (see stop()).
                timeout_graceful_shutdown=math.ceil(grace + _END_TIMEOUT_S) + 1,
            ),
            self._ready,
        )
        self._thread = threading.Thread(target=self._run, name="mistral-bedrock-runtime", daemon=True)
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # surfaced to the starting thread
            self._error = exc
            self._ready.set()

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None or not self._ready.is_set():
            raise RuntimeError(f"the runtime did not start: {self._error!r}")
        return self

    def _begin_stop(self) -> None:
        """On the server's loop: stop accepting, and end what is still open once the grace period is over."""
        self._server.should_exit = True
        asyncio.get_running_loop().call_later(self.grace, self._responses.end_all)

    def stop(self) -> None:
        loop = self._server.loop
        if loop is None:
            self._server.should_exit = True
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the server has stopped already
                loop.call_soon_threadsafe(self._begin_stop)
        self._thread.join(timeout=self.grace + _END_TIMEOUT_S + 30)
        self._socket.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
