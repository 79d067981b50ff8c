"""Fixtures of the CLI tests: runtimes in background threads, with their journal, for the CLI to talk to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cli_support import Runtime

from mistral_bedrock.runtime import ServerThread, create_app


def _runtime(*faults: str) -> Iterator[Runtime]:
    with ServerThread(create_app(faults=list(faults))) as server:
        runtime = Runtime(server)
        try:
            yield runtime
        finally:
            runtime.control.close()


@pytest.fixture(scope="session")
def _shared_runtime() -> Iterator[Runtime]:
    yield from _runtime()


@pytest.fixture
def runtime(_shared_runtime: Runtime) -> Runtime:
    """A healthy runtime; its journal starts empty."""
    _shared_runtime.clear()
    return _shared_runtime


@pytest.fixture(scope="session")
def slow_runtime() -> Iterator[Runtime]:
    """A runtime that waits 50 ms between stream events, so an answer can be interrupted while it streams."""
    yield from _runtime("latency:per_token=50")


@pytest.fixture(scope="session")
def throttling_runtime() -> Iterator[Runtime]:
    """A runtime that throttles every request."""
    yield from _runtime("ThrottlingException:count=100000")
