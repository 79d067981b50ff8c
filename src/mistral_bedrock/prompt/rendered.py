"""The result of rendering or tokenizing a prompt: its text and its token ids."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rendered"]


@dataclass(frozen=True)
class Rendered:
    """A prompt as text and as token ids.

    Attributes:
        text: The prompt text, control tokens spelled out (``<s>``, ``[INST]``, …). For a rendered
            conversation this is what a text-completion body sends as ``prompt``.
        token_ids: The token ids, BOS included.
    """

    text: str
    token_ids: tuple[int, ...]

    @property
    def count(self) -> int:
        """Number of tokens."""
        return len(self.token_ids)
