"""Stopping ``mistral-bedrock serve`` (and ``ServerThread``) with streams open: bounded, explained, complete.

The first SIGINT/SIGTERM closes the port and lets open responses finish for ``--grace`` seconds; what is still open
then ends as Bedrock ends a stream it cannot finish (an in-stream ``serviceUnavailableException``). A second
signal stops everything at once. Every way out ends with no process left and one line on stderr.

Streams are kept open with a latency fault: seconds between events, so a stream is still running when a short
grace period ends, and a long grace period is still running when the test has seen what it waits for.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EventStreamError

from mistral_bedrock.cli import serve as serve_command
from mistral_bedrock.protocol.error_codes import ERROR_CODES
from mistral_bedrock.protocol.operations import OPERATIONS
from mistral_bedrock.runtime import RuntimeConfig, ServerThread, create_app
from mistral_bedrock.runtime.server import DEFAULT_GRACE_S
from tests.interop.interop_support import STOP_TIMEOUT_S, ServeProcess, nothing_listens

TEXT_MODEL = "mistral.mistral-7b-instruct-v0:2"
HELLO = json.dumps({"prompt": "<s>[INST] Hello [/INST]"})
SLOW = ("--fault", "latency:per_token=3000")  # seconds between stream events: a stream stays open
UNAVAILABLE = {"Code": "serviceUnavailableException", "Message": "Bedrock is unable to process your request."}
WAIT_S = 30.0  # the bound on every wait for a process or socket state; never reached when all is well


@contextmanager
def open_stream(client: Any) -> Iterator[Iterator[dict[str, Any]]]:
    """An InvokeModelWithResponseStream whose first event has arrived, so the runtime holds it open; its events."""
    stream = client.invoke_model_with_response_stream(modelId=TEXT_MODEL, body=HELLO)["body"]
    with closing(stream):  # however it ends, its connection is closed, not left to the garbage collector
        events: Iterator[dict[str, Any]] = iter(stream)
        assert "chunk" in next(events)
        yield events


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state, ppid, …, starttime at index 19); None once gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def _children(pid: int) -> dict[int, str]:
    """The child processes of ``pid``, with their start times (so a reused pid is not taken for a survivor)."""
    children: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[1] == str(pid):
                children[int(entry.name)] = fields[19]
    return children


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll a process or socket state until it holds; fail, saying what, if it does not within WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {WAIT_S}s")
        time.sleep(0.02)


def worker_pids(server: ServeProcess, workers: int) -> dict[int, str]:
    """The worker processes of a started ``serve``, once all of them exist."""
    wait_for(lambda: len(_children(server.proc.pid)) >= workers, f"{workers} worker processes of {server.describe()}")
    return _children(server.proc.pid)


def assert_gone(pids: dict[int, str]) -> None:
    left = [pid for pid, started in pids.items() if (fields := _stat(pid)) is not None and fields[19] == started]
    assert left == [], f"worker processes {left} outlived serve"


def wait_exit(server: ServeProcess) -> int:
    """The exit status of a ``serve`` already told to stop; killed (and failed) if it does not exit."""
    try:
        code = server.proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        pytest.fail(f"{server.describe()} did not exit within {STOP_TIMEOUT_S}s; stderr:\n{server.stderr}")
    server.kill()  # only collects its output: nothing of its group is left to kill (asserted by the callers)
    return code


def send_body_later(port: int) -> socket.socket:
    """A request whose body has not come yet, held open by the runtime's app once it asked for the body.

    ``Expect: 100-continue``: the server answers ``100 Continue`` when the app first reads the body, which tells the
    test, without guessing a delay, that the request is in the app's hands.
    """
    conn = socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
    conn.sendall(
        f"POST /model/{TEXT_MODEL}/invoke HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n"
        "Expect: 100-continue\r\nContent-Length: 40\r\n\r\n".encode()
    )
    assert conn.recv(1024).startswith(b"HTTP/1.1 100 Continue"), "the app did not read the body"
    return conn


def read_response(conn: socket.socket) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers and JSON body of one HTTP/1.1 response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"the connection closed before a response: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    headers = {name.lower(): value for name, value in headers.items()}
    while len(body) < int(headers["content-length"]):
        chunk = conn.recv(65536)
        assert chunk, "the connection closed mid-body"
        body += chunk
    return int(lines[0].split()[1]), headers, json.loads(body)


def assert_unavailable_response(conn: socket.socket) -> None:
    status, headers, body = read_response(conn)
    assert status == 503
    assert headers["x-amzn-errortype"].startswith("ServiceUnavailableException:")
    assert body == {"message": "Bedrock is unable to process your request."}


@pytest.mark.parametrize("workers", [1, 2], ids=["1-worker", "2-workers"])
def test_sigterm_ends_what_is_still_open_after_the_grace_period(
    serve_cli: Callable[..., ServeProcess], bedrock_for: Callable[[str], Any], workers: int
) -> None:
    server = serve_cli("--grace", "0.5", "--workers", str(workers), *SLOW)
    pids = worker_pids(server, workers)
    with open_stream(bedrock_for(server.url)) as events, closing(send_body_later(server.port)) as pending:
        server.proc.send_signal(signal.SIGTERM)
        with pytest.raises(EventStreamError) as caught:
            for _ in events:
                pass
        assert caught.value.response["Error"] == UNAVAILABLE
        assert_unavailable_response(pending)
    assert wait_exit(server) == 0, server.stderr
    assert server.stderr.splitlines() == [
        "mistral-bedrock: stopped (SIGTERM); 1 stream and 1 pending request ended after the 0.5 s grace period"
    ]
    assert_gone(pids)
    assert nothing_listens(server.port)


def test_a_stream_that_finishes_within_the_grace_period_is_whole(
    serve_cli: Callable[..., ServeProcess], bedrock_for: Callable[[str], Any]
) -> None:
    server = serve_cli("--grace", "60", "--fault", "latency:per_token=20")
    pids = worker_pids(server, 1)
    with open_stream(bedrock_for(server.url)) as events:
        server.proc.send_signal(signal.SIGTERM)
        rest = [json.loads(event["chunk"]["bytes"]) for event in events]
    assert rest[-1]["outputs"][0]["stop_reason"] == "stop"
    assert wait_exit(server) == 0, server.stderr
    assert server.stderr.splitlines() == ["mistral-bedrock: stopped (SIGTERM)"]
    assert_gone(pids)


@pytest.mark.parametrize(
    ("workers", "ctrl_c"),
    [(1, False), (2, True)],
    ids=["1-worker-kill-INT", "2-workers-ctrl-c-to-the-group"],
)
def test_first_signal_closes_the_port_and_a_second_exits_at_once(
    serve_cli: Callable[..., ServeProcess], bedrock_for: Callable[[str], Any], workers: int, ctrl_c: bool
) -> None:
    """Ctrl-C in a terminal signals the whole foreground group: the workers get it as well as serve."""
    server = serve_cli("--grace", "600", "--workers", str(workers), *SLOW)
    pids = worker_pids(server, workers)

    def interrupt() -> None:
        if ctrl_c:
            os.killpg(server.proc.pid, signal.SIGINT)
        else:
            server.proc.send_signal(signal.SIGINT)

    with open_stream(bedrock_for(server.url)) as events:
        interrupt()
        wait_for(lambda: nothing_listens(server.port), "the port refusing connections after the first SIGINT")
        assert "chunk" in next(events), "the open stream must go on during the grace period"
        assert server.proc.poll() is None
        interrupt()
    # The grace period is 600 s: exiting within the stop timeout is exiting at once.
    assert wait_exit(server) == 128 + signal.SIGINT, server.stderr
    assert server.stderr.splitlines() == ["mistral-bedrock: stopped at once (second SIGINT)"]
    assert_gone(pids)


def test_a_worker_held_by_a_connection_that_never_asks_is_killed(serve_cli: Callable[..., ServeProcess]) -> None:
    """An HTTP/2 client that sends its preface and nothing else: granian's server waits for it with no limit."""
    server = serve_cli("--grace", "0.5")
    pids = worker_pids(server, 1)
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT_S) as conn:
        conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        assert conn.recv(1024), "the server's SETTINGS frame: the connection is in the worker's hands"
        server.proc.send_signal(signal.SIGTERM)
        assert wait_exit(server) == 0, server.stderr
    assert server.stderr.splitlines() == [
        "mistral-bedrock: stopped (SIGTERM); killed 1 worker still running 5 s after the grace period"
    ]
    assert_gone(pids)


def test_server_thread_stop_ends_open_streams(bedrock_for: Callable[[str], Any]) -> None:
    app = create_app(RuntimeConfig(faults=("latency:per_token=3000",)))
    with ServerThread(app, grace=0.2) as server:
        client = bedrock_for(server.url)
        with open_stream(client) as events, closing(send_body_later(server.port)) as pending:
            server.stop()  # what leaving the block does (again, which does nothing more)
            # It returned although a stream was open, and ended it the way Bedrock ends one.
            assert nothing_listens(server.port)
            with pytest.raises(EventStreamError) as caught:
                for _ in events:
                    pass
            assert caught.value.response["Error"] == UNAVAILABLE
            assert_unavailable_response(pending)
        # The journal tells the stream that was ended from one that ended of itself.
        streamed = [
            entry for entry in app.state.journal.entries() if entry.operation == "InvokeModelWithResponseStream"
        ]
        assert [entry.error_code for entry in streamed] == ["ServiceUnavailableException"]


def test_the_ending_is_a_member_of_every_stream_union() -> None:
    member = ERROR_CODES["ServiceUnavailableException"].stream_member
    assert all(member in op.stream_errors for op in OPERATIONS.values() if op.streaming)


def test_the_cli_default_grace_is_the_runtime_default() -> None:
    # Repeated in the CLI so that --help does not import the runtime: the two must not drift apart.
    assert serve_command.GRACE_S == DEFAULT_GRACE_S
