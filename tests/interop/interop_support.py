"""Helpers for the interop tests: the real ``mistral-bedrock serve`` in a subprocess, and AWS client environments.

Every wait is bounded: the announce line is read with a timeout, SIGTERM gets a bounded wait, and a server
that does not stop is killed (its whole process group) and the test fails saying so.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import boto3
import pytest
from botocore.config import Config

SERVE_EXE = Path(sys.executable).parent / "mistral-bedrock"
ANNOUNCE_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
# granian stops its workers and returns normally on SIGTERM/SIGINT, so the command exits 0. A process that died
# from the signal's default action (-SIGTERM) stopped too, but skipped every cleanup; the dedicated tests in
# test_serve_cli.py insist on 0.
CLEAN_EXIT_CODES = (0, -signal.SIGTERM)
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def nothing_listens(port: int) -> bool:
    """True when a connection to 127.0.0.1:port is refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return False
    except ConnectionRefusedError:
        return True


def base_env() -> dict[str, str]:
    """This process's environment without any AWS setting (tests/conftest.py clears them for in-process clients)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}


def aws_client_env(home: Path | None = None) -> dict[str, str]:
    """Dummy credentials, us-east-1, and no config files: what an AWS client subprocess runs with."""
    env = base_env()
    env.update(DUMMY_CREDENTIALS)
    env.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
        }
    )
    if home is not None:
        env["HOME"] = str(home)
    return env


def serve_command(*args: str) -> list[str]:
    if not SERVE_EXE.exists():
        pytest.fail(f"the console script {SERVE_EXE} is missing: install the package (pip install -e '.[test]')")
    # No `python -m mistral_bedrock.cli`: the package has no __main__ module, so run the console script.
    return [str(SERVE_EXE), "serve", *args]


def run_serve(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``serve`` expected to exit by itself (a refused configuration)."""
    try:
        return subprocess.run(
            serve_command(*args),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=base_env(),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"`serve {' '.join(args)}` should have exited at once but ran for {timeout}s; stderr: {exc.stderr!r}"
        )


def _pump(stream: IO[str], sink: Callable[[str | None], None]) -> None:
    for line in stream:
        sink(line)
    sink(None)


class ServeProcess:
    """One ``mistral-bedrock serve`` subprocess in its own process group."""

    def __init__(self, *args: str, port: int | None = None) -> None:
        self.port = port if port is not None else free_port()
        self.args = ("--port", str(self.port), *args)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            serve_command(*self.args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=base_env(),
            start_new_session=True,  # its workers share its group: one killpg reaches them all, one probe finds leftovers
        )
        self._stdout: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=_pump, args=(self.proc.stdout, self._stdout.put), daemon=True),
            threading.Thread(target=_pump, args=(self.proc.stderr, self._stderr_sink), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.stopped = False

    def _stderr_sink(self, line: str | None) -> None:
        if line is not None:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def describe(self) -> str:
        return f"`mistral-bedrock serve {' '.join(self.args)}` (pid {self.proc.pid})"

    def read_announce(self, timeout: float = ANNOUNCE_TIMEOUT_S) -> str:
        """The first stdout line, once the server says it accepts connections."""
        try:
            line = self._stdout.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            pytest.fail(f"{self.describe()} printed nothing within {timeout}s; stderr:\n{self.stderr}")
        if line is None:
            code = self.proc.wait(timeout=STOP_TIMEOUT_S)
            self._finish()
            pytest.fail(f"{self.describe()} exited with {code} before announcing; stderr:\n{self.stderr}")
        return line

    def rest_of_stdout(self) -> str:
        """Everything printed after the announce line; only once the process has exited."""
        assert self.stopped
        lines: list[str] = []
        while (line := self._stdout.get(timeout=STOP_TIMEOUT_S)) is not None:
            lines.append(line)
        return "".join(lines)

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL to the whole group (the server and its workers)."""
        if self._group_alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT_S)
        self._finish()

    def _finish(self) -> None:
        """After exit: the readers reach EOF once no process holds the pipes; then close them."""
        self.stopped = True
        for reader in self._readers:
            reader.join(timeout=STOP_TIMEOUT_S)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> int:
        """Send ``sig`` to the server process only, as `kill PID` would; the exit code once it and its workers are gone."""
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(
                f"{self.describe()} did not exit within {timeout}s of {sig.name}; killed it. stderr:\n{self.stderr}"
            )
        if self._group_alive():
            self.kill()
            pytest.fail(f"{self.describe()} exited with {code} on {sig.name} but left processes behind; killed them")
        self._finish()
        return code

    def stop_cleanly(self) -> None:
        code = self.stop()
        assert code in CLEAN_EXIT_CODES, f"{self.describe()} exited with {code} on SIGTERM; stderr:\n{self.stderr}"
        assert "Traceback" not in self.stderr, f"{self.describe()} printed a traceback:\n{self.stderr}"


def start_serve(*args: str) -> ServeProcess:
    server = ServeProcess(*args)
    line = server.read_announce()
    expected = f"mistral-bedrock runtime listening on {server.url}\n"
    if line != expected:
        server.kill()
        pytest.fail(f"{server.describe()} announced {line!r}, expected {expected!r}")
    return server


def make_boto3(url: str) -> Any:
    """boto3 with one attempt per call and bounded timeouts, so a hung server fails a test instead of stalling it."""
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=15),
    )
