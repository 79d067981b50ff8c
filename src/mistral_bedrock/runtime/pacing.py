"""When a response's bytes may leave the runtime: a minimum first-byte delay, and optional Bedrock-like pacing.

* **Minimum first-byte delay** (``RuntimeConfig.min_first_byte_ms``, ``serve --min-first-byte-ms``). No model
  response — streamed or whole — starts sooner than this after its request arrived. Engine time counts toward
  it: it is a floor, not an added wait. The AWS SDK for Go v2 needs it. Its HTTP transport writes a request in
  one goroutine and reads the response in another; when the response arrives while the writer is still
  finishing (microseconds after the body hits the wire), the SDK closes the request body under the writer,
  the writer takes the resulting ``EOF`` for a failed write and closes the connection, and the event stream
  being read from it ends early. The classic example programs range over the stream's events without checking
  its error, so they print a truncated answer as if it were whole; a whole response costs a silent retry
  instead (the journal shows the request twice). The writer can wait for a core for tens of milliseconds on a
  busy machine, so the default is 50 ms; real Bedrock's first byte takes hundreds, so the floor changes nothing
  a client could rely on. ``0`` turns it off, for benchmarks.
* **Pacing** (``RuntimeConfig.pace``, ``serve --pace``): ``off`` (the default) answers as fast as the engine
  allows, above the floor; ``bedrock`` times each model as Bedrock does (:mod:`mistral_bedrock.catalog.pace`):
  the first byte no sooner than the model's time to first token, then its output tokens at its tokens per
  second, and a whole response once the whole answer would have been generated.
* **Latency faults** (``--fault latency:first_byte=…,per_token=…``) come on top of both: the first-byte fault
  is waited before the engine runs (so an engine's error waits too) and also pushes the floor back, and the
  per-token fault is added between stream events.

Every wait is an ``await`` of the event loop's sleep until a deadline on the monotonic clock, never a blocking
sleep, so thousands of paced streams share one loop fairly; deadlines rather than fixed sleeps keep a stream's
rate exact however long the engine and the encoder take. Tests inject ``sleep`` and ``clock`` to observe the
requested waits instead of timing them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from mistral_bedrock.catalog import ModelSpec
from mistral_bedrock.catalog.pace import pace_for
from mistral_bedrock.engines import EngineEvent, TextDelta, ToolCallEvent
from mistral_bedrock.engines.counting import text_tokens, tool_call_tokens

from .config import DEFAULT_MIN_FIRST_BYTE_MS, RuntimeConfig
from .faults import Faults

__all__ = ["DEFAULT_PACING", "Pace", "Pacing", "ResponsePacer"]

Sleep = Callable[[float], Awaitable[None]]


class Pace(str, Enum):
    """How the runtime times answers beyond the minimum first-byte delay."""

    OFF = "off"
    BEDROCK = "bedrock"


@dataclass(frozen=True)
class Pacing:
    """A runtime's timing policy (one per app); :meth:`response` gives the pacer of one response.

    Attributes:
        min_first_byte_ms: No response starts sooner than this after its request arrived (0: no floor).
        pace: ``off`` or ``bedrock`` (per-model time to first token and output speed).
        sleep: The awaitable sleep (``asyncio.sleep`` when ``None``, looked up at each wait).
        clock: The monotonic clock in seconds that request arrival times come from.
    """

    min_first_byte_ms: float = DEFAULT_MIN_FIRST_BYTE_MS
    pace: Pace = Pace.OFF
    sleep: Sleep | None = None
    clock: Callable[[], float] = time.perf_counter

    def __post_init__(self) -> None:
        if not self.min_first_byte_ms >= 0:  # also refuses NaN
            raise ValueError(f"min_first_byte_ms must be 0 or more, got {self.min_first_byte_ms}")

    @classmethod
    def from_config(cls, config: RuntimeConfig) -> Pacing:
        """The policy a :class:`RuntimeConfig` asks for.

        Raises:
            ValueError: for an unknown pace or a negative delay.
        """
        try:
            pace = Pace(config.pace)
        except ValueError:
            choices = ", ".join(p.value for p in Pace)
            raise ValueError(f"unknown pace {config.pace!r}; expected one of {choices}") from None
        return cls(min_first_byte_ms=float(config.min_first_byte_ms), pace=pace)

    def response(self, spec: ModelSpec, started: float, faults: Faults) -> ResponsePacer:
        """The pacer of one response to a request for ``spec`` that arrived at ``started`` (``clock`` time)."""
        return ResponsePacer(self, spec, started, faults)


DEFAULT_PACING = Pacing()


class ResponsePacer:
    """The waits of one response, in the order a handler meets them.

    Streams: :meth:`before_engine`, :meth:`first_byte` once the engine's first event is ready, then
    :meth:`event` before each later event. Whole responses: :meth:`before_engine`, then :meth:`whole` once
    the engine has finished.
    """

    def __init__(self, pacing: Pacing, spec: ModelSpec, started: float, faults: Faults) -> None:
        self._sleep = pacing.sleep
        self._clock = pacing.clock
        self._spec = spec
        self._fault_first_byte = faults.first_byte_ms / 1000
        self._fault_per_token = faults.per_token_ms / 1000
        floor_ms = pacing.min_first_byte_ms
        self._seconds_per_token = 0.0
        if pacing.pace is Pace.BEDROCK:
            model = pace_for(spec.model_id)
            floor_ms = max(floor_ms, model.ttft_ms)
            self._seconds_per_token = 1 / model.tokens_per_s
        self.first_byte_at = started + floor_ms / 1000 + self._fault_first_byte
        self._due = self.first_byte_at  # when the next paced event is due

    async def _wait(self, seconds: float) -> None:
        await (self._sleep or asyncio.sleep)(seconds)

    async def _until(self, deadline: float) -> None:
        remaining = deadline - self._clock()
        if remaining > 0:
            await self._wait(remaining)

    async def before_engine(self) -> None:
        """The first-byte latency fault, waited before the engine runs, as that fault always has."""
        if self._fault_first_byte:
            await self._wait(self._fault_first_byte)

    async def first_byte(self) -> None:
        """Wait until the response may start: the floor (or the model's paced first token), faults on top."""
        await self._until(self.first_byte_at)
        # Later events are paced from when the first one actually left, as a model's tokens follow its first.
        self._due = max(self.first_byte_at, self._clock())

    async def event(self, event: EngineEvent) -> None:
        """Before a stream event after the first: its tokens at the paced rate, and the per-token fault.

        Both are deadlines on the stream's own schedule, not sleeps from now: a sleep from now adds the loop's
        scheduling delay and the time spent encoding and sending each event to every gap, so under load (1,000
        held streams) a 20 ms fault spaced events 40-50 ms apart. A stream that falls behind its schedule sends
        its late events without waiting until it has caught up, so its mean gap is the configured one.
        """
        step = self._tokens(event) * self._seconds_per_token + self._fault_per_token
        if step:
            self._due += step
            await self._until(self._due)

    async def whole(self, output_tokens: int) -> None:
        """Before a whole response: the first byte's time, plus the paced time to generate the whole answer."""
        await self._until(self.first_byte_at + output_tokens * self._seconds_per_token)

    def _tokens(self, event: EngineEvent) -> int:
        if not self._seconds_per_token:
            return 0
        if isinstance(event, TextDelta):
            # A delta is usually one token; counted, because an engine may send several in one piece.
            return max(1, text_tokens(event.text, self._spec))
        if isinstance(event, ToolCallEvent):
            return max(1, tool_call_tokens((event.call,), self._spec))
        return 0  # the stop event follows the last token at once
