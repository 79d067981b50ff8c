"""Raw Bedrock text-completion prompts ↔ token ids.

A prompt is split at every control-token string of the model's tokenizer (``<s>``, ``</s>``, and from v2 on
``[INST]``, ``[/INST]``, ``[AVAILABLE_TOOLS]``, ``[TOOL_CALLS]``, ``[TOOL_RESULTS]``…, from v7 on
``[SYSTEM_PROMPT]``…; the set is read from the tokenizer, not hard-coded). Control strings become their ids; the
text between two of them is encoded exactly as mistral-common encodes any string it renders
(``tokenizer.encode(text, bos=False, eos=False)``). For SentencePiece models that call adds a dummy-prefix ``▁``
to every such run of text, and :func:`decode_prompt` is its inverse (SentencePiece's decode drops that prefix),
so ``encode_prompt(decode_prompt(ids)).token_ids == ids`` for every conversation mistral-common renders.

For the v1 tokenizer (Mistral 7B, Mixtral) ``[INST]``/``[/INST]`` are *not* control tokens: they are plain text
and tokenize as ``▁[``, ``INST``, ``]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import cache

from ..catalog import ModelSpec
from .pieces import encode_pieces
from .rendered import Rendered
from .sanitize import tokenizable
from .tokenizers import TokenizerInfo, tokenizer_info

__all__ = ["control_tokens", "count_prompt_tokens", "decode_prompt", "encode_prompt"]


@cache
def _first_characters(name: str) -> str:
    return "".join(sorted({text[0] for text in tokenizer_info(name).control}))


def _control_matches(info: TokenizerInfo, prompt: str) -> Iterator[re.Match[str]]:
    """``info.control_pattern.finditer(prompt)``, faster.

    The pattern alternates over hundreds of control strings (750 for v3), which ``re`` tries at every position
    of the prompt: 4.4 ms per MB, holding the GIL. Control strings start with few characters (``<`` or ``[``),
    so only the positions ``str.find`` gives for those are tried (0.1 ms per MB of prose).
    """
    pattern = info.control_pattern
    firsts = _first_characters(info.name)
    upcoming = {char: prompt.find(char) for char in firsts}
    position = 0
    while True:
        for char, at in upcoming.items():
            if 0 <= at < position:
                upcoming[char] = prompt.find(char, position)
        found = [at for at in upcoming.values() if at >= 0]
        if not found:
            return
        at = min(found)
        match = pattern.match(prompt, at)
        if match is not None:
            yield match
            position = match.end()
        else:
            position = at + 1


def _encode_run(info: TokenizerInfo, text: str, limit: int | None = None) -> tuple[list[int], bool]:
    # As one encode call (dummy prefix included) would, in pieces: see .pieces.
    return encode_pieces(info, text, dummy_prefix=True, limit=limit)


def _count_run(info: TokenizerInfo, prompt: str, start: int, end: int, limit: int | None) -> int:
    # The run prompt[start:end], read in place: slicing a 20 MB run would copy it, holding the GIL.
    return len(encode_pieces(info, prompt, dummy_prefix=True, limit=limit, start=start, end=end)[0])


def encode_prompt(prompt: str, spec: ModelSpec) -> Rendered:
    """Tokenize a raw text-completion ``prompt`` for ``spec``'s tokenizer.

    Control-token strings are emitted as their control ids; nothing is added (no implicit BOS).
    """
    info = tokenizer_info(spec)
    prompt = tokenizable(prompt)  # lone surrogates, which no tokenizer takes: see .sanitize
    ids: list[int] = []
    position = 0
    for match in _control_matches(info, prompt):
        ids.extend(_encode_run(info, prompt[position : match.start()])[0])
        ids.append(info.control[match.group()])
        position = match.end()
    ids.extend(_encode_run(info, prompt[position:])[0])
    return Rendered(prompt, tuple(ids))


def count_prompt_tokens(prompt: str, spec: ModelSpec, limit: int | None = None) -> int:
    """``encode_prompt(prompt, spec).count``; or, once the count reaches ``limit``, some number at least
    ``limit``: deciding that a prompt fills a context window needs only its first ``limit`` tokens.

    Only the text it encodes is read (and made tokenizable, piece by piece: see .pieces), so a 20 MB prompt
    costs what its first ``limit`` tokens cost."""
    info = tokenizer_info(spec)
    most = None if limit is None else limit - 1  # encoding stops once more than this many ids are known
    count = 0
    position = 0
    for match in _control_matches(info, prompt):
        count += _count_run(info, prompt, position, match.start(), None if most is None else most - count) + 1
        if most is not None and count > most:
            return count
        position = match.end()
    return count + _count_run(info, prompt, position, len(prompt), None if most is None else most - count)


def decode_prompt(ids: Sequence[int], spec: ModelSpec) -> str:
    """The prompt text of token ids: control tokens spelled out, each run of text between them decoded."""
    info = tokenizer_info(spec)
    parts: list[str] = []
    run: list[int] = []
    for token in ids:
        if token in info.control_ids:
            if run:
                parts.append(info.raw.decode(run))
                run = []
            parts.append(info.raw.id_to_piece(token))
        else:
            run.append(int(token))
    if run:
        parts.append(info.raw.decode(run))
    return "".join(parts)


def control_tokens(spec: ModelSpec) -> dict[str, int]:
    """The control-token strings that :func:`encode_prompt` recognises for ``spec``, with their ids."""
    return dict(tokenizer_info(spec).control)
