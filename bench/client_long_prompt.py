"""A 100k-token prompt end to end: ``MistralBedrock.complete_text(text)`` vs boto3 sending the same body.

Usage::

    python bench/client_long_prompt.py [--quick] [--pairs N] [--words W] [--json PATH]

One runtime (``mistral-bedrock serve``, one worker, its own process) answers both clients, one call at a time:

* ``ours``: ``client.complete_text(text, model=…, max_tokens=16)``, timed from the call to the parsed result (or the
  typed error): the user turn rendered into the model's prompt, the body serialized and signed, sent, answered.
* ``boto3``: ``invoke_model`` with the body our client would send for such a text, serialized beforehand (boto3
  takes bytes), then ``json.loads`` of the answer; timed from the call to the parsed answer (or the error).

Every call sends a prompt no call sent before (W words drawn from a seeded vocabulary, one token each), so
neither client meets a prompt the runtime has seen. Calls alternate ours/boto3 in ABBA order, after a warm-up.
Two cases, both text dialect:

* ``mistral-7b``: 100k tokens is past its 32k window, so the answer is Bedrock's ``Input is too long``
  ValidationException (the case where the client's own work weighs most: the server refuses fast);
* ``mistral-large-2407`` (us-west-2, a 128k window): answered.

Reported per case: median milliseconds per call of each and the ratio ours/boto3 — **the goal: <= 1.10x**.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import boto3
import botocore
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import WORDS, start_serve
from _results import write_results

try:
    from mistral_bedrock import __version__ as mb_version
    from mistral_bedrock.catalog import for_region
    from mistral_bedrock.client import MistralBedrock, RetryPolicy
    from mistral_bedrock.conversation import Message
    from mistral_bedrock.errors import MistralBedrockError
    from mistral_bedrock.prompt.prompt_text import prompt_text
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from mistral_bedrock import __version__ as mb_version
    from mistral_bedrock.catalog import for_region
    from mistral_bedrock.client import MistralBedrock, RetryPolicy
    from mistral_bedrock.conversation import Message
    from mistral_bedrock.errors import MistralBedrockError
    from mistral_bedrock.prompt.prompt_text import prompt_text

KEY_ID = SECRET = "dummy"  # any well-formed signature is accepted by the runtime
MAX_TOKENS = 16
CASES = (("mistral-7b", "us-east-1"), ("mistral-large-2407", "us-west-2"))


def _texts(rng: random.Random, words: int) -> Callable[[], str]:
    def fresh() -> str:
        return " ".join(rng.choices(WORDS, k=words))

    return fresh


def measure(url: str, model: str, region: str, pairs: int, words: int, warmup: int) -> dict[str, Any]:
    spec = for_region(model, region)
    fresh = _texts(random.Random(f"{model}/{words}"), words)
    brt = boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name=region,
        config=Config(read_timeout=120, retries={"mode": "standard", "max_attempts": 1}),
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    client = MistralBedrock(
        endpoint_url=url,
        region=region,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        retry=RetryPolicy(max_attempts=1),
    )
    outcomes: dict[str, set[str]] = {"ours": set(), "boto3": set()}

    def ours() -> float:
        text = fresh()
        start = time.perf_counter()
        try:
            result = client.complete_text(text, model=model, max_tokens=MAX_TOKENS)
            outcome = f"answered ({result.usage.input_tokens if result.usage else '?'} tokens)"
        except MistralBedrockError as exc:
            outcome = str(exc)[:60]
        elapsed = time.perf_counter() - start
        outcomes["ours"].add(outcome)
        return elapsed

    def theirs() -> float:
        prompt = prompt_text([Message.user(fresh())], spec.spec)
        body = json.dumps({"prompt": prompt, "max_tokens": MAX_TOKENS}, ensure_ascii=False).encode()
        start = time.perf_counter()
        try:
            response = brt.invoke_model(modelId=spec.identifier, body=body)
            data = json.loads(response["body"].read())
            outcome = f"answered ({response['ResponseMetadata']['HTTPHeaders']['x-amzn-bedrock-input-token-count']}"
            outcome += f" tokens, {len(data['outputs'][0]['text'])} chars)"
        except botocore.exceptions.ClientError as exc:
            outcome = f"{exc.response['Error']['Code']}: {exc.response['Error']['Message'][:60]}"
        elapsed = time.perf_counter() - start
        outcomes["boto3"].add(outcome.split(" (")[0] if outcome.startswith("answered") else outcome)
        return elapsed

    try:
        for _ in range(warmup):
            ours()
            theirs()
        outcomes = {"ours": set(), "boto3": set()}
        times: dict[str, list[float]] = {"ours": [], "boto3": []}
        for index in range(pairs):
            order = (("ours", ours), ("boto3", theirs))
            for name, call in order if index % 2 == 0 else order[::-1]:
                times[name].append(call())
    finally:
        client.close()
        brt.close()
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    return {
        "model": model,
        "region": region,
        "words": words,
        "calls": pairs,
        "median_ms": medians,
        "ratio": medians["ours"] / medians["boto3"],
        "outcomes": {name: sorted(values) for name, values in outcomes.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--pairs", type=int, help="calls per client and case")
    parser.add_argument("--words", type=int, default=100_000, help="words per prompt (default 100,000: ~100k tokens)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the runtime's process group is always stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    pairs = args.pairs or (6 if args.quick else 30)
    warmup = 2 if args.quick else 4

    server = start_serve()
    try:
        results = [measure(server.url, model, region, pairs, args.words, warmup) for model, region in CASES]
    finally:
        server.stop()

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "mistral_bedrock": mb_version,
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "pairs": pairs,
        "words": args.words,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    print(
        f"Python {info['python']}, mistral-bedrock {mb_version}, boto3 {info['boto3']}, {info['cpu_count']} CPUs; "
        f"{pairs} calls per client and case, {args.words:,} words per prompt; ratio = ours/boto3, goal <= 1.10x"
    )
    header = f"{'case':<20}{'ours ms':>9}{'boto3 ms':>10}{'ratio':>8}  outcome"
    print(header)
    print("-" * (len(header) + 40))
    for r in results:
        print(
            f"{r['model']:<20}{r['median_ms']['ours']:>9.1f}{r['median_ms']['boto3']:>10.1f}{r['ratio']:>7.2f}x"
            f"  ours: {'; '.join(r['outcomes']['ours'])} | boto3: {'; '.join(r['outcomes']['boto3'])}"
        )
    write_results(args.json, info, results)
    return 0


def summary_rows(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """The headline figures for docs/BENCHMARKS.md's summary: (figure, measured, goal, met)."""
    return [
        (
            f"client, {row['words']:,}-word prompt to {row['model']}: median latency ours/boto3",
            f"{row['ratio']:.2f}×",
            "≤ 1.10×",
            row["ratio"] <= 1.10,
        )
        for row in data["results"]
    ]


if __name__ == "__main__":
    raise SystemExit(main())
