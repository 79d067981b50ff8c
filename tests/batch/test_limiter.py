"""The runner's pacing: reservations and refunds, the windows' bounds, AIMD, and what each record reserves.

Time is simulated: the limiter takes a clock and a sleep, and the tests give it a virtual clock whose sleep moves
time forward (applying, on the way, the settlements that fall due), so the bounds are checked exactly.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import random
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.config import Config

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.runner import Limiter, RunSettings
from mistral_bedrock.batch.runner.limiter import FLOOR, Ticket, WindowLimit
from mistral_bedrock.batch.runner.reservation import reserved_tokens
from mistral_bedrock.catalog import resolve
from mistral_bedrock.runtime import RuntimeConfig, ServerThread

SETTINGS = RunSettings(window_s=10, margin_s=0)
#: 60,000 a minute: 10,000 a window, 1,000 a second; charges up to 500 are small.
LIMIT = 60_000


def filled(settings: RunSettings = SETTINGS, *, at: float = 0, limit: WindowLimit | None = None) -> WindowLimit:
    """A limit whose window holds a full budget of small charges made at ``at`` (the pace given 10 s of slack)."""
    limit = limit or WindowLimit(LIMIT, replace(settings, burst_s=10), now=at)
    for _ in range(25):
        assert limit.fits(400, now=at)
        limit.charge(400, now=at)
    return limit


def test_a_reservation_holds_the_minute_until_it_settles_to_what_was_used() -> None:
    limit = WindowLimit(LIMIT, SETTINGS, now=0)
    charge = limit.charge(50_000, now=0)
    assert not limit.fits(20_000, now=1)
    limit.settle(charge, 30_000)
    assert limit.fits(20_000, now=1) and limit.fits(30_000, now=1) and not limit.fits(30_001, now=1)


def test_small_charges_fill_a_window_and_wait_for_its_oldest_to_leave() -> None:
    limit = filled()
    assert not limit.fits(400, now=9.99)
    assert limit.blocked_until(400, now=9.99) == 10
    assert limit.fits(400, now=10)


def test_a_settlement_gives_the_window_back_what_was_not_used() -> None:
    limit = WindowLimit(LIMIT, replace(SETTINGS, burst_s=10), now=0)
    first = limit.charge(400, now=0)
    for _ in range(24):
        limit.charge(400, now=0)
    assert not limit.fits(400, now=1)
    limit.settle(first, 0)
    assert limit.fits(400, now=1)


def test_the_minute_binds_under_a_lowered_limit() -> None:
    limit = filled()
    for start in range(10, 50, 10):
        filled(limit=limit, at=start)
    limit.current = 50_000
    assert not limit.fits(1, now=55) and limit.fits(1, now=60.5)


def test_the_margin_keeps_a_charge_in_its_window_a_little_longer() -> None:
    limit = filled(replace(SETTINGS, margin_s=0.1))
    assert limit.blocked_until(400, now=10) == pytest.approx(10.1)
    assert limit.fits(400, now=10.1)


def test_a_large_charge_is_held_to_the_minute_alone_and_counts_in_the_window() -> None:
    limit = WindowLimit(LIMIT, replace(SETTINGS, burst_s=10), now=0)
    for _ in range(24):
        limit.charge(400, now=0)
    assert limit.fits(40_000, now=0)  # the window is almost full, the minute is not
    limit.charge(40_000, now=0)
    assert not limit.fits(10_401, now=0)  # the minute: 9,600 + 40,000 + 10,401 > 60,000
    assert not limit.fits(400, now=5)  # a small one sees it in the window
    assert limit.fits(400, now=10)


def test_a_run_starts_with_about_burst_s_worth_then_spreads_charges_at_the_rate() -> None:
    limit = WindowLimit(LIMIT, SETTINGS, now=0)  # 1,000 a second, one second of slack
    admitted = 0
    while limit.fits(300, now=0):
        limit.charge(300, now=0)
        admitted += 300
    assert admitted == 1_200  # a second's worth, and the charge that crossed it
    assert limit.blocked_until(300, now=0) == pytest.approx(0.2)
    assert limit.fits(300, now=0.2) and not limit.fits(300, now=0.19)


def test_aimd_cuts_on_throttling_and_recovers_per_calm_window_up_to_the_limit() -> None:
    limit = WindowLimit(1000, SETTINGS, now=0)
    limit.throttled(now=0)
    assert limit.current == pytest.approx(700)
    limit.calm(now=9)
    assert limit.current == pytest.approx(700)
    limit.calm(now=10)
    assert limit.current == pytest.approx(735)
    limit.calm(now=40)  # three more calm windows
    assert limit.current == pytest.approx(700 * 1.05**4)
    limit.calm(now=1000)
    assert limit.current == 1000
    for _ in range(100):
        limit.throttled(now=1000)
    assert limit.current == pytest.approx(1000 * FLOOR)


class VirtualTime:
    """A clock and a sleep over simulated time; a settlement due during a sleep happens at its moment and ends
    the sleep there, as a real settlement wakes a waiting limiter."""

    def __init__(self, limiter_of: Any = None) -> None:
        self.now = 0.0
        self.due: list[tuple[float, int, Ticket, int]] = []
        self.limiter: Limiter | None = limiter_of
        self.sequence = 0

    def clock(self) -> float:
        return self.now

    def settle_later(self, at: float, ticket: Ticket, used: int) -> None:
        self.sequence += 1
        heapq.heappush(self.due, (at, self.sequence, ticket, used))

    def advance(self, until: float) -> None:
        while self.due and self.due[0][0] <= until:
            at, _, ticket, used = heapq.heappop(self.due)
            self.now = max(self.now, at)
            assert self.limiter is not None
            self.limiter.settle(ticket, used, throttled=False)
        self.now = max(self.now, until)

    async def sleep(self, seconds: float) -> None:
        """Sleep until ``seconds`` have passed, or until the first settlement due before then wakes the sleeper."""
        until = self.now + seconds
        if self.due and self.due[0][0] <= until:
            until = self.due[0][0]
        self.advance(until)


def simulate(
    settings: RunSettings, requests: int, seed: int, max_tokens_choices: tuple[int, ...] = (64, 128, 192)
) -> list[tuple[float, int, int]]:
    """Admit ``requests`` records as fast as the limits allow; each settles 0-3 s after it starts.

    Returns:
        (start, reserved, used) per request.
    """
    rng = random.Random(seed)
    time = VirtualTime()
    limiter = Limiter(settings, time.clock, time.sleep)
    time.limiter = limiter
    admitted: list[tuple[float, int, int]] = []

    async def drive() -> None:
        for _ in range(requests):
            input_tokens, max_tokens = rng.randint(20, 300), rng.choice(max_tokens_choices)
            used = input_tokens + rng.randint(1, max_tokens)
            ticket = await limiter.acquire(input_tokens + max_tokens)
            admitted.append((time.now, input_tokens + max_tokens, used))
            time.settle_later(time.now + rng.uniform(0, 3), ticket, used)
        time.advance(float("inf"))

    asyncio.run(drive())
    return admitted


def window_sums(events: list[tuple[float, int]], length: float) -> Iterator[int]:
    """The sum over every window ``[t, t + length)`` that starts at an event."""
    end, total = 0, 0
    for start, (at, _) in enumerate(events):
        while end < len(events) and events[end][0] < at + length:
            total += events[end][1]
            end += 1
        yield total
        total -= events[start][1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tokens_never_exceed_the_limit_over_any_window_and_reach_it_under_load(seed: int) -> None:
    tpm = 60_000
    admitted = simulate(RunSettings(tokens_per_minute=tpm, window_s=10), 3_000, seed)
    used = [(at, tokens) for at, _, tokens in admitted]
    assert max(window_sums(used, 10)) <= tpm / 6
    assert max(window_sums(used, 60)) <= tpm
    # A whole number of windows holds as one; a span in between, to its whole windows' worth.
    assert max(window_sums(used, 30)) <= tpm / 2
    assert max(window_sums(used, 25)) <= tpm / 2
    # Under steady demand the rate is the limit, less the reservations not yet settled and the margin (1 %).
    duration = admitted[-1][0] - admitted[0][0]
    rate = sum(tokens for _, tokens in used[:-1]) / duration * 60
    assert 0.92 * tpm <= rate <= tpm


def test_large_reservations_are_held_to_the_minute_without_starving_the_run() -> None:
    tpm = 60_000
    # Records without max_tokens reserve the model's maximum, 8,192, and use a few hundred tokens.
    admitted = simulate(RunSettings(tokens_per_minute=tpm), 2_000, seed=5, max_tokens_choices=(8_192,))
    used = [(at, tokens) for at, _, tokens in admitted]
    assert max(window_sums(used, 60)) <= tpm
    # Reservations in flight hold 8,192 each until they settle (0-3 s), as on Bedrock; the rest of the minute's
    # quota goes to the tokens used. Held to a 10 s window, each record would have waited for a near-empty one.
    duration = admitted[-1][0] - admitted[0][0]
    assert sum(tokens for _, tokens in used[:-1]) / duration * 60 >= 0.5 * tpm


def test_requests_per_minute_hold_from_the_first_second() -> None:
    admitted = simulate(RunSettings(requests_per_minute=120, window_s=10), 600, seed=4)
    starts = [(at, 1) for at, _, _ in admitted]
    assert max(window_sums(starts, 10)) == 20
    assert max(window_sums(starts, 60)) == 120
    # 600 requests at 120 a minute take five minutes, a little more for the margin (20 per 10.1 s at most).
    assert 298.5 <= admitted[-1][0] <= 300 * 10.1 / 10
    # Spread: never more than two a second beyond the second of slack.
    assert max(window_sums(starts, 1)) <= 2 + 2


def test_a_waiter_is_woken_by_a_settlement_before_its_sleep_ends() -> None:
    async def scenario() -> float:
        now = [0.0]
        forever = asyncio.Event()

        async def sleep(seconds: float) -> None:
            await forever.wait()  # never set: only a settlement can wake the waiter

        limiter = Limiter(RunSettings(tokens_per_minute=LIMIT), lambda: now[0], sleep)
        first = await limiter.acquire(50_000)  # most of the minute: the next charge waits for it to leave
        waiter = asyncio.create_task(limiter.acquire(20_000))
        await asyncio.sleep(0)
        assert not waiter.done()
        now[0] = 2.0
        limiter.settle(first, 30_000, throttled=False)
        second = await asyncio.wait_for(waiter, timeout=10)
        assert second.tokens is not None
        return second.tokens.at

    assert asyncio.run(scenario()) == 2.0


def test_without_limits_nothing_waits_or_reads_the_clock() -> None:
    def clock() -> float:
        raise AssertionError("the clock was read")

    limiter = Limiter.__new__(Limiter)
    limiter.__init__(RunSettings(), lambda: 0.0, asyncio.sleep)  # type: ignore[misc]
    limiter._clock = clock
    assert asyncio.run(limiter.acquire(10**9)) == Ticket(None)
    assert limiter.rates() == (None, None) and not limiter.counts_tokens


def test_throttling_lowers_the_rates_a_limiter_reports() -> None:
    limiter = Limiter(RunSettings(requests_per_minute=100, tokens_per_minute=1000), lambda: 0.0, asyncio.sleep)
    ticket = asyncio.run(limiter.acquire(10))
    limiter.settle(ticket, 0, throttled=True)
    assert limiter.rates() == (pytest.approx(70), pytest.approx(700))


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"concurrency": 0}, "concurrency must be at least 1, not 0"),
        ({"tokens_per_minute": -5}, "tokens_per_minute must be positive, not -5"),
        ({"requests_per_minute": 0}, "requests_per_minute must be positive, not 0"),
        ({"max_attempts": 0}, "max_attempts must be at least 1, not 0"),
        ({"window_s": 7}, "window_s must divide 60, not 7"),
        ({"decrease": 1.5}, "decrease must lie between 0 and 1, not 1.5"),
    ],
)
def test_bad_settings_are_refused_by_name(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        RunSettings(**changes)


@pytest.fixture(scope="module")
def oracle() -> Iterator[Any]:
    """boto3 against the runtime: the input counts it reports are what Bedrock would reserve."""
    with ServerThread(config=RuntimeConfig(min_first_byte_ms=0)) as server:
        yield boto3.client(
            "bedrock-runtime", region_name="us-east-1", endpoint_url=server.url, aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("model", "body"),
    [
        ("mistral.mistral-7b-instruct-v0:2", {"prompt": "<s>[INST] How far is the Moon? [/INST]", "max_tokens": 77}),
        (
            "mistral.mistral-large-2402-v1:0",
            {"messages": [{"role": "user", "content": "Name three rivers"}], "max_tokens": 9},
        ),
        (
            "mistral.ministral-3-8b-instruct",
            {
                "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Où est Lyon ?"}],
                "max_tokens": 31,
            },
        ),
    ],
)
def test_a_native_record_reserves_its_exact_input_count_plus_max_tokens(
    oracle: Any, model: str, body: dict[str, Any]
) -> None:
    response = oracle.invoke_model(modelId=model, body=json.dumps(body))
    counted = int(response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-input-token-count"])
    spec = resolve(model).spec
    assert reserved_tokens(spec, InvocationType.INVOKE_MODEL, body) == counted + body["max_tokens"]
    del body["max_tokens"]
    assert reserved_tokens(spec, InvocationType.INVOKE_MODEL, body) == counted + spec.max_output


def test_a_converse_record_reserves_its_input_count_plus_max_tokens(oracle: Any) -> None:
    model = "mistral.mistral-large-2402-v1:0"
    request: dict[str, Any] = {
        "messages": [{"role": "user", "content": [{"text": "Summarise the plot of Hamlet"}]}],
        "system": [{"text": "Answer in one line."}],
        "inferenceConfig": {"maxTokens": 50},
    }
    counted = oracle.converse(modelId=model, **request)["usage"]["inputTokens"]
    assert reserved_tokens(resolve(model).spec, InvocationType.CONVERSE, request) == counted + 50


def test_a_record_that_does_not_parse_reserves_nothing() -> None:
    spec = resolve("mistral.mistral-7b-instruct-v0:2").spec
    assert reserved_tokens(spec, InvocationType.INVOKE_MODEL, {"prompt": 5}) == 0
    assert reserved_tokens(spec, InvocationType.CONVERSE, {"messages": "no"}) == 0
