"""Mistral instruct prompts and token counting, through mistral-common.

* :func:`render` — a neutral conversation → mistral-common's token ids and the prompt text for them.
* :func:`encode_prompt` / :func:`decode_prompt` — a raw text-completion prompt ↔ token ids, control-token
  strings (``<s>``, ``[INST]``…) as control ids.
* :func:`encode_text` / :func:`decode` / :func:`truncate_to_tokens` — generated text ↔ token ids.
* :func:`count_prompt_tokens` / :func:`encode_text_prefix` — the same, stopping once a limit is reached. Long
  strings are encoded in pieces that give the same ids (:mod:`.pieces`).
* :func:`normalize_tool_call_ids` — Bedrock tool-call ids → the 9-character ids v3+ tokenizers require.

mistral-common is imported lazily: importing this package does not load it, and each tokenizer is loaded once,
on first use. See ``docs/PROMPTS.md``.
"""

from .generated_text import decode, encode_text, encode_text_prefix, truncate_to_tokens
from .input_tokens import count_tokens
from .raw import control_tokens, count_prompt_tokens, decode_prompt, encode_prompt
from .render import render, to_chat_request
from .rendered import Rendered
from .tokenizers import TOKENIZER_NAMES, TokenizerInfo, get_tokenizer, tokenizer_info
from .tool_ids import (
    MISTRAL_TOOL_CALL_ID,
    is_mistral_tool_call_id,
    mistral_tool_call_id,
    new_tool_call_id,
    normalize_tool_call_ids,
)

__all__ = [
    "MISTRAL_TOOL_CALL_ID",
    "TOKENIZER_NAMES",
    "Rendered",
    "TokenizerInfo",
    "control_tokens",
    "count_prompt_tokens",
    "count_tokens",
    "decode",
    "decode_prompt",
    "encode_prompt",
    "encode_text",
    "encode_text_prefix",
    "get_tokenizer",
    "is_mistral_tool_call_id",
    "mistral_tool_call_id",
    "new_tool_call_id",
    "normalize_tool_call_ids",
    "render",
    "to_chat_request",
    "tokenizer_info",
    "truncate_to_tokens",
]
