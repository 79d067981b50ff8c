"""A runtime on an ephemeral loopback port in a background thread (uvicorn, HTTP/1.1): for tests, and for the
client's and the CLI's embedded mode. It stops as ``serve`` does, with a short grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import encodings.idna  # noqa: F401  (see serve(): must be imported before granian forks its workers)
import logging
import math
import socket
import threading
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from mistral_bedrock.engines import close_engine

from .app import RuntimeApp, create_app
from .config import RuntimeConfig
from .open_responses import END_TIMEOUT_S, OpenResponses

__all__ = ["ServerThread"]

# ServerThread serves in-process clients, whose answers are whole by the time they leave its block: a short grace
# keeps leaving it prompt when something was left open.
THREAD_GRACE_S = 0.5


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
        self._owns_app = app is None  # an app made here is this thread's to close (its engine, a loaded model)
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
                timeout_graceful_shutdown=math.ceil(grace + END_TIMEOUT_S) + 1,
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
        self._thread.join(timeout=self.grace + END_TIMEOUT_S + 30)
        self._socket.close()
        if self._owns_app and isinstance(self.app, RuntimeApp):
            close_engine(self.app.state.engine)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
