"""Batch pre-flight: what validating and estimating a batch input cost, at a million records.

Run: ``python bench/batch_preflight.py [--quick] [--json PATH]``. One JSONL input of N distinct, realistic records
(Mistral Large 3, InvokeModel type, the OpenAI-style chat body: a system prompt and a distinct question each, with
``max_tokens`` and ``temperature``) is generated into a temporary file, then read back streamed, as
``mistral-bedrock batch validate`` and ``batch estimate`` read it:

* **validate**: every record through the runtime's own format validators plus the batch-only checks
  (:func:`mistral_bedrock.batch.validation.validate_lines`), in one process and with one worker process per CPU
  (the workers' memory is not in the peak RSS);
* **estimate**: exact input tokens of every record with the model's tokenizer
  (:func:`mistral_bedrock.batch.cost.estimate`), and the same with ``sample=10,000``.

Each phase runs in a fresh child process, so its peak RSS is its own (tokenizer included, file generation not).
N is 1,000,000 (``--quick``: 20,000).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._results import write_results
from mistral_bedrock.batch.cost import estimate
from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.limits import DEFAULT_LIMITS
from mistral_bedrock.batch.records import positional_id, read_records, split_lines
from mistral_bedrock.batch.validation import validate_lines

MODEL = "mistral.mistral-large-3-675b-instruct"
SAMPLE = 10_000
SUBJECTS = ["river", "mountain", "harbour", "lantern", "orchard", "meadow", "glacier", "canyon", "valley", "summit"]
TASKS = ["Summarise", "Explain", "Translate into French", "List three facts about", "Write a haiku about"]
SYSTEMS = ["You are a concise assistant.", "Answer in one paragraph.", "You are a helpful geography tutor."]


def record(index: int) -> bytes:
    """One distinct input line: a realistic short chat request."""
    subject, other = SUBJECTS[index % 10], SUBJECTS[(index * 7 + 3) % 10]
    question = f"{TASKS[index % 5]} the {subject} near the {other}, case {index}: how does it change in winter?"
    body = {
        "messages": [
            {"role": "system", "content": SYSTEMS[index % 3]},
            {"role": "user", "content": question},
        ],
        "max_tokens": 256 + index % 256,
        "temperature": round((index % 10) / 10, 1),
    }
    line = json.dumps({"recordId": positional_id(index), "modelInput": body}, ensure_ascii=False)
    return line.encode() + b"\n"


def generate(path: Path, count: int) -> int:
    """Write ``count`` records to ``path``; its size in bytes."""
    with path.open("wb") as out:
        for index in range(count):
            out.write(record(index))
    return path.stat().st_size


def _chunks(path: Path) -> Any:
    stream = path.open("rb")
    return iter(lambda: stream.read(1 << 20), b"")


def phase(name: str, path: Path) -> dict[str, Any]:
    """One phase, in this process: its time, what it found, and the process's peak RSS."""
    started = time.perf_counter()
    out: dict[str, Any] = {}
    if name in ("validate", "validate_workers"):
        limits = replace(DEFAULT_LIMITS, records_per_file=10**9)  # the point is speed, not the 50,000 quota
        workers = (os.cpu_count() or 1) if name == "validate_workers" else 1
        report = validate_lines(
            split_lines(_chunks(path)),
            model=MODEL,
            invocation=InvocationType.INVOKE_MODEL,
            limits=limits,
            file_name=path.name,
            workers=workers,
        )
        out["workers"] = workers
        assert report.ok, report.problems[:5]
        out |= {"records": report.records, "errors": report.errors, "input_bytes": report.input_bytes}
    else:
        sample = SAMPLE if name == "estimate_sampled" else None
        result = estimate(
            read_records(path.open("rb")), model=MODEL, invocation=InvocationType.INVOKE_MODEL, sample=sample
        )
        out |= {
            "records": result.records,
            "counted": result.counted,
            "input_tokens": result.input_tokens,
            "output_tokens_max": result.output_tokens_max,
            "on_demand_usd": result.on_demand_cost,
            "batch_usd": result.batch_cost,
        }
    seconds = time.perf_counter() - started
    out |= {
        "seconds": seconds,
        "records_per_s": out["records"] / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    return out


def _in_child(name: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name, str(path)], check=True, capture_output=True, text=True
    )
    return dict(json.loads(done.stdout))


def run(quick: bool) -> dict[str, Any]:
    count = 20_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "input.jsonl"
        started = time.perf_counter()
        size = generate(path, count)
        generate_s = time.perf_counter() - started
        names = ("validate", "validate_workers", "estimate", "estimate_sampled")
        phases = {name: _in_child(name, path) for name in names}
    exact, sampled = phases["estimate"], phases["estimate_sampled"]
    return {
        "records": count,
        "file_bytes": size,
        "generate_s": generate_s,
        **phases,
        "sample_error": abs(sampled["input_tokens"] - exact["input_tokens"]) / exact["input_tokens"],
    }


def summary_rows(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """The headline rows of docs/BENCHMARKS.md's summary."""
    results = data["results"]
    count = results["records"]
    validate, exact = results["validate"], results["estimate"]
    return [
        (
            f"batch validate, {count:,} records through the runtime's validators: records/s",
            f"{validate['records_per_s']:,.0f}/s",
            "≥ 40,000/s",
            validate["records_per_s"] >= 40_000,
        ),
        (
            f"batch validate, {count:,} records: peak RSS (streamed)",
            f"{validate['peak_rss_mb']:.0f} MB",
            "< 200 MB",
            validate["peak_rss_mb"] < 200,
        ),
        (
            f"batch estimate, exact input tokens of {count:,} records: records/s",
            f"{exact['records_per_s']:,.0f}/s",
            "≥ 3,400/s (a million in < 5 min)",
            exact["records_per_s"] >= 3_400,
        ),
        (
            f"batch estimate with sample={SAMPLE:,}: error of the scaled input tokens",
            f"{results['sample_error']:.2%}",
            "≤ 1 %",
            results["sample_error"] <= 0.01,
        ),
    ]


def report(data: dict[str, Any]) -> str:
    """The figures table of docs/BENCHMARKS.md."""
    results = data["results"]
    rows = [
        f"{results['records']:,} records, {results['file_bytes'] / 1e6:.0f} MB of JSONL "
        f"(generated in {results['generate_s']:.1f} s)",
        "",
        "| phase | seconds | records/s | peak RSS |",
        "|---|---:|---:|---:|",
    ]
    for name, label in (
        ("validate", "validate (every record, runtime validators)"),
        ("validate_workers", f"validate, {results['validate_workers']['workers']} worker processes"),
        ("estimate", "estimate (exact tokens, every record)"),
        ("estimate_sampled", f"estimate (sample={SAMPLE:,})"),
    ):
        r = results[name]
        rows.append(f"| {label} | {r['seconds']:.1f} | {r['records_per_s']:,.0f} | {r['peak_rss_mb']:.0f} MB |")
    exact = results["estimate"]
    rows += [
        "",
        f"Exact estimate: {exact['input_tokens']:,} input tokens, at most {exact['output_tokens_max']:,} output "
        f"tokens: ${exact['on_demand_usd']:,.2f} on demand, ${exact['batch_usd']:,.2f} at the batch price. "
        f"The sampled estimate is off by {results['sample_error']:.2%}.",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--phase", nargs=2, metavar=("NAME", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase[0], Path(args.phase[1]))))
        return
    results = run(args.quick)
    print(json.dumps(results, indent=2))
    write_results(args.json, {"python": sys.version.split()[0]}, results)


if __name__ == "__main__":
    main()
