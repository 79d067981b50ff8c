"""Fixtures for the prompt tests: every tokenizer is loaded once, up front, for the session (they are also
LRU-cached), and ``spec`` parametrizes a test over every model of the catalog."""

from __future__ import annotations

import pytest

from mistral_bedrock.catalog import MODELS, ModelSpec
from mistral_bedrock.prompt import TOKENIZER_NAMES, tokenizer_info


@pytest.fixture(scope="session", autouse=True)
def _load_tokenizers() -> None:
    for name in TOKENIZER_NAMES:
        tokenizer_info(name)


@pytest.fixture(params=MODELS, ids=lambda spec: spec.model_id)
def spec(request: pytest.FixtureRequest) -> ModelSpec:
    """Every model of the catalog."""
    value: ModelSpec = request.param
    return value
