"""Generated ids → text, as they come: whole characters only, and nothing that might still become a stop sequence.

A model's ids arrive one at a time. Decoding each alone is wrong twice over: a character may span several
byte-fallback or byte-level ids (decoded alone, each is U+FFFD), and SentencePiece's word-start marker turns into
a space only in context. :class:`IncrementalDecoder` decodes a short window of the newest ids with the project's
own decoder (:func:`~mistral_bedrock.prompt.decode`, which keeps the leading space Bedrock's text completions show)
and releases text only once its characters are complete — the technique vLLM and transformers' streamers use.

:class:`StopScanner` holds back the end of the text that could be the start of a stop sequence, so a stop sequence
is never streamed and then taken back.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...catalog import ModelSpec
from ...prompt import decode

__all__ = ["IncrementalDecoder", "StopScanner"]

_INCOMPLETE = "\ufffd"  # what decoding yields for a character whose bytes are not all there yet


class IncrementalDecoder:
    """Decodes a growing list of ids into text pieces that join to ``decode(all ids)``."""

    def __init__(self, spec: ModelSpec) -> None:
        self._spec = spec
        self._ids: list[int] = []
        self._prefix = 0  # ids before this one are behind us; decoding starts here, for context
        self._read = 0  # ids before this one have been turned into text already

    def feed(self, token_id: int) -> str:
        """The text ``token_id`` completes (often empty while a character is still incomplete)."""
        self._ids.append(token_id)
        return self._advance(final=False)

    def flush(self) -> str:
        """Whatever is held back at the end (an incomplete character is dropped, as decoding would show it)."""
        return self._advance(final=True).replace(_INCOMPLETE, "")

    def _advance(self, *, final: bool) -> str:
        before = decode(self._ids[self._prefix : self._read], self._spec) if self._read > self._prefix else ""
        text = decode(self._ids[self._prefix :], self._spec)
        if not final and (text.endswith(_INCOMPLETE) or len(text) <= len(before)):
            return ""
        # The ids just released stay as the next window's context: whether its first piece starts a word, and
        # which bytes a multi-byte character began with, depend on them.
        self._prefix, self._read = self._read, len(self._ids)
        return text[len(before) :]


class StopScanner:
    """Finds the first stop sequence in streamed text, releasing only text that cannot be the start of one."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(stop for stop in stops if stop)
        self._hold = max((len(stop) - 1 for stop in self._stops), default=0)
        self._pending = ""

    def feed(self, text: str) -> tuple[str, str | None]:
        """The text now safe to send, and the stop sequence that ended the answer (None: not yet).

        Once a stop sequence is found, the text before it is returned and nothing after it ever is.
        """
        self._pending += text
        found: tuple[int, str] | None = None
        for stop in self._stops:
            at = self._pending.find(stop)
            # The stop sequence whose match ends first wins, as it would during generation.
            if at >= 0 and (found is None or at + len(stop) < found[0] + len(found[1])):
                found = (at, stop)
        if found is not None:
            released, self._pending = self._pending[: found[0]], ""
            return released, found[1]
        cut = len(self._pending) - self._hold
        if cut <= 0:
            return "", None
        released, self._pending = self._pending[:cut], self._pending[cut:]
        return released, None

    def flush(self) -> str:
        """The text held back, once the answer ended without a stop sequence."""
        released, self._pending = self._pending, ""
        return released
