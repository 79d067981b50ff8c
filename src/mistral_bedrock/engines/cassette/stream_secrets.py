"""Secrets a stream spells across frames: a model that repeats a key streams it a few characters per event.

Each frame's strings are scanned on their own (:mod:`.secrets`); this joins the pieces of one streamed field — the
same path in successive frames, such as ``payload.delta.text`` — and scans the text they make together. What is
found is redacted across the pieces: the marker goes where the secret starts, and the rest of its characters are
taken out of the frames that carried them, so the stream still reads as the redacted text.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import MutableMapping, MutableSequence, Sequence
from typing import Any

from .secrets import Finding, SecretScanner

__all__ = ["stream_findings"]

# A streamed string: the container that holds it and its key there.
_Slot = tuple[MutableMapping[str, Any] | MutableSequence[Any], Any]


def _slots(node: Any, path: str, into: dict[str, list[_Slot]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                into.setdefault(f"{path}.{key}", []).append((node, key))
            else:
                _slots(value, f"{path}.{key}", into)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, str):
                into.setdefault(f"{path}[{index}]", []).append((node, index))
            else:
                _slots(value, f"{path}[{index}]", into)


def stream_findings(events: Sequence[dict[str, Any]], scanner: SecretScanner, *, redact: bool) -> list[Finding]:
    """The secrets that only the joined pieces of a streamed field hold; with ``redact``, taken out in place."""
    channels: dict[str, list[_Slot]] = {}
    for entry in events:
        for part in ("payload", "chunk"):
            if part in entry:
                _slots(entry[part], part, channels)
    findings: list[Finding] = []
    for path, slots in channels.items():
        if len(slots) < 2:
            continue  # one piece was scanned whole already
        pieces = [str(container[key]) for container, key in slots]
        joined = "".join(pieces)
        cleaned, found = scanner.redact(joined)
        if not found:
            continue
        findings += [Finding(f.kind, f"response.events[*].{path} (joined)", f.encoding) for f in found]
        if redact:
            for (container, key), piece in zip(slots, _spread(pieces, joined, str(cleaned)), strict=True):
                container[key] = piece
    return findings


def _spread(pieces: list[str], joined: str, cleaned: str) -> list[str]:
    """``cleaned`` cut back into pieces: text kept stays in its piece, replacements go to the piece they start in."""
    starts = [0]
    for text in pieces:
        starts.append(starts[-1] + len(text))
    last = len(pieces) - 1

    def owner(position: int) -> int:
        return min(bisect.bisect_right(starts, position) - 1, last)

    out = [""] * len(pieces)
    matcher = difflib.SequenceMatcher(None, joined, cleaned, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            out[owner(min(i1, len(joined) - 1))] += cleaned[j1:j2]
            continue
        position = i1
        while position < i2:
            piece = owner(position)
            end = min(i2, starts[piece + 1]) if piece < last else i2
            out[piece] += cleaned[j1 + position - i1 : j1 + end - i1]
            position = end
    return out
