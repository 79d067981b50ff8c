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

from collections.abc import Sequence

from ..catalog import ModelSpec
from .rendered import Rendered
from .tokenizers import TokenizerInfo, tokenizer_info

__all__ = ["control_tokens", "decode_prompt", "encode_prompt"]


def _encode_run(info: TokenizerInfo, text: str) -> list[int]:
    return info.raw.encode(text, bos=False, eos=False) if text else []


def encode_prompt(prompt: str, spec: ModelSpec) -> Rendered:
    """Tokenize a raw text-completion ``prompt`` for ``spec``'s tokenizer.

    Control-token strings are emitted as their control ids; nothing is added (no implicit BOS).
    """
    info = tokenizer_info(spec)
    ids: list[int] = []
    position = 0
    for match in info.control_pattern.finditer(prompt):
        ids.extend(_encode_run(info, prompt[position : match.start()]))
        ids.append(info.control[match.group()])
        position = match.end()
    ids.extend(_encode_run(info, prompt[position:]))
    return Rendered(prompt, tuple(ids))


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
