"""Counted nouns in the ``batch`` commands' messages: ``1 record``, ``2 records``, ``1,000 errors``."""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and the noun in the number it takes; ``many`` for a plural that is not ``noun + "s"``."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"
