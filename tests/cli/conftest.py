"""Fixtures of the CLI tests: runtimes in background threads, wrapped with their journal, for the CLI to talk to.

Every fixture here is a :class:`~tests.cli.cli_support.Runtime` (a ``ServerThread`` plus its control endpoints),
named ``*cli_runtime`` so that it is never mistaken for the bare ``ServerThread`` that ``runtime`` and
``slow_runtime`` are elsewhere in the suite:

* ``cli_runtime``: a healthy runtime whose journal starts empty (function scope, over one runtime per session);
* ``slow_cli_runtime``: 50 ms between stream events, so an answer can be interrupted while it streams;
* ``throttling_cli_runtime``: every request is throttled.

The ``batch`` tests share two more: ``plane``, a runtime with a batch store of its own (one per module), and
``work``, a test's directory, after which the plane holds no job in any phase.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mistral_bedrock.runtime import ServerThread, create_app
from tests.cli.cli_support import Runtime

if TYPE_CHECKING:
    from tests.cli.test_batch_cli import Plane


def _runtime(*faults: str) -> Iterator[Runtime]:
    with ServerThread(create_app(faults=list(faults))) as server:
        runtime = Runtime(server)
        try:
            yield runtime
        finally:
            runtime.control.close()


@pytest.fixture(scope="session")
def _shared_cli_runtime() -> Iterator[Runtime]:
    yield from _runtime()


@pytest.fixture
def cli_runtime(_shared_cli_runtime: Runtime) -> Runtime:
    """A healthy runtime; its journal starts empty."""
    _shared_cli_runtime.clear()
    return _shared_cli_runtime


@pytest.fixture(scope="session")
def slow_cli_runtime() -> Iterator[Runtime]:
    """A runtime that waits 50 ms between stream events, so an answer can be interrupted while it streams."""
    yield from _runtime("latency:per_token=50")


@pytest.fixture(scope="session")
def throttling_cli_runtime() -> Iterator[Runtime]:
    """A runtime that throttles every request."""
    yield from _runtime("ThrottlingException:count=100000")


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plane]:
    """A runtime whose batch store is a fresh directory, with boto3 and its control endpoint (one per module)."""
    from tests.cli.test_batch_cli import serve_plane  # boto3 is imported only by the tests that need a plane

    yield from serve_plane(tmp_path_factory)


@pytest.fixture
def work(tmp_path: Path, plane: Plane) -> Iterator[Path]:
    """The test's directory; afterwards the plane holds no job in any phase."""
    yield tmp_path
    plane.hold()  # no test leaves a hold behind
