"""The fuzzing suite's figure: how many cases were sent and what came back, printed in the terminal summary."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# The suite's per-test timeout (120 s) is sized for CI; at soak size one fuzz test runs for many minutes.
SOAK_TIMEOUT = 3 * 3600


@dataclass
class Tally:
    """Cases sent per fuzz test, by status class; the run's headline is cases tried and 5xx seen."""

    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def record(self, test: str, status: int) -> None:
        self.statuses.setdefault(test, Counter())[f"{status // 100}xx"] += 1

    def lines(self) -> list[str]:
        total: Counter[str] = Counter()
        out = []
        for test, counts in self.statuses.items():
            total.update(counts)
            out.append(f"  {test}: {sum(counts.values()):,} cases, {_by_class(counts)}")
        seconds = time.perf_counter() - self.started
        head = f"fuzz: {sum(total.values()):,} cases, {total['5xx']} x 5xx ({_by_class(total)}) in {seconds:.1f} s"
        return [head, *out]


def _by_class(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[k]:,} x {k}" for k in ("2xx", "4xx", "5xx"))


_TALLY = pytest.StashKey[Tally]()


@pytest.fixture(scope="session")
def fuzz_tally(request: pytest.FixtureRequest) -> Tally:
    """The session's tally; every fuzzed request is recorded in it."""
    stash = request.config.stash
    if _TALLY not in stash:
        stash[_TALLY] = Tally()
    return stash[_TALLY]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    tally = config.stash.get(_TALLY, None)
    if tally is not None and tally.statuses:
        terminalreporter.write_sep("-", "fuzzing")
        for line in tally.lines():
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak"):
        for item in items:
            if item.path.parent == Path(__file__).parent:
                item.add_marker(pytest.mark.timeout(SOAK_TIMEOUT))
