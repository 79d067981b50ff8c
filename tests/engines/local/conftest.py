"""Tiny random-weight models with Mistral's real vocabularies, built once per test session: GGUF files for
llama.cpp (:mod:`.gguf_models`) and Hugging Face checkpoints for transformers (:mod:`.hf_models`).

Building takes about 0.3 s for each SentencePiece vocabulary and a few seconds for Tekken's (131,072 tokens and
their merges); every model is written once per session (per worker under pytest-xdist) and shared read-only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .gguf_models import build_gguf
from .hf_models import build_hf


@pytest.fixture(scope="session")
def tiny_gguf_v1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny llama-architecture GGUF with mistral-common's v1 vocabulary (32,000 tokens)."""
    return build_gguf("v1", tmp_path_factory.mktemp("gguf") / "tiny-v1.gguf")


@pytest.fixture(scope="session")
def tiny_gguf_v3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same network with mistral-common's v3 SentencePiece vocabulary (32,768 tokens, ``[INST]`` as ids)."""
    return build_gguf("v3", tmp_path_factory.mktemp("gguf") / "tiny-v3.gguf")


@pytest.fixture(scope="session")
def tiny_gguf_tekken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same network with mistral-common's Tekken vocabulary (``tekken_240911.json``, 131,072 tokens)."""
    return build_gguf("tekken", tmp_path_factory.mktemp("gguf") / "tiny-tekken.gguf")


@pytest.fixture(scope="session")
def hf_v1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny ``MistralForCausalLM`` checkpoint with the v1 vocabulary size and tokenizer file."""
    return build_hf("v1", tmp_path_factory.mktemp("hf") / "tiny-v1")


@pytest.fixture(scope="session")
def hf_v3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same with the v3 vocabulary."""
    return build_hf("v3", tmp_path_factory.mktemp("hf") / "tiny-v3")
