"""Helpers of the CLI tests: running the real ``mistral-bedrock`` entry point, and runtimes to talk to.

Every subprocess gets an environment with no ``AWS_*`` settings and no config files, so a command given no
``--endpoint-url`` falls back to the embedded local runtime, and one given a runtime's URL signs with placeholder
keys. The runtimes answer with the built-in engine, whose answers are deterministic.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from mistral_bedrock.runtime import CONTROL_PREFIX, ServerThread

EXE = Path(sys.executable).parent / "mistral-bedrock"
TIMEOUT = 60  # seconds for one command: interpreter start, runtime start, a few requests
LEAD_IN = "I am the built-in engine of mistral-bedrock."
FALLBACK = "no AWS credentials found; using the embedded local runtime (--local)"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a machine with no AWS set up."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONIOENCODING="utf-8",
    )
    env.pop("NO_COLOR", None)
    env.pop("FORCE_COLOR", None)
    env.update(extra)
    return env


def run_cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``mistral-bedrock ARGS`` with ``stdin`` piped in; never raises on a non-zero exit."""
    return subprocess.run(
        [str(EXE), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env if env is not None else clean_env(),
        check=False,
    )


def run_cli_bytes(*args: str, stdin: bytes, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """:func:`run_cli` with ``stdin`` as raw bytes (which need not be text); stdout and stderr decoded as UTF-8.

    An argument holding lone surrogates reaches the command as the bytes they escape (``"\\udcff"`` → ``0xff``).
    """
    completed = subprocess.run(
        [str(EXE), *args],
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT,
        env=env if env is not None else clean_env(),
        check=False,
    )
    return subprocess.CompletedProcess(
        completed.args, completed.returncode, completed.stdout.decode(), completed.stderr.decode()
    )


def ok(completed: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert completed.returncode == 0, f"exit {completed.returncode}\n{completed.stdout}\n{completed.stderr}"
    assert "Traceback" not in completed.stderr
    return completed


class Runtime:
    """A runtime in a background thread and its control endpoints."""

    def __init__(self, server: ServerThread) -> None:
        self.server = server
        self.url = server.url
        # The control endpoints take the same credentials as model requests; any bearer token under lenient auth.
        self.control = httpx.Client(
            base_url=server.url + CONTROL_PREFIX, headers={"Authorization": "Bearer test"}, timeout=10
        )

    def requests(self) -> list[dict[str, Any]]:
        """The journal: every request received since the last :meth:`clear`, oldest first."""
        response = self.control.get("/requests")
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()["requests"]
        return entries

    def clear(self) -> None:
        self.control.delete("/requests").raise_for_status()


def invoke(*args: str, stdin: str = "") -> Any:
    """Run a command in-process with click's CliRunner (faster than a subprocess); returns the click Result."""
    from click.testing import CliRunner

    from mistral_bedrock.cli import cli

    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>]|[\x00-\x08\x0e-\x1f]")
# Runs in the child: make the pty (its stdin) the controlling terminal of the new session, so that Ctrl-C typed on
# it interrupts the command, then become the command.
# The child takes the pseudo-terminal as its controlling terminal, and gets Ctrl-C back: a suite started in the
# background of a non-interactive shell runs with SIGINT ignored, which every child inherits, and a person at a
# terminal has it.
_TAKE_TTY = (
    "import fcntl, os, signal, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
)


class Terminal:
    """A command running on a pseudo-terminal, driven like a person at a keyboard.

    Reads are bounded with ``select``; :meth:`expect` waits for text (escape codes stripped), never for time.
    """

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _TAKE_TTY, str(EXE), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.raw = ""  # everything the command wrote, escape codes included
        self.buffer = ""  # the same, escape codes stripped
        self.position = 0

    def _read(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        ready, _, _ = select.select([self.master], [], [], remaining)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        text = data.decode("utf-8", "replace")
        self.raw += text
        self.buffer += ANSI.sub("", text)
        return True

    def expect(self, needle: str, timeout: float = 30) -> str:
        """Wait until ``needle`` appears after the last match; return the text up to and including it."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.buffer.find(needle, self.position)
            if found >= 0:
                start, self.position = self.position, found + len(needle)
                return self.buffer[start : self.position]
            if not self._read(deadline):
                raise AssertionError(
                    f"{needle!r} did not appear (exit status {self.process.poll()}); the terminal shows:\n"
                    f"{self.buffer[self.position :]!r}\nbefore that:\n{self.buffer[: self.position]!r}"
                )

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait(self, timeout: float = 30) -> int:
        """Drain the output until the command exits; its exit code."""
        deadline = time.monotonic() + timeout
        while self._read(deadline):
            pass
        return self.process.wait(timeout=max(deadline - time.monotonic(), 1))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self.master)
