"""The client's test backend: the real runtime on a real loopback socket, with its fault and journal controls."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from client_support import FAST_RETRY, Control

from mistral_bedrock.client import MistralBedrock
from mistral_bedrock.runtime import CONTROL_PREFIX, ServerThread


@pytest.fixture(scope="session")
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        yield running


@pytest.fixture
def control(server: ServerThread) -> Iterator[Control]:
    with httpx.Client(base_url=server.url + CONTROL_PREFIX, headers={"Authorization": "Bearer t"}) as http:
        http.delete("/faults").raise_for_status()
        http.delete("/requests").raise_for_status()
        yield Control(http)
        http.delete("/faults").raise_for_status()


@pytest.fixture
def client_in(server: ServerThread, control: Control) -> Iterator[Callable[[str], MistralBedrock]]:
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
    return client_in("us-east-1")
