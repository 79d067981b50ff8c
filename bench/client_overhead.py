"""Client overhead: ``MistralBedrock`` vs raw boto3, sequential calls against one local runtime.

Usage::

    python bench/client_overhead.py [--quick] [--rounds R] [--block N] [--json PATH] [--profile]

One runtime is started as a separate ``mistral-bedrock serve`` process (granian, HTTP/1.1 on loopback), not as an
in-process ``ServerThread``: a server thread would share this interpreter's GIL, so its request handling would be
interleaved with — and billed to — whichever client is being timed. In its own process it runs on another core,
and both clients see the same server.

Both clients send the same text-completion body to ``mistral.mistral-7b-instruct-v0:2``, SigV4-signed with dummy
credentials, each with its default retry policy, one call at a time over a kept-alive connection:

* ``invoke``: boto3 ``invoke_model`` then ``json.loads(body.read())`` and the output text, vs
  ``client.complete_text(prompt, model="mistral-7b", raw=True)`` (which returns the parsed :class:`Result`).
* ``stream``: boto3 ``invoke_model_with_response_stream`` iterating every event and ``json.loads`` of each chunk's
  bytes, collecting the text, vs ``client.stream_text(prompt, model="mistral-7b", raw=True).result()``.

Both sides do what a caller needs to get the answer's text; neither does more. After a warm-up, the two clients
run in blocks of ``N`` calls, interleaved ABBA… across ``R`` rounds, so drift (CPU frequency, a noisy neighbour)
falls on both. Reported per scenario: the median per-call latency of each, calls per second, the client's own CPU
time per call (``time.process_time`` of this process; the server's work is in the other process), and the ratio
ours/boto3 — **lower is better, the goal is <= 1.00x**.

``--profile`` then runs cProfile over our client's calls and prints where its time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import boto3
import botocore
import httpx
from botocore.config import Config

from _results import write_results

try:
    from mistral_bedrock._version import __version__ as mb_version
    from mistral_bedrock.client import MistralBedrock, RetryPolicy
    from mistral_bedrock.errors import MistralBedrockError
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from mistral_bedrock._version import __version__ as mb_version
    from mistral_bedrock.client import MistralBedrock, RetryPolicy
    from mistral_bedrock.errors import MistralBedrockError

MODEL_ID = "mistral.mistral-7b-instruct-v0:2"
PROMPT = "<s>[INST] Hello, what's your name? [/INST]"
BODY = json.dumps({"prompt": PROMPT}).encode()
REGION = "us-east-1"
KEY_ID = SECRET = "dummy"  # any well-formed signature is accepted by the runtime


# -- the runtime ---------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ``mistral-bedrock serve``, with ``encodings.idna`` imported first. Without that, the runtime's port-probe thread
# (runtime/server.py, ``serve``) imports it lazily while granian forks its worker; when the fork lands while that
# thread holds the module's import lock, the worker deadlocks on its own first ``import encodings.idna`` (requests,
# via mistral_common, on the first request) and never answers. Seen in 4 starts of 24 here; 0 of 25 with this.
_SERVE = "import encodings.idna; from mistral_bedrock.cli import main; main()"


def _ready(url: str, timeout: float) -> None:
    """One real call (it also loads the tokenizer server-side), with a short timeout and no retries."""
    with MistralBedrock(
        endpoint_url=url,
        region=REGION,
        timeout=timeout,
        retry=RetryPolicy(max_attempts=1),
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    ) as c:
        c.complete_text(PROMPT, model="mistral-7b", raw=True)


@contextmanager
def runtime(timeout: float = 60.0) -> Iterator[str]:
    """``mistral-bedrock serve`` on a free loopback port, in its own process group; yields its URL once it answers."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        serve = [sys.executable, "-c", _SERVE, "serve", "--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(
            [*serve, "--min-first-byte-ms", "0"],  # no floor: it would add the same wait to every client's time
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        try:
            _wait_listening(process, port, log, timeout)
            try:
                _ready(url, timeout)
            except MistralBedrockError as exc:
                raise RuntimeError(f"the runtime accepts connections but did not answer: {exc}") from exc
            yield url
        finally:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group, a stuck worker included
            process.wait(timeout=15)


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: IO[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the runtime exited with {process.returncode}:\n{log.read().decode(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("the runtime did not start listening in time") from None
            time.sleep(0.05)


# -- the four contestants -------------------------------------------------------------------------------
def make_boto3(url: str) -> Any:
    # Default retries (legacy mode, as a plain boto3 client gets them); signing with dummy credentials.
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name=REGION,
        config=Config(read_timeout=120),
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )


def make_ours(url: str) -> MistralBedrock:
    return MistralBedrock(endpoint_url=url, region=REGION, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)


def boto3_invoke(brt: Any) -> str:
    response = brt.invoke_model(modelId=MODEL_ID, body=BODY, contentType="application/json", accept="application/json")
    data = json.loads(response["body"].read())
    return "".join(output["text"] for output in data["outputs"])


def boto3_stream(brt: Any) -> str:
    response = brt.invoke_model_with_response_stream(
        modelId=MODEL_ID, body=BODY, contentType="application/json", accept="application/json"
    )
    texts: list[str] = []
    for event in response["body"]:
        chunk = event.get("chunk")
        if chunk is not None:
            texts.extend(output["text"] for output in json.loads(chunk["bytes"])["outputs"])
    return "".join(texts)


def ours_invoke(client: MistralBedrock) -> str:
    return client.complete_text(PROMPT, model="mistral-7b", raw=True).text


def ours_stream(client: MistralBedrock) -> str:
    with client.stream_text(PROMPT, model="mistral-7b", raw=True) as stream:
        return stream.result().text


# -- timing ----------------------------------------------------------------------------------------------
@dataclass
class Side:
    label: str
    call: Callable[[], str]
    latencies: list[float] = field(default_factory=list)  # seconds per call
    wall: float = 0.0  # seconds over all timed calls
    cpu: float = 0.0  # this process's CPU seconds over all timed calls

    def block(self, n: int) -> None:
        gc.collect()
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        for _ in range(n):
            start = time.perf_counter()
            self.call()
            self.latencies.append(time.perf_counter() - start)
        self.wall += time.perf_counter() - wall0
        self.cpu += time.process_time() - cpu0

    def figures(self) -> dict[str, float]:
        calls = len(self.latencies)
        return {
            "calls": calls,
            "median_ms": statistics.median(self.latencies) * 1000,
            "p90_ms": statistics.quantiles(self.latencies, n=10)[-1] * 1000,
            "calls_per_s": calls / self.wall,
            "client_cpu_ms_per_call": self.cpu / calls * 1000,
        }


def measure(boto: Side, ours: Side, rounds: int, block: int, warmup: int) -> dict[str, Any]:
    for side in (boto, ours):
        for _ in range(warmup):
            side.call()
    for index in range(rounds):
        order = (boto, ours) if index % 2 == 0 else (ours, boto)  # ABBA…: drift falls on both
        for side in order:
            side.block(block)
    b, o = boto.figures(), ours.figures()
    return {
        "boto3": b,
        "ours": o,
        "ratio_median": o["median_ms"] / b["median_ms"],
        "ratio_cpu": o["client_cpu_ms_per_call"] / b["client_cpu_ms_per_call"],
    }


def profile(call: Callable[[], str], calls: int, top: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(top)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (each runs one block per client)")
    parser.add_argument("--block", type=int, help="calls per block")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--profile", action="store_true", help="cProfile our client's calls afterwards")
    args = parser.parse_args(argv)
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the runtime's process group is always stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rounds = args.rounds or (4 if args.quick else 20)
    block = args.block or (10 if args.quick else 25)
    warmup = 10 if args.quick else 50

    results: dict[str, Any] = {}
    profiles: dict[str, str] = {}
    with runtime() as url:
        brt = make_boto3(url)
        with make_ours(url) as client:
            # Same answer from both, checked once outside the timings.
            for name, theirs, mine in (
                ("invoke", boto3_invoke, ours_invoke),
                ("stream", boto3_stream, ours_stream),
            ):
                expected, got = theirs(brt), mine(client)
                if expected != got or not got:
                    raise AssertionError(f"{name}: the clients disagree: {expected!r} vs {got!r}")
            results["invoke"] = measure(
                Side("boto3", lambda: boto3_invoke(brt)),
                Side("ours", lambda: ours_invoke(client)),
                rounds,
                block,
                warmup,
            )
            results["stream"] = measure(
                Side("boto3", lambda: boto3_stream(brt)),
                Side("ours", lambda: ours_stream(client)),
                rounds,
                block,
                warmup,
            )
            if args.profile:
                calls = rounds * block
                profiles["ours invoke"] = profile(lambda: ours_invoke(client), calls)
                profiles["ours stream"] = profile(lambda: ours_stream(client), calls)
                profiles["boto3 invoke"] = profile(lambda: boto3_invoke(brt), calls)
                profiles["boto3 stream"] = profile(lambda: boto3_stream(brt), calls)
        brt.close()

    info = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "mistral_bedrock": mb_version,
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "httpx": httpx.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "rounds": rounds,
        "block": block,
        "warmup": warmup,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    print(
        f"Python {info['python']}, mistral-bedrock {mb_version}, boto3 {info['boto3']}, httpx {info['httpx']}, "
        f"{info['cpu_count']} CPUs; {rounds} rounds x {block} calls per client, interleaved; "
        "ratio = ours/boto3, lower is better, goal <= 1.00x"
    )
    header = (
        f"{'scenario':<9}{'client':<7}{'median ms':>10}{'p90 ms':>9}{'calls/s':>9}{'CPU ms/call':>12}"
        f"{'ratio (median)':>16}{'ratio (CPU)':>13}"
    )
    print(header)
    print("-" * len(header))
    for name, row in results.items():
        for label in ("boto3", "ours"):
            f = row[label]
            ratios = (
                f"{row['ratio_median']:>15.2f}x{row['ratio_cpu']:>12.2f}x" if label == "ours" else f"{'':>16}{'':>13}"
            )
            print(
                f"{name if label == 'boto3' else '':<9}{label:<7}{f['median_ms']:>10.2f}{f['p90_ms']:>9.2f}"
                f"{f['calls_per_s']:>9.0f}{f['client_cpu_ms_per_call']:>12.2f}{ratios}"
            )
    for name, text in profiles.items():
        print(f"\n== cProfile: {name} ({rounds * block} calls), by own time ==")
        print(text)
    write_results(args.json, info, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
