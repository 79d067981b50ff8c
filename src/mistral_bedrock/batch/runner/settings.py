"""How a run goes: concurrency, the on-demand quotas to stay under, and how failed attempts are retried."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RunSettings"]


@dataclass(frozen=True)
class RunSettings:
    """The settings of one :func:`~.run.run_records` run.

    Attributes:
        concurrency: Records in flight at once.
        requests_per_minute: The on-demand requests-per-minute quota to stay under; None for no limit. Every
            attempt counts, retries included.
        tokens_per_minute: The on-demand tokens-per-minute quota to stay under, input and output counted together
            as Bedrock counts them [D]; None for no limit.
        max_attempts: Attempts per record, the first included, for retryable outcomes (throttling, a 5xx); the
            last failure is written as the record's error line.
        backoff_base: Seconds; attempt ``n`` waits up to ``backoff_base * 2**(n-1)`` before the next, with full
            jitter (a uniform draw from zero), as botocore's standard mode does.
        backoff_cap: The longest single wait, in seconds.
        window_s: The span, in seconds, over which a limit holds for small charges: no ``window_s`` seconds carry
            more than ``limit * window_s / 60`` of them, so no whole number of windows does either. It must divide
            the minute. A reservation larger than a twentieth of that budget is held to the minute alone (see
            :mod:`.limiter`).
        margin_s: Seconds a charge counts beyond its window (and its minute): the margin for the varying delay
            between admitting a request and Bedrock receiving it, so the bound holds where requests arrive [I].
        burst_s: Seconds of a limit's rate that may start at once (at the start of a run, after a pause): beyond
            it, small charges are spread at the limit's rate (see :mod:`.limiter`).
        decrease: AIMD: the factor the current rate is multiplied by on a ``ThrottlingException``.
        increase: AIMD: the fraction of its current value the rate grows by after each throttle-free ``window_s``,
            never above the configured limit.
        progress_interval: Seconds between two progress reports (and one at the end).
        seed: Seeds the backoff jitter, for a reproducible run; None draws from the system.
    """

    concurrency: int = 8
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 20.0
    window_s: float = 10.0
    margin_s: float = 0.1
    burst_s: float = 1.0
    decrease: float = 0.7
    increase: float = 0.05
    progress_interval: float = 0.25
    seed: int | None = None

    def __post_init__(self) -> None:
        problems = [message for failed, message in self._checks() if failed]
        if problems:
            raise ValueError("RunSettings: " + "; ".join(problems))

    def _checks(self) -> tuple[tuple[bool, str], ...]:
        return (
            (self.concurrency < 1, f"concurrency must be at least 1, not {self.concurrency}"),
            (
                _not_positive(self.requests_per_minute),
                f"requests_per_minute must be positive, not {self.requests_per_minute}",
            ),
            (
                _not_positive(self.tokens_per_minute),
                f"tokens_per_minute must be positive, not {self.tokens_per_minute}",
            ),
            (self.max_attempts < 1, f"max_attempts must be at least 1, not {self.max_attempts}"),
            (self.backoff_base < 0 or self.backoff_cap < 0, "backoff_base and backoff_cap must not be negative"),
            (
                not 0 < self.window_s <= 60 or (60 / self.window_s) % 1 != 0,
                f"window_s must divide 60, not {self.window_s}",
            ),
            (self.margin_s < 0, f"margin_s must not be negative, not {self.margin_s}"),
            (not 0 <= self.burst_s <= self.window_s, f"burst_s must lie between 0 and window_s, not {self.burst_s}"),
            (not 0 < self.decrease < 1, f"decrease must lie between 0 and 1, not {self.decrease}"),
            (self.increase <= 0, f"increase must be positive, not {self.increase}"),
            (self.progress_interval < 0, f"progress_interval must not be negative, not {self.progress_interval}"),
        )


def _not_positive(limit: float | None) -> bool:
    return limit is not None and not limit > 0
