"""Shared pieces of the client tests: fast seeded retries, and a helper over the runtime's control endpoints."""

from __future__ import annotations

import random
from typing import Any

import httpx

from mistral_bedrock.client import RetryPolicy

# Fast, seeded backoff: retries are exercised for real without slowing the suite down.
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.01, rng=random.Random(7))


class Control:
    """The runtime's control endpoints."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def fault(self, **rule: Any) -> None:
        self.http.post("/faults", json=rule).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.http.get("/requests").json()["requests"]
        return entries
