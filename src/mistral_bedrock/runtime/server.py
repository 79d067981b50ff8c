"""Serving the runtime: in the foreground for ``mistral-bedrock serve``, or in a background thread.

* Foreground: granian, with HTTP/1.1 and cleartext HTTP/2 on one port (``http=auto``). The AWS SDK for JS v3
  speaks HTTP/2 to bedrock-runtime by default, and granian delivers event streams whole over h2c. Workers are
  separate processes that build their own app from the environment (:func:`worker_app`).
* Background: :class:`~.server_thread.ServerThread` runs uvicorn (HTTP/1.1) on an ephemeral loopback port inside
  this process — for tests and for the client's and CLI's embedded mode (its own module).

Stopping. Both stop accepting connections at once, let the responses in progress finish for a grace period, then
end those still open (:class:`~.open_responses.OpenResponses`): a stream with an in-stream
``serviceUnavailableException``, a request not yet answered with a 503 ``ServiceUnavailableException`` — Bedrock's
own words for "try again". So a
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

import contextlib
import encodings.idna  # noqa: F401  (see serve(): must be imported before granian forks its workers)
import errno
import ipaddress
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from types import FrameType
from typing import Any

from .app import app_from_env
from .config import ENV_VAR, RuntimeConfig
from .open_responses import Ended, OpenResponses
from .store import SharedState

__all__ = [
    "DEFAULT_GRACE_S",
    "WORKER_EXIT_S",
    "Ended",
    "InsecureBindError",
    "OpenResponses",
    "PortInUseError",
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
# Where ``serve``'s workers write what they ended, for the parent's stop line (a file: it works with every
# start method of multiprocessing, fork or spawn).
STOP_REPORT_ENV = "MISTRAL_BEDROCK_STOP_REPORT"


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
