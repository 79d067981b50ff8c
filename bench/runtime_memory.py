"""Memory: the runtime worker's resident size after many distinct ~100k-token prompts.

Usage::

    python bench/runtime_memory.py [--quick] [--json PATH]

One ``mistral-bedrock serve`` (1 worker, defaults: a 64 MiB memo budget, the journal in its SQLite store). After a
warm-up (one small request, one long one: the tokenizer loads and the heap is frozen), InvokeModel requests to
Mistral Large 24.07 (128k-token window) with text-completion prompts of 100,000 words (~100k tokens, ~0.47 MB),
one at a time on one connection:

1. **repeated** (the reference, same run): the same prompt 200 times (``--quick``: 50): the same work per request,
   nothing new to remember;
2. **distinct**: 1,000 prompts, every one different (``--quick``: 100); too large for the memo to keep;
3. **distinct, kept**: 1,000 prompts of 35,000 words (~170 KB), each small enough for the memo to keep its count:
   the memo fills to its budget.

The worker's RSS (``/proc/PID/status``) is read after every 50 requests. The figures: RSS after each phase, as a
ratio to the repeated phase's. The bound: the repeated phase's RSS (the same work with nothing to remember: what
the allocator, granian's buffers and the journal's SQLite cache keep after requests of this size) + the memo's
budget + 16 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import build_request, connect, prompt_body, start_serve, worker_rss_mib

MODEL_PATH = "/model/mistral.mistral-large-2407-v1:0/invoke"
WORDS = 100_000
KEPT_WORDS = 35_000  # ~170 KB prompts: under the memo's 256 KiB entry budget, so every count is kept
MEMO_BUDGET_MIB = 64  # RuntimeConfig.memo_bytes' default
SLACK_MIB = 16


async def _phase(server: Any, bodies: Any, count: int, samples: list[dict[str, Any]], name: str) -> float:
    conn = await connect(server.port)
    started = time.perf_counter()
    for index in range(count):
        status = await conn.send(build_request(server.port, MODEL_PATH, next(bodies)))
        if status != 200:
            raise RuntimeError(f"{name} request {index} answered {status}")
        if (index + 1) % 50 == 0 or index + 1 == count:
            samples.append({"phase": name, "requests": index + 1, "rss_mib": round(worker_rss_mib(server), 1)})
    conn.close()
    return time.perf_counter() - started


async def measure(server: Any, repeated: int, distinct: int) -> dict[str, Any]:
    rng = random.Random(5)
    small = await connect(server.port)
    await small.send(build_request(server.port, MODEL_PATH, b'{"prompt": "<s>[INST] Hello [/INST]"}'))
    await small.send(build_request(server.port, MODEL_PATH, prompt_body(rng, WORDS, 0)))
    small.close()
    idle = worker_rss_mib(server)
    samples: list[dict[str, Any]] = []
    one = prompt_body(rng, WORDS, -1)
    phases: list[dict[str, Any]] = []
    plan = [
        ("repeated", WORDS, repeated, iter(lambda: one, None)),
        ("distinct", WORDS, distinct, (prompt_body(rng, WORDS, n) for n in range(1, distinct + 1))),
        ("distinct, kept", KEPT_WORDS, distinct, (prompt_body(rng, KEPT_WORDS, -n) for n in range(1, distinct + 1))),
    ]
    for name, words, count, bodies in plan:
        seconds = await _phase(server, bodies, count, samples, name)
        after = worker_rss_mib(server)
        phases.append(
            {
                "phase": name,
                "words": words,
                "requests": count,
                "seconds": round(seconds, 1),
                "rss_after_mib": round(after, 1),
                "growth_mib": round(after - idle, 1),
            }
        )
    peak = max(sample["rss_mib"] for sample in samples)
    reference = phases[0]["rss_after_mib"]
    bound = reference + MEMO_BUDGET_MIB + SLACK_MIB
    return {
        "body_bytes": len(one),
        "rss_idle_mib": round(idle, 1),
        "phases": phases,
        "rss_peak_mib": peak,
        "ratio_distinct_to_repeated": round(phases[1]["rss_after_mib"] / reference, 2),
        "ratio_kept_to_repeated": round(phases[2]["rss_after_mib"] / reference, 2),
        "bound_mib": round(bound, 1),
        "met": peak <= bound,
        "samples": samples,
    }


def report(data: dict[str, Any]) -> str:
    rows = [
        f"Worker RSS idle (after warm-up): {data['rss_idle_mib']} MiB. Phases run one after another on one server.",
        "",
        "| phase | prompt | requests | RSS after | over idle | time |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for phase in data["phases"]:
        rows.append(
            f"| {phase['phase']} | {phase['words']:,} words | {phase['requests']:,} | {phase['rss_after_mib']} MiB "
            f"| +{phase['growth_mib']} MiB | {phase['seconds']} s |"
        )
    rows += [
        "",
        f"Distinct / repeated (RSS after): **{data['ratio_distinct_to_repeated']:.2f}×**; distinct prompts the memo "
        f"keeps / repeated: **{data['ratio_kept_to_repeated']:.2f}×**. Peak {data['rss_peak_mib']} MiB against the "
        f"bound: repeated {data['phases'][0]['rss_after_mib']} MiB + memo budget {MEMO_BUDGET_MIB} MiB + "
        f"{SLACK_MIB} MiB = {data['bound_mib']} MiB: {'met' if data['met'] else '**exceeded**'}.",
    ]
    return "\n".join(rows)


def summary_rows(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """The headline figures for the summary in docs/BENCHMARKS.md: (figure, measured, goal, met)."""
    distinct, kept = data["phases"][1], data["phases"][2]
    return [
        (
            f"worker RSS after {distinct['requests']:,} distinct 100k-token prompts / after repeats of one",
            f"{data['ratio_distinct_to_repeated']:.2f}× ({distinct['rss_after_mib']} MiB)",
            f"≤ {data['bound_mib']:.0f} MiB",
            distinct["rss_after_mib"] <= data["bound_mib"],
        ),
        (
            f"worker RSS after {kept['requests']:,} distinct prompts the memo keeps / after repeats",
            f"{data['ratio_kept_to_repeated']:.2f}× ({kept['rss_after_mib']} MiB, peak {data['rss_peak_mib']} MiB)",
            f"≤ {data['bound_mib']:.0f} MiB",
            bool(data["met"]),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 repeats and 100 distinct prompts")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--distinct", type=int, help="how many distinct prompts (default 1,000; --quick: 100)")
    args = parser.parse_args(argv)
    repeated, distinct = (50, 100) if args.quick else (200, 1000)
    distinct = args.distinct or distinct
    server = start_serve()
    try:
        data = asyncio.run(measure(server, repeated, distinct))
    finally:
        server.stop()
    data["command"] = "python bench/runtime_memory.py" + (" --quick" if args.quick else "")
    data["distinct_requests"] = distinct
    print(report(data))
    if args.json:
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
