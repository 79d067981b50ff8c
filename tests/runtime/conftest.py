"""A real runtime on a real loopback socket, shared by the runtime tests, and clients to talk to it.

* ``runtime``: one ``ServerThread`` for the session (``server`` in ``tests/client`` is the same thing);
* ``control``: an ``httpx.Client`` on the runtime's control endpoints, fault rules and journal cleared around each
  test (``runtime_control`` in ``tests/client`` wraps the same endpoints in a helper class);
* ``runtime_boto3``: unmodified boto3 ``bedrock-runtime`` against ``runtime``, one attempt per call; using it clears
  the rules and journal as ``control`` does. (``bedrock`` is the pytest plugin's fixture: ``tests/testing``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from mistral_bedrock.runtime import CONTROL_PREFIX, ServerThread


@pytest.fixture(scope="session")
def runtime() -> Iterator[ServerThread]:
    """The runtime the runtime tests talk to, for the whole session."""
    with ServerThread() as server:
        yield server


@pytest.fixture
def control(runtime: ServerThread) -> Iterator[httpx.Client]:
    """The runtime's control endpoints; fault rules and the journal are cleared around each test."""
    with httpx.Client(base_url=runtime.url + CONTROL_PREFIX, headers={"Authorization": "Bearer test"}) as client:
        client.delete("/faults").raise_for_status()
        client.delete("/requests").raise_for_status()
        yield client
        client.delete("/faults").raise_for_status()


def make_client(url: str, **config: Any) -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config),
    )


@pytest.fixture(scope="session")
def _session_boto3(runtime: ServerThread) -> Iterator[Any]:
    client = make_client(runtime.url)
    yield client
    client.close()


@pytest.fixture
def runtime_boto3(_session_boto3: Any, control: httpx.Client) -> Any:
    """Unmodified boto3, one attempt per call so injected errors surface as they are."""
    return _session_boto3
