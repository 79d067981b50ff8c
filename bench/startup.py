"""Start-up cost: ``import mistral_bedrock`` and ``mistral-bedrock --help``, against a bare interpreter start.

Run: ``python bench/startup.py [--quick] [--json PATH]``. Each figure is the best of N fresh processes (the
least disturbed by the other core's noise); the reference — ``python -c pass`` — is measured in the same run, so
the extra cost of our code is the difference.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

CLI = str(Path(sys.executable).parent / "mistral-bedrock")
CASES = {
    "python -c pass (reference)": [sys.executable, "-c", "pass"],
    "import mistral_bedrock": [sys.executable, "-c", "import mistral_bedrock"],
    "import mistral_bedrock.client": [sys.executable, "-c", "import mistral_bedrock.client"],
    "mistral-bedrock --help": [CLI, "--help"],
}
GOALS_MS = {"import mistral_bedrock": 150.0, "mistral-bedrock --help": 300.0}


def best_of(command: list[str], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def run(quick: bool) -> dict[str, object]:
    runs = 5 if quick else 15
    figures = {name: best_of(command, runs) for name, command in CASES.items()}
    reference = figures["python -c pass (reference)"]
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, mistral_bedrock; print(sorted(m for m in ('click', 'rich', 'starlette', "
         "'mistral_common', 'httpx', 'botocore') if m in sys.modules))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return {
        "runs": runs,
        "ms": figures,
        "over_reference_ms": {name: value - reference for name, value in figures.items()},
        "goals_ms": GOALS_MS,
        "imported_by_import_mistral_bedrock": heavy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = run(args.quick)
    for name, value in results["ms"].items():  # type: ignore[attr-defined]
        goal = GOALS_MS.get(name)
        print(f"{name:32} {value:8.1f} ms" + (f"   goal < {goal:.0f} ms" if goal else ""))
    print("heavy modules loaded by `import mistral_bedrock`:", results["imported_by_import_mistral_bedrock"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
