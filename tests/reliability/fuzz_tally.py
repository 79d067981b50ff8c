"""The fuzzing figure: how many cases the fuzz tests sent and what came back, printed in the terminal summary.

A pytest plugin, registered by ``tests/conftest.py`` rather than kept in this folder's conftest: under
pytest-xdist (``-n``) the controller that prints the summary never loads a subfolder's conftest, so the hooks that
gather each worker's tally and print the total must live in a plugin every process loads.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

_OUTPUT_KEY = "fuzz_tally"


@dataclass
class Tally:
    """Cases sent per fuzz test, by status class; the run's headline is cases tried and 5xx seen."""

    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    # Seconds reported by xdist workers; the headline shows the longest (they run side by side).
    worker_seconds: list[float] = field(default_factory=list)

    def record(self, test: str, status: int) -> None:
        self.statuses.setdefault(test, Counter())[f"{status // 100}xx"] += 1

    def seconds(self) -> float:
        return max(self.worker_seconds, default=time.perf_counter() - self.started)

    def dump(self) -> dict[str, Any]:
        """What a worker sends to the controller (plain data: it crosses a process boundary)."""
        return {"statuses": {t: dict(c) for t, c in self.statuses.items()}, "seconds": self.seconds()}

    def merge(self, dumped: dict[str, Any]) -> None:
        for test, counts in dumped["statuses"].items():
            self.statuses.setdefault(test, Counter()).update(counts)
        self.worker_seconds.append(dumped["seconds"])

    def lines(self) -> list[str]:
        total: Counter[str] = Counter()
        out = []
        for test, counts in sorted(self.statuses.items()):
            total.update(counts)
            out.append(f"  {test}: {sum(counts.values()):,} cases, {_by_class(counts)}")
        head = (
            f"fuzz: {sum(total.values()):,} cases, {total['5xx']} x 5xx ({_by_class(total)}) in {self.seconds():.1f} s"
        )
        return [head, *out]


def _by_class(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[k]:,} x {k}" for k in ("2xx", "4xx", "5xx"))


_TALLY = pytest.StashKey[Tally]()


def _tally(config: pytest.Config) -> Tally:
    if _TALLY not in config.stash:
        config.stash[_TALLY] = Tally()
    return config.stash[_TALLY]


@pytest.fixture(scope="session")
def fuzz_tally(request: pytest.FixtureRequest) -> Tally:
    """The session's tally; every fuzzed request is recorded in it."""
    return _tally(request.config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    # On an xdist worker: hand this worker's tally to the controller.
    tally = session.config.stash.get(_TALLY, None)
    workeroutput = getattr(session.config, "workeroutput", None)
    if tally is not None and workeroutput is not None:
        workeroutput[_OUTPUT_KEY] = tally.dump()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    # On the xdist controller: add up what each worker sent.
    dumped = getattr(node, "workeroutput", {}).get(_OUTPUT_KEY)
    if dumped is not None:
        _tally(node.config).merge(dumped)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    tally = config.stash.get(_TALLY, None)
    if tally is not None and tally.statuses:
        terminalreporter.write_sep("-", "fuzzing")
        for line in tally.lines():
            terminalreporter.write_line(line)
