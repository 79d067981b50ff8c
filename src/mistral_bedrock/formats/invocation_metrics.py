"""The invocation metrics of a native stream: Bedrock's ``amazon-bedrock-invocationMetrics`` object in the last
chunk of every InvokeModelWithResponseStream, whatever the dialect of the model's own chunks [BC].
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from ..conversation import StopReason, Usage
from .fields import count, obj
from .format import Event, Metrics, StreamWriter

__all__ = ["METRICS_KEY", "LastChunkWriter", "metrics_payload", "usage_from_metrics"]

METRICS_KEY = "amazon-bedrock-invocationMetrics"


def metrics_payload(usage: Usage, metrics: Metrics) -> dict[str, int]:
    """The ``amazon-bedrock-invocationMetrics`` object of a stream's last chunk."""
    return {
        "inputTokenCount": usage.input_tokens,
        "outputTokenCount": usage.output_tokens,
        "invocationLatency": metrics.invocation_latency,
        "firstByteLatency": metrics.first_byte_latency,
    }


def usage_from_metrics(chunk: Mapping[str, Any]) -> tuple[Usage | None, Mapping[str, int] | None]:
    """Usage and metrics from a stream chunk's ``amazon-bedrock-invocationMetrics``, when it has them.

    Raises:
        MalformedResponseError: The metrics are there but not an object of token counts.
    """
    raw = chunk.get(METRICS_KEY)
    if raw is None:
        return None, None
    metrics = obj(raw, METRICS_KEY)
    usage = Usage(
        count(metrics.get("inputTokenCount"), f"{METRICS_KEY}.inputTokenCount"),
        count(metrics.get("outputTokenCount"), f"{METRICS_KEY}.outputTokenCount"),
    )
    # Newer models add counts (cache reads and writes); keep every number as sent.
    numbers = {str(k): int(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return usage, numbers


class LastChunkWriter(StreamWriter):
    """A native stream's writer: its last chunk carries the stop reason, and Bedrock adds the metrics to it."""

    def finish(
        self, stop_reason: StopReason, usage: Usage, metrics: Metrics, stop_sequence: str | None = None
    ) -> list[Event]:
        event = self.last_chunk(stop_reason, usage)
        event[1][METRICS_KEY] = metrics_payload(usage, metrics)
        return [event]

    @abc.abstractmethod
    def last_chunk(self, stop_reason: StopReason, usage: Usage) -> Event:
        """The dialect's closing chunk, before the metrics are added."""
