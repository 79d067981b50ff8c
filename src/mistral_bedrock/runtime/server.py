"""Serving the runtime: in the foreground for ``mistral-bedrock serve``, or in a background thread.

* Foreground: granian, with HTTP/1.1 and cleartext HTTP/2 on one port (``http=auto``). The AWS SDK for JS v3
  speaks HTTP/2 to bedrock-runtime by default, and granian delivers event streams whole over h2c. Workers are
  separate processes that build their own app from the environment (:func:`app.app_from_env`).
* Background: :class:`ServerThread` runs uvicorn (HTTP/1.1) on an ephemeral loopback port inside this process —
  for tests and for the client's and CLI's embedded mode. It is a context manager exposing ``url``.
"""

from __future__ import annotations

import asyncio
import encodings.idna  # noqa: F401  (see serve(): must be imported before granian forks its workers)
import errno
import ipaddress
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from .app import create_app
from .config import ENV_VAR, RuntimeConfig

__all__ = ["InsecureBindError", "PortInUseError", "ServerThread", "check_bind", "check_port_free", "serve"]


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


def serve(
    config: RuntimeConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8787,
    workers: int = 1,
    allow_insecure_bind: bool = False,
    announce: Callable[[str], None] = print,
) -> None:
    """Run the runtime in the foreground until SIGINT/SIGTERM; ``announce`` gets the URL once it accepts."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels

    check_bind(host, config.auth, allow_insecure_bind)
    check_port_free(host, port)
    # Worker processes are nothing but the runtime, so they may freeze the heap after loading tokenizers.
    os.environ[ENV_VAR] = replace(config, freeze_gc=True).to_env()
    server = Granian(
        "mistral_bedrock.runtime.app:app_from_env",
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
    try:
        server.serve()
    finally:
        stop.set()


class _QuietDrops(logging.Filter):
    """An injected ``drop`` fault ends a response on purpose; uvicorn need not report it as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


class _Server(uvicorn.Server):
    """uvicorn, telling a waiting thread when it accepts connections."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready
        error_log = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _QuietDrops) for f in error_log.filters):
            error_log.addFilter(_QuietDrops())

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    def install_signal_handlers(self) -> None:
        """Signals belong to the main thread's program, not to an embedded server."""


class ServerThread:
    """A runtime on an ephemeral loopback port in a background thread.

    Example::

        with ServerThread() as server:
            boto3.client("bedrock-runtime", endpoint_url=server.url, ...)

    Args:
        app: An ASGI app; by default :func:`create_app` with ``config``.
        config: Runtime settings used when ``app`` is not given.
        host: Address to bind (loopback by default).
        port: Port; 0 picks a free one.
    """

    def __init__(
        self,
        app: ASGIApp | None = None,
        *,
        config: RuntimeConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app = app if app is not None else create_app(config)
        self.host = host
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
                self.app,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_keep_alive=30,
                backlog=2048,
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

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
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
