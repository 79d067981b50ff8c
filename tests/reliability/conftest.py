"""The reliability suite's size: small by default, heavy with ``--soak``.

* Without ``--soak`` the tests here run at a small size that keeps every case kind (each fuzz strategy, each
  operation, a wave of concurrent streams), so the default run stays quick.
* With ``--soak`` they run at their heavy size (``soak`` fixture, ``tests/conftest.py``) and get a timeout of hours
  instead of the suite's 120 s.
* ``fuzz_tally``, the fuzzing figure printed in the terminal summary, comes from ``tests/reliability/fuzz_tally.py``
  (a plugin that ``tests/conftest.py`` registers, so that it works under pytest-xdist too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

# The suite's per-test timeout (120 s) is sized for CI; at soak size one fuzz test runs for many minutes.
SOAK_TIMEOUT = 3 * 3600


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak"):
        for item in items:
            if item.path.parent == Path(__file__).parent:
                item.add_marker(pytest.mark.timeout(SOAK_TIMEOUT))
