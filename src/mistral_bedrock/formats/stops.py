"""Stop reasons: one table per dialect, read and written from the same rows.

A row pairs a spelling on the wire with the neutral :data:`~mistral_bedrock.conversation.StopReason` it means.
Reading takes the first row with that spelling; writing takes the first row with that reason. So the client
(reading) and the runtime (writing) cannot disagree, and every reason keeps its meaning both ways — a guardrail
stop reads as ``guardrail_intervened``, never as a plain ``stop``.

A spelling no row knows reads as ``unknown`` (the raw spelling travels beside it), not as ``stop`` and not as
an error: Bedrock's enums grow (``model_context_window_exceeded`` is recent), AWS's own SDKs keep unknown
enum values as strings, and an answer that arrived should not turn into an exception because of a word this
package has not learnt yet — nor pass for a clean one. A stop reason that is not a string at all is a
malformed response.

Evidence for the rows is in each dialect's module; the shared Mistral rows are here.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..conversation import StopReason
from .body_types import MistralStopReason
from .fields import json_kind, malformed

__all__ = ["MISTRAL_STOPS", "STOP_REASONS", "StopTable"]

# Every neutral reason, in the Literal's order.
STOP_REASONS: tuple[StopReason, ...] = typing.get_args(StopReason)

Spelling = TypeVar("Spelling", bound=str)

# Mistral's native stop reasons (text and chat dialects). ``stop``/``length`` [S] (LiteLLM, langchain-aws),
# ``tool_calls`` [R] (a captured Bedrock chunk); ``model_length`` and ``error`` are in Mistral's own API's
# finish_reason enum [S]. What Bedrock writes in a native body when *it* stops an answer (a guardrail, a
# filter) is not documented for Mistral: Bedrock's own (Converse) names, verbatim, are the default [I] —
# Bedrock does inject ``guardrail_intervened`` into another provider's native stop_reason [R]
# (langchain-aws#214). The window-full reason is written in Mistral's spelling and read in both.
MISTRAL_STOPS: tuple[tuple[MistralStopReason, StopReason], ...] = (
    ("stop", "stop"),
    ("length", "length"),
    ("tool_calls", "tool_calls"),
    ("model_length", "model_context_window_exceeded"),
    ("error", "error"),
    ("guardrail_intervened", "guardrail_intervened"),
    ("content_filtered", "content_filtered"),
    ("malformed_model_output", "malformed_model_output"),
    ("malformed_tool_use", "malformed_tool_use"),
    ("model_context_window_exceeded", "model_context_window_exceeded"),
)


@dataclass(frozen=True)
class StopTable(Generic[Spelling]):
    """One dialect's stop-reason spellings.

    Args:
        where: Where the reason sits in a response, for error messages (``outputs[0].stop_reason``).
        rows: ``(spelling, reason)`` pairs; the first row of a spelling is how it reads, the first row of a
            reason is how it is written. Every reason but ``unknown`` must have a row (checked here, so a
            table that cannot write some reason fails at import, not on a request).
        stop_sequence: The spelling for ``stop`` when a requested stop sequence ended the answer, for
            dialects that say so (Converse's ``stop_sequence``).
    """

    where: str
    rows: Sequence[tuple[Spelling, StopReason]]
    stop_sequence: Spelling | None = None
    _read: dict[str, StopReason] = field(init=False, repr=False, compare=False)
    _write: dict[StopReason, Spelling] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        read: dict[str, StopReason] = {}
        write: dict[StopReason, Spelling] = {}
        for spelling, reason in self.rows:
            read.setdefault(spelling, reason)
            write.setdefault(reason, spelling)
        missing = [reason for reason in STOP_REASONS if reason != "unknown" and reason not in write]
        if missing or "unknown" in write:
            raise ValueError(f"the stop table of {self.where} must write every reason but 'unknown'; missing {missing}")
        object.__setattr__(self, "_read", read)
        object.__setattr__(self, "_write", write)

    def read(self, raw: object, *, required: bool = False) -> StopReason | None:
        """The neutral reason for a spelling from the wire.

        Args:
            raw: The value as received: None (no reason yet, in a stream), a string, or anything else.
            required: A missing reason is an error (a whole response always says why it ended).

        Returns:
            The reason; ``unknown`` for a string no row knows; None for a missing one.

        Raises:
            MalformedResponseError: The reason is not a string, or is required and missing.
        """
        if raw is None:
            if required:
                raise malformed(self.where, "is missing")
            return None
        if not isinstance(raw, str):
            raise malformed(self.where, f"is {json_kind(raw)}, not a string")
        return self._read.get(raw, "unknown")

    def write(self, reason: StopReason, stop_sequence: str | None = None) -> Spelling:
        """The spelling of a reason in this dialect.

        Raises:
            ValueError: For ``unknown``, which says a reader did not know a spelling; nothing can write it.
        """
        if reason == "stop" and stop_sequence and self.stop_sequence:
            return self.stop_sequence
        try:
            return self._write[reason]
        except KeyError:
            raise ValueError(f"no {self.where} spelling for stop reason {reason!r}") from None
