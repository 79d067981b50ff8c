"""mistral-common tokenizers by catalog name, loaded lazily and cached.

``import mistral_bedrock`` never imports mistral-common: every import of it in this package happens inside a
function, and each tokenizer is loaded once, on first use (:func:`get_tokenizer` is an LRU cache).

:class:`TokenizerInfo` holds what the rest of the package needs to know about a tokenizer, discovered from the
tokenizer itself rather than hard-coded per version: its control tokens (string → id), whether it is a
SentencePiece model (which puts a dummy-prefix ``▁`` in front of every string it encodes), whether it can
encode tools at all, and whether it requires Mistral's 9-character tool-call ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from ..catalog import ModelSpec

if TYPE_CHECKING:
    from mistral_common.tokens.tokenizers.base import Tokenizer
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

__all__ = ["TOKENIZER_NAMES", "TokenizerInfo", "get_tokenizer", "tokenizer_info"]

#: The tokenizer names a :class:`~mistral_bedrock.catalog.ModelSpec` may carry.
TOKENIZER_NAMES: tuple[str, ...] = ("v1", "v2", "v3", "v7", "v7-mm", "v3-tekken")

# A tool-call id that Bedrock's chat dialect would send; used to probe the validator's id rule.
_PROBE_ID = "3NcHNntdRyaHu8zisKJAhQ"


@cache
def get_tokenizer(name: str) -> MistralTokenizer[Any, Any, Any, Any, Any]:
    """The mistral-common tokenizer for a catalog tokenizer name, loaded on first use and cached.

    ``v1`` → ``MistralTokenizer.v1()``, ``v2``, ``v3``, ``v7`` likewise, ``v7-mm`` → ``v7(is_mm=True)``,
    ``v3-tekken`` → ``v3(is_tekken=True)``.

    Raises:
        ValueError: For a name outside :data:`TOKENIZER_NAMES`.
    """
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    if name == "v1":
        return MistralTokenizer.v1()
    if name == "v2":
        return MistralTokenizer.v2()
    if name == "v3":
        return MistralTokenizer.v3()
    if name == "v7":
        return MistralTokenizer.v7()
    if name == "v7-mm":
        return MistralTokenizer.v7(is_mm=True)
    if name == "v3-tekken":
        return MistralTokenizer.v3(is_tekken=True)
    raise ValueError(f"Unknown tokenizer {name!r}; expected one of {', '.join(TOKENIZER_NAMES)}")


@dataclass(frozen=True)
class TokenizerInfo:
    """Facts about one tokenizer, discovered from mistral-common.

    Attributes:
        name: The catalog tokenizer name.
        mistral: The mistral-common tokenizer.
        raw: Its text tokenizer (SentencePiece or Tekken).
        sentencepiece: True for SentencePiece models, which add a dummy-prefix ``▁`` to every encoded string.
        control: Control-token string → id, for every special id of the tokenizer.
        control_ids: The ids of ``control``.
        control_pattern: Matches any control-token string, longest first.
        bos_id: ``<s>``.
        eos_id: ``</s>``.
        supports_tools: The instruct tokenizer can encode tools, tool calls and tool results (v2 and later).
        short_tool_ids: The validator requires tool-call ids of 9 characters ``[a-zA-Z0-9]`` (v3 and later).
        newline_ids: SentencePiece only (empty for Tekken): the ids of ``"\\n"``, i.e. the dummy prefix ``▁`` and
            the newline byte. Put in front of a string they keep the dummy prefix off its first character, and
            they decode back to exactly ``"\\n"``.
    """

    name: str
    mistral: MistralTokenizer[Any, Any, Any, Any, Any]
    raw: Tokenizer
    sentencepiece: bool
    control: dict[str, int]
    control_ids: frozenset[int]
    control_pattern: re.Pattern[str]
    bos_id: int
    eos_id: int
    supports_tools: bool
    short_tool_ids: bool
    newline_ids: tuple[int, ...]


def _requires_short_ids(mistral: MistralTokenizer[Any, Any, Any, Any, Any]) -> bool:
    """Ask the version's own validator whether a Bedrock-style 22-character tool-call id is accepted."""
    from mistral_common.exceptions import MistralCommonException
    from mistral_common.protocol.instruct.messages import AssistantMessage, ToolMessage, UserMessage
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.protocol.instruct.tool_calls import FunctionCall, ToolCall
    from mistral_common.protocol.instruct.validator import get_validator

    probe: ChatCompletionRequest[Any] = ChatCompletionRequest(
        messages=[
            UserMessage(content="probe"),
            AssistantMessage(tool_calls=[ToolCall(id=_PROBE_ID, function=FunctionCall(name="f", arguments="{}"))]),
            ToolMessage(content="{}", tool_call_id=_PROBE_ID, name="f"),
        ]
    )
    try:
        get_validator(mistral.version, mistral.mode).validate_request(probe)
    except MistralCommonException:
        return True
    return False


@cache
def _info(name: str) -> TokenizerInfo:
    from mistral_common.tokens.tokenizers.instruct import InstructTokenizerV2
    from mistral_common.tokens.tokenizers.sentencepiece import SentencePieceTokenizer

    mistral = get_tokenizer(name)
    raw = mistral.instruct_tokenizer.tokenizer
    control = {raw.id_to_piece(token_id): token_id for token_id in sorted(raw.special_ids)}
    alternatives = sorted(control, key=lambda text: (-len(text), text))
    sentencepiece = isinstance(raw, SentencePieceTokenizer)
    return TokenizerInfo(
        name=name,
        mistral=mistral,
        raw=raw,
        sentencepiece=sentencepiece,
        control=control,
        control_ids=frozenset(control.values()),
        control_pattern=re.compile("|".join(re.escape(text) for text in alternatives)),
        bos_id=raw.bos_id,
        eos_id=raw.eos_id,
        supports_tools=isinstance(mistral.instruct_tokenizer, InstructTokenizerV2),
        short_tool_ids=_requires_short_ids(mistral),
        newline_ids=tuple(raw.encode("\n", bos=False, eos=False)) if sentencepiece else (),
    )


def tokenizer_info(spec_or_name: ModelSpec | str) -> TokenizerInfo:
    """The :class:`TokenizerInfo` for a model (its ``tokenizer``) or a tokenizer name; cached.

    Raises:
        ValueError: For an unknown tokenizer name.
    """
    name = spec_or_name if isinstance(spec_or_name, str) else spec_or_name.tokenizer
    return _info(name)
