"""Engine overhead: a real model through the runtime against the same model used directly.

Usage::

    python bench/engine_overhead.py [--quick] [--json PATH]

Builds two random-weight networks of the same shape with Mistral's v1 vocabulary (``MID`` in
``tests/engines/local/gguf_models.py``: ~150M parameters, a per-token cost of a real model's order), as a GGUF for
llama.cpp and as a Hugging Face checkpoint for transformers, into ``~/.cache/mistral-bedrock-bench``; then runs
``mistral-bedrock bench engine SOURCE --json`` for each, three times. That command drives the engine's backend
directly in its own process, and the same engine behind ``mistral-bedrock serve`` in another process, asked over
HTTP (ConverseStream): distinct prompts, greedy, the same number of new tokens, at 1 and 4 concurrent streams, three
rounds each. Figures: the median over the repeats of tokens/s runtime ÷ direct (goal ≥ 0.95) and of
the time to the first token added by the runtime, for the first stream served (goal ≤ 10 ms; with 4 streams on a
model that runs one sequence at a time, the others' first tokens wait for earlier answers, both ways), and
whether every greedy answer was identical.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE = Path.home() / ".cache" / "mistral-bedrock-bench"
EXE = Path(sys.executable).parent / "mistral-bedrock"


def models() -> dict[str, str]:
    """Engine specs of the two benchmark models, built once and kept in the cache."""
    from tests.engines.local.gguf_models import MID, build_gguf
    from tests.engines.local.hf_models import build_hf

    CACHE.mkdir(parents=True, exist_ok=True)
    gguf, hf = CACHE / "mid-v1.gguf", CACHE / "mid-hf-v1"
    if not gguf.exists():
        build_gguf("v1", gguf, MID)
    if not (hf / "config.json").exists():
        build_hf("v1", hf, shape=MID)
    return {"llamacpp": f"llamacpp:{gguf}", "transformers": f"transformers:{hf}"}


def measure(spec: str, tokens: int, repeats: int) -> list[list[dict[str, Any]]]:
    runs = []
    for _ in range(repeats):
        done = subprocess.run(
            [str(EXE), "bench", "engine", spec, "--tokens", str(tokens), "--streams", "4", "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer tokens and repeats")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    tokens, repeats = (16, 1) if args.quick else (48, 3)
    started = time.time()
    results: dict[str, Any] = {}
    for name, spec in models().items():
        runs = measure(spec, tokens, repeats)
        rows = []
        for index, streams in enumerate((1, 4)):
            per_run = [run[index] for run in runs]
            rows.append(
                {
                    "streams": streams,
                    "ratio": statistics.median(row["ratio"] for row in per_run),
                    "added_first_token_ms": statistics.median(row["added_first_token_ms"] for row in per_run),
                    "added_earliest_first_token_ms": statistics.median(
                        row["added_earliest_first_token_ms"] for row in per_run
                    ),
                    "direct_tokens_per_s": statistics.median(row["direct"]["tokens_per_s"] for row in per_run),
                    "runtime_tokens_per_s": statistics.median(row["runtime"]["tokens_per_s"] for row in per_run),
                    "identical": all(row["identical"] for row in per_run),
                    "runs": per_run,
                }
            )
        results[name] = rows
        print(name, [(r["streams"], r["ratio"], r["added_earliest_first_token_ms"], r["identical"]) for r in rows])
    data = {"tokens": tokens, "repeats": repeats, "seconds": round(time.time() - started, 1), "results": results}
    if args.json:
        args.json.write_text(json.dumps(data, indent=2))


def summary_rows(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    rows = []
    for name, per_streams in data["results"].items():
        for row in per_streams:
            rows.append(
                (
                    f"engine {name}, {row['streams']} stream(s): tokens/s runtime ÷ direct",
                    f"{row['ratio']:.2f}×",
                    "≥ 0.95×",
                    row["ratio"] >= 0.95,
                )
            )
            rows.append(
                (
                    f"engine {name}, {row['streams']} stream(s): first token added (first stream served)",
                    f"{row['added_earliest_first_token_ms']:.1f} ms",
                    "≤ 10 ms",
                    row["added_earliest_first_token_ms"] <= 10,
                )
            )
            rows.append(
                (
                    f"engine {name}, {row['streams']} stream(s): greedy answers identical",
                    "yes" if row["identical"] else "no",
                    "yes",
                    row["identical"],
                )
            )
    return rows


if __name__ == "__main__":
    main()
