"""The client's test backend: the real runtime on a real loopback socket, with its fault and journal controls.

* ``server``: one ``ServerThread`` for the session (the same type as ``runtime`` in ``tests/runtime``);
* ``runtime_control``: a :class:`~tests.client.client_support.Control` (``.fault(**rule)``, ``.requests()``) over the
  runtime's control endpoints, with fault rules and the journal cleared around each test. (``control``, in
  ``tests/runtime``, is the bare ``httpx.Client`` of those endpoints.)
* ``client_in(region)``: sync clients of that runtime signing for a Region, fast seeded retries, closed after;
* ``client``: ``client_in("us-east-1")``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from mistral_bedrock.client import MistralBedrock
from mistral_bedrock.runtime import CONTROL_PREFIX, ServerThread
from tests.client.client_support import FAST_RETRY, Control


@pytest.fixture(scope="session")
def server() -> Iterator[ServerThread]:
    """The runtime the client tests talk to, for the whole session."""
    with ServerThread() as running:
        yield running


@pytest.fixture
def runtime_control(server: ServerThread) -> Iterator[Control]:
    """The runtime's fault rules and journal; both start empty, and the rules are cleared after the test."""
    with httpx.Client(base_url=server.url + CONTROL_PREFIX, headers={"Authorization": "Bearer t"}) as http:
        http.delete("/faults").raise_for_status()
        http.delete("/requests").raise_for_status()
        yield Control(http)
        http.delete("/faults").raise_for_status()


@pytest.fixture
def client_in(server: ServerThread, runtime_control: Control) -> Iterator[Callable[[str], MistralBedrock]]:
    """Clients of the runtime signing for a given Region (Bedrock serves each model from its own Regions)."""
    made: list[MistralBedrock] = []

    def build(region: str) -> MistralBedrock:
        client = MistralBedrock(
            endpoint_url=server.url,
            region=region,
            aws_access_key_id="AKID",
            aws_secret_access_key="s",
            retry=FAST_RETRY,
        )
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def client(client_in: Callable[[str], MistralBedrock]) -> MistralBedrock:
    """A client of the runtime signing for us-east-1."""
    return client_in("us-east-1")
