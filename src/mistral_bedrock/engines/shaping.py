"""From an intended answer to the events a model would really send: cut, counted and streamed by token.

Every engine that knows its whole answer up front (built-in, scripted) goes through :func:`shape` and
:func:`stream_events`, so they cut at ``max_tokens`` and stop sequences, count usage and split the stream the
same way:

1. The answer text is cut right before the first stop sequence it contains (the one whose match ends first,
   as during generation) — stop reason ``stop``, with ``stop_sequence`` set.
2. The text is tokenized with the model's tokenizer. More tokens than ``max_tokens`` → the first
   ``max_tokens`` tokens are kept, stop reason ``length``. Tool calls come after the text; if their argument
   tokens do not fit in what is left of ``max_tokens`` they are dropped (a cut call cannot be parsed), the
   output counts exactly ``max_tokens`` tokens, and the stop reason is ``length``.
3. The kept tokens are decoded incrementally, one :class:`TextDelta` per token; a token that ends inside a
   character (byte-fallback and byte-level pieces) is held back and joined to the next, and a character left
   incomplete by the ``max_tokens`` cut is dropped. The deltas always join to a prefix of the answer text.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from ..catalog import ModelSpec
from ..conversation import StopReason, ToolCall, Usage
from ..errors import BedrockError
from ..formats import ParsedRequest
from ..prompt import decode, encode_text_prefix
from .counting import input_tokens, tool_call_tokens
from .engine import EngineEvent, Stop, TextDelta, ToolCallEvent
from .memo import LRU, footprint

__all__ = ["Answer", "ShapedAnswer", "cut_at_stop", "detokenize", "shape", "stream_events", "whole_text"]

_INCOMPLETE = "\ufffd"  # what decoding yields for a character whose bytes are not all there yet
# (tokenizer, text) → its first token ids and whether they are all of them (see encode_text_prefix), and
# (tokenizer, text, kept tokens) → per-token pieces. Bounded in bytes (see .memo).
_ENCODED: LRU[tuple[tuple[int, ...], bool]] = LRU("encoded text")
_PIECES: LRU[tuple[str, ...]] = LRU("text pieces")


@dataclass(frozen=True)
class Answer:
    """What an engine means to say, before the request's limits apply.

    Attributes:
        text: The answer text.
        tool_calls: Tool calls, after the text; leave their ids empty.
    """

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ShapedAnswer:
    """An answer as it will be sent: text deltas, tool calls, and the closing :class:`Stop`.

    Attributes:
        deltas: The text, one piece per token (tokens that end inside a character joined to the next); or, from
            ``shape(..., pieces=False)``, the whole text as one piece.
        tool_calls: The tool calls that fit.
        stop: The stop reason, usage and stop sequence.
    """

    deltas: tuple[str, ...]
    tool_calls: tuple[ToolCall, ...]
    stop: Stop

    @property
    def text(self) -> str:
        """The whole text."""
        return "".join(self.deltas)


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, str | None]:
    """Cut ``text`` right before the first stop sequence it contains.

    "First" is the match that ends first — the one a model generating left to right completes first — and, of
    matches ending at the same place, the longer one.

    Returns:
        The text before the stop sequence (all of it when none occurs), and the stop sequence or None.
    """
    best: tuple[int, int, str] | None = None  # (end, start, sequence)
    for sequence in stops:
        if not sequence:
            continue
        start = text.find(sequence)
        if start < 0:
            continue
        candidate = (start + len(sequence), start, sequence)
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    if best is None:
        return text, None
    return text[: best[1]], best[2]


def detokenize(ids: Sequence[int], spec: ModelSpec, text: str) -> tuple[str, ...]:
    """Split the text of ``ids`` into one piece per token, decoding incrementally.

    Args:
        ids: Token ids, a prefix of ``encode_text(text)``.
        spec: The model.
        text: The text ``ids`` were encoded from; it settles what a trailing incomplete character was.

    Returns:
        Pieces that join to the longest prefix of ``text`` made of whole characters of ``ids``.
    """
    pieces: list[str] = []
    start = 0  # first token not yet shown; decoding always starts on a character boundary
    for end in range(1, len(ids) + 1):
        window = decode(ids[start:end], spec)
        if window.endswith(_INCOMPLETE):
            continue  # hold the token back until its character is complete
        if window:
            pieces.append(window)
        start = end
    if start < len(ids):
        # Only the tail is left undecided: keep what agrees with the text, i.e. drop a cut-off character.
        shown = "".join(pieces)
        tail, expected = decode(ids[start:], spec), text[len(shown) :]
        size = 0
        while size < min(len(tail), len(expected)) and tail[size] == expected[size]:
            size += 1
        if size:
            pieces.append(tail[:size])
    return tuple(pieces)


def whole_text(ids: Sequence[int], spec: ModelSpec, text: str) -> str:
    """``"".join(detokenize(ids, spec, text))``, decoded in one call rather than token by token.

    Args:
        ids: Token ids, a prefix of ``encode_text(text)``.
        spec: The model.
        text: The text ``ids`` were encoded from.

    Returns:
        The longest prefix of ``text`` made of whole characters of ``ids``.
    """
    if not ids:
        return ""
    decoded = decode(ids, spec)
    if text.startswith(decoded):
        return decoded
    # A character cut off at the end decodes as U+FFFD: keep the longest prefix that agrees with the text,
    # found by bisection (each probe is one C-level comparison).
    low, high = 0, min(len(decoded), len(text))
    while low < high:
        middle = (low + high + 1) // 2
        if text.startswith(decoded[:middle]):
            low = middle
        else:
            high = middle - 1
    return decoded[:low]


def _encoded(spec: ModelSpec, text: str, budget: int) -> tuple[tuple[int, ...], bool]:
    """Enough of ``text``'s ids to cut it at ``budget`` (see :func:`~mistral_bedrock.prompt.encode_text_prefix`)."""
    if not text:
        return (), True
    key = (spec.tokenizer, text)
    known = _ENCODED.lookup(key)
    if known is not None and (known[1] or len(known[0]) > budget):
        return known
    found = encode_text_prefix(text, spec, budget)
    _ENCODED.keep(key, found)
    return found


def _pieces(spec: ModelSpec, text: str, kept: tuple[int, ...]) -> tuple[str, ...]:
    key = (spec.tokenizer, text, len(kept))
    known = _PIECES.lookup(key)
    if known is None:
        known = detokenize(kept, spec, text)
        _PIECES.keep(key, known, footprint(key) + footprint(known))
    return known


def shape(
    request: ParsedRequest, answer: Answer, *, stop_reason: StopReason | None = None, pieces: bool = True
) -> ShapedAnswer:
    """Apply the request's stop sequences and ``max_tokens`` to an answer, and count its usage.

    Only as many tokens of the answer are encoded as ``max_tokens`` needs, however long the text.

    Args:
        request: The request being answered.
        answer: The intended answer.
        stop_reason: Replaces the stop reason the cut gives (for engines that script it).
        pieces: Split the text into one delta per token (what a stream shows); False gives the whole text as
            one delta, decoded at most once (a response that is not streamed needs nothing else).

    Returns:
        The output to stream.
    """
    spec = request.spec
    budget = request.max_tokens
    text, stop_sequence = cut_at_stop(answer.text, request.stop)
    ids, _ = _encoded(spec, text, budget)
    calls: tuple[ToolCall, ...] = ()
    reason: StopReason = "stop"
    cut = len(ids) > budget
    if cut:
        ids, reason, stop_sequence = ids[:budget], "length", None
        used = budget
    else:
        used = len(ids)  # complete: encoding stops only once more than ``budget`` ids are known
        if answer.tool_calls and stop_sequence is None:  # a stop sequence ends the answer before any call
            needed = tool_call_tokens(answer.tool_calls, spec)
            if used + needed > budget:
                reason, used = "length", budget
            else:
                calls, reason, used = answer.tool_calls, "tool_calls", used + needed
    final = stop_reason or reason
    if pieces:
        deltas = _pieces(spec, text, ids)
    else:
        # Uncut, the text is its ids' decoding (decode and encode_text are inverses): nothing to decode.
        whole = whole_text(ids, spec, text) if cut else text
        deltas = (whole,) if whole else ()
    return ShapedAnswer(
        deltas=deltas,
        tool_calls=calls,
        stop=Stop(
            reason=final,
            usage=Usage(input_tokens(request), used),
            stop_sequence=stop_sequence if final == "stop" else None,
        ),
    )


async def stream_events(
    output: ShapedAnswer,
    *,
    token_delay: float = 0.0,
    error: BedrockError | None = None,
    error_after_deltas: int = 0,
    whole: bool = False,
) -> AsyncIterator[EngineEvent]:
    """Yield an output's events: text deltas, then tool calls, then its :class:`Stop`.

    Args:
        output: What to send.
        token_delay: Seconds to wait between two text deltas.
        error: Raised instead of finishing, after ``error_after_deltas`` text deltas (or after all of them, when the
            text has fewer).
        error_after_deltas: Text deltas to send before ``error``.
        whole: Send the text as one delta (for a response that is not streamed, token events are wasted work).

    Raises:
        BedrockError: ``error``, when given.
    """
    pieces = ((output.text,) if output.deltas else ()) if whole else output.deltas
    for index, piece in enumerate(pieces):
        if error is not None and index >= error_after_deltas:
            raise error
        if index and token_delay > 0:
            await asyncio.sleep(token_delay)
        yield TextDelta(piece)
    if error is not None:
        raise error
    for call in output.tool_calls:
        yield ToolCallEvent(call)
    yield output.stop
