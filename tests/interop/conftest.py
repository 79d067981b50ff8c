"""Fixtures for the interop tests: ``mistral-bedrock serve`` subprocesses, stopped with SIGTERM after each test.

* ``serve_cli(*args)``: starts ``serve ARGS`` on a free port, a :class:`~tests.interop.interop_support.ServeProcess`;
* ``runtime_url``: the URL of one default ``serve`` shared by the session;
* ``bedrock_for(url)``: boto3 ``bedrock-runtime`` clients of a URL, closed after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.interop.interop_support import ServeProcess, make_boto3, start_serve


@pytest.fixture
def serve_cli() -> Iterator[Callable[..., ServeProcess]]:
    """Start ``serve`` with extra arguments on a free port; whatever is still running is stopped with SIGTERM after."""
    started: list[ServeProcess] = []

    def start(*args: str) -> ServeProcess:
        server = start_serve(*args)
        started.append(server)
        return server

    yield start
    for server in started:
        if not server.stopped:
            server.stop_cleanly()


@pytest.fixture(scope="session")
def runtime_url() -> Iterator[str]:
    """One default ``serve`` for the whole session (AWS CLI and JS SDK tests)."""
    server = start_serve()
    yield server.url
    server.stop_cleanly()


@pytest.fixture
def bedrock_for() -> Iterator[Callable[[str], Any]]:
    """boto3 bedrock-runtime clients for a URL (one attempt per call, bounded timeouts), closed after the test."""
    clients: list[Any] = []

    def make(url: str) -> Any:
        clients.append(make_boto3(url))
        return clients[-1]

    yield make
    for client in clients:
        client.close()
