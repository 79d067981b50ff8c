"""Where a run stands, for a progress display: counts, rates and the limits in force."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Progress", "Tally"]


@dataclass(frozen=True)
class Progress:
    """One report of a run's progress (the runner calls its ``progress`` callback with these).

    Attributes:
        done: Records written by this run (successes and errors).
        errors: Of those, records written as errors.
        resumed: Records an earlier run had written, skipped.
        retries: Attempts beyond each record's first.
        in_flight: Records being answered now (started, not yet written).
        input_tokens: Tokens read by the records written by this run.
        output_tokens: Tokens written by them.
        elapsed: Seconds since the run started.
        requests_per_minute: The requests-per-minute limit in force now (lowered by throttling); None if unset.
        tokens_per_minute: The tokens-per-minute limit in force now; None if unset.
    """

    done: int
    errors: int
    resumed: int
    retries: int
    in_flight: int
    input_tokens: int
    output_tokens: int
    elapsed: float
    requests_per_minute: float | None
    tokens_per_minute: float | None

    @property
    def records_per_second(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def tokens_per_second(self) -> float:
        """Input and output tokens together, as the on-demand quota counts them."""
        return (self.input_tokens + self.output_tokens) / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class Tally:
    """The running counts a :class:`Progress` is made from."""

    done: int = 0
    errors: int = 0
    retries: int = 0
    in_flight: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
