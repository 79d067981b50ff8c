"""Servers for ``bench/runtime_throughput.py``: the bare-ASGI reference app and subprocess management.

``app`` is the "limit" reference: a raw ASGI callable, no framework, that drains the request body and answers
with fixed bytes loaded once at import time from the JSON file named by ``BENCH_BARE_FIXTURE``:

* ``/…/invoke-with-response-stream``: the pre-encoded event-stream frames, one ``http.response.body``
  message per frame (``more_body=True``), then an empty final message, as the runtime sends them;
* any other path: the fixed JSON body, with ``content-length``.

With ``BENCH_BARE_BUSY_US`` set it first spins that many microseconds of pure Python per request: what an app
whose own code costs that much can reach on the same server (the calibration cells).

The fixture holds the runtime's own answers to the benchmark request (captured by the benchmark), so both
servers put the same bytes on the wire. Served by granian's CLI with the same settings as
``mistral-bedrock serve`` (ASGI, ``--http auto``, 1 worker, no websockets).

:class:`ServerProcess` starts a server in its own session (process group), so :meth:`ServerProcess.stop` can end
it and every worker it forked with one ``killpg``; it reads RSS and CPU time of the whole process tree.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = [
    "BUSY_ENV",
    "FIXTURE_ENV",
    "ServerProcess",
    "app",
    "cpu_seconds",
    "free_port",
    "granian_argv",
    "wait_for_port",
    "write_fixture",
]

FIXTURE_ENV = "BENCH_BARE_FIXTURE"
#: Microseconds of pure-Python work the bare app does before it answers (default none): the calibration cells.
BUSY_ENV = "BENCH_BARE_BUSY_US"
_STREAM_SUFFIX = "/invoke-with-response-stream"
_CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------------------------
# The bare ASGI reference app
# --------------------------------------------------------------------------------------------------------------


def _load_fixture() -> tuple[bytes, tuple[bytes, ...]]:
    path = os.environ.get(FIXTURE_ENV)
    if not path:
        return b'{"outputs":[]}', (b"",)
    data = json.loads(Path(path).read_text())
    return base64.b64decode(data["invoke"]), tuple(base64.b64decode(frame) for frame in data["frames"])


_INVOKE_BODY, _FRAMES = _load_fixture()
_BUSY_S = float(os.environ.get(BUSY_ENV, "0")) / 1e6
_INVOKE_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_INVOKE_BODY)).encode())],
}
_INVOKE_MESSAGE = {"type": "http.response.body", "body": _INVOKE_BODY}
_STREAM_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/vnd.amazon.eventstream")],
}
_FRAME_MESSAGES = tuple({"type": "http.response.body", "body": frame, "more_body": True} for frame in _FRAMES)
_END_MESSAGE = {"type": "http.response.body", "body": b""}


async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """A minimal raw ASGI app answering fixed bytes (see the module docstring)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if _BUSY_S:
        # Calibration: a fixed amount of interpreter work per request, holding the GIL as an app's own code does.
        until = time.perf_counter() + _BUSY_S
        while time.perf_counter() < until:
            pass
    more = True
    while more:  # drain the request body, as a real handler must
        message = await receive()
        more = message.get("more_body", False) and message["type"] == "http.request"
    if scope["path"].endswith(_STREAM_SUFFIX):
        await send(_STREAM_START)
        for message in _FRAME_MESSAGES:
            await send(message)
        await send(_END_MESSAGE)
    else:
        await send(_INVOKE_START)
        await send(_INVOKE_MESSAGE)


def write_fixture(path: Path, invoke_body: bytes, frames: Sequence[bytes]) -> None:
    """Store the bodies the bare app answers with."""
    path.write_text(
        json.dumps(
            {
                "invoke": base64.b64encode(invoke_body).decode(),
                "frames": [base64.b64encode(frame).decode() for frame in frames],
            }
        )
    )


# --------------------------------------------------------------------------------------------------------------
# Subprocesses
# --------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (free now; the server binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """Poll until something accepts on 127.0.0.1:``port``; False on timeout or when ``alive()`` turns False."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


class ServerProcess:
    """A server subprocess in its own process group.

    Args:
        name: For messages.
        argv: The command.
        port: The port it binds on 127.0.0.1.
        ready_line: Wait for this text on stdout; otherwise wait until the port accepts.
        env: Extra environment variables.
        cwd: Working directory.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        port: int,
        *,
        ready_line: str | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.port = port
        self.ready_line = ready_line
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        # Output goes to a file, never to an unread pipe: a server that logs every request (moto) would block once
        # the pipe buffer is full.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,  # its own process group: stop() ends it and its workers together
        )
        ok = self._wait_line(timeout) if self.ready_line else wait_for_port(self.port, timeout, self.alive)
        if not ok:
            tail = self.output()[-2000:].decode("utf-8", "replace")
            self.stop()
            raise RuntimeError(f"{self.name} did not start ({' '.join(self.argv)}):\n{tail}")
        return self

    def output(self) -> bytes:
        """What the server printed so far."""
        if self._log is None:
            return b""
        self._log.seek(0)
        return self._log.read()

    def _wait_line(self, timeout: float) -> bool:
        assert self.ready_line is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            if self.ready_line.encode() in self.output():
                return True
            time.sleep(0.05)
        return False

    def pids(self) -> list[int]:
        """The server process and all its descendants."""
        if not self.alive():
            return []
        tree = _children()
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(tree.get(pid, []))
        return found

    def worker_pids(self) -> list[int]:
        """Descendants only (granian's workers), or the process itself when it has none."""
        pids = self.pids()
        return pids[1:] or pids

    def rss_kib(self) -> tuple[int, int]:
        """(RSS of the worker process(es), RSS of the whole tree), in KiB."""
        return sum(_rss_kib(pid) for pid in self.worker_pids()), sum(_rss_kib(pid) for pid in self.pids())

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left; idempotent."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the group id is the leader's pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)  # workers that outlived the leader
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=timeout)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None


def granian_argv(target: str, port: int, *, working_dir: str) -> list[str]:
    """granian's CLI with the settings ``mistral-bedrock serve`` gives granian (runtime/server.py)."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--http",
        "auto",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-ws",
        "--log-level",
        "warning",
        "--working-dir",
        working_dir,
        target,
    ]
