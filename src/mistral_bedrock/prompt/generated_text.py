"""Plain text ↔ token ids, for counting and cutting model output token by token.

No BOS/EOS and no control tokens: this is the text a model generates after the prompt. SentencePiece models
put a dummy-prefix ``▁`` in front of every string they encode; generated text has no such prefix (the model's
first token is usually ``▁Word``, which Bedrock returns as ``" Word"``), so :func:`encode_text` keeps the
dummy prefix off and :func:`decode` keeps a leading space. The two are inverses: ``decode(encode_text(t)) == t``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..catalog import ModelSpec
from .pieces import encode_pieces
from .tokenizers import TokenizerInfo, tokenizer_info

__all__ = ["decode", "encode_text", "encode_text_prefix", "truncate_to_tokens"]


def _encode_text(info: TokenizerInfo, text: str) -> list[int]:
    # In pieces (see .pieces): the same ids as one call, without SentencePiece's superlinear cost on long text.
    return encode_pieces(info, text, dummy_prefix=False)[0]


def _decode(info: TokenizerInfo, ids: Sequence[int]) -> str:
    plain = [int(token) for token in ids if token not in info.control_ids]
    if not info.sentencepiece:
        return info.raw.decode(plain)
    text = info.raw.decode([*info.newline_ids, *plain])  # SentencePiece drops the sentinel's dummy prefix
    return text[1:]  # and the sentinel's newline


def encode_text(text: str, spec: ModelSpec) -> tuple[int, ...]:
    """Token ids of ``text`` as generated output: no BOS/EOS, no dummy prefix, control strings as plain text."""
    return tuple(_encode_text(tokenizer_info(spec), text))


def encode_text_prefix(text: str, spec: ModelSpec, limit: int) -> tuple[tuple[int, ...], bool]:
    """The first token ids of ``text`` (as :func:`encode_text`), enough to tell whether there are more than ``limit``.

    Long text is encoded piece by piece and encoding stops once more than ``limit`` ids are known, so cutting a
    long answer at ``max_tokens`` costs about ``max_tokens`` tokens of work, not the whole text's.

    Returns:
        The ids and whether they are all of ``text``'s. When not, they are a prefix of ``encode_text(text)``
        longer than ``limit``.
    """
    ids, complete = encode_pieces(tokenizer_info(spec), text, dummy_prefix=False, limit=limit)
    return tuple(ids), complete


def decode(ids: Sequence[int], spec: ModelSpec) -> str:
    """Text of generated token ids; control tokens (``</s>``…) are dropped, a leading ``▁`` stays a space."""
    return _decode(tokenizer_info(spec), ids)


def truncate_to_tokens(text: str, n: int, spec: ModelSpec) -> str:
    """The longest prefix of ``text`` that is whole tokens and at most ``n`` of them.

    The cut falls on a token boundary of :func:`encode_text`; when token ``n`` ends inside a character (a
    byte-fallback or byte-level token) the cut moves back to the last whole character, so the result always
    decodes cleanly, is a prefix of ``text``, and re-encodes to at most ``n`` tokens.

    Raises:
        ValueError: If ``n`` is negative.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    info = tokenizer_info(spec)
    ids = _encode_text(info, text)
    if len(ids) <= n:
        return text
    for k in range(n, 0, -1):
        candidate = _decode(info, ids[:k])
        if text.startswith(candidate) and len(_encode_text(info, candidate)) <= n:
            return candidate
    return ""
