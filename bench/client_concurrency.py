"""Async clients at 64 concurrent calls: ``AsyncMistralBedrock`` over candidate HTTP transports vs aiobotocore.

Usage::

    python bench/client_concurrency.py [--quick] [--rounds R] [--calls N] [--concurrency C] [--json PATH]

One runtime (``mistral-bedrock serve``, one worker, its own process) answers every client.
Each client runs in its own worker process, so ``time.process_time`` there is that client's CPU alone and no client
shares an event loop, a pool or a garbage collector with another. The contestants:

* ``aiobotocore``: ``invoke_model`` / ``invoke_model_with_response_stream``, then ``json.loads`` of the body (of
  each chunk) and the text (ours: ``complete_text`` / ``stream_text``), with ``max_pool_connections`` = the
  concurrency (its default, 10, would queue calls);
* ``httpx/httpcore``: our client over ``httpx.AsyncHTTPTransport``, as it was built before this benchmark;
* ``httpx2``: our client with ``httpx2.alias_httpx()`` (httpx2 and httpcore2 stand in for httpx and httpcore);
* ``httpx-aiohttp``: our client over httpx-aiohttp's ``AiohttpTransport``;
* ``ours``: our client as it is built now (``ClientSettings.async_http``: httpx over aiohttp's pool,
  ``mistral_bedrock.client.transport``).

Every client sends the same text-completion body to ``mistral.mistral-7b-instruct-v0:2`` (ours with ``raw=True``),
SigV4-signed with dummy credentials, and every answer is checked once against aiobotocore's before the timings.
A block is N calls kept C at a time in flight (C tasks taking the next call as they finish); blocks of all
clients are interleaved, in a new order each round, so drift falls on all. Reported per scenario: calls per second
(calls / wall time of the blocks), the client's CPU milliseconds per call, and both as ratios to aiobotocore —
**the goal: calls/s >= 1.00x aiobotocore at CPU per call <= 1.00x** — and the runtime's CPU per call (client and
server share the machine's cores, so a request that costs the server more lowers calls/s too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import start_serve
from _results import write_results
from _servers import ServerProcess

MODEL_ID = "mistral.mistral-7b-instruct-v0:2"
PROMPT = "<s>[INST] Hello, what's your name? [/INST]"
REGION = "us-east-1"
KEY_ID = SECRET = "dummy"  # any well-formed signature is accepted by the runtime
REFERENCE = "aiobotocore"
CLIENTS = (REFERENCE, "httpx/httpcore", "httpx2", "httpx-aiohttp", "ours")
SCENARIOS = ("invoke", "stream")
Call = Callable[[], Awaitable[str]]


# -- the contestants (each built inside its own worker process) --------------------------------------------------
async def _aiobotocore(url: str, concurrency: int, stack: AsyncExitStack) -> dict[str, Call]:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    brt = await stack.enter_async_context(
        get_session().create_client(
            "bedrock-runtime",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
            config=AioConfig(max_pool_connections=concurrency, read_timeout=120),
        )
    )
    body = json.dumps({"prompt": PROMPT}).encode()

    async def invoke() -> str:
        response = await brt.invoke_model(
            modelId=MODEL_ID, body=body, contentType="application/json", accept="application/json"
        )
        data = json.loads(await response["body"].read())
        return "".join(output["text"] for output in data["outputs"])

    async def stream() -> str:
        response = await brt.invoke_model_with_response_stream(
            modelId=MODEL_ID, body=body, contentType="application/json", accept="application/json"
        )
        texts: list[str] = []
        async for event in response["body"]:
            chunk = event.get("chunk")
            if chunk is not None:
                texts.extend(output["text"] for output in json.loads(chunk["bytes"])["outputs"])
        return "".join(texts)

    return {"invoke": invoke, "stream": stream}


async def _ours(name: str, url: str, stack: AsyncExitStack) -> dict[str, Call]:
    if name == "httpx2":
        import httpx2

        httpx2.alias_httpx()  # before anything imports httpx: from here on `import httpx` is httpx2
    import httpx

    from mistral_bedrock.client import AsyncMistralBedrock
    from mistral_bedrock.client.settings import ASYNC_LIMITS, NO_DELAY

    timeout = httpx.Timeout(120.0, connect=10.0)
    http: httpx.AsyncClient | None = None
    if name in ("httpx/httpcore", "httpx2"):
        transport = httpx.AsyncHTTPTransport(socket_options=NO_DELAY, limits=ASYNC_LIMITS)
        http = httpx.AsyncClient(timeout=timeout, transport=transport)
    elif name == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        http = httpx.AsyncClient(timeout=timeout, transport=AiohttpTransport(limits=ASYNC_LIMITS))
    client = AsyncMistralBedrock(
        endpoint_url=url, region=REGION, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, http_client=http
    )
    stack.push_async_callback(client.close)
    if http is not None:
        stack.push_async_callback(http.aclose)

    async def invoke() -> str:
        return (await client.complete_text(PROMPT, model="mistral-7b", raw=True)).text

    async def stream() -> str:
        async with client.stream_text(PROMPT, model="mistral-7b", raw=True) as response:
            return (await response.result()).text

    return {"invoke": invoke, "stream": stream}


async def _block(call: Call, calls: int, concurrency: int) -> None:
    remaining = iter(range(calls))

    async def lane() -> None:
        for _ in remaining:
            await call()

    await asyncio.gather(*(lane() for _ in range(concurrency)))


async def _serve_driver(name: str, url: str, concurrency: int) -> None:
    """The worker: build the client, answer ``check``, then time ``run SCENARIO N`` blocks until ``quit``."""
    loop = asyncio.get_running_loop()
    async with AsyncExitStack() as stack:
        calls = await (_aiobotocore(url, concurrency, stack) if name == REFERENCE else _ours(name, url, stack))
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
            if not line or line[0] == "quit":
                return
            if line[0] == "check":
                reply: dict[str, Any] = {scenario: await call() for scenario, call in calls.items()}
            else:
                scenario, n = line[1], int(line[2])
                cpu0, wall0 = time.process_time(), time.perf_counter()
                await _block(calls[scenario], n, concurrency)
                reply = {"wall": time.perf_counter() - wall0, "cpu": time.process_time() - cpu0}
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()


# -- the driver ----------------------------------------------------------------------------------------------------
class Worker:
    def __init__(self, name: str, url: str, concurrency: int) -> None:
        self.name = name
        argv = [sys.executable, __file__, "--worker", name, "--url", url, "--concurrency", str(concurrency)]
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, line: str) -> dict[str, Any]:
        stdin, stdout = self._pipes()
        stdin.write(line + "\n")
        stdin.flush()
        reply = stdout.readline()
        if not reply:
            raise RuntimeError(f"the {self.name} worker exited with {self.process.wait()}")
        answer: dict[str, Any] = json.loads(reply)
        return answer

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        return self.process.stdin, self.process.stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            self._pipes()[0].close()
            self.process.wait(timeout=30)


def measure(
    server: ServerProcess, workers: Sequence[Worker], scenario: str, rounds: int, calls: int, seed: int
) -> dict[str, Any]:
    order = list(workers)
    shuffle = random.Random(seed)
    for worker in order:  # warm-up: connections opened, code paths and caches hot
        worker.ask(f"run {scenario} {calls}")
    totals = {w.name: {"wall": 0.0, "cpu": 0.0, "server_cpu": 0.0, "calls": 0} for w in workers}
    for _ in range(rounds):
        shuffle.shuffle(order)
        for worker in order:
            server_cpu = server.cpu_seconds()
            reply = worker.ask(f"run {scenario} {calls}")
            total = totals[worker.name]
            total["server_cpu"] += server.cpu_seconds() - server_cpu
            total["wall"] += reply["wall"]
            total["cpu"] += reply["cpu"]
            total["calls"] += calls
    figures = {
        name: {
            "calls": t["calls"],
            "calls_per_s": t["calls"] / t["wall"],
            "client_cpu_ms_per_call": t["cpu"] / t["calls"] * 1000,
            "server_cpu_ms_per_call": t["server_cpu"] / t["calls"] * 1000,
        }
        for name, t in totals.items()
    }
    ref = figures[REFERENCE]
    for f in figures.values():
        f["ratio_calls_per_s"] = f["calls_per_s"] / ref["calls_per_s"]
        f["ratio_cpu"] = f["client_cpu_ms_per_call"] / ref["client_cpu_ms_per_call"]
    return figures


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("mistral-bedrock", "aiobotocore", "botocore", "httpx", "httpcore", "httpx2", "httpx-aiohttp"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "-"
    out["aiohttp"] = version("aiohttp")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (each runs one block per client)")
    parser.add_argument("--calls", type=int, help="calls per block")
    parser.add_argument("--concurrency", type=int, default=64, help="calls in flight at once (default 64)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="invoke, stream or both (default)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        asyncio.run(_serve_driver(args.worker, args.url, args.concurrency))
        return 0
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the runtime's process group is always stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rounds = args.rounds or (2 if args.quick else 8)
    calls = args.calls or (args.concurrency * (4 if args.quick else 10))
    scenarios = [s for s in args.scenarios.split(",") if s]

    results: dict[str, Any] = {}
    server = start_serve()
    try:
        workers = [Worker(name, server.url, args.concurrency) for name in CLIENTS]
        try:
            answers = {w.name: w.ask("check") for w in workers}
            for name, answer in answers.items():
                if answer != answers[REFERENCE] or not all(answer.values()):
                    raise AssertionError(f"{name} disagrees with {REFERENCE}: {answer!r} vs {answers[REFERENCE]!r}")
            for index, scenario in enumerate(scenarios):
                results[scenario] = measure(server, workers, scenario, rounds, calls, seed=index)
        finally:
            for worker in workers:
                worker.stop()
    finally:
        server.stop()

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "versions": _versions(),
        "concurrency": args.concurrency,
        "rounds": rounds,
        "calls_per_block": calls,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    print(
        f"Python {info['python']}, {info['cpu_count']} CPUs; {args.concurrency} calls in flight, {rounds} rounds x "
        f"{calls} calls per client, interleaved; ratios to {REFERENCE}; goal: calls/s >= 1.00x at CPU/call <= 1.00x"
    )
    print("  " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    header = (
        f"{'scenario':<9}{'client':<16}{'calls/s':>9}{'CPU ms/call':>13}{'calls/s ratio':>15}{'CPU ratio':>11}"
        f"{'server CPU ms/call':>20}"
    )
    print(header)
    print("-" * len(header))
    for scenario, figures in results.items():
        for position, (name, f) in enumerate(figures.items()):
            print(
                f"{scenario if position == 0 else '':<9}{name:<16}{f['calls_per_s']:>9.0f}"
                f"{f['client_cpu_ms_per_call']:>13.3f}{f['ratio_calls_per_s']:>14.2f}x{f['ratio_cpu']:>10.2f}x"
                f"{f['server_cpu_ms_per_call']:>20.3f}"
            )
    write_results(args.json, info, results)
    return 0


def summary_rows(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """The headline figures for docs/BENCHMARKS.md's summary: (figure, measured, goal, met)."""
    rows = []
    for scenario, cells in data["results"].items():
        ours = cells["ours"]
        met = ours["ratio_calls_per_s"] >= 1.0 and ours["ratio_cpu"] <= 1.0
        rows.append(
            (
                f"async client {scenario}, 64 calls in flight: calls/s ours/aiobotocore",
                f"{ours['ratio_calls_per_s']:.2f}× (CPU per call {ours['ratio_cpu']:.2f}×)",
                "≥ 1.00× at ≤ 1.00× CPU",
                met,
            )
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
