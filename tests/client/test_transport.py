"""The async client's transport (httpx over aiohttp's pool) against real loopback servers.

Streams arrive piece by piece, 64 calls are in flight at once, every failure of the connection is a typed error,
a client outlives the event loop it was first used in, and neither client keeps cookies.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mistral_bedrock.client import AsyncMistralBedrock, MistralBedrock, RetryPolicy
from mistral_bedrock.errors import TransportError
from mistral_bedrock.runtime import ServerThread, create_app
from tests.client.client_support import FAST_RETRY

T = TypeVar("T")
KEYS = {"region": "us-east-1", "aws_access_key_id": "AKID", "aws_secret_access_key": "s"}
LEAD = "I am the built-in engine of mistral-bedrock. You said: "
WAIT_S = 20.0  # how long a held server waits for the client; never reached unless the test fails


def run(url: str, factory: Callable[[AsyncMistralBedrock], Awaitable[T]], **options: Any) -> T:
    async def main() -> T:
        async with AsyncMistralBedrock(endpoint_url=url, **{**KEYS, "retry": FAST_RETRY, **options}) as client:
            return await factory(client)

    return asyncio.run(main())


class HoldAfterFirstChunk:
    """Sends a stream's first body piece, then holds the rest until the client says it has read that piece.

    Were the body gathered before it reached the caller, the client would wait for the rest while the server
    waits for the client, until the server gives up after ``WAIT_S``: ``released`` tells which happened.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.first_read = threading.Event()
        self.released: bool | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pieces = 0

        async def hold(message: Message) -> None:
            nonlocal pieces
            if message["type"] == "http.response.body" and message.get("body"):
                pieces += 1
                if pieces == 2:
                    self.released = await asyncio.to_thread(self.first_read.wait, WAIT_S)
            await send(message)

        await self.app(scope, receive, hold)


@pytest.fixture
def held() -> Iterator[tuple[ServerThread, HoldAfterFirstChunk]]:
    app = HoldAfterFirstChunk(create_app())
    with ServerThread(app) as server:
        yield server, app


def test_a_stream_reaches_the_caller_as_it_arrives(held: tuple[ServerThread, HoldAfterFirstChunk]) -> None:
    server, app = held

    async def scenario(client: AsyncMistralBedrock) -> tuple[list[str], str]:
        pieces: list[str] = []
        async with client.stream_text("Tell me something long", model="mistral-7b") as stream:
            async for delta in stream:
                pieces.append(delta.text)
                app.first_read.set()
            return pieces, (await stream.result()).text

    pieces, text = run(server.url, scenario)
    assert app.released is True
    assert len(pieces) > 1
    assert "".join(pieces) == text == " " + LEAD + "Tell me something long"


class Barrier:
    """Holds every request until ``parties`` of them are in flight at once (so they must be on as many
    connections): calls queued behind a smaller pool would never arrive, and the first would time out."""

    def __init__(self, app: ASGIApp, parties: int) -> None:
        self.app = app
        self.parties = parties
        self.arrived = 0
        self.all_in = threading.Event()
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self.lock:
            self.arrived += 1
            if self.arrived >= self.parties:
                self.all_in.set()
        await asyncio.to_thread(self.all_in.wait, WAIT_S)
        await self.app(scope, receive, send)


def test_64_calls_are_in_flight_at_once() -> None:
    barrier = Barrier(create_app(), parties=64)

    async def fan_out(client: AsyncMistralBedrock) -> list[str]:
        results = await asyncio.gather(*(client.complete_text(f"call {i}") for i in range(64)))
        return [r.text for r in results]

    with ServerThread(barrier) as server:
        texts = run(server.url, fan_out)
    assert barrier.all_in.is_set()
    assert texts == [" " + LEAD + f"call {i}" for i in range(64)]


def test_a_refused_connection_is_a_transport_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, and that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def call(client: AsyncMistralBedrock) -> None:
        await client.complete_text("hi")

    with pytest.raises(TransportError, match=r"^ConnectError: "):
        run(f"http://127.0.0.1:{port}", call, retry=RetryPolicy(max_attempts=1))


def test_a_server_that_never_answers_is_a_read_timeout() -> None:
    gate = threading.Event()

    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.to_thread(gate.wait, WAIT_S)

    async def call(client: AsyncMistralBedrock) -> None:
        await client.complete_text("hi")

    with ServerThread(silent) as server:
        try:
            with pytest.raises(TransportError, match=r"^ReadTimeout: "):
                run(server.url, call, timeout=0.2, retry=RetryPolicy(max_attempts=1))
        finally:
            gate.set()


def read_request(connection: socket.socket) -> None:
    """Read one whole request: closing with bytes unread would reset the connection rather than close it."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += connection.recv(65536)


def test_a_connection_closed_before_the_answer_is_retried_then_typed() -> None:
    calls = 0

    def serve(listener: socket.socket) -> None:
        nonlocal calls
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                read_request(connection)
                calls += 1

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        thread = threading.Thread(target=serve, args=(listener,), daemon=True)
        thread.start()

        async def call(client: AsyncMistralBedrock) -> None:
            await client.complete_text("hi")

        with pytest.raises(TransportError, match=r"^RemoteProtocolError: "):
            run(f"http://127.0.0.1:{listener.getsockname()[1]}", call, retry=RetryPolicy(max_attempts=3, base_delay=0))
        listener.shutdown(socket.SHUT_RDWR)
    thread.join(WAIT_S)
    assert calls == 3


def test_a_client_outlives_its_first_event_loop(server: ServerThread) -> None:
    client = AsyncMistralBedrock(endpoint_url=server.url, **KEYS)

    async def first() -> str:
        return (await client.complete_text("first")).text

    async def second() -> str:
        try:
            return (await client.complete_text("second")).text
        finally:
            await client.close()

    assert asyncio.run(first()) == " " + LEAD + "first"
    with warnings.catch_warnings():
        # The first loop's connections cannot be closed once that loop is gone; the collector reports them.
        warnings.simplefilter("ignore", ResourceWarning)
        assert asyncio.run(second()) == " " + LEAD + "second"
        gc.collect()


def test_cookies_are_not_kept() -> None:
    sent: list[str | None] = []
    runtime = create_app()

    async def cookie_setter(scope: Scope, receive: Receive, send: Send) -> None:
        sent.append(dict(scope["headers"]).get(b"cookie", b"").decode() or None)

        async def set_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"set-cookie", b"session=abc; Path=/")]}
            await send(message)

        await runtime(scope, receive, set_cookie)

    async def twice(client: AsyncMistralBedrock) -> None:
        await client.complete_text("one")
        await client.complete_text("two")

    with ServerThread(cookie_setter) as server:
        run(server.url, twice)
        with MistralBedrock(endpoint_url=server.url, **KEYS) as client:
            client.complete_text("three")
            client.complete_text("four")
    assert sent == [None, None, None, None]
