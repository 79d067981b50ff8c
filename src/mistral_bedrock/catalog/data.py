"""Every Mistral model on Bedrock, as data, in catalog order: the two families of :mod:`.native_body_models` and
:mod:`.openai_body_models`, each value with its evidence grade beside it (see :mod:`.evidence`).
"""

from __future__ import annotations

from .native_body_models import NATIVE_BODY_MODELS
from .openai_body_models import OPENAI_BODY_MODELS
from .spec import ModelSpec

__all__ = ["MODELS"]

MODELS: tuple[ModelSpec, ...] = (*NATIVE_BODY_MODELS, *OPENAI_BODY_MODELS)
