"""A client that leaves a stream early stops it: nothing more is generated or written to the dead connection."""

from __future__ import annotations

import logging

import pytest

from mistral_bedrock import MistralBedrock


def test_a_stream_left_early_stops_writing(caplog: pytest.LogCaptureFixture) -> None:
    # An unpaced stream of ~2,000 frames; the client reads one event and closes. Before, the runtime wrote the rest
    # to the closed socket and asyncio logged "socket.send() raised exception." for almost every frame.
    caplog.set_level(logging.WARNING, logger="asyncio")
    question = [{"role": "user", "content": "word " * 2000}]
    with MistralBedrock.local() as client:
        with client.chat.stream(model="mistral-large-2402", messages=question, max_tokens=2000) as events:
            for _ in events:
                break
        # Served after the abandoned stream (one connection, kept alive): the runtime is past it by now.
        assert client.complete_text("hi").stop_reason == "stop"
    # The disconnect is seen within a few frames (the stream gives the loop a turn every 8): asyncio warns once per
    # write beyond its fifth to a dead socket, so a stopped stream leaves a few warnings (two or three turns on a
    # loaded machine), not thousands.
    assert len([r for r in caplog.records if r.name == "asyncio"]) <= 24
