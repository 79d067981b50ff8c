"""What a test left unmet, checked at its teardown, as pytest-httpx does for its registered responses.

A scripted rule that answered nothing, or a recorded interaction never played, usually means the code under test
did not send what the test expects — the test passes only by accident. Those two fail the test unless
``assert_all_used`` is off. A cassette miss, or a recording the replay engine refused (it held a secret), always
fails it. All of them fail only a test that passed: over one that failed, was skipped or xfailed they would be noise,
or the same failure told twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from mistral_bedrock.engines.cassette import ReplayEngine
    from mistral_bedrock.engines.scripted import ScriptedEngine

__all__ = ["Section", "leftovers", "report"]


class Section(NamedTuple):
    """One kind of thing left unmet, and each of them."""

    heading: str
    items: list[str]
    unused: bool  # an unused rule or interaction, which assert_all_used=False allows


def leftovers(
    scripted: Iterable[ScriptedEngine], cassettes: Iterable[tuple[Path, ReplayEngine]], *, unused: bool
) -> list[Section]:
    """What the scripted engines and the cassettes (directory, engine) a test chose left unmet; with ``unused``
    False, only cassette misses and recording problems.

    Call it after the replay engines are closed: closing writes a recording, and may refuse it.
    """
    sections: list[Section] = []
    if unused:
        sections.extend(Section("scripted rules never used", engine.unused_rules(), True) for engine in scripted)
    for directory, engine in cassettes:
        sections.append(Section(f"cassette misses ({directory})", list(engine.misses), False))
        sections.append(Section(f"recording problems ({directory})", list(engine.problems), False))
        if unused:
            sections.append(Section(f"cassette interactions never played ({directory})", engine.unused(), True))
    return [section for section in sections if section.items]


def report(test: str, sections: list[Section]) -> str:
    """One readable block: what ``test`` left unmet, and how to allow what may be allowed."""
    lines = [f"bedrock: {test} left expectations unmet:"]
    for section in sections:
        lines.append(f"  {section.heading}:")
        lines.extend(f"    - {item}" for item in section.items)
    if any(section.unused for section in sections):
        lines.append("  Unused rules and interactions pass with assert_all_used=False (in the bedrock marker or")
        lines.append("  bedrock_config) or ini bedrock_assert_all_used = false.")
    return "\n".join(lines)
