"""Pacing under load: the per-token latency fault's configured gap against the gaps 1,000 held streams observe.

Usage::

    python bench/runtime_pacing.py [--quick] [--json PATH]

``mistral-bedrock serve`` (1 worker, no first-byte floor) with ``--fault latency:per_token=20``: every stream event
after the first is due 20 ms after the one before it. N InvokeModelWithResponseStream requests (1,000; ``--quick``:
300) are opened at once, each a prompt cut at 100 tokens (100 events), and read to the end by this process; each
frame is timed as it arrives. A stream's mean gap is (last frame - first frame) / (frames - 1).

In the same run, as references: one stream alone on the same server (the gap with no load), and the same N streams
against a server without the fault (the shortest gap the server can keep up for N streams: the CPU floor). The
figure is the mean gap under load as a ratio to the configured 20 ms; it cannot go below 1, nor below the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import build_request, connect, start_serve

try:
    from mistral_bedrock.protocol.eventstream import EventStreamDecoder
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from mistral_bedrock.protocol.eventstream import EventStreamDecoder

STREAM_PATH = "/model/mistral.mistral-7b-instruct-v0%3A2/invoke-with-response-stream"
TOKENS = 100
BODY = json.dumps({"prompt": "<s>[INST] " + "Hello " * 150 + "[/INST]", "max_tokens": TOKENS}).encode()
PER_TOKEN_MS = 20.0


async def _stream(port: int) -> tuple[int, float]:
    """One stream read to its end: (frames, mean gap in ms)."""
    decoder = EventStreamDecoder()
    stamps: list[float] = []

    def on_body(data: bytes) -> None:
        now = time.perf_counter()
        stamps.extend(now for _ in decoder.feed(data))

    conn = await connect(port)
    try:
        status = await conn.send(build_request(port, STREAM_PATH, BODY), on_body)
    finally:
        conn.close()
    if status != 200 or len(stamps) < 2:
        raise RuntimeError(f"stream answered {status} with {len(stamps)} frames")
    return len(stamps), (stamps[-1] - stamps[0]) / (len(stamps) - 1) * 1000


async def _streams(port: int, count: int) -> dict[str, Any]:
    started = time.perf_counter()
    results = await asyncio.gather(*(_stream(port) for _ in range(count)))
    gaps = sorted(gap for _, gap in results)
    return {
        "streams": count,
        "frames": sorted({frames for frames, _ in results}),
        "wall_s": round(time.perf_counter() - started, 2),
        "mean_gap_ms": round(statistics.fmean(gaps), 2),
        "median_gap_ms": round(gaps[len(gaps) // 2], 2),
        "p99_gap_ms": round(gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))], 2),
        "events_per_s": round(sum(frames for frames, _ in results) / (time.perf_counter() - started)),
    }


def _run(count: int, *serve_args: str) -> dict[str, Any]:
    server = start_serve(*serve_args)
    try:

        async def both() -> dict[str, Any]:
            await _stream(server.port)  # warm: the tokenizer loads
            alone = await _streams(server.port, 1)
            loaded = await _streams(server.port, count)
            return {"alone": alone, "loaded": loaded}

        return asyncio.run(both())
    finally:
        server.stop()


def measure(count: int) -> dict[str, Any]:
    paced = _run(count, "--fault", f"latency:per_token={PER_TOKEN_MS:g}")
    floor = _run(count)
    loaded = paced["loaded"]["mean_gap_ms"]
    return {
        "per_token_ms": PER_TOKEN_MS,
        "paced": paced,
        "unpaced": floor,
        "ratio": round(loaded / PER_TOKEN_MS, 2),
        "floor_ms": floor["loaded"]["mean_gap_ms"],
    }


def report(data: dict[str, Any]) -> str:
    paced, floor = data["paced"], data["unpaced"]["loaded"]
    loaded = paced["loaded"]
    return "\n".join(
        [
            "| streams | per-token fault | mean gap | median | p99 | events/s | wall |",
            "|---:|---|---:|---:|---:|---:|---:|",
            f"| 1 | {data['per_token_ms']:g} ms | {paced['alone']['mean_gap_ms']} ms | "
            f"{paced['alone']['median_gap_ms']} ms | | | {paced['alone']['wall_s']} s |",
            f"| {loaded['streams']:,} | {data['per_token_ms']:g} ms | **{loaded['mean_gap_ms']} ms** | "
            f"{loaded['median_gap_ms']} ms | {loaded['p99_gap_ms']} ms | {loaded['events_per_s']:,} | "
            f"{loaded['wall_s']} s |",
            f"| {floor['streams']:,} | none (floor) | {floor['mean_gap_ms']} ms | {floor['median_gap_ms']} ms | "
            f"{floor['p99_gap_ms']} ms | {floor['events_per_s']:,} | {floor['wall_s']} s |",
            "",
            f"Observed / configured under load: **{data['ratio']:.2f}×** (1.00× is exact; the floor allows "
            f"{max(1.0, data['floor_ms'] / data['per_token_ms']):.2f}×).",
        ]
    )


def summary_rows(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """The headline figure for the summary in docs/BENCHMARKS.md: (figure, measured, goal, met)."""
    loaded = data["paced"]["loaded"]
    allowed = max(1.0, data["floor_ms"] / data["per_token_ms"])
    return [
        (
            f"pacing: mean event gap of {loaded['streams']:,} streams / configured {data['per_token_ms']:g} ms",
            f"{data['ratio']:.2f}× (floor {allowed:.2f}×)",
            "≤ 1.10× or the floor",
            data["ratio"] <= max(1.10, allowed * 1.10),
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 streams instead of 1,000")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    count = 300 if args.quick else 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * count:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4 * count + 256), hard))
    data = measure(count)
    data["command"] = "python bench/runtime_pacing.py" + (" --quick" if args.quick else "")
    print(report(data))
    if args.json:
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
