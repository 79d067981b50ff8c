"""Recorded Bedrock: what recording through the runtime and replaying a cassette cost, against the built-in engine.

Run: ``python bench/replay_speed.py [--quick] [--json PATH]``. One boto3 client makes N distinct calls (Converse,
ConverseStream, InvokeModel, InvokeModelWithResponseStream in turn, each with its own prompt):

* **record**: through a recording runtime (``replay:DIR``, mode ``all``) to an upstream runtime on the built-in
  engine, against the same calls made to that upstream directly — the proxy's cost, cassette writing included;
* **replay**: against a replaying runtime (mode ``none``, the same cassette), against the same calls to a runtime on
  the built-in engine — what a test suite pays for recorded answers instead of generated ones;
* **load**: building the replay engine over the cassette (reading N files), once.

Every runtime runs in this process on a loopback port with the first-byte floor off, so the figures are the
runtime's own work. Rounds alternate ours and the reference; each figure is the median of the rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._results import write_results
from mistral_bedrock.engines.cassette import RecordMode, ReplayEngine, ReplaySettings
from mistral_bedrock.runtime import RuntimeConfig, ServerThread, create_app

CHAT = "mistral.mistral-large-2402-v1:0"
TEXT = "mistral.mistral-7b-instruct-v0:2"
WORDS = ["river", "mountain", "harbour", "lantern", "orchard", "meadow", "glacier", "canyon", "valley", "summit"]


def prompt(index: int) -> str:
    return f"Question {index}: tell me about the {WORDS[index % 10]} and the {WORDS[(index * 7) % 10]}."


def call(client: Any, index: int) -> None:
    messages = [{"role": "user", "content": [{"text": prompt(index)}]}]
    native = json.dumps({"prompt": f"<s>[INST] {prompt(index)} [/INST]", "max_tokens": 64})
    kind = index % 4
    if kind == 0:
        client.converse(modelId=CHAT, messages=messages, inferenceConfig={"maxTokens": 64})
    elif kind == 1:
        list(client.converse_stream(modelId=CHAT, messages=messages, inferenceConfig={"maxTokens": 64})["stream"])
    elif kind == 2:
        client.invoke_model(modelId=TEXT, body=native)["body"].read()
    else:
        list(client.invoke_model_with_response_stream(modelId=TEXT, body=native)["body"])


def client_for(url: str, key: str = "AKIDBENCH", secret: str = "bench") -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}, max_pool_connections=4),
    )


def timed(client: Any, calls: int) -> float:
    started = time.perf_counter()
    for index in range(calls):
        call(client, index)
    return time.perf_counter() - started


def paired(ours: Callable[[], float], reference: Callable[[], float], rounds: int) -> dict[str, float]:
    mine, theirs = [], []
    for _ in range(rounds):
        theirs.append(reference())
        mine.append(ours())
    return {
        "ours_s": statistics.median(mine),
        "reference_s": statistics.median(theirs),
        "ratio": statistics.median(mine) / statistics.median(theirs),
    }


def run(quick: bool) -> dict[str, Any]:
    calls, rounds = (40, 3) if quick else (200, 5)
    fast = RuntimeConfig(min_first_byte_ms=0)
    key, secret = "AKIAZZBENCHKEY000001", "benchSecret/0123456789abcdefghijklmnopqr"
    upstream_config = RuntimeConfig(min_first_byte_ms=0, auth=f"strict:{key}:{secret}")
    with tempfile.TemporaryDirectory() as scratch, ServerThread(config=upstream_config) as upstream:
        cassette = Path(scratch) / "cassette"
        settings = ReplaySettings(cassette, RecordMode.ALL, upstream_url=upstream.url, region="us-east-1")
        recorder = ReplayEngine(settings, credentials=ReadOnlyCredentials(key, secret, None))
        with ServerThread(app=create_app(fast, engine=recorder)) as recording:
            record = paired(
                lambda: timed(client_for(recording.url), calls),
                lambda: timed(client_for(upstream.url, key, secret), calls),
                rounds,
            )
        assert not recorder.problems, recorder.problems
        started = time.perf_counter()
        replayer = ReplayEngine(ReplaySettings(cassette))
        load_ms = (time.perf_counter() - started) * 1000
        files = sum(1 for _ in cassette.glob("*.yaml"))
        with ServerThread(app=create_app(fast, engine=replayer)) as replaying, ServerThread(config=fast) as builtin:
            replay = paired(
                lambda: timed(client_for(replaying.url), calls), lambda: timed(client_for(builtin.url), calls), rounds
            )
        assert not replayer.misses, replayer.misses
    return {
        "calls": calls,
        "rounds": rounds,
        "record": record,
        "replay": replay,
        "load_ms": load_ms,
        "files": files,
    }


def summary_rows(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """The headline rows of docs/BENCHMARKS.md's summary."""
    results = data["results"]
    calls, replay, record = results["calls"], results["replay"], results["record"]
    added_ms = (record["ours_s"] - record["reference_s"]) / calls * 1000
    return [
        (
            f"replay a cassette vs the built-in engine, {calls} distinct calls through boto3: time ratio",
            f"{replay['ratio']:.2f}×",
            "≤ 1.10×",
            replay["ratio"] <= 1.10,
        ),
        (
            "recording through the runtime: time added per call (proxy hop, signing, secret scan, file)",
            f"{added_ms:.1f} ms",
            "≤ 20 ms",
            added_ms <= 20,
        ),
        (
            f"loading a cassette of {results['files']:,} files "
            f"({calls} requests, each recorded {results['rounds']} times)",
            f"{results['load_ms']:.0f} ms",
            "< 1,000 ms",
            results["load_ms"] < 1000,
        ),
    ]


def report(data: dict[str, Any]) -> str:
    """The figures table of docs/BENCHMARKS.md."""
    results = data["results"]
    calls = results["calls"]
    rows = ["| | ours, s | reference, s | ours ÷ reference | per call |", "|---|---:|---:|---:|---:|"]
    for name, reference in (("replay", "built-in engine"), ("record", "upstream direct")):
        r = results[name]
        per_call = (r["ours_s"] - r["reference_s"]) / calls * 1000
        rows.append(
            f"| {name} (vs {reference}) | {r['ours_s']:.2f} | {r['reference_s']:.2f} | {r['ratio']:.2f}× | "
            f"{per_call:+.1f} ms |"
        )
    files = results["files"]
    load_ms = results["load_ms"]
    rows.append(f"| load {files:,} files | {load_ms / 1000:.2f} | | | {load_ms / files:.2f} ms a file |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = run(args.quick)
    print(json.dumps(results, indent=2))
    write_results(args.json, {"python": sys.version.split()[0]}, results)


if __name__ == "__main__":
    main()
