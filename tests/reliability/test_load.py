"""Many concurrent streams through one runtime: every frame CRC-checked, every stream whole, memory bounded."""

from __future__ import annotations

import asyncio
import resource
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from mistral_bedrock.protocol.eventstream import EventStreamDecoder
from mistral_bedrock.runtime import ServerThread, create_app

pytestmark = pytest.mark.reliability

BODY = b'{"prompt": "<s>[INST] Hello, what is your name? [/INST]"}'
# Streams in one wave. A wave of 1,000 takes about 30 s on a 2-core machine, most of the default run's reliability
# time, so it runs only at soak size (where waves repeat for a minute to catch memory growth); 250 streams still
# overlap (the peak check below) and check every frame of each, in about 3 s.
STREAMS, SOAK_STREAMS = 250, 1000
SOAK_SECONDS = 60


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")  # pragma: no cover


@pytest.fixture(scope="module")
def slow_runtime() -> Iterator[ServerThread]:
    # Per-token latency keeps streams open long enough to overlap.
    with ServerThread(create_app(faults=["latency:per_token=10"])) as server:
        yield server


async def one_stream(client: httpx.AsyncClient, open_now: list[int], peak: list[int]) -> tuple[int, str]:
    decoder = EventStreamDecoder()
    frames = 0
    async with client.stream(
        "POST", "/model/mistral.mistral-7b-instruct-v0%3A2/invoke-with-response-stream", content=BODY
    ) as response:
        assert response.status_code == 200
        open_now[0] += 1
        peak[0] = max(peak[0], open_now[0])
        try:
            async for data in response.aiter_raw():
                frames += len(decoder.feed(data))  # raises on any CRC or framing error
        finally:
            open_now[0] -= 1
    decoder.close()  # raises if the stream stopped inside a frame
    return frames, response.headers["x-amzn-requestid"]


async def wave(url: str, streams: int) -> tuple[list[int], int]:
    limits = httpx.Limits(max_connections=streams, max_keepalive_connections=streams)
    transport = httpx.AsyncHTTPTransport(limits=limits, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    open_now, peak = [0], [0]
    async with httpx.AsyncClient(
        base_url=url, transport=transport, timeout=120, headers={"Authorization": "Bearer load"}
    ) as client:
        results = await asyncio.gather(*(one_stream(client, open_now, peak) for _ in range(streams)))
    assert len({request_id for _, request_id in results}) == streams
    return [frames for frames, _ in results], peak[0]


def test_concurrent_streams_arrive_whole(slow_runtime: ServerThread, soak: bool) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 8192), hard), hard))
    streams = SOAK_STREAMS if soak else STREAMS
    before = rss_kib()
    frames, peak = asyncio.run(wave(slow_runtime.url, streams))
    assert len(set(frames)) == 1  # the built-in engine answers this prompt identically every time
    assert frames[0] > 10
    assert peak > streams // 2  # they really were open at the same time
    grown = rss_kib() - before
    if soak:
        deadline = time.monotonic() + SOAK_SECONDS
        while time.monotonic() < deadline:
            more, _ = asyncio.run(wave(slow_runtime.url, streams))
            assert set(more) == set(frames)
        grown = rss_kib() - before
    assert grown < 512 * 1024, f"RSS grew by {grown} KiB"
