"""Suite-wide settings and fixtures, for every test folder.

* No AWS settings leak in from the machine running the tests (autouse): no ``AWS_*`` variables, no config files,
  no instance metadata.
* Hypothesis runs deterministically: the same examples every run, no example database.
* ``--soak`` and the ``soak`` fixture: whether the reliability tests run at their heavy size (see
  ``tests/reliability/conftest.py``).

Fixtures that only one folder uses live in that folder's ``conftest.py``; a fixture name means one thing across the
whole suite (``runtime`` is always a ``ServerThread``, ``cli_runtime`` the CLI tests' wrapper of one).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# The fuzzing figure's hooks must run in the process that prints the summary, also under pytest-xdist, whose
# controller loads only this conftest.
# pytester runs the pytest plugin's own tests (tests/testing); pytest takes pytest_plugins only from this conftest.
pytest_plugins = ["tests.reliability.fuzz_tally", "pytester"]

# Property tests are deterministic: the same examples every run, and no example database left behind.
settings.register_profile("deterministic", derandomize=True, database=None, deadline=None)
settings.load_profile("deterministic")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak",
        action="store_true",
        default=False,
        help="run the reliability suite at soak size (100,000 fuzz cases, 60 s of 1,000 streams)",
    )


@pytest.fixture(scope="session")
def soak(request: pytest.FixtureRequest) -> bool:
    """Whether ``--soak`` was given: the reliability tests' heavy size instead of their small default one."""
    return bool(request.config.getoption("--soak"))


@pytest.fixture(autouse=True)
def _no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    # botocore must never look for real config files or instance metadata during tests.
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
