"""Tiny random-weight Mistral checkpoints for the transformers backend's tests, built in about a second.

A real ``MistralForCausalLM`` with the real vocabulary size of a Mistral tokenizer, so the ids mistral-common
renders are valid for it, but 64 hidden units and 2 layers: it loads in a fraction of a second and generates
hundreds of ids a second on one core. Its answers are noise; the tests check the plumbing (streaming, stops,
cancellation, seeds), which does not depend on what the weights say.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import mistral_common

from .gguf_models import TINY, Shape

__all__ = ["VOCAB_SIZES", "build_hf"]

#: The vocabulary size of each tokenizer family, as mistral-common ships it.
VOCAB_SIZES = {"v1": 32_000, "v3": 32_768, "tekken": 131_072}

# mistral-common's own tokenizer file for each family, and the name Mistral's checkpoints give it.
_TOKENIZER_FILES = {
    "v1": ("tokenizer.model.v1", "tokenizer.model.v1"),
    "v3": ("mistral_instruct_tokenizer_240323.model.v3", "tokenizer.model.v3"),
    "tekken": ("tekken_240718.json", "tekken.json"),
}


def build_hf(vocab: str, path: Path, *, seed: int = 0, tokenizer: bool = True, shape: Shape = TINY) -> Path:
    """Write a random ``MistralForCausalLM`` for ``vocab`` ("v1", "v3" or "tekken") into ``path``, tiny by default;
    return ``path``.

    Args:
        vocab: The tokenizer family, which sets the vocabulary size.
        path: The checkpoint directory (created).
        seed: For the random weights: the same seed, the same checkpoint.
        tokenizer: Also copy mistral-common's tokenizer file into the checkpoint, as Mistral's checkpoints ship it.
        shape: The network's size (the GGUF builder's shapes, so both engines run the same network).
    """
    import torch
    from transformers import MistralConfig, MistralForCausalLM

    config = MistralConfig(
        vocab_size=VOCAB_SIZES[vocab],
        hidden_size=shape.hidden,
        intermediate_size=shape.ffn,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.kv_heads,
        max_position_embeddings=4096,
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=False,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MistralForCausalLM(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    if tokenizer:
        source, name = _TOKENIZER_FILES[vocab]
        shutil.copyfile(Path(mistral_common.__file__).parent / "data" / source, path / name)
    return path
