"""One entry point for every benchmark: ``python -m bench all [--quick]`` or ``python -m bench NAME…``.

Each benchmark is a script in this folder that measures ours against a reference in the same run and writes
its figures as JSON. This harness runs them one after another (never two at once: they would steal each other's
cores), keeps the JSON in ``bench/results/``, and regenerates the summary at the top of ``docs/BENCHMARKS.md``
from it: machine, versions, command, every headline figure beside its goal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "BENCHMARKS.md"
START, END = "<!-- summary:start -->", "<!-- summary:end -->"
BENCHES = {
    "eventstream": "eventstream_decode.py",
    "client": "client_overhead.py",
    "runtime": "runtime_throughput.py",
    "startup": "startup.py",
}

Row = tuple[str, str, str, bool]  # figure, measured, goal, met


def _eventstream(data: dict[str, Any]) -> list[Row]:
    rows = []
    for result in data["results"]:
        if result["scenario"] in ("4 KiB reads", "frame per feed"):
            rows.append(
                (
                    f"event-stream decode, {result['scenario']}: ours/botocore",
                    f"{result['ratio']:.2f}×",
                    "≥ 3×",
                    result["ratio"] >= 3,
                )
            )
    return rows


def _client(data: dict[str, Any]) -> list[Row]:
    return [
        (
            f"client {name} vs boto3: median latency ours/boto3",
            f"{r['ratio_median']:.2f}× (CPU {r['ratio_cpu']:.2f}×)",
            "≤ 1.00×",
            r["ratio_median"] <= 1.0,
        )
        for name, r in data["results"].items()
    ]


def _runtime(data: dict[str, Any]) -> list[Row]:
    rows: list[Row] = [
        (
            f"runtime {r['ratio']} {r['operation']}, {r['concurrency']} clients (req/s)",
            f"{r['value']:.2f}× (server CPU {r['by_server_cpu']:.2f}×)",
            f"≥ {r['goal']:g}×",
            bool(r["met"]),
        )
        for r in data["ratios"]
    ]
    held = data["held_streams"]
    ok = held["max_open_streams"] >= 1000 and held["frame_errors"] == 0 and held["completed"] == held["streams"]
    rows.append(
        (
            "concurrent streams held, frame errors",
            f"{held['max_open_streams']:,} open, {held['frame_errors']} errors",
            "≥ 1,000, 0",
            ok,
        )
    )
    rows.append(
        (
            "runtime worker RSS idle → peak (held streams)",
            f"{held['rss_worker_idle_mib']} → {held['rss_worker_peak_mib']} MiB",
            "bounded",
            True,
        )
    )
    for scale in data.get("scaling", []):
        rows.append(
            (f"2 workers vs 1, invoke, {scale['concurrency']} clients", f"{scale['ratio']:.2f}×", "informational", True)
        )
    return rows


def _startup(data: dict[str, Any]) -> list[Row]:
    over = data["over_reference_ms"]
    ms = data["ms"]
    return [
        (
            "`import mistral_bedrock` (over `python -c pass`)",
            f"{over['import mistral_bedrock']:.0f} ms",
            "< 150 ms",
            over["import mistral_bedrock"] < 150,
        ),
        (
            "`mistral-bedrock --help` (whole process)",
            f"{ms['mistral-bedrock --help']:.0f} ms",
            "< 300 ms",
            ms["mistral-bedrock --help"] < 300,
        ),
    ]


SUMMARIES: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "eventstream": _eventstream,
    "client": _client,
    "runtime": _runtime,
    "startup": _startup,
}


def _figures_eventstream(data: dict[str, Any]) -> str:
    rows = [
        "| scenario | frames | ours, frames/s | botocore, frames/s | ours/botocore |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in data["results"]:
        rows.append(
            f"| {r['scenario']} | {r['frames']:,} | {r['ours']['frames_per_s']:,.0f} | "
            f"{r['botocore']['frames_per_s']:,.0f} | **{r['ratio']:.2f}×** |"
        )
    return "\n".join(rows)


def _figures_client(data: dict[str, Any]) -> str:
    rows = [
        "| scenario | client | median ms/call | p90 ms | calls/s | client CPU ms/call | ours/boto3 (median) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in data["results"].items():
        for side in ("boto3", "ours"):
            c = r[side]
            ratio = f"**{r['ratio_median']:.2f}×** (CPU {r['ratio_cpu']:.2f}×)" if side == "ours" else ""
            rows.append(
                f"| {name} | {side} | {c['median_ms']:.2f} | {c['p90_ms']:.2f} | {c['calls_per_s']:,.0f} | "
                f"{c['client_cpu_ms_per_call']:.2f} | {ratio} |"
            )
    return "\n".join(rows)


def _figures_runtime(data: dict[str, Any]) -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    from runtime_throughput import report

    text: str = report(data).replace("\n## ", "\n#### ")
    scaling = data.get("scaling") or []
    if scaling:
        text += (
            "\n\n#### Scaling with server workers (InvokeModel)\n\n| clients | 1 worker req/s | 2 workers req/s | 2/1 |"
        )
        text += "\n|---:|---:|---:|---:|\n" + "\n".join(
            f"| {s['concurrency']} | {s['rps_1_worker']:,.0f} | {s['rps_2_workers']:,.0f} | {s['ratio']:.2f}× |"
            for s in scaling
        )
    return text


def _figures_startup(data: dict[str, Any]) -> str:
    rows = ["| process | best of N, ms | over `python -c pass`, ms |", "|---|---:|---:|"]
    rows += [f"| `{name}` | {ms:.0f} | {data['over_reference_ms'][name]:.0f} |" for name, ms in data["ms"].items()]
    return "\n".join(rows)


FIGURES: dict[str, Callable[[dict[str, Any]], str]] = {
    "eventstream": _figures_eventstream,
    "client": _figures_client,
    "runtime": _figures_runtime,
    "startup": _figures_startup,
}


def _script(name: str) -> Any:
    sys.path.insert(0, str(ROOT / "bench"))
    return importlib.import_module(name)


# The load benchmarks (runtime under attack and load) render their own summary rows and figures.
# Benchmarks that render their own summary rows (and, the load ones, their own figures between markers).
_OWN_SUMMARIES = {
    "fairness": "runtime_fairness",
    "memory": "runtime_memory",
    "pacing": "runtime_pacing",
    "client_concurrency": "client_concurrency",
    "client_long_prompt": "client_long_prompt",
    "engine": "engine_overhead",
    "replay": "replay_speed",
    "batch_preflight": "batch_preflight",
    "batch_runner": "batch_runner",
}
_OWN_FIGURES = ("fairness", "memory", "pacing", "replay", "batch_preflight", "batch_runner")
for _name, _module in _OWN_SUMMARIES.items():
    BENCHES[_name] = f"{_module}.py"
    SUMMARIES[_name] = lambda data, module=_module: _script(module).summary_rows(data)
    if _name in _OWN_FIGURES:
        FIGURES[_name] = lambda data, module=_module: _script(module).report(data)


def _replace_block(doc: str, name: str, text: str) -> str:
    start, end = f"<!-- figures:{name}:start -->", f"<!-- figures:{name}:end -->"
    if start not in doc:
        return doc
    head, rest = doc.split(start, 1)
    return f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}"


def run(names: list[str], quick: bool) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in names:
        command = [sys.executable, str(ROOT / "bench" / BENCHES[name]), "--json", str(RESULTS / f"{name}.json")]
        if quick:
            command.append("--quick")
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        subprocess.run(command, check=True, cwd=ROOT)


def summary() -> str:
    rows: list[Row] = []
    for name in BENCHES:
        path = RESULTS / f"{name}.json"
        if path.exists():
            rows.extend(SUMMARIES[name](json.loads(path.read_text())))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    lines = [
        START,
        f"Rendered on {dt.date.today().isoformat()} from `bench/results/*.json`, each file written by its benchmark: "
        f"`python -m bench all` reruns them all, `python -m bench NAME` one ({', '.join(BENCHES)}).",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.platform()}.",
        "",
        "| figure | measured | goal | met |",
        "|---|---|---|---|",
        *(f"| {figure} | {measured} | {goal} | {'yes' if met else '**no**'} |" for figure, measured, goal, met in rows),
        END,
    ]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    """The summary between its markers, and each benchmark's figures between ``figures:NAME`` markers."""
    doc = DOC.read_text()
    if START in doc:
        head, rest = doc.split(START, 1)
        doc = head + text + rest.split(END, 1)[1]
    else:
        title, _, body = doc.partition("\n")
        doc = f"{title}\n\n{text}\n{body}"
    for name, render in FIGURES.items():
        path = RESULTS / f"{name}.json"
        if path.exists():
            doc = _replace_block(doc, name, render(json.loads(path.read_text())))
    DOC.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="+", help=f"'all' or some of: {', '.join(BENCHES)}")
    parser.add_argument("--quick", action="store_true", help="small runs, for a smoke test")
    parser.add_argument("--no-run", action="store_true", help="only regenerate the summary from saved results")
    args = parser.parse_args()
    names = list(BENCHES) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    if not args.no_run:
        run(names, args.quick)
    text = summary()
    write_doc(text)
    print(text)


if __name__ == "__main__":
    main()
