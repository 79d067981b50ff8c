"""Runtime throughput: ``mistral-bedrock serve`` vs a bare ASGI app on the same server vs moto_server.

Usage (needs the ``bench`` extra, for moto_server: ``pip install -e '.[bench]'``)::

    python bench/runtime_throughput.py [--quick] [--json PATH]

In one run, on one machine, with one load generator:

1. **ours**: the runtime under ``mistral-bedrock serve`` (granian, 1 worker): InvokeModel, and
   InvokeModelWithResponseStream with the whole stream read; once with one body repeated (``ours``: what the
   engines' memo caches serve best) and once with a distinct prompt in every request (``ours-distinct``: 8 to 60
   words drawn from a vocabulary of everyday English, every prompt different, as real traffic is);
2. **bare**: a raw ASGI callable (``bench/_servers.py``) under granian's CLI with the same settings, answering the
   runtime's own bytes (the same JSON body; the same event-stream frames, one body message each): the limit;
3. **moto**: ``moto_server`` on the same InvokeModel request (moto has no InvokeModelWithResponseStream);
   **calibration**: the bare app spinning 100 and 200 µs of pure Python per request before it answers
   (InvokeModel, 32 clients): the ratio to bare that an app whose own code costs that much reaches here;

Every cell (server, operation, concurrency 1, 32 or 256) warms up, then counts the responses completed in a fixed
window (``--quick``: 2 s, full: 8 s): requests/s, p50 and p99 latency (request written → whole body read), and the
CPU time the server, the client and every other process on the machine used in the window (``/proc``). All servers
get byte-identical requests, with a well-formed (unverified) SigV4 ``Authorization`` header: moto routes by its
credential scope and the runtime's default lenient auth accepts it; ``Accept: application/json``, without which
moto answers 500.

4. **held streams**: N simultaneous InvokeModelWithResponseStream requests (1,000; ``--quick``: 300) against a
   runtime started with ``--fault latency:per_token=20`` so they overlap, each read to the end through
   :class:`~mistral_bedrock.protocol.eventstream.EventStreamDecoder` (every prelude and message CRC checked); the
   most streams open at once, frame errors, and the server's RSS idle and at peak.

Load generator: a small HTTP/1.1 client on raw asyncio sockets (``asyncio.Protocol``, keep-alive, one connection per
concurrent worker) in this process. httpx.AsyncClient is measured once beside it (bare invoke, concurrency 32) to
show why: it tops out well below what granian serves, so with it the "limit" would be the client's. Client and
servers share the machine's cores; the CPU columns show who was busy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

_BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(_BENCH))
try:
    from mistral_bedrock.protocol.eventstream import EventStreamDecoder, InvalidFrameError
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(_BENCH.parent / "src"))
    from mistral_bedrock.protocol.eventstream import EventStreamDecoder, InvalidFrameError

from _servers import (  # noqa: E402
    BUSY_ENV,
    FIXTURE_ENV,
    ServerProcess,
    cpu_seconds,
    free_port,
    granian_argv,
    write_fixture,
)

_CLK_TCK = os.sysconf("SC_CLK_TCK")
MODEL_PATH = "/model/mistral.mistral-7b-instruct-v0%3A2"
INVOKE = "invoke"
STREAM = "invoke-with-response-stream"
PROMPT_BODY = json.dumps({"prompt": "<s>[INST] Hello [/INST]"}).encode()
# Held streams: a long prompt capped at 100 tokens, so every stream has 100 frames (2 s at 20 ms per token).
HELD_TOKENS = 100
HELD_BODY = json.dumps({"prompt": "<s>[INST] " + "Hello " * 150 + "[/INST]", "max_tokens": HELD_TOKENS}).encode()
HELD_FAULT = "latency:per_token=20"
CONCURRENCY = (1, 32, 256)
#: The calibration cells: the bare app doing this many microseconds of pure-Python work per request.
CALIBRATION_US = (100, 200)
GOAL_BARE = 0.30
GOAL_MOTO = 20.0
READY_LINE = "mistral-bedrock runtime listening on"
PROBE_TIMEOUT = 10.0
_AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/bedrock/aws4_request, "
    "SignedHeaders=accept;content-type;host;x-amz-date, Signature=" + "0123456789abcdef" * 4
)


_WORDS = (  # noqa: SIM905 (a sentence of words reads better than a list of 120 strings)
    "the a of and to in is you that it he was for on are as with his they I at be this have from or one had by word "
    "but not what all were we when your can said there use an each which she do how their if will up other about "
    "out many then them these so some her would make like him into time has look two more write go see number no "
    "way could people my than first water been call who oil its now find long down day did get come made may part "
    "weather river mountain story music song radio station city country history science market price train garden"
).split()


def distinct_bodies(seed: int = 7) -> Iterator[bytes]:
    """Text-completion bodies whose prompts all differ: 8 to 60 words, numbered so no two are ever the same."""
    rng = random.Random(seed)
    number = 0
    while True:
        number += 1
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 60)))
        yield json.dumps({"prompt": f"<s>[INST] Question {number}: {words}? [/INST]"}).encode()


def build_request(port: int, operation: str, body: bytes = PROMPT_BODY) -> bytes:
    """One HTTP/1.1 request, byte for byte what every server gets."""
    head = (
        f"POST {MODEL_PATH}/{operation} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: {_AUTH}\r\n"
        "X-Amz-Date: 20240101T000000Z\r\n"
        "Content-Type: application/json\r\n"
        "Accept: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode() + body


def _headers() -> dict[str, str]:
    return {
        "Authorization": _AUTH,
        "X-Amz-Date": "20240101T000000Z",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


# --------------------------------------------------------------------------------------------------------------
# The raw-socket HTTP/1.1 client
# --------------------------------------------------------------------------------------------------------------

_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILER, _UNTIL_CLOSE = range(7)


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: a request at a time, content-length, chunked or read-until-close."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, int]] | None = None
        self.on_head: Callable[[int], None] | None = None
        self.on_body: Callable[[bytes], None] | None = None
        self.reusable = True
        self.state = _HEAD
        self.status = 0
        self.remaining = 0
        self.nbytes = 0
        self.close_after = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        if self.waiter is not None and not self.waiter.done():
            if self.state == _UNTIL_CLOSE:
                self._finish()
            else:
                self.waiter.set_exception(ConnectionError(f"connection lost ({exc or 'closed by server'})"))

    def request(
        self,
        data: bytes,
        on_head: Callable[[int], None] | None = None,
        on_body: Callable[[bytes], None] | None = None,
    ) -> asyncio.Future[tuple[int, int]]:
        """Send ``data``; the future gives (status, body bytes) once the whole body is read."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.on_head, self.on_body = on_head, on_body
        self.state, self.nbytes = _HEAD, 0
        self.transport.write(data)
        return self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _finish(self) -> None:
        waiter, self.waiter = self.waiter, None
        self.state = _HEAD
        if self.close_after:
            self.reusable = False
            self.close()
        if waiter is not None and not waiter.done():
            waiter.set_result((self.status, self.nbytes))

    def _body(self, data: bytes) -> None:
        self.nbytes += len(data)
        if self.on_body is not None:
            self.on_body(data)

    def _start(self, head: bytes) -> None:
        self.status = int(head[9:12])
        length, chunked = -1, False
        self.close_after = head.startswith(b"HTTP/1.0")
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                self.close_after = value.strip().lower() == b"close"
        if self.on_head is not None:
            self.on_head(self.status)
        if chunked:
            self.state = _CHUNK_SIZE
        elif length >= 0:
            self.state, self.remaining = _LENGTH, length
        else:
            self.state = _UNTIL_CLOSE
            self.close_after = True

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos, size = 0, len(buf)
        while pos < size or self.state == _LENGTH:
            state = self.state
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n", pos)
                if end < 0:
                    break
                head = bytes(buf[pos:end])
                pos = end + 4
                self._start(head)
            elif state == _LENGTH:
                take = min(self.remaining, size - pos)
                if take:
                    self._body(bytes(buf[pos : pos + take]))
                pos += take
                self.remaining -= take
                if self.remaining:
                    break
                self._finish()
            elif state == _CHUNK_SIZE:
                end = buf.find(b"\r\n", pos)
                if end < 0:
                    break
                chunk = int(bytes(buf[pos:end]).split(b";")[0], 16)
                pos = end + 2
                self.state, self.remaining = (_TRAILER, 0) if chunk == 0 else (_CHUNK_DATA, chunk)
            elif state == _CHUNK_DATA:
                take = min(self.remaining, size - pos)
                self._body(bytes(buf[pos : pos + take]))
                pos += take
                self.remaining -= take
                if self.remaining:
                    break
                self.state = _CHUNK_CRLF
            elif state == _CHUNK_CRLF:
                if size - pos < 2:
                    break
                pos += 2
                self.state = _CHUNK_SIZE
            elif state == _TRAILER:
                end = buf.find(b"\r\n", pos)
                if end < 0:
                    break
                blank = end == pos
                pos = end + 2
                if blank:
                    self._finish()
            else:  # _UNTIL_CLOSE
                self._body(bytes(buf[pos:size]))
                pos = size
        del buf[:pos]


async def _connect(port: int) -> _Conn:
    _, conn = await asyncio.get_running_loop().create_connection(_Conn, "127.0.0.1", port)
    return conn


# --------------------------------------------------------------------------------------------------------------
# One cell: a server, an operation, a concurrency
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Cell:
    server: str
    operation: str
    concurrency: int
    client: str = "raw"
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    body_bytes: int = 0
    unfinished: int = 0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    other_cpu: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "operation": self.operation,
            "concurrency": self.concurrency,
            "client": self.client,
            "window_s": round(self.seconds, 3),
            "requests": self.count,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(0.50) * 1000, 3),
            "p99_ms": round(self.percentile(0.99) * 1000, 3),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": dict(self.errors),
            "mean_body_bytes": round(self.body_bytes / self.count, 1) if self.count else 0,
            "unfinished_at_end": self.unfinished,
            "client_cpu_pct": round(100 * self.client_cpu / self.seconds, 1) if self.seconds else 0,
            "server_cpu_pct": round(100 * self.server_cpu / self.seconds, 1) if self.seconds else 0,
            "other_cpu_pct": round(100 * self.other_cpu / self.seconds, 1) if self.seconds else 0,
            "server_cpu_us_per_request": round(1e6 * self.server_cpu / self.count) if self.count else None,
        }

    def take_cpu(self, window: _Window) -> None:
        (c0, s0, b0), (c1, s1, b1) = window.marks
        self.client_cpu, self.server_cpu = c1 - c0, s1 - s0
        self.other_cpu = max(0.0, (b1 - b0) - self.client_cpu - self.server_cpu)


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_busy() -> float:
    """CPU seconds all processes of the machine used so far (``/proc/stat``: everything but idle and iowait)."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _CLK_TCK


class _Window:
    """Samples client, server and whole-machine CPU time at the window's edges."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.pids = server.pids()
        self.marks: list[tuple[float, float, float]] = []

    def mark(self) -> None:
        self.marks.append((_self_cpu(), sum(cpu_seconds(pid) for pid in self.pids), _machine_busy()))


async def run_cell(
    server: ServerProcess,
    name: str,
    operation: str,
    concurrency: int,
    warmup: float,
    duration: float,
    bodies: Iterator[bytes] | None = None,
) -> Cell:
    """Closed-loop load: ``concurrency`` workers, one connection each, for warm-up + window seconds.

    With ``bodies``, every request takes the next body (distinct prompts); otherwise all send the same one.
    """
    cell = Cell(name, operation, concurrency)
    request = build_request(server.port, operation)
    loop = asyncio.get_running_loop()
    t_start = loop.time()
    t0, t1 = t_start + warmup, t_start + warmup + duration
    window = _Window(server)

    async def worker() -> None:
        conn: _Conn | None = None
        try:
            while loop.time() < t1:
                if conn is None or not conn.reusable:
                    if conn is not None:
                        conn.close()
                    try:
                        conn = await _connect(server.port)
                    except OSError as exc:
                        cell.errors[type(exc).__name__] = cell.errors.get(type(exc).__name__, 0) + 1
                        conn = None
                        await asyncio.sleep(0.01)
                        continue
                wire = request if bodies is None else build_request(server.port, operation, next(bodies))
                started = time.perf_counter()
                try:
                    status, nbytes = await conn.request(wire)
                except ConnectionError:
                    cell.errors["ConnectionError"] = cell.errors.get("ConnectionError", 0) + 1
                    conn = None
                    continue
                ended = loop.time()
                if t0 <= ended <= t1:
                    cell.latencies.append(time.perf_counter() - started)
                    cell.statuses[status] = cell.statuses.get(status, 0) + 1
                    cell.body_bytes += nbytes
        finally:
            if conn is not None:
                conn.close()

    async def edges() -> None:
        await asyncio.sleep(max(0.0, t0 - loop.time()))
        window.mark()
        await asyncio.sleep(max(0.0, t1 - loop.time()))
        window.mark()

    tasks = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    marker = asyncio.ensure_future(edges())
    _, pending = await asyncio.wait(tasks, timeout=warmup + duration + 15)
    cell.unfinished = len(pending)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await marker
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            name = type(task.exception()).__name__
            cell.errors[name] = cell.errors.get(name, 0) + 1
    cell.seconds = duration
    cell.take_cpu(window)
    return cell


async def run_cell_httpx(server: ServerProcess, name: str, concurrency: int, warmup: float, duration: float) -> Cell:
    """The same closed loop on InvokeModel, through httpx.AsyncClient: the calibration row."""
    cell = Cell(name, INVOKE, concurrency, client="httpx")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    loop = asyncio.get_running_loop()
    t_start = loop.time()
    t0, t1 = t_start + warmup, t_start + warmup + duration
    window = _Window(server)
    url = f"{server.url}{MODEL_PATH}/{INVOKE}"
    headers = _headers()
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

        async def worker() -> None:
            while loop.time() < t1:
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=PROMPT_BODY, headers=headers)
                except httpx.HTTPError as exc:
                    cell.errors[type(exc).__name__] = cell.errors.get(type(exc).__name__, 0) + 1
                    continue
                ended = loop.time()
                if t0 <= ended <= t1:
                    cell.latencies.append(time.perf_counter() - started)
                    cell.statuses[response.status_code] = cell.statuses.get(response.status_code, 0) + 1
                    cell.body_bytes += len(response.content)

        async def edges() -> None:
            await asyncio.sleep(max(0.0, t0 - loop.time()))
            window.mark()
            await asyncio.sleep(max(0.0, t1 - loop.time()))
            window.mark()

        tasks = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
        marker = asyncio.ensure_future(edges())
        _, pending = await asyncio.wait(tasks, timeout=warmup + duration + 15)
        cell.unfinished = len(pending)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await marker
    cell.seconds = duration
    cell.take_cpu(window)
    return cell


# --------------------------------------------------------------------------------------------------------------
# Held streams
# --------------------------------------------------------------------------------------------------------------


async def held_streams(server: ServerProcess, n: int, expected_frames: int, timeout: float) -> dict[str, Any]:
    """Open ``n`` streams at once, read each to its end through our decoder, and watch the server's RSS."""
    request = build_request(server.port, STREAM, HELD_BODY)
    idle_worker, idle_tree = server.rss_kib()
    peak = [idle_worker, idle_tree]
    state = {"open": 0, "max_open": 0, "in_flight": 0, "max_in_flight": 0}
    results = {"completed": 0, "frames": 0, "frame_errors": 0, "wrong_frame_count": 0, "http_errors": 0}
    failures: dict[str, int] = {}
    durations: list[float] = []
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            worker, tree = server.rss_kib()
            peak[0], peak[1] = max(peak[0], worker), max(peak[1], tree)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.05)

    async def one() -> None:
        decoder = EventStreamDecoder()
        frames = bad = 0
        broken = headed = False

        def on_head(status: int) -> None:
            nonlocal headed
            headed = True
            state["open"] += 1
            state["max_open"] = max(state["max_open"], state["open"])

        def on_body(data: bytes) -> None:
            nonlocal frames, bad, broken
            if broken:
                return
            try:
                messages = decoder.feed(data)
            except InvalidFrameError:
                bad += 1
                broken = True  # the stream cannot be resynchronised after a bad frame
                return
            for message in messages:
                frames += 1
                if message.message_type != "event" or message.event_type != "chunk":
                    bad += 1

        state["in_flight"] += 1
        state["max_in_flight"] = max(state["max_in_flight"], state["in_flight"])
        started = time.perf_counter()
        try:
            conn = await _connect(server.port)
            try:
                status, _ = await conn.request(request, on_head, on_body)
            finally:
                conn.close()
            if status != 200:
                results["http_errors"] += 1
                return
            try:
                decoder.close()
            except InvalidFrameError:
                bad += 1
            results["completed"] += 1
            results["frames"] += frames
            results["frame_errors"] += bad
            results["wrong_frame_count"] += frames != expected_frames
            durations.append(time.perf_counter() - started)
        except (OSError, ConnectionError) as exc:
            failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
        finally:
            state["in_flight"] -= 1
            if headed:
                state["open"] -= 1

    sampler = asyncio.ensure_future(sample())
    started = time.perf_counter()
    tasks = [asyncio.ensure_future(one()) for _ in range(n)]
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    wall = time.perf_counter() - started
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    stop.set()
    await sampler
    after_worker, _ = server.rss_kib()
    durations.sort()
    return {
        "streams": n,
        "frames_per_stream": expected_frames,
        "per_token_fault": HELD_FAULT,
        **results,
        "timed_out": len(pending),
        "connect_or_read_failures": failures,
        "max_open_streams": state["max_open"],
        "max_in_flight": state["max_in_flight"],
        "wall_s": round(wall, 2),
        "stream_s_p50": round(durations[len(durations) // 2], 3) if durations else None,
        "stream_s_max": round(durations[-1], 3) if durations else None,
        "rss_worker_idle_mib": round(idle_worker / 1024, 1),
        "rss_worker_peak_mib": round(peak[0] / 1024, 1),
        "rss_worker_after_mib": round(after_worker / 1024, 1),
        "rss_tree_idle_mib": round(idle_tree / 1024, 1),
        "rss_tree_peak_mib": round(peak[1] / 1024, 1),
    }


# --------------------------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------------------------


def _mistral_bedrock_argv() -> list[str]:
    script = Path(sys.executable).with_name("mistral-bedrock")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from mistral_bedrock.cli import main; sys.exit(main())"]


def _probe(url: str, timeout: float) -> tuple[int, bytes, bytes]:
    """One InvokeModel and one stream, synchronously: (stream status, invoke body, stream body)."""
    with httpx.Client(timeout=timeout) as client:
        invoke = client.post(f"{url}{MODEL_PATH}/{INVOKE}", content=PROMPT_BODY, headers=_headers())
        stream = client.post(f"{url}{MODEL_PATH}/{STREAM}", content=PROMPT_BODY, headers=_headers())
    if invoke.status_code != 200 or stream.status_code != 200:
        raise RuntimeError(f"runtime answered {invoke.status_code}/{stream.status_code}: {invoke.text[:200]}")
    return stream.status_code, invoke.content, stream.content


def start_ours(
    stack: contextlib.ExitStack, faults: tuple[str, ...], notes: list[str], workers: int = 1
) -> tuple[ServerProcess, bytes, bytes]:
    """``mistral-bedrock serve`` on a free port, checked with one request of each kind.

    The first request loads the tokenizer. If it gets no answer in ``PROBE_TIMEOUT`` seconds the worker is taken
    for hung and the server is started again, four times at most; each restart is listed in the notes (none is
    expected: the fork-time import deadlock that once caused this is fixed in ``runtime/server.py``).
    """
    for attempt in range(1, 5):
        port = free_port()
        argv = [
            *_mistral_bedrock_argv(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--min-first-byte-ms",  # the runtime's own speed: no floor for the Go SDK's sake
            "0",
        ]
        for spec in faults:
            argv += ["--fault", spec]
        server = ServerProcess("mistral-bedrock serve", argv, port, ready_line=READY_LINE)
        stack.callback(server.stop)
        server.start()
        try:
            _, invoke, stream = _probe(server.url, timeout=PROBE_TIMEOUT)
        except httpx.TimeoutException:
            notes.append(
                f"`mistral-bedrock serve{' --fault ' + ' '.join(faults) if faults else ''}`, start {attempt}: "
                f"no answer to the first InvokeModel within {PROBE_TIMEOUT:g} s (worker hung); restarted it."
            )
            server.stop()
            continue
        return server, invoke, stream
    raise RuntimeError("mistral-bedrock serve hung on its first request four times")


def decode_all(body: bytes) -> list[Any]:
    decoder = EventStreamDecoder()
    messages = decoder.feed(body)
    decoder.close()
    return messages


def probe_moto(url: str) -> dict[str, Any]:
    """What moto answers to the benchmark's requests."""
    out: dict[str, Any] = {}
    with httpx.Client(timeout=30.0) as client:
        for operation in (INVOKE, STREAM):
            response = client.post(f"{url}{MODEL_PATH}/{operation}", content=PROMPT_BODY, headers=_headers())
            out[operation] = {
                "status": response.status_code,
                "content_type": response.headers.get("content-type"),
                "connection": response.headers.get("connection"),
                "body": response.text[:160],
            }
    return out


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------


def _machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import granian
    import moto

    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "granian": granian.__version__,
        "moto": moto.__version__,
        "httpx": httpx.__version__,
    }


def _ms(value: float) -> str:
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def table(cells: list[dict[str, Any]]) -> Iterator[str]:
    yield (
        "| server | operation | conc. | client | req/s | p50 ms | p99 ms | non-200/errors "
        "| server CPU | server µs/req | client CPU | others' CPU |"
    )
    yield "|---|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|"
    for c in cells:
        bad = sum(v for k, v in c["statuses"].items() if k != "200")
        errors = sum(c["errors"].values()) + c["unfinished_at_end"]
        shown = ", ".join(f"{k}: {v}" for k, v in c["statuses"].items())
        yield (
            f"| {c['server']} | {c['operation']} | {c['concurrency']} | {c['client']} | {c['rps']:,.0f} | "
            f"{_ms(c['p50_ms'])} | {_ms(c['p99_ms'])} | {shown if bad else '0'} / {errors} | "
            f"{c['server_cpu_pct']:.0f}% | {c['server_cpu_us_per_request'] or 0:,} | {c['client_cpu_pct']:.0f}% | "
            f"{c['other_cpu_pct']:.0f}% |"
        )


def ratios(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ours/bare and ours/moto (repeated and distinct prompts), by requests/s (the goal) and by server CPU time
    per request (less sensitive to other processes taking CPU from both the client and the server)."""

    def find(server: str, operation: str, concurrency: int) -> dict[str, Any] | None:
        for c in cells:
            if (c["server"], c["operation"], c["concurrency"], c["client"]) == (server, operation, concurrency, "raw"):
                return c
        return None

    out = []
    for name in ("ours", "ours-distinct"):
        for operation in (INVOKE, STREAM):
            for concurrency in CONCURRENCY:
                out.extend(_ratio(find, name, operation, concurrency))
    return out


def calibration(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the bare/ours goal means here: the ratio to bare that an app reaches with N µs of its own Python per
    request (InvokeModel, 32 clients), beside the server CPU per request of ``ours`` and ``ours-distinct``."""
    by_server = {
        c["server"]: c for c in cells if (c["operation"], c["concurrency"], c["client"]) == (INVOKE, 32, "raw")
    }
    bare = by_server.get("bare")
    if bare is None or not bare["rps"]:
        return []
    names = [f"bare+{us}us" for us in CALIBRATION_US] + ["ours", "ours-distinct"]
    return [
        {
            "server": name,
            "rps": by_server[name]["rps"],
            "ratio_to_bare": round(by_server[name]["rps"] / bare["rps"], 3),
            "server_cpu_us_per_request": by_server[name]["server_cpu_us_per_request"],
        }
        for name in names
        if name in by_server
    ]


def _ratio(
    find: Callable[..., dict[str, Any] | None], name: str, operation: str, concurrency: int
) -> list[dict[str, Any]]:
    out = []
    ours = find(name, operation, concurrency)
    for other, goal in (("bare", GOAL_BARE), ("moto", GOAL_MOTO)):
        theirs = find(other, operation, concurrency)
        if ours is None or theirs is None or not theirs["rps"]:
            continue
        value = ours["rps"] / theirs["rps"]
        ours_us, theirs_us = ours["server_cpu_us_per_request"], theirs["server_cpu_us_per_request"]
        out.append(
            {
                "ratio": f"{name}/{other}",
                "operation": operation,
                "concurrency": concurrency,
                "value": round(value, 3),
                "by_server_cpu": round(theirs_us / ours_us, 3) if ours_us and theirs_us else None,
                "goal": goal,
                "met": value >= goal,
            }
        )
    return out


def report(results: dict[str, Any]) -> str:
    lines = ["", "## Cells", "", *table(results["cells"]), "", "## Ratios", ""]
    lines += [
        "| ratio | operation | conc. | by req/s | goal | by server CPU/request |",
        "|---|---|---:|---:|---|---:|",
    ]
    for r in results["ratios"]:
        mark = "✔" if r["met"] else "✘ missed"
        cpu = f"{r['by_server_cpu']:.2f}x" if r["by_server_cpu"] else "-"
        lines.append(
            f"| {r['ratio']} | {r['operation']} | {r['concurrency']} | **{r['value']:.2f}x** | "
            f"≥ {r['goal']:g}x {mark} | {cpu} |"
        )
    if results.get("calibration"):
        lines += [
            "",
            "## Calibration",
            "",
            "The bare app doing a fixed amount of pure-Python work per request before it answers (InvokeModel, 32 "
            "clients): the ratio to bare that an app whose own code costs that much reaches on this server and "
            "machine, beside the runtime's.",
            "",
            "| server | req/s | / bare | server CPU µs/request |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| {c['server']} | {c['rps']:,.0f} | {c['ratio_to_bare']:.2f}x | {c['server_cpu_us_per_request']} |"
            for c in results["calibration"]
        ]
    held = results["held_streams"]
    lines += [
        "",
        "## Held streams",
        "",
        f"- {held['streams']:,} simultaneous InvokeModelWithResponseStream, {held['frames_per_stream']} frames each, "
        f"`--fault {held['per_token_fault']}`",
        f"- completed {held['completed']:,}, frames {held['frames']:,}, frame errors {held['frame_errors']}, "
        f"wrong frame count {held['wrong_frame_count']}, HTTP errors {held['http_errors']}, "
        f"timed out {held['timed_out']}, failures {held['connect_or_read_failures'] or 0}",
        f"- max streams open at once {held['max_open_streams']:,} (requests in flight {held['max_in_flight']:,}); "
        f"wall {held['wall_s']} s; stream duration p50 {held['stream_s_p50']} s, max {held['stream_s_max']} s",
        f"- server worker RSS: idle {held['rss_worker_idle_mib']} MiB, peak {held['rss_worker_peak_mib']} MiB, "
        f"after {held['rss_worker_after_mib']} MiB (whole tree: idle {held['rss_tree_idle_mib']} MiB, "
        f"peak {held['rss_tree_peak_mib']} MiB)",
        "",
        "## moto's answers",
        "",
    ]
    for operation, answer in results["moto_answers"].items():
        lines.append(
            f"- {operation}: HTTP {answer['status']} {answer['content_type']}, "
            f"connection: {answer['connection']}, body {answer['body']!r}"
        )
    lines += ["- moto_server has no InvokeModelWithResponseStream: no moto stream cells, no ours/moto stream ratio."]
    if results["notes"]:
        lines += ["", "## Notes", "", *(f"- {note}" for note in results["notes"])]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------


def _raise_nofile(needed: int) -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def _loadavg() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def _on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


async def _measure(
    stack: contextlib.ExitStack, args: argparse.Namespace, results: dict[str, Any], log: Callable[[str], None]
) -> None:
    warmup, duration = (0.3, 2.0) if args.quick else (1.0, 8.0)
    cells: list[Cell] = []
    notes: list[str] = results["notes"]

    def done(cell: Cell) -> None:
        cells.append(cell)
        s = cell.summary()
        log(f"  {s['server']:5} {s['operation']:28} c={s['concurrency']:<4} {s['client']:5} {s['rps']:>9,.0f} req/s")

    log("ours: mistral-bedrock serve (granian, 1 worker)")
    ours, invoke_body, stream_body = start_ours(stack, (), notes)
    frames = [message.encode() for message in decode_all(stream_body)]
    if b"".join(frames) != stream_body:
        raise RuntimeError("re-encoding the runtime's frames did not give back its bytes")
    results["response"] = {"invoke_bytes": len(invoke_body), "stream_bytes": len(stream_body), "frames": len(frames)}
    for operation in (INVOKE, STREAM):
        for concurrency in CONCURRENCY:
            done(await run_cell(ours, "ours", operation, concurrency, warmup, duration))
    bodies = distinct_bodies()
    for operation in (INVOKE, STREAM):
        for concurrency in CONCURRENCY:
            done(await run_cell(ours, "ours-distinct", operation, concurrency, warmup, duration, bodies))
    ours.stop()

    log("ours: mistral-bedrock serve --workers 2 (scaling)")
    scaled, _, _ = start_ours(stack, (), notes, workers=2)
    for concurrency in CONCURRENCY[1:]:
        done(await run_cell(scaled, "ours-2w", INVOKE, concurrency, warmup, duration))
    scaled.stop()

    log("bare: raw ASGI app (granian, 1 worker)")
    fixture = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mb-bench-"))) / "bare.json"
    write_fixture(fixture, invoke_body, frames)
    port = free_port()
    bare = ServerProcess("bare ASGI", granian_argv("_servers:app", port, working_dir=str(_BENCH)), port)
    bare.env[FIXTURE_ENV] = str(fixture)
    stack.callback(bare.stop)
    bare.start()
    with httpx.Client(timeout=10) as client:
        check = client.post(f"{bare.url}{MODEL_PATH}/{STREAM}", content=PROMPT_BODY, headers=_headers())
        check_invoke = client.post(f"{bare.url}{MODEL_PATH}/{INVOKE}", content=PROMPT_BODY, headers=_headers())
    if len(decode_all(check.content)) != len(frames) or check_invoke.content != invoke_body:
        raise RuntimeError("the bare app does not answer the runtime's bytes")
    for operation in (INVOKE, STREAM):
        for concurrency in CONCURRENCY:
            done(await run_cell(bare, "bare", operation, concurrency, warmup, duration))
    done(await run_cell_httpx(bare, "bare", 32, warmup, duration))
    bare.stop()

    log(f"calibration: the bare app with {' and '.join(map(str, CALIBRATION_US))} µs of Python per request")
    for busy_us in CALIBRATION_US:
        port = free_port()
        busy = ServerProcess(f"bare+{busy_us}us", granian_argv("_servers:app", port, working_dir=str(_BENCH)), port)
        busy.env[FIXTURE_ENV] = str(fixture)
        busy.env[BUSY_ENV] = str(busy_us)
        stack.callback(busy.stop)
        busy.start()
        done(await run_cell(busy, f"bare+{busy_us}us", INVOKE, 32, warmup, duration))
        busy.stop()

    log("moto: moto_server")
    port = free_port()
    moto = ServerProcess("moto_server", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port)
    stack.callback(moto.stop)
    moto.start()
    results["moto_answers"] = probe_moto(moto.url)
    for concurrency in CONCURRENCY:
        done(await run_cell(moto, "moto", INVOKE, concurrency, warmup, duration))
    moto.stop()

    log(f"held streams: {args.streams} at once, --fault {HELD_FAULT}")
    held, _, _ = start_ours(stack, (HELD_FAULT,), notes)
    with httpx.Client(timeout=30) as client:
        first = client.post(f"{held.url}{MODEL_PATH}/{STREAM}", content=HELD_BODY, headers=_headers())
    expected = len(decode_all(first.content))
    await asyncio.sleep(0.5)
    results["held_streams"] = await held_streams(held, args.streams, expected, timeout=120.0)
    held.stop()

    results["cells"] = [cell.summary() for cell in cells]
    results["ratios"] = ratios(results["cells"])
    results["calibration"] = calibration(results["cells"])
    by_key = {(c["server"], c["operation"], c["concurrency"]): c["rps"] for c in results["cells"]}
    results["scaling"] = [
        {"concurrency": c, "rps_1_worker": by_key[("ours", INVOKE, c)], "rps_2_workers": by_key[("ours-2w", INVOKE, c)],
         "ratio": by_key[("ours-2w", INVOKE, c)] / by_key[("ours", INVOKE, c)]}
        for c in CONCURRENCY[1:]
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s cells, 300 held streams: a smoke run")
    parser.add_argument("--streams", type=int, default=None, help="held streams (default 1000; --quick: 300)")
    parser.add_argument("--json", type=Path, help="write machine-readable results here")
    args = parser.parse_args(argv)
    try:
        import flask  # noqa: F401  (moto_server needs it)
        import moto.server  # noqa: F401
    except ImportError as exc:
        parser.error(f"{exc}; install the bench extra: pip install -e '.[bench]'")
    if args.streams is None:
        args.streams = 300 if args.quick else 1000
    nofile = _raise_nofile(2 * args.streams + 1024)  # the servers inherit it: client and server ends both count
    signal.signal(signal.SIGTERM, _on_sigterm)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    results: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "mode": "quick" if args.quick else "full",
        "machine": _machine(),
        "load_generator": "raw asyncio HTTP/1.1 client (asyncio.Protocol), one keep-alive connection per worker",
        "rlimit_nofile": list(nofile),
        "loadavg_start": _loadavg(),
        "notes": [],
    }
    started = time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:  # every server started is stopped here, also on Ctrl-C or an error
            asyncio.run(_measure(stack, args, results, log))
    except KeyboardInterrupt:
        log("interrupted; the servers were stopped")
        return 130
    results["total_s"] = round(time.perf_counter() - started, 1)
    results["loadavg_end"] = _loadavg()
    others = [c["other_cpu_pct"] for c in results["cells"]]
    results["other_cpu_pct_mean"] = round(sum(others) / len(others), 1)
    m = results["machine"]
    print(
        f"# Runtime throughput ({results['mode']}, {results['total_s']} s)\n\n"
        f"{m['cpus']} CPUs ({m['cpu_model']}), Linux {m['kernel']}, {m['python']}, granian {m['granian']}, "
        f"moto {m['moto']}; load generator: {results['load_generator']}; client and servers share the cores.\n\n"
        f"Other processes on the machine used {results['other_cpu_pct_mean']:.0f}% CPU on average during the "
        f"cells (100% = one core; load average {results['loadavg_start']} at the start, "
        f"{results['loadavg_end']} at the end)."
    )
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
