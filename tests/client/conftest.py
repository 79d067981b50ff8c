"""The client's test backend: the real runtime on a real loopback socket, with its fault and journal controls."""

from __future__ import annotations

from collections.abc import Iterator

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
def client(server: ServerThread, control: Control) -> Iterator[MistralBedrock]:
    with MistralBedrock(
        endpoint_url=server.url,
        region="us-east-1",
        aws_access_key_id="AKID",
        aws_secret_access_key="s",
        retry=FAST_RETRY,
    ) as made:
        yield made
