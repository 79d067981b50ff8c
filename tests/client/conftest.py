"""The client's test backend: the real runtime on a real loopback socket, with its fault and journal controls."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mistral_bedrock.client import MistralBedrock, RetryPolicy
from mistral_bedrock.runtime import CONTROL_PREFIX, ServerThread

# Fast, seeded backoff: retries are exercised for real without slowing the suite down.
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.01, rng=random.Random(7))


@pytest.fixture(scope="session")
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        yield running


class Control:
    """The runtime's control endpoints."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def fault(self, **rule: Any) -> None:
        self.http.post("/faults", json=rule).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.http.get("/requests").json()["requests"]
        return entries


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
