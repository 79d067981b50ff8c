"""AsyncMistralBedrock against the real runtime: the same methods, awaited, and proof that calls overlap."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from mistral_bedrock.client import AsyncMistralBedrock
from mistral_bedrock.errors import ModelStreamErrorException, StreamError, ValidationException
from mistral_bedrock.runtime import ServerThread, create_app
from tests.client.client_support import FAST_RETRY, Control

T = TypeVar("T")
LEAD = "I am the built-in engine of mistral-bedrock. You said: "


def run(factory: Callable[[AsyncMistralBedrock], Awaitable[T]], url: str) -> T:
    async def main() -> T:
        async with AsyncMistralBedrock(
            endpoint_url=url, region="us-east-1", aws_access_key_id="a", aws_secret_access_key="b", retry=FAST_RETRY
        ) as client:
            return await factory(client)

    return asyncio.run(main())


async def top_song(sign: str) -> dict[str, str]:
    """Get the most popular song played on a radio station.

    Args:
        sign: The call sign for the radio station.
    """
    await asyncio.sleep(0)
    return {"song": "Elemental Hotel", "station": sign}


def test_every_method(server: ServerThread, runtime_control: Control) -> None:
    async def scenario(client: AsyncMistralBedrock) -> dict[str, Any]:
        out: dict[str, Any] = {}
        out["complete"] = await client.complete_text("Hello, what's your name?", model="mistral-7b")
        out["chat"] = await client.complete_chat("Song on WZPZ?", tools=[top_song], tool_choice="any")
        out["converse"] = await client.converse("Hello", system="Be brief.")
        async with client.stream_text("Hello", model="mistral-7b") as stream:
            out["pieces"] = [d.text async for d in stream]
            out["stream"] = await stream.result()
        async with client.converse_stream("Hello") as stream:
            out["converse_text"] = "".join([t async for t in stream.text_stream()])
            out["converse_stream"] = await stream.result()
        chat = client.conversation(model="mixtral-8x7b")
        await chat.send("One")
        out["turn2"] = await chat.send("Two")
        out["prompt"] = chat.last_prompt
        out["tools"] = await client.run_tools("Song on WZPZ?", tools=[top_song], tool_choice="any")
        return out

    out = run(scenario, server.url)
    assert out["complete"].text == " " + LEAD + "Hello, what's your name?"
    assert out["complete"].usage.input_tokens == 16
    assert dict(out["chat"].tool_calls[0].arguments) == {"sign": "WZPZ"}
    assert out["converse"].text == LEAD + "Hello"
    assert "".join(out["pieces"]) == out["stream"].text
    assert out["pieces"][-1]
    assert out["stream"].stop_reason == "stop"
    assert out["converse_text"] == out["converse_stream"].text
    assert out["turn2"].text.endswith("(turn 2)")
    assert out["prompt"].endswith("</s>[INST] Two [/INST]")
    assert "Elemental Hotel" in out["tools"].text
    assert json.loads(out["tools"].history[2].content)["station"] == "WZPZ"


def test_faults_are_survived_or_typed(server: ServerThread, runtime_control: Control) -> None:
    runtime_control.fault(kind="error", code="ThrottlingException", rate=0.3)

    async def many(client: AsyncMistralBedrock) -> list[Any]:
        return list(await asyncio.gather(*(client.complete_text(f"call {i}") for i in range(20))))

    assert all(r.stop_reason == "stop" for r in run(many, server.url))
    assert [e["status"] for e in runtime_control.requests()].count(429) > 0
    runtime_control.http.delete("/faults")

    async def broken(client: AsyncMistralBedrock) -> list[BaseException]:
        errors: list[BaseException] = []
        for rule in (
            {"kind": "stream-error", "after_frames": 2, "count": 1},
            {"kind": "drop", "after_frames": 2, "count": 1},
        ):
            runtime_control.fault(**rule)
            try:
                async with client.stream_text("Tell me", model="mistral-7b") as stream:
                    async for _delta in stream:
                        pass
            except (ModelStreamErrorException, StreamError) as exc:
                errors.append(exc)
        return errors

    errors = run(broken, server.url)
    assert [type(e) for e in errors] == [ModelStreamErrorException, StreamError]


def test_client_side_validation(server: ServerThread, runtime_control: Control) -> None:
    async def bad(client: AsyncMistralBedrock) -> None:
        await client.complete_chat("x", temperature=2.0)

    with pytest.raises(ValidationException, match=r"2\.0 is not less or equal to 1\.0"):
        run(bad, server.url)
    assert runtime_control.requests() == []


class Barrier:
    """An ASGI wrapper that holds every request until ``parties`` of them are in flight at once.

    If the client sent its calls one after another, the first would never be released and would time out:
    overlap is proven by the calls completing at all, with no clock in the assertion.
    """

    def __init__(self, app: ASGIApp, parties: int) -> None:
        self.app = app
        self.parties = parties
        self.arrived = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.event: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.event is None:
            self.event = asyncio.Event()
        with self.lock:
            self.arrived += 1
            self.peak = max(self.peak, self.arrived)
            if self.arrived >= self.parties:
                self.event.set()
        await asyncio.wait_for(self.event.wait(), timeout=30)
        await self.app(scope, receive, send)


@pytest.fixture
def barrier_server() -> Iterator[tuple[ServerThread, Barrier]]:
    barrier = Barrier(create_app(), parties=8)
    with ServerThread(barrier) as running:
        yield running, barrier


def test_async_calls_overlap(barrier_server: tuple[ServerThread, Barrier]) -> None:
    server, barrier = barrier_server

    async def fan_out(client: AsyncMistralBedrock) -> list[Any]:
        return list(await asyncio.gather(*(client.complete_chat(f"hi {i}") for i in range(8))))

    results = run(fan_out, server.url)
    assert [r.text for r in results] == [LEAD + f"hi {i}" for i in range(8)]
    assert barrier.peak == 8
