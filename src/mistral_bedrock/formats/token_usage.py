"""Token counts as a body spells them: OpenAI-style ``usage`` (``prompt_tokens``…) and Converse's TokenUsage
(``inputTokens``…). Bedrock's own stream metrics are :mod:`.invocation_metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..conversation import Usage
from .fields import count, obj

__all__ = ["UsageSpelling"]


@dataclass(frozen=True)
class UsageSpelling:
    """The keys of one ``usage`` object.

    Attributes:
        input: The prompt's tokens.
        output: The answer's tokens.
        total: Their sum, written always; read only where ``total_required`` (then it must be a count).
        total_required: Whether a ``usage`` without its total is malformed.
    """

    input: str
    output: str
    total: str
    total_required: bool

    def write(self, usage: Usage) -> dict[str, int]:
        return {self.input: usage.input_tokens, self.output: usage.output_tokens, self.total: usage.total_tokens}

    def read(self, value: object, where: str) -> Usage:
        """The counts of a ``usage`` object at ``where``.

        Raises:
            MalformedResponseError: It is not an object, or a count is missing or not a whole number.
        """
        usage = obj(value, where)
        if self.total_required:
            count(usage.get(self.total), f"{where}.{self.total}")
        return Usage(
            count(usage.get(self.input), f"{where}.{self.input}"),
            count(usage.get(self.output), f"{where}.{self.output}"),
        )
