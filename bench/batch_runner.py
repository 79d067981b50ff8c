"""The batch runner (``batch run``): throughput, memory, resume and pacing, each against a reference of the same run.

Run: ``python bench/batch_runner.py [--quick] [--json PATH]``.

* **throughput**: the same distinct InvokeModel records through :func:`run_records` with :class:`HttpBackend`, and
  through a ``ThreadPoolExecutor`` of boto3 ``invoke_model`` calls (body read, ``max_pool_connections`` above the
  concurrency), at equal concurrency (8), against one runtime in this process (built-in engine, first-byte floor
  off). Rounds alternate the two, each first in every other round; each figure is the median.
* **memory**: peak RSS of a child process streaming N records from a file through the runner to its output, with a
  stand-in backend that answers at once (this measures the runner, not a model), at 1,000,000 records (quick:
  100,000) and at a tenth of that: flat means a ratio near 1.
* **scan**: how long a restart takes to read back that million-record output (quick: 100,000) before it goes on.
* **resume**: a child process over N records (quick: 10,000) is killed with SIGKILL when the run reaches 10 %, 50 %
  and 90 % of the input, and restarted each time; then the output's recordIds are checked (duplicates, missing) and
  the calls the backend received counted against N (re-done records).
* **pacing**: a tokens-per-minute limit with a stand-in backend that reports each record's exact input count and a
  known output count, for 30 s (quick: 10 s): tokens per minute over the run, and the most any 10-second window
  carried, scaled to a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._results import write_results
from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.outcome import RecordOutcome
from mistral_bedrock.batch.records import InputRecord, read_records
from mistral_bedrock.batch.runner import RunSettings, index_path, run_records
from mistral_bedrock.batch.runner.reservation import reserved_tokens
from mistral_bedrock.batch.runner.resume import ENTRY, recover
from mistral_bedrock.catalog import resolve
from mistral_bedrock.client import AsyncMistralBedrock
from mistral_bedrock.client.batch_backend import HttpBackend
from mistral_bedrock.runtime import RuntimeConfig, ServerThread

MODEL = "mistral.mistral-7b-instruct-v0:2"
CONCURRENCY = 8
WORDS = ["river", "mountain", "harbour", "lantern", "orchard", "meadow", "glacier", "canyon", "valley", "summit"]


def body(index: int) -> dict[str, Any]:
    """A distinct text-dialect body: its own question, its own ``max_tokens``."""
    question = f"Question {index}: compare the {WORDS[index % 10]} and the {WORDS[(index * 7) % 10]}, in brief."
    return {"prompt": f"<s>[INST] {question} [/INST]", "max_tokens": 32 + index % 64}


def write_input(path: Path, count: int) -> None:
    with path.open("wb") as stream:
        for index in range(count):
            line = {"recordId": f"rec{index:09d}", "modelInput": body(index)}
            stream.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")


# -- throughput ------------------------------------------------------------------------------------------------
def runner_seconds(url: str, records: list[InputRecord], scratch: Path) -> float:
    output = scratch / "throughput.jsonl.out"
    for path in (output, output.with_name(output.name + ".idx")):
        path.unlink(missing_ok=True)

    async def go() -> float:
        async with AsyncMistralBedrock(
            endpoint_url=url, region="us-east-1", aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench"
        ) as client:
            started = time.perf_counter()
            report = await run_records(
                iter(records),
                HttpBackend(client),
                model_id=MODEL,
                invocation=InvocationType.INVOKE_MODEL,
                output=output,
                settings=RunSettings(concurrency=CONCURRENCY),
            )
            elapsed = time.perf_counter() - started
        assert report.manifest.success == len(records), report
        return elapsed

    return asyncio.run(go())


def boto3_seconds(url: str, records: list[InputRecord]) -> float:
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIDBENCH",
        aws_secret_access_key="bench",
        config=Config(retries={"total_max_attempts": 1}, max_pool_connections=2 * CONCURRENCY),
    )
    payloads = [json.dumps(record.model_input) for record in records]

    def invoke(payload: str) -> bytes:
        data: bytes = client.invoke_model(modelId=MODEL, body=payload)["body"].read()
        return data

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(invoke, payloads))
    elapsed = time.perf_counter() - started
    assert len(answers) == len(records)
    return elapsed


def throughput(records: int, rounds: int, scratch: Path) -> dict[str, Any]:
    batch = [InputRecord(index, f"rec{index:09d}", body(index)) for index in range(records)]
    ours, theirs = [], []
    with ServerThread(config=RuntimeConfig(min_first_byte_ms=0)) as server:
        boto3_seconds(server.url, batch[:200])  # warm both paths (tokenizers, connection pools)
        runner_seconds(server.url, batch[:200], scratch)
        for round_ in range(rounds):  # each goes first in every other round, so neither always meets a cold turn
            if round_ % 2:
                ours.append(runner_seconds(server.url, batch, scratch))
                theirs.append(boto3_seconds(server.url, batch))
            else:
                theirs.append(boto3_seconds(server.url, batch))
                ours.append(runner_seconds(server.url, batch, scratch))
    ours_rps, reference_rps = records / statistics.median(ours), records / statistics.median(theirs)
    return {
        "records": records,
        "rounds": rounds,
        "concurrency": CONCURRENCY,
        "ours_rps": ours_rps,
        "reference_rps": reference_rps,
        "ratio": ours_rps / reference_rps,
    }


# -- the child process: memory and resume ----------------------------------------------------------------------
class Answer:
    """A stand-in backend (this measures the runner, not a model): the same small answer at once.

    With ``calls`` it appends each record's index to that file (to count re-done records), and with ``signal_at``
    it prints ``reached`` on its ``signal_at``-th call, for the parent to kill it there.
    """

    def __init__(self, calls: Path | None = None, signal_at: int = 0) -> None:
        self.count = 0
        self.log = calls.open("ab", buffering=0) if calls else None
        self.signal_at = signal_at

    async def invoke(self, model_id: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        self.count += 1
        if self.log is not None:
            self.log.write(b"%d\n" % self.count)
        if self.count == self.signal_at:
            print("reached", flush=True)
        await asyncio.sleep(0)
        return RecordOutcome(
            output={"outputs": [{"text": "ok", "stop_reason": "stop"}]}, input_tokens=9, output_tokens=2
        )


def child(source: Path, output: Path, calls: Path | None, signal_at: int) -> None:
    """Run the runner over ``source`` and print the peak RSS (MiB) and the report."""

    async def go() -> Any:
        with source.open("rb") as stream:
            return await run_records(
                read_records(stream),
                Answer(calls, signal_at),
                model_id=MODEL,
                invocation=InvocationType.INVOKE_MODEL,
                output=output,
                settings=RunSettings(concurrency=CONCURRENCY),
            )

    report = asyncio.run(go())
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would report its parent's peak.
    status = Path("/proc/self/status").read_text().splitlines()
    peak_mib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    print(json.dumps({"peak_mib": peak_mib, "processed": report.manifest.processed, "resumed": report.resumed}))


def child_command(source: Path, output: Path, calls: Path | None = None, signal_at: int = 0) -> list[str]:
    return [sys.executable, __file__, "--child", str(source), str(output), str(calls or ""), str(signal_at)]


def memory(records: int, scratch: Path) -> dict[str, Any]:
    peaks = {}
    for count in (records // 10, records):
        source, output = scratch / f"memory{count}.jsonl", scratch / f"memory{count}.jsonl.out"
        write_input(source, count)
        started = time.perf_counter()
        finished = subprocess.run(child_command(source, output), capture_output=True, check=True)
        elapsed = time.perf_counter() - started
        figures = json.loads(finished.stdout.splitlines()[-1])
        assert figures["processed"] == count, figures
        started = time.perf_counter()
        assert recover(output).count == count  # what a restart reads before it takes a record
        scan = time.perf_counter() - started
        peaks[count] = {"peak_mib": figures["peak_mib"], "seconds": elapsed, "scan_seconds": scan}
        for path in (source, output, output.with_name(output.name + ".idx")):
            path.unlink()
    small, large = peaks[records // 10], peaks[records]
    return {
        "small_records": records // 10,
        "large_records": records,
        "small_peak_mib": small["peak_mib"],
        "large_peak_mib": large["peak_mib"],
        "large_seconds": large["seconds"],
        "large_scan_seconds": large["scan_seconds"],
        "ratio": large["peak_mib"] / small["peak_mib"],
    }


def output_lines(output: Path) -> int:
    with output.open("rb") as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


def entries(output: Path) -> int:
    """Records the runner has finished with: whole entries of the output's index (a line without one is redone)."""
    index = index_path(output)
    return index.stat().st_size // ENTRY.size if index.exists() else 0


def resume(records: int, scratch: Path) -> dict[str, Any]:
    source, output, calls = scratch / "resume.jsonl", scratch / "resume.jsonl.out", scratch / "resume.calls"
    write_input(source, records)
    kills, in_flight = [], []
    for share in (0.1, 0.5, 0.9):
        done = entries(output)
        called = output_lines(calls) if calls.exists() else 0
        with subprocess.Popen(
            child_command(source, output, calls, int(records * share) - done), stdout=subprocess.PIPE
        ) as process:
            assert process.stdout is not None
            assert process.stdout.readline() == b"reached\n"
            process.kill()
        kills.append(entries(output))
        # Records the killed run had sent but not finished writing: what the next run does again.
        in_flight.append((output_lines(calls) - called) - (kills[-1] - done))
    subprocess.run(child_command(source, output, calls), capture_output=True, check=True)
    ids: dict[str, int] = {}
    with output.open("rb") as stream:
        for line in stream:
            record_id = json.loads(line)["recordId"]
            ids[record_id] = ids.get(record_id, 0) + 1
    expected = {f"rec{index:09d}" for index in range(records)}
    calls_made = output_lines(calls)
    return {
        "records": records,
        "concurrency": CONCURRENCY,
        "lines_at_kills": kills,
        "duplicates": sum(count - 1 for count in ids.values()),
        "missing": len(expected - ids.keys()),
        "unexpected": len(ids.keys() - expected),
        "redone": calls_made - records,
        "in_flight_at_kills": in_flight,
    }


# -- pacing ----------------------------------------------------------------------------------------------------
class Metered:
    """A stand-in backend with a known cost: each record reads its exact input count (the tokenizer's, as the
    runtime counts it) and writes three quarters of its ``max_tokens``, after ``latency`` seconds; each call's start
    and tokens are logged for the windows."""

    def __init__(self, latency: float) -> None:
        self.spec = resolve(MODEL).spec
        self.latency = latency
        self.log: list[tuple[float, int]] = []

    async def invoke(self, model_id: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        started = time.monotonic()
        max_tokens = model_input["max_tokens"]
        input_tokens = reserved_tokens(self.spec, invocation, model_input) - max_tokens
        output_tokens = max_tokens * 3 // 4
        await asyncio.sleep(self.latency)
        self.log.append((started, input_tokens + output_tokens))
        return RecordOutcome(output={}, input_tokens=input_tokens, output_tokens=output_tokens)


def max_window(log: list[tuple[float, int]], length: float) -> int:
    """The most tokens any window ``[t, t + length)`` starting at a call carried."""
    events = sorted(log)
    best, total, end = 0, 0, 0
    for start, (at, _) in enumerate(events):
        while end < len(events) and events[end][0] < at + length:
            total += events[end][1]
            end += 1
        best = max(best, total)
        total -= events[start][1]
    return best


def pacing(seconds: float, tokens_per_minute: int) -> dict[str, Any]:
    backend = Metered(latency=0.02)

    def endless() -> Iterator[InputRecord]:
        index = 0
        while True:
            yield InputRecord(index, f"rec{index:09d}", body(index))
            index += 1

    async def go() -> Any:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(seconds, stop.set)
        with tempfile.TemporaryDirectory() as scratch:
            settings = RunSettings(concurrency=CONCURRENCY, tokens_per_minute=tokens_per_minute)
            return await run_records(
                endless(),
                backend,
                model_id=MODEL,
                invocation=InvocationType.INVOKE_MODEL,
                output=Path(scratch) / "pacing.jsonl.out",
                settings=settings,
                stop=stop,
            )

    asyncio.run(go())
    first = min(at for at, _ in backend.log)
    within = [(at, tokens) for at, tokens in backend.log if at < first + seconds]
    rate = sum(tokens for _, tokens in within) / seconds * 60
    return {
        "seconds": seconds,
        "limit_tpm": tokens_per_minute,
        "records": len(backend.log),
        "measured_tpm": rate,
        "max_10s_window_tpm": max_window(backend.log, 10) * 6,
        "ratio": rate / tokens_per_minute,
    }


def run(quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        return {
            "throughput": throughput(2_000, 5 if quick else 7, scratch),
            "memory": memory(100_000 if quick else 1_000_000, scratch),
            "resume": resume(10_000 if quick else 100_000, scratch),
            "pacing": pacing(10.0 if quick else 30.0, 120_000),
        }


def summary_rows(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """The headline rows of docs/BENCHMARKS.md's summary."""
    results = data["results"]
    speed, memory_, resume_, pace = results["throughput"], results["memory"], results["resume"], results["pacing"]
    return [
        (
            f"batch run: records/s through the runtime vs a boto3 thread pool, {speed['records']:,} distinct "
            f"records at {speed['concurrency']} in flight",
            f"{speed['ratio']:.2f}×",
            "≥ 1.00×",
            speed["ratio"] >= 1.0,
        ),
        (
            f"batch run: peak RSS at {memory_['large_records']:,} records vs {memory_['small_records']:,}",
            f"{memory_['ratio']:.2f}× ({memory_['large_peak_mib']:.0f} MiB)",
            "≤ 1.10×",
            memory_["ratio"] <= 1.10,
        ),
        (
            f"batch run: resume scan of a finished {memory_['large_records']:,}-record output (restart cost)",
            f"{memory_['large_scan_seconds']:.2f} s",
            "< 10 s",
            memory_["large_scan_seconds"] < 10,
        ),
        (
            f"batch run: {resume_['records']:,} records killed at 10/50/90 % and resumed: duplicates, missing, re-done",
            f"{resume_['duplicates']}, {resume_['missing']}, {resume_['redone']} "
            f"({' + '.join(map(str, resume_['in_flight_at_kills']))})",
            f"0, 0, ≤ {resume_['concurrency']} a kill",
            resume_["duplicates"] == resume_["missing"] == 0
            and max(resume_["in_flight_at_kills"]) <= resume_["concurrency"]
            and resume_["redone"] == sum(resume_["in_flight_at_kills"]),
        ),
        (
            f"batch run: tokens/min under a {pace['limit_tpm']:,} limit over {pace['seconds']:.0f} s; "
            "busiest 10 s scaled to a minute",
            f"{pace['ratio']:.3f}×; {pace['max_10s_window_tpm'] / pace['limit_tpm']:.3f}×",
            "0.95–1.00×; ≤ 1.00×",
            0.95 <= pace["ratio"] <= 1.0 and pace["max_10s_window_tpm"] <= pace["limit_tpm"],
        ),
    ]


def report(data: dict[str, Any]) -> str:
    """The figures table of docs/BENCHMARKS.md."""
    results = data["results"]
    speed, memory_, resume_, pace = results["throughput"], results["memory"], results["resume"], results["pacing"]
    rows = ["| figure | ours | reference | ratio |", "|---|---:|---:|---:|"]
    rows.append(
        f"| records/s, {speed['records']:,} records, {speed['concurrency']} in flight (vs boto3 ThreadPool) | "
        f"{speed['ours_rps']:.0f} | {speed['reference_rps']:.0f} | {speed['ratio']:.2f}× |"
    )
    rows.append(
        f"| peak RSS, MiB, {memory_['large_records']:,} records (vs {memory_['small_records']:,}) | "
        f"{memory_['large_peak_mib']:.1f} | {memory_['small_peak_mib']:.1f} | {memory_['ratio']:.2f}× |"
    )
    rows.append(
        f"| resume scan of a {memory_['large_records']:,}-line output, s | {memory_['large_scan_seconds']:.2f} | "
        "< 10 | |"
    )
    rows.append(
        f"| resume of {resume_['records']:,} records after 3 kills: duplicates / missing / re-done | "
        f"{resume_['duplicates']} / {resume_['missing']} / {resume_['redone']} | "
        f"0 / 0 / ≤ {resume_['concurrency']} a kill | |"
    )
    rows.append(
        f"| tokens/min over {pace['seconds']:.0f} s (busiest 10 s, scaled) | {pace['measured_tpm']:,.0f} "
        f"({pace['max_10s_window_tpm']:,.0f}) | {pace['limit_tpm']:,} | {pace['ratio']:.3f}× |"
    )
    return "\n".join(rows)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        source, output, calls, signal_at = sys.argv[2:6]
        child(Path(source), Path(output), Path(calls) if calls else None, int(signal_at))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = run(args.quick)
    print(json.dumps(results, indent=2))
    write_results(args.json, {"python": sys.version.split()[0], "cpus": os.cpu_count()}, results)


if __name__ == "__main__":
    main()
