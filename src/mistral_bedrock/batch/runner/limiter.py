"""Client-side pacing under Bedrock's on-demand quotas: requests per minute and tokens per minute.

Tokens are charged as Bedrock charges them [D]: at the start of a request, ``input_tokens + max_tokens`` is
reserved; when it ends, the charge is settled to what it used (``input_tokens + output_tokens``), and the difference
goes back. A request that failed used nothing. Each quota (:class:`WindowLimit`) keeps a log of its charges and
admits a new one only under three rules:

* **The minute**, always: the charges of the last 60 seconds, the new one included, stay within the limit ``L``. This
  is the quota itself, reservations counted until they settle, as Bedrock counts them. A charge larger than the
  whole limit is admitted alone, into an empty minute.
* **The window**: the charges of the last ``window_s`` seconds (10 by default) stay within ``L * window_s / 60``. So
  no span of a whole number of windows carries more than its share of the limit (a span in between, 25 s, at most
  its whole windows' worth, 30 s), and a run does not spend a minute's quota in its first second, as a token bucket
  holding a minute's worth would (twice the limit over the first minute), nor start every minute with a burst.
* **The pace** (:class:`Pace`): a charge starts once those before it are paid off at the limit's rate, less
  ``burst_s`` seconds (1 by default) of slack, so a run starts with about a second's worth rather than a window's.

A charge is admitted only while its whole reservation fits, so under steady demand about one reservation per window
stays unused, and reservations in flight hold their share until they settle. The window and the pace therefore
apply only to **small** charges, at most :data:`SMALL_SHARE` of a window's budget, which they cost at most 5 % of
the rate. A larger reservation (a record without ``max_tokens`` reserves the model's maximum, 8k to 40k tokens) is
held to the minute alone, as Bedrock holds it: under the window it would wait for an almost empty window, and under
the pace it would hold back every record after it until it settles; either would leave most of the quota unused.
Small charges still see it in the window's sum.

The rules are checked at admission; a request reaches Bedrock a little later, by a delay that varies (the process is
descheduled, the network queues), so two requests admitted just over ``window_s`` apart may arrive just under it.
Each charge therefore stays in its spans ``margin_s`` (0.1 s) longer than they last, which costs about 1 % of the
rate and keeps the bounds where the requests arrive [I].

AIMD: a ``ThrottlingException`` multiplies each limit's current value by ``decrease`` (0.7); every ``window_s``
without one adds ``increase`` (5 %) of it back, never above the configured limit, and never below
:data:`FLOOR` of it (so a run of throttles cannot stall the run for ever).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .settings import RunSettings

__all__ = ["FLOOR", "MINUTE", "SMALL_SHARE", "Charge", "Limiter", "Pace", "Ticket", "WindowLimit"]

MINUTE = 60.0
#: The lowest a limit falls under throttling, as a fraction of its configured value.
FLOOR = 0.01
#: The largest charge held to the window and the pace, as a share of the window's budget (see above).
SMALL_SHARE = 0.05


class Charge:
    """One admitted request's charge against a quota; its amount changes once, when the request settles."""

    __slots__ = ("amount", "at", "in_minute", "in_window", "paced")

    def __init__(self, at: float, amount: float, *, paced: bool) -> None:
        self.at = at
        self.amount = amount
        self.paced = paced  # a small charge, which the pace counted
        self.in_window = True
        self.in_minute = True


class _Span:
    """The charges of the last ``length`` seconds and their sum."""

    def __init__(self, length: float) -> None:
        self.length = length
        self.charges: deque[Charge] = deque()
        self.total = 0.0

    def expire(self, now: float, member: str) -> None:
        while self.charges and self.next_expiry() <= now:  # the very sum next_expiry() reports, so no rounding gap
            charge = self.charges.popleft()
            self.total -= charge.amount
            setattr(charge, member, False)
        if not self.charges:
            self.total = 0.0  # no float residue from many refunds

    def fits(self, amount: float, budget: float) -> bool:
        return not self.charges or self.total + amount <= budget

    def next_expiry(self) -> float:
        return self.charges[0].at + self.length


class Pace:
    """Charges spread at a rate: a charge may start once every earlier one is paid off at that rate, less ``slack``
    seconds (the generic cell rate algorithm's theoretical arrival time). A large charge is let through when its turn
    comes and pushes the next ones back by its own cost, so no size waits for ever."""

    def __init__(self, now: float, slack: float) -> None:
        self.paid_until = now
        self.slack = slack

    def ready_at(self) -> float:
        return self.paid_until - self.slack

    def charge(self, amount: float, rate: float, now: float) -> None:
        self.paid_until = max(self.paid_until, now) + amount / rate

    def refund(self, amount: float, rate: float) -> None:
        self.paid_until -= amount / rate


class WindowLimit:
    """One quota (requests, or tokens) per minute, with AIMD; see the module's docstring.

    Args:
        limit: The configured quota per minute.
        settings: ``window_s``, ``margin_s``, ``burst_s``, ``decrease`` and ``increase``.
        now: The time the limit starts at.
    """

    def __init__(self, limit: float, settings: RunSettings, now: float) -> None:
        self.limit = limit
        self.current = limit
        # A charge stays in its spans ``margin_s`` longer than they last, so that spans measured where the
        # requests arrive hold too, however much later than their admission each one gets there.
        self._window = _Span(settings.window_s + settings.margin_s)
        self._minute = _Span(MINUTE + settings.margin_s)
        self._calm_window = settings.window_s
        self._pace = Pace(now, settings.burst_s)
        self._share = settings.window_s / MINUTE
        self._decrease = settings.decrease
        self._increase = settings.increase
        self._calm_since = now

    @property
    def _rate(self) -> float:
        """The current limit per second."""
        return self.current / MINUTE

    def _small(self, amount: float) -> bool:
        return amount <= SMALL_SHARE * self.current * self._share

    def blocked_until(self, amount: float, now: float) -> float | None:
        """None when ``amount`` may be charged at ``now``; else the earliest time it might be, barring a settlement
        (every rule that refuses it must change first, and none changes before the time given for it)."""
        self._window.expire(now, "in_window")
        self._minute.expire(now, "in_minute")
        small = self._small(amount)
        rules: tuple[tuple[bool, Callable[[], float]], ...] = (
            (self._minute.fits(amount, self.current), self._minute.next_expiry),
            (not small or self._window.fits(amount, self.current * self._share), self._window.next_expiry),
            (not small or self._pace.ready_at() <= now, self._pace.ready_at),
        )
        waits = [until() for allowed, until in rules if not allowed]
        return max(waits) if waits else None

    def fits(self, amount: float, now: float) -> bool:
        """Whether ``amount`` may be charged at ``now``."""
        return self.blocked_until(amount, now) is None

    def charge(self, amount: float, now: float) -> Charge:
        charge = Charge(now, amount, paced=self._small(amount))
        for span in (self._window, self._minute):
            span.charges.append(charge)
            span.total += amount
        if charge.paced:
            self._pace.charge(amount, self._rate, now)
        return charge

    def settle(self, charge: Charge, amount: float) -> None:
        """Replace ``charge``'s reservation with what the request used, in the spans it still counts in, and
        give the pace back the time the difference was charged."""
        difference = amount - charge.amount
        charge.amount = amount
        if charge.in_window:
            self._window.total += difference
        if charge.in_minute:
            self._minute.total += difference
        if charge.paced:
            self._pace.refund(-difference, self._rate)

    def throttled(self, now: float) -> None:
        self.current = max(self.current * self._decrease, self.limit * FLOOR)
        self._calm_since = now

    def calm(self, now: float) -> None:
        """A request succeeded: raise the rate by one step per whole throttle-free window."""
        while self.current < self.limit and now - self._calm_since >= self._calm_window:
            self.current = min(self.limit, self.current * (1 + self._increase))
            self._calm_since += self._calm_window
        if self.current >= self.limit:
            self._calm_since = now


def _limit(per_minute: float | None, settings: RunSettings, now: float) -> WindowLimit | None:
    return None if per_minute is None else WindowLimit(per_minute, settings, now)


@dataclass(frozen=True)
class Ticket:
    """What one admitted attempt charged: its token charge, settled when the attempt ends (None: no TPM limit)."""

    tokens: Charge | None


class Limiter:
    """The quotas of one run: requests per minute and tokens per minute, admitted together.

    Waiters are served in turn (an ``asyncio.Lock`` is fair), so a large reservation is not overtaken for ever by
    small ones. A waiter sleeps until every rule that refuses it may allow it (a charge leaves a window, the pace
    catches up), or until a request settles and gives tokens back, whichever comes first.

    Args:
        settings: The limits and their AIMD factors.
        clock: Seconds, monotonic.
        sleep: Waits that many seconds.
    """

    def __init__(
        self, settings: RunSettings, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]
    ) -> None:
        now = clock()
        self.requests = _limit(settings.requests_per_minute, settings, now)
        self.tokens = _limit(settings.tokens_per_minute, settings, now)
        self._clock = clock
        self._sleep = sleep
        self._turn = asyncio.Lock()
        self._settled = asyncio.Event()

    @property
    def counts_tokens(self) -> bool:
        """Whether reservations matter (a token limit is set), so that records are worth counting."""
        return self.tokens is not None

    async def acquire(self, tokens: int) -> Ticket:
        """Wait until one request reserving ``tokens`` fits every limit, and charge it."""
        if self.requests is None and self.tokens is None:
            return Ticket(None)
        async with self._turn:
            while True:
                now = self._clock()
                waits = [
                    until
                    for limit, amount in ((self.requests, 1.0), (self.tokens, float(tokens)))
                    if limit is not None and (until := limit.blocked_until(amount, now)) is not None
                ]
                if not waits:
                    break
                await self._wait(max(waits) - now)
            if self.requests is not None:
                self.requests.charge(1.0, now)
            return Ticket(None if self.tokens is None else self.tokens.charge(float(tokens), now))

    async def _wait(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if a request settles meanwhile."""
        self._settled.clear()
        sleeper = asyncio.ensure_future(self._sleep(max(delay, 0.0)))
        settled = asyncio.ensure_future(self._settled.wait())
        try:
            await asyncio.wait((sleeper, settled), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, settled):
                task.cancel()

    def settle(self, ticket: Ticket, used: int, *, throttled: bool) -> None:
        """The attempt ended having used ``used`` tokens; ``throttled`` when Bedrock refused it for the rate."""
        now = self._clock()
        if ticket.tokens is not None and self.tokens is not None:
            self.tokens.settle(ticket.tokens, float(used))
            self._settled.set()
        for limit in (self.requests, self.tokens):
            if limit is not None:
                (limit.throttled if throttled else limit.calm)(now)

    def rates(self) -> tuple[float | None, float | None]:
        """The current requests-per-minute and tokens-per-minute limits (after AIMD); None where unset."""
        return (
            None if self.requests is None else self.requests.current,
            None if self.tokens is None else self.tokens.current,
        )
