"""Fairness: how long a small request waits while another client's large request is being processed.

Usage::

    python bench/runtime_fairness.py [--quick] [--json PATH]

One ``mistral-bedrock serve`` (1 worker, no first-byte floor, built-in engine). A client sends small InvokeModel
requests (``<s>[INST] Hello [/INST]``, Mistral Large 24.07) on a fixed schedule, one every 4 ms, each on a free
keep-alive connection, and times each from when it was due to its whole response read (an open loop: a client
that waited for each answer before sending the next would send one request during a stall and hide it). In
alternating blocks:

* **loaded**: another client (a thread with its own blocking socket) sends one large InvokeModel request; the
  small requests due while it is in flight are timed. Two large requests: a 20 MB text-completion prompt (far
  past the 128k-token context window: Bedrock's ``Input is too long`` ValidationException) and a ~100k-token
  prompt that fits and is answered (380 KB, every one distinct);
* **idle**: as long again with nothing else running: the reference, measured in the same run.

The figure is the small requests' median latency while loaded, as a ratio to their idle median; goal at most 3x.
Client and server share the machine's cores. ``--serve-arg`` passes an option to ``serve`` (repeatable).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import build_request, connect, prompt_body, start_serve

MODEL_PATH = "/model/mistral.mistral-large-2407-v1:0/invoke"
SMALL_BODY = json.dumps({"prompt": "<s>[INST] Hello [/INST]", "max_tokens": 50}).encode()
BIG_WORDS = {"20 MB prompt": 4_270_000, "100k-token prompt": 80_000}
GOAL = 3.0
INTERVAL_S = 0.004  # small requests due every 4 ms: 250 per second


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Small:
    """Small requests sent on a fixed schedule (open loop), each timed from when it was due.

    A client that waits for each answer before sending the next would send only one request during a stall of
    the server, and its median would hide the stall; requests due at a fixed rate see it as it is. Each goes out
    on a free keep-alive connection (a new one when all are busy).
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.request = build_request(port, MODEL_PATH, SMALL_BODY)
        self.free: list[Any] = []
        self.statuses: dict[int, int] = {}

    async def _one(self, due: float, into: list[float]) -> None:
        conn = self.free.pop() if self.free else await connect(self.port)
        status = await conn.send(self.request)
        into.append((time.perf_counter() - due) * 1000)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.free.append(conn)

    async def run(self, until: asyncio.Future[Any] | None, seconds: float) -> list[float]:
        """Requests due every ``INTERVAL_S`` until ``until`` is done (or for ``seconds``); their latencies."""
        latencies: list[float] = []
        tasks = []
        start = time.perf_counter()
        index = 0
        while (until is not None and not until.done()) or (until is None and index * INTERVAL_S < seconds):
            due = start + index * INTERVAL_S
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(self._one(due, latencies)))
            index += 1
        await asyncio.gather(*tasks)
        return latencies

    def close(self) -> None:
        for conn in self.free:
            conn.close()


def _send_blocking(port: int, request: bytes) -> int:
    """One request on its own blocking socket (in a thread: the timing client's event loop never copies or writes
    the 20 MB itself); the response status once the whole response has been read."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536) or b"\r\n\r\n"
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0)
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return int(lines[0].split()[1])


async def measure(port: int, rounds: int) -> dict[str, Any]:
    rng = random.Random(11)
    # Built before anything is timed: making a 20 MB body takes the client most of a second.
    bodies = {name: [prompt_body(rng, words, index) for index in range(rounds)] for name, words in BIG_WORDS.items()}
    small = _Small(port)
    await small.run(None, 1.0)  # warm: the tokenizer loads, the first requests settle
    results: dict[str, Any] = {"idle_ms": [], "big": {}}
    for name in BIG_WORDS:
        results["big"][name] = {"loaded_ms": [], "big_ms": [], "statuses": []}
    for round_ in range(rounds):
        for name in BIG_WORDS:
            request = build_request(port, MODEL_PATH, bodies[name][round_])
            started = time.perf_counter()
            flight = asyncio.ensure_future(asyncio.to_thread(_send_blocking, port, request))
            loaded = await small.run(flight, 0)
            status = await flight
            elapsed = time.perf_counter() - started
            cell = results["big"][name]
            cell["big_ms"].append(elapsed * 1000)
            cell["statuses"].append(status)
            cell["loaded_ms"] += loaded
            cell["body_bytes"] = len(request)
            results["idle_ms"] += await small.run(None, max(elapsed, 0.5))  # as long again, idle
    small.close()
    if set(small.statuses) != {200}:
        raise RuntimeError(f"small requests answered {small.statuses}")
    idle = results["idle_ms"]
    summary: dict[str, Any] = {
        "interval_ms": INTERVAL_S * 1000,
        "idle": {"count": len(idle), "median_ms": statistics.median(idle), "p90_ms": _percentile(idle, 0.9)},
        "loaded": [],
    }
    for name, cell in results["big"].items():
        loaded = cell["loaded_ms"]
        median = statistics.median(loaded)
        summary["loaded"].append(
            {
                "big_request": name,
                "body_bytes": cell["body_bytes"],
                "big_statuses": sorted(set(cell["statuses"])),
                "big_ms_median": statistics.median(cell["big_ms"]),
                "small_count": len(loaded),
                "small_median_ms": median,
                "small_p90_ms": _percentile(loaded, 0.9),
                "small_max_ms": max(loaded),
                "ratio": median / summary["idle"]["median_ms"],
                "goal": GOAL,
                "met": median / summary["idle"]["median_ms"] <= GOAL,
            }
        )
    return summary


def report(data: dict[str, Any]) -> str:
    idle = data["idle"]
    rows = [
        f"Small requests due every {data['interval_ms']:g} ms. Idle (reference, same run): {idle['count']} of them, "
        f"median {idle['median_ms']:.2f} ms, p90 {idle['p90_ms']:.2f} ms.",
        "",
        "| large request (other client) | body | its answer | its time, median | small requests timed "
        "| small median | small p90 | small max | median / idle |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["loaded"]:
        rows.append(
            f"| {r['big_request']} | {r['body_bytes'] / 1e6:.2f} MB | {', '.join(map(str, r['big_statuses']))} "
            f"| {r['big_ms_median']:.0f} ms | {r['small_count']} | {r['small_median_ms']:.2f} ms "
            f"| {r['small_p90_ms']:.2f} ms | {r['small_max_ms']:.1f} ms | **{r['ratio']:.2f}×** |"
        )
    return "\n".join(rows)


def summary_rows(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """The headline figures for the summary in docs/BENCHMARKS.md: (figure, measured, goal, met)."""
    return [
        (
            f"fairness: small-request median latency during a {r['big_request']}, / idle",
            f"{r['ratio']:.2f}× ({r['small_median_ms']:.2f} vs {data['idle']['median_ms']:.2f} ms)",
            f"≤ {GOAL:g}×",
            bool(r["met"]),
        )
        for r in data["loaded"]
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 10")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--serve-arg", action="append", default=[], help="an extra argument for serve (repeatable)")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 10
    # A stalled server leaves one connection per request due meanwhile (250 a second): allow thousands.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 16_384)), hard))
    server = start_serve(*args.serve_arg)
    try:
        data = asyncio.run(measure(server.port, rounds))
    finally:
        server.stop()
    data["rounds"] = rounds
    data["serve_args"] = args.serve_arg
    data["command"] = " ".join(["python bench/runtime_fairness.py", *(["--quick"] if args.quick else [])])
    print(report(data))
    if args.json:
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
