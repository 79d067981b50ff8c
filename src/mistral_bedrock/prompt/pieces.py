"""Long strings tokenized in pieces: the same ids as one call, in linear time, and able to stop early.

SentencePiece's encoder slows down with the length of the string it is given: 0.9 µs per token at 10k tokens,
1.9 at 100k, 3.3 at 1M (v3, measured), against 0.7 µs per token for the same text in 4 KiB pieces. So a long
string is cut where no token can span the cut, and encoded piece by piece. A cut falls:

* before a space between two letters or digits (``word␣word``): no SentencePiece vocabulary of the catalog has a
  piece with ``▁`` after another character (tests check every vocabulary), so no merge crosses it; and in
  tekken's pre-tokenizer pattern a chunk never runs from a letter or digit into a space, and a new chunk always
  starts at a space before a letter or digit;
* after a newline, before a letter or digit: a newline is a byte piece in the SentencePiece vocabularies (it
  merges with nothing), and no tekken chunk runs from a newline into a letter or digit.

Each piece is made :func:`~.sanitize.tokenizable` before it is encoded (lone surrogates become U+FFFD; a cut
never falls inside a surrogate pair), and a piece after the first is encoded without SentencePiece's dummy
prefix (see :func:`encode_plain`), so the ids are exactly those of one call on the whole (sanitized) string:
``tests/prompt/test_prompt_pieces.py`` proves it for every tokenizer family of the catalog (v1, v2, v3, v7,
tekken) on generated text. Strings without such cuts (no spaces between words) are encoded in one call.

Encoding can stop as soon as enough ids are known (``limit``): a prompt that fills the context window is refused
whatever its exact length, and an answer cut at ``max_tokens`` needs only its first ``max_tokens`` ids.

Inside a piece the same rule cuts the text into words (the smallest units it allows, which the tests exercise by
cutting pieces down to one character), and each word's ids are kept in a bounded table per tokenizer, as fast
tokenizers keep theirs: prose reuses few words, so a prompt never seen before is mostly looked up rather than
encoded (SentencePiece takes ~0.5 µs per token even on short strings; a lookup ~0.15 µs per word). Only short text
goes through the table: long text is encoded in worker threads, where the encoder's release of the GIL matters more
than its speed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .sanitize import tokenizable
from .tokenizers import TokenizerInfo

__all__ = ["PIECE_CHARS", "WORDS_KEPT", "WORDS_MAX_CHARS", "encode_pieces", "encode_plain", "pieces"]

#: The length of a piece, in characters: long enough that the calls cost nothing, short enough to stay linear.
PIECE_CHARS = 4096
#: How many words' ids each tokenizer keeps (~200 bytes each, so ~3 MB); when full the table starts over.
WORDS_KEPT = 16_384
#: Longer text is encoded without the table (see :func:`encode_pieces`); the runtime's threshold for working in a
#: thread rather than on the event loop (``engines.counting.OFFLOAD_CHARS``) is the same.
WORDS_MAX_CHARS = 16 * 1024
#: Longer words are encoded each time: they rarely come back, and would crowd out those that do.
_WORD_CHARS = 48

# [^\W_] is a letter or digit (str.isalnum). Both alternatives are zero-width: the position is the cut.
_CUT = re.compile(r"(?<=[^\W_])(?= [^\W_])|(?<=\n)(?=[^\W_])")


def pieces(text: str, size: int = PIECE_CHARS, start: int = 0, end: int | None = None) -> Iterator[str]:
    """``text[start:end]`` in consecutive pieces of about ``size`` characters or more, cut only where no token
    spans (and never copied whole: a 20 MB run is read piece by piece)."""
    end = len(text) if end is None else end
    while end - start > size:
        cut = _CUT.search(text, start + size, end)
        if cut is None:
            break
        yield text[start : cut.start()]
        start = cut.start()
    yield text[start:end]


def encode_plain(info: TokenizerInfo, text: str) -> list[int]:
    """Ids of ``text`` in one call, without SentencePiece's dummy prefix."""
    if not info.sentencepiece:
        return info.raw.encode(text, bos=False, eos=False)
    # "\n" encodes as the dummy prefix plus the newline byte; byte pieces never merge with their neighbours,
    # so what follows is encoded exactly as it would be without a dummy prefix.
    sentinel = info.newline_ids
    ids = info.raw.encode("\n" + text, bos=False, eos=False)
    if tuple(ids[: len(sentinel)]) != sentinel:  # pragma: no cover - guards the assumption above
        raise RuntimeError(f"tokenizer {info.name}: newline sentinel merged with the text")
    return ids[len(sentinel) :]


class _Words:
    """One tokenizer's table of word → ids, one per encoding (with the dummy prefix, or plain)."""

    def __init__(self) -> None:
        self.prefixed: dict[str, tuple[int, ...]] = {}
        self.plain: dict[str, tuple[int, ...]] = {}


_WORDS: dict[str, _Words] = {}


def _words(text: str) -> list[str]:
    """``text`` cut before every space between two letters or digits (the cut rule's first case), in order."""
    parts = text.split(" ")
    words: list[str] = []
    current = parts[0]
    for part in parts[1:]:
        if current and part and current[-1].isalnum() and part[0].isalnum():
            words.append(current)
            current = " " + part
        else:
            current += " " + part
    words.append(current)
    return words


def _encode_words(info: TokenizerInfo, text: str, *, dummy_prefix: bool) -> list[int]:
    """The ids of ``text`` (a tokenizable piece) as one call gives them, word by word through the table."""
    table = _WORDS.get(info.name)
    if table is None:
        table = _WORDS.setdefault(info.name, _Words())
    ids: list[int] = []
    first = dummy_prefix
    for word in _words(text):
        kept = table.prefixed if first else table.plain
        found = kept.get(word)
        if found is None:
            found = tuple(info.raw.encode(word, bos=False, eos=False) if first else encode_plain(info, word))
            if len(word) <= _WORD_CHARS:
                if len(kept) >= WORDS_KEPT:
                    kept.clear()  # bounded, and cheaper than tracking which word was used last
                kept[word] = found
        ids.extend(found)
        first = False
    return ids


def encode_pieces(
    info: TokenizerInfo,
    text: str,
    *,
    dummy_prefix: bool,
    limit: int | None = None,
    size: int = PIECE_CHARS,
    start: int = 0,
    end: int | None = None,
) -> tuple[list[int], bool]:
    """The ids of ``text`` as one ``encode`` call gives them, computed piece by piece.

    Args:
        info: The tokenizer.
        text: The text; ``text[start:end]`` is what is encoded.
        dummy_prefix: Encode as ``tokenizer.encode(text)`` does (SentencePiece's ``▁`` in front), else as
            :func:`encode_plain`.
        limit: Stop once more than ``limit`` ids are known.
        size: The length of a piece (see :func:`pieces`).
        start: Where the text to encode starts in ``text``.
        end: Where it ends (None: at the end of ``text``).

    Returns:
        The ids, and whether they are all of them. When not, they are a prefix of the whole ids, longer than
        ``limit``.
    """
    ids: list[int] = []
    done = 0
    length = (len(text) if end is None else end) - start
    # Short text through the word table; long text straight to the encoder, which releases the GIL: long text is
    # encoded in a worker thread, and Python lookups there would hold the GIL in 5 ms turns, so that every small
    # request on the event loop waits for each turn (small requests beside a 100k-token prompt took 7x longer).
    words = length <= WORDS_MAX_CHARS
    for piece in pieces(text, size, start, end):
        if not piece:
            continue
        # Piece by piece, as the whole text would be (no cut falls inside a surrogate pair), and only as far as
        # the encoding goes.
        first = dummy_prefix and done == 0
        clean = tokenizable(piece)
        if words:
            ids.extend(_encode_words(info, clean, dummy_prefix=first))
        elif first:
            ids.extend(info.raw.encode(clean, bos=False, eos=False))
        else:
            ids.extend(encode_plain(info, clean))
        done += len(piece)
        if limit is not None and len(ids) > limit and done < length:
            return ids, False
    return ids, True
