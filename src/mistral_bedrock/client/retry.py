"""Retries: exponential backoff with full jitter, bounded by attempts and by a total deadline.

Retried, as botocore retries them for bedrock-runtime: the retryable AWS codes (throttling, ModelNotReady,
InternalServer, ServiceUnavailable), the statuses of :data:`RETRYABLE_STATUSES` whatever their code, and connection
failures. Never retried: any other status (a ``501 Not Implemented`` will not be implemented on a second try), and
a stream that has already delivered data (its caller has seen partial output).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..errors import BedrockError, MistralBedrockError, TransportError

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy"]

#: The statuses botocore retries whatever the code (its legacy and standard modes together): throttling (429, and
#: 509 in legacy mode) and the transient server and gateway failures.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 509})


@dataclass(frozen=True)
class RetryPolicy:
    """How to retry.

    Attributes:
        max_attempts: Total attempts, the first included (botocore's default is 5 too).
        base_delay: Seconds; attempt ``n`` waits up to ``base_delay * 2**(n-1)``, with full jitter.
        max_delay: Cap on one wait, in seconds.
        deadline: Cap on the whole call including waits, in seconds; None for no cap.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    deadline: float | None = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    @staticmethod
    def retryable(error: MistralBedrockError) -> bool:
        if isinstance(error, BedrockError):
            return error.retryable or error.status in RETRYABLE_STATUSES
        return isinstance(error, TransportError)

    def next_delay(self, attempt: int, error: MistralBedrockError, elapsed: float) -> float | None:
        """The wait before attempt ``attempt + 1``, or None to give up and raise ``error``."""
        if attempt >= self.max_attempts or not self.retryable(error):
            return None
        delay = self.rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        if self.deadline is not None and elapsed + delay > self.deadline:
            return None
        return delay
