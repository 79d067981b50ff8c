"""Is this model's vocabulary the one the catalog says the Bedrock model has?

The engine sends a model mistral-common's token ids for the catalog's tokenizer. A model with another vocabulary
(a Llama GGUF answering as Mistral 7B, a v1 model behind a v3 id) would read them as different text and answer
nonsense without any error, so the vocabularies are compared once, when a model is loaded for a Bedrock id, and
before the first request of each tokenizer otherwise.
"""

from __future__ import annotations

from ...catalog import ModelSpec
from ...prompt.tokenizers import tokenizer_info
from .token_backend import Vocabulary

__all__ = ["VocabularyMismatch", "check_vocabulary"]


class VocabularyMismatch(ValueError):
    """The model's vocabulary is not the catalog tokenizer's."""


def check_vocabulary(vocabulary: Vocabulary, spec: ModelSpec, source: str) -> None:
    """Refuse ``source`` for ``spec`` when its vocabulary differs from the tokenizer's.

    The size must match (when the model says it); so must every control token the model names (``<s>``,
    ``</s>``, ``[INST]``, ``[TOOL_CALLS]``…), id for id.

    Raises:
        VocabularyMismatch: Naming the model, the tokenizer and the first difference.
    """
    info = tokenizer_info(spec)
    expected = info.raw.n_words
    where = f"{source} cannot answer as {spec.model_id} (tokenizer {spec.tokenizer}, {expected:,} tokens)"
    if vocabulary.size is not None and vocabulary.size != expected:
        raise VocabularyMismatch(f"{where}: its vocabulary has {vocabulary.size:,} tokens")
    for token_id in sorted(info.control_ids):
        piece = vocabulary.pieces.get(token_id)
        wanted = info.raw.id_to_piece(token_id)
        if piece is not None and piece != wanted:
            raise VocabularyMismatch(f"{where}: its token {token_id} is {piece!r}, not {wanted!r}")
