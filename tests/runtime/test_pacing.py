"""When responses may start and how fast they stream: the minimum first-byte delay, ``--pace``, latency faults.

The waits are observed, not timed: a fake clock and a sleep that records each requested wait (and moves the
clock by it) are injected into the pacing, and the handlers run on them directly. The one test through a real
server checks a lower bound only, which a loaded machine cannot break.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from mistral_bedrock.catalog import resolve
from mistral_bedrock.catalog.pace import pace_for
from mistral_bedrock.engines import Engine, EngineEvent, create_engine
from mistral_bedrock.engines.counting import text_tokens
from mistral_bedrock.formats import ParsedRequest
from mistral_bedrock.protocol.eventstream import decode_message
from mistral_bedrock.protocol.operations import OPERATIONS, OperationName, model_path
from mistral_bedrock.runtime import RuntimeConfig, ServerThread
from mistral_bedrock.runtime.config import DEFAULT_MIN_FIRST_BYTE_MS
from mistral_bedrock.runtime.faults import Faults
from mistral_bedrock.runtime.handlers import HANDLERS, Call
from mistral_bedrock.runtime.pacing import Pace, Pacing
from mistral_bedrock.runtime.responses import EventStreamResponse, JSONBytesResponse

MODEL = "mistral.mistral-large-2407-v1:0"
STREAMS = [OperationName.INVOKE_MODEL_WITH_RESPONSE_STREAM, OperationName.CONVERSE_STREAM]
WHOLES = [OperationName.INVOKE_MODEL, OperationName.CONVERSE]
CHAT_BODY = {"messages": [{"role": "user", "content": "Tell me a story about a lighthouse."}]}
CONVERSE_BODY = {"messages": [{"role": "user", "content": [{"text": "Tell me a story about a lighthouse."}]}]}


class FakeTime:
    """A clock that moves only when the code under test sleeps (or an engine says it worked)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


class SlowEngine:
    """The built-in engine, taking ``work_ms`` of fake time before its first event."""

    name = "slow"

    def __init__(self, fake: FakeTime, work_ms: float) -> None:
        self.fake = fake
        self.work = work_ms / 1000
        self.inner = create_engine("builtin")

    async def generate(self, request: ParsedRequest) -> AsyncIterator[EngineEvent]:
        self.fake.now += self.work
        async for event in self.inner.generate(request):
            yield event


def make_call(operation: OperationName, pacing: Pacing, fake: FakeTime, *, engine: Engine, faults: Faults) -> Call:
    body = CONVERSE_BODY if operation in (OperationName.CONVERSE, OperationName.CONVERSE_STREAM) else CHAT_BODY
    return Call(
        request_id="test",
        operation=OPERATIONS[operation],
        model=resolve(MODEL),
        path=model_path(MODEL, operation),
        region=None,
        body=json.dumps(body).encode(),
        headers={},
        faults=faults,
        engine=engine,
        padding=True,
        count_tokens=True,
        started=fake.clock(),
        pacing=pacing,
    )


def respond(
    operation: OperationName,
    fake: FakeTime,
    *,
    min_first_byte_ms: float = DEFAULT_MIN_FIRST_BYTE_MS,
    pace: Pace = Pace.OFF,
    faults: Faults | None = None,
    work_ms: float = 0,
) -> list[bytes]:
    """Run one handler to the end of its body on the fake clock; the frames (or the one JSON body)."""
    pacing = Pacing(min_first_byte_ms=min_first_byte_ms, pace=pace, sleep=fake.sleep, clock=fake.clock)
    call = make_call(operation, pacing, fake, engine=SlowEngine(fake, work_ms), faults=faults or Faults())

    async def run() -> list[bytes]:
        response = await HANDLERS[operation](call)
        if isinstance(response, JSONBytesResponse):
            return [response.body]
        assert isinstance(response, EventStreamResponse)
        return [frame async for frame in response.frames]

    return asyncio.run(run())


@pytest.mark.parametrize("operation", STREAMS + WHOLES)
def test_nothing_starts_before_the_minimum_and_engine_time_counts(operation: OperationName) -> None:
    fake = FakeTime()
    body = respond(operation, fake, work_ms=2)
    assert fake.waits == [pytest.approx((DEFAULT_MIN_FIRST_BYTE_MS - 2) / 1000)]
    assert len(body) > (2 if operation in STREAMS else 0)


@pytest.mark.parametrize("operation", STREAMS + WHOLES)
def test_a_slower_engine_waits_for_nothing(operation: OperationName) -> None:
    fake = FakeTime()
    respond(operation, fake, work_ms=DEFAULT_MIN_FIRST_BYTE_MS + 3)
    assert fake.waits == []


@pytest.mark.parametrize("operation", STREAMS + WHOLES)
def test_zero_means_no_wait_at_all(operation: OperationName) -> None:
    fake = FakeTime()
    respond(operation, fake, min_first_byte_ms=0)
    assert fake.waits == []


def test_the_default_is_tens_of_milliseconds() -> None:
    # Enough for the AWS SDK for Go v2 on a saturated machine (docs/RUNTIME.md has the measurement), and still
    # below any time to first token Bedrock has.
    assert 1 <= RuntimeConfig().min_first_byte_ms == DEFAULT_MIN_FIRST_BYTE_MS <= 100
    assert RuntimeConfig().pace == "off"


@pytest.mark.parametrize("operation", STREAMS)
def test_bedrock_pace_streams_at_the_models_rate(operation: OperationName) -> None:
    fake = FakeTime()
    frames = respond(operation, fake, pace=Pace.BEDROCK, work_ms=1)
    pace = pace_for(MODEL)
    first, *rest = fake.waits
    assert first == pytest.approx(pace.ttft_ms / 1000 - 0.001)  # the model's first token, engine time included
    per_token = 1 / pace.tokens_per_s
    assert rest, "a paced stream waits between its tokens"
    for wait in rest:  # each text event's tokens at the model's rate; the stop event follows at once
        assert wait / per_token == pytest.approx(round(wait / per_token)) and wait >= per_token * 0.999
    assert len(rest) < len(frames)


@pytest.mark.parametrize("operation", WHOLES)
def test_bedrock_pace_answers_whole_once_the_answer_is_generated(operation: OperationName) -> None:
    fake = FakeTime()
    (body,) = respond(operation, fake, pace=Pace.BEDROCK)
    data = json.loads(body)
    if operation is OperationName.CONVERSE:
        output_tokens = data["usage"]["outputTokens"]
    else:  # the native chat body carries no usage: count the answer as the engine does
        answer = data["choices"][0]["message"]["content"]
        output_tokens = text_tokens(answer, resolve(MODEL).spec)
    pace = pace_for(MODEL)
    assert fake.waits == [pytest.approx(pace.ttft_ms / 1000 + output_tokens / pace.tokens_per_s)]


@pytest.mark.parametrize("operation", STREAMS)
def test_latency_faults_come_on_top(operation: OperationName) -> None:
    fake = FakeTime()
    frames = respond(operation, fake, faults=Faults(first_byte_ms=100, per_token_ms=10))
    # The fault's wait before the engine, as before; the floor after it; the fault's wait between events.
    assert fake.waits[:2] == [pytest.approx(0.1), pytest.approx(DEFAULT_MIN_FIRST_BYTE_MS / 1000)]
    assert fake.waits[2:] == [pytest.approx(0.01)] * len(fake.waits[2:])
    assert len(frames) > len(fake.waits[2:]) > 3  # one wait before each engine event after the first


@pytest.mark.parametrize("operation", STREAMS)
def test_latency_faults_without_a_floor_behave_as_they_always_did(operation: OperationName) -> None:
    fake = FakeTime()
    respond(operation, fake, min_first_byte_ms=0, faults=Faults(first_byte_ms=100, per_token_ms=10))
    assert fake.waits[0] == pytest.approx(0.1)
    assert fake.waits[1:] == [pytest.approx(0.01)] * len(fake.waits[1:]) and len(fake.waits) > 2


def test_paced_per_token_fault_adds_to_the_rate() -> None:
    fake = FakeTime()
    respond(OperationName.CONVERSE_STREAM, fake, pace=Pace.BEDROCK, faults=Faults(per_token_ms=10))
    per_token = 1 / pace_for(MODEL).tokens_per_s
    *tokens, before_stop = fake.waits[1:]
    assert tokens and all(wait >= per_token + 0.01 - 1e-9 for wait in tokens)
    assert before_stop == pytest.approx(0.01)  # the stop event carries no token: the fault's wait alone


def test_many_paced_streams_share_the_loop_fairly(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each stream's waits are awaits that hand the loop to the others: every stream asks for its first wait
    # before any asks for its second. A blocking sleep would fail this test outright.
    def no_blocking_sleep(seconds: float) -> None:
        raise AssertionError("a blocking sleep on the event loop")

    monkeypatch.setattr(time, "sleep", no_blocking_sleep)
    order: list[int] = []

    async def stream(index: int) -> int:
        async def sleep(seconds: float) -> None:
            order.append(index)
            await asyncio.sleep(0)

        pacing = Pacing(pace=Pace.BEDROCK, sleep=sleep, clock=lambda: 0.0)
        fake = FakeTime()
        call = make_call(OperationName.CONVERSE_STREAM, pacing, fake, engine=create_engine("builtin"), faults=Faults())
        call = replace(call, started=0.0)
        response = await HANDLERS[call.operation.name](call)
        assert isinstance(response, EventStreamResponse)
        return len([frame async for frame in response.frames])

    async def run(count: int) -> list[int]:
        return await asyncio.gather(*(stream(index) for index in range(count)))

    counts = asyncio.run(run(50))
    assert len(set(counts)) == 1 and counts[0] > 3
    assert sorted(order[:50]) == list(range(50)), "a stream waited twice before every stream had waited once"


def test_config_travels_to_workers_and_is_checked() -> None:
    config = RuntimeConfig(min_first_byte_ms=2.5, pace="bedrock")
    again = RuntimeConfig.from_env({"MISTRAL_BEDROCK_RUNTIME": config.to_env()})
    assert (again.min_first_byte_ms, again.pace) == (2.5, "bedrock")
    assert Pacing.from_config(again) == Pacing(min_first_byte_ms=2.5, pace=Pace.BEDROCK)
    with pytest.raises(ValueError, match="unknown pace 'fast'"):
        Pacing.from_config(RuntimeConfig(pace="fast"))
    with pytest.raises(ValueError, match="min_first_byte_ms must be 0 or more"):
        Pacing.from_config(RuntimeConfig(min_first_byte_ms=-1))


def _first_byte_after(url: str, path: str, body: dict[str, Any]) -> float:
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer test"}, timeout=30) as client:
        client.post(path, json=body).raise_for_status()  # warm: the tokenizer loads on the first request
        started = time.perf_counter()
        with client.stream("POST", path, json=body) as response:
            response.raise_for_status()
            next(response.iter_raw())
            return time.perf_counter() - started


@pytest.mark.parametrize("suffix", ["invoke-with-response-stream", "invoke"])
def test_a_real_server_starts_no_response_sooner_than_the_minimum(suffix: str) -> None:
    floor_ms = 60.0
    with ServerThread(config=RuntimeConfig(min_first_byte_ms=floor_ms)) as server:
        elapsed = _first_byte_after(server.url, f"/model/{MODEL}/{suffix}", CHAT_BODY)
    assert elapsed >= floor_ms / 1000  # a lower bound: no load can make a response come sooner


def test_stream_frames_stay_whole_when_paced() -> None:
    fake = FakeTime()
    frames = respond(OperationName.INVOKE_MODEL_WITH_RESPONSE_STREAM, fake, pace=Pace.BEDROCK)
    last = json.loads(decode_message(frames[-1]).payload)
    assert "bytes" in last
    chunk = json.loads(base64.b64decode(last["bytes"]))
    assert chunk["choices"][0]["stop_reason"] == "stop"
    assert chunk["amazon-bedrock-invocationMetrics"]["firstByteLatency"] >= 0


class SlowEventsEngine:
    """The built-in engine, taking ``work_ms`` of fake time to produce each event (the time a loaded runtime
    spends encoding and sending an event, and waiting for its turn on the loop)."""

    name = "slow-events"

    def __init__(self, fake: FakeTime, work_ms: float) -> None:
        self.fake = fake
        self.work = work_ms / 1000
        self.inner = create_engine("builtin")
        self.events = 0

    async def generate(self, request: ParsedRequest) -> AsyncIterator[EngineEvent]:
        async for event in self.inner.generate(request):
            self.fake.now += self.work
            self.events += 1
            yield event


@pytest.mark.parametrize(("work_ms", "per_token_ms"), [(3, 10), (25, 10)])
def test_the_per_token_fault_keeps_its_rate_however_long_each_event_takes(work_ms: float, per_token_ms: float) -> None:
    # Deadlines, not sleeps from now: the time spent between two events counts toward the gap, so the gap is the
    # fault's (or the work's, when the work alone takes longer: the stream then never waits).
    fake = FakeTime()
    pacing = Pacing(min_first_byte_ms=0, sleep=fake.sleep, clock=fake.clock)
    engine = SlowEventsEngine(fake, work_ms)
    operation = OperationName.CONVERSE_STREAM
    call = make_call(operation, pacing, fake, engine=engine, faults=Faults(per_token_ms=per_token_ms))

    async def run() -> float:
        response = await HANDLERS[operation](call)
        assert isinstance(response, EventStreamResponse)
        first = fake.now  # the first event is out: the others follow on the stream's schedule
        async for _ in response.frames:
            pass
        return fake.now - first

    elapsed = asyncio.run(run())
    gaps = engine.events - 1
    assert gaps > 3
    if work_ms < per_token_ms:
        assert fake.waits == [pytest.approx((per_token_ms - work_ms) / 1000)] * gaps
    else:
        assert fake.waits == []
    assert elapsed == pytest.approx(gaps * max(work_ms, per_token_ms) / 1000)
