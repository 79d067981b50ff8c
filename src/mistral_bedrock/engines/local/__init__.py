"""Real models behind the Bedrock API: :class:`LocalEngine` over a :class:`TokenBackend` (llama.cpp, transformers,
or an upstream server that takes token ids)."""

from .local_engine import LocalEngine
from .token_backend import GenerationSettings, TokenBackend, Vocabulary
from .vocabulary import VocabularyMismatch, check_vocabulary

__all__ = ["GenerationSettings", "LocalEngine", "TokenBackend", "Vocabulary", "VocabularyMismatch", "check_vocabulary"]
