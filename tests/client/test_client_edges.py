"""Edges a new user hits: a stream left early, a closed client, a conversation that moves on, odd tool loops.

Each runs through the real client against the real runtime, sync and async alike.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest

from mistral_bedrock.client import AsyncMistralBedrock, MistralBedrock
from mistral_bedrock.client.settings import ClientSettings
from mistral_bedrock.client.usage_errors import ClientClosedError, ConversationMovedError
from mistral_bedrock.errors import StreamError
from mistral_bedrock.runtime import RuntimeConfig, ServerThread
from tests.client.client_support import FAST_RETRY, Control

LONG = "Tell me about rivers, mountains and the weather in every city you know"


def _async_client(server: ServerThread) -> AsyncMistralBedrock:
    return AsyncMistralBedrock(
        endpoint_url=server.url, region="us-east-1", aws_access_key_id="AKID", aws_secret_access_key="s",
        retry=FAST_RETRY,
    )  # fmt: skip


def test_a_stream_left_early_resumes_and_its_result_reads_the_rest(client: MistralBedrock) -> None:
    whole = client.complete_text(LONG, model="mistral-7b")
    with client.stream_text(LONG, model="mistral-7b") as stream:
        pieces = []
        for delta in stream:
            pieces.append(delta.text)
            break
        result = stream.result()
        for delta in stream:  # nothing is left, and nothing is raised
            pieces.append(delta.text)
    assert len(pieces) == 1 and result.text == whole.text and result.stop_reason == "stop"


def test_a_stream_left_early_resumes_async(server: ServerThread) -> None:
    async def run() -> tuple[str, str]:
        async with _async_client(server) as client:
            whole = await client.complete_text(LONG, model="mistral-7b")
            async with client.stream_text(LONG, model="mistral-7b") as stream:
                async for _ in stream:
                    break
                async for _ in stream:
                    break
                return whole.text, (await stream.result()).text

    whole, streamed = asyncio.run(run())
    assert streamed == whole


def test_calls_on_a_closed_client_raise_a_typed_error(server: ServerThread, runtime_control: Control) -> None:
    client = MistralBedrock(endpoint_url=server.url, region="us-east-1", aws_access_key_id="AKID",
                            aws_secret_access_key="s")  # fmt: skip
    client.close()
    for call in (lambda: client.complete_text("hi"), lambda: client.stream_chat("hi").result()):
        with pytest.raises(ClientClosedError, match="this client is closed"):
            call()

    async def run() -> None:
        async_client = _async_client(server)
        await async_client.close()
        with pytest.raises(ClientClosedError):
            await async_client.complete_chat("hi")

    asyncio.run(run())
    assert runtime_control.requests() == []


def test_a_stream_closed_while_read_says_so(client: MistralBedrock) -> None:
    stream = client.stream_text(LONG, model="mistral-7b")
    first = next(iter(stream))
    stream.close()
    with pytest.raises(StreamError, match="closed before its end"):
        stream.result()
    assert first.text


def test_a_streamed_turn_that_finishes_after_a_later_send_does_not_erase_it(client: MistralBedrock) -> None:
    chat = client.conversation(model="mistral-large-2402")
    stream = chat.stream("First question")
    next(iter(stream))
    sent = chat.send("Second question")
    with pytest.raises(ConversationMovedError):
        stream.result()
    assert [m.content for m in chat.history] == ["Second question", sent.text.strip()]
    stream.close()


@pytest.mark.parametrize("steps", [0, -1, 2.5, True])
def test_run_tools_refuses_fewer_than_one_step_before_any_request(
    client: MistralBedrock, runtime_control: Control, steps: Any
) -> None:
    with pytest.raises(ValueError, match="max_steps"):
        client.run_tools("Song on WZPZ?", tools=[top_song], max_steps=steps)
    assert runtime_control.requests() == []


async def top_song(sign: str) -> dict[str, str]:
    """Get the most popular song played on a radio station.

    Args:
        sign: The call sign for the radio station, such as WZPZ and WKRP.
    """
    await asyncio.sleep(0)
    return {"song": "Elemental Hotel", "station": sign}


def test_sync_run_tools_runs_an_async_tool_inside_a_running_event_loop(client: MistralBedrock) -> None:
    # A notebook runs cells inside an event loop; asyncio.run() refuses to nest, so the tool runs on its own.
    async def cell() -> Callable[[], Any]:
        return lambda: client.run_tools("What is the top song on WZPZ?", tools=[top_song], tool_choice="any")

    run = asyncio.run(_in_loop(cell))
    assert "Elemental Hotel" in run.text and "error" not in run.history[-2].content


async def _in_loop(cell: Callable[[], Any]) -> Any:
    call = await cell()
    return call()  # a blocking call, made while this loop runs, as a notebook cell makes it


def test_closing_an_async_client_wakes_a_reader_of_its_stream(runtime_control: Control) -> None:
    # Paced as Bedrock paces Mistral 7B, the stream is still running when the client closes under it.
    async def run() -> BaseException:
        with ServerThread(config=RuntimeConfig(pace="bedrock")) as paced:
            client = _async_client(paced)
            stream = client.stream_text(LONG * 20, model="mistral-7b", max_tokens=400)
            seen = 0
            try:
                async for _ in stream:
                    seen += 1
                    if seen == 2:
                        closing = asyncio.ensure_future(client.close())
            except StreamError as error:
                await closing
                return error
        raise AssertionError("the stream ended normally after its client closed")

    error = asyncio.run(asyncio.wait_for(run(), timeout=60))  # a hang fails here rather than stalling the suite
    assert "closed before its end" in str(error)


def test_a_mistyped_keyword_is_an_error_not_a_silent_drop(client: MistralBedrock, runtime_control: Control) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: client.complete_text("hi", temprature=0.1),  # type: ignore[call-arg]
        lambda: client.stream_chat("hi", frequency_penalty=1),  # type: ignore[call-arg]
        lambda: client.conversation(max_token=5),  # type: ignore[call-arg]
    ]
    for call in calls:
        with pytest.raises(TypeError, match="unexpected keyword argument"):
            call()
    assert runtime_control.requests() == []


def test_a_closed_client_refuses_chat_calls_of_either_kind(server: ServerThread) -> None:
    sync_client = MistralBedrock(endpoint_url=server.url, region="us-east-1", aws_access_key_id="AKID",
                                 aws_secret_access_key="s")  # fmt: skip
    sync_client.close()
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(ClientClosedError):
        asyncio.run(sync_client.chat.complete_async(model="mistral-large-2402", messages=messages))

    async def closed_async() -> None:
        async_client = _async_client(server)
        await async_client.close()
        with pytest.raises(ClientClosedError):
            async_client.chat.complete(model="mistral-large-2402", messages=messages)

    asyncio.run(closed_async())


def test_a_local_client_takes_its_region() -> None:
    with MistralBedrock.local(region="us-west-2") as oregon:
        assert oregon.region == "us-west-2"
        assert oregon.complete_chat("Hi", model="mistral-large-2407").model_id == "mistral.mistral-large-2407-v1:0"


@pytest.mark.parametrize("endpoint", ["ftp://example.com", "localhost:8787", "http://"])
def test_an_endpoint_that_is_no_http_url_is_refused_at_once(endpoint: str) -> None:
    with pytest.raises(ValueError, match="endpoint URL"):
        MistralBedrock(endpoint_url=endpoint, region="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")


def test_secrets_stay_out_of_the_client_settings_repr() -> None:
    settings = ClientSettings(region="us-east-1", aws_access_key_id="AKID", aws_secret_access_key="SECRET",
                              aws_session_token="TOKEN", api_key="KEY")  # fmt: skip
    shown = repr(settings)
    assert "AKID" in shown and not {"SECRET", "TOKEN", "KEY"} & set(re.findall(r"[A-Z]{3,}", shown))
