"""Tiny random-weight GGUF models whose vocabulary is exactly one of Mistral's, built by the tests themselves.

Nothing is downloaded: the vocabulary comes from the tokenizer files mistral-common ships, converted by
``gguf.vocab.MistralVocab`` — the same class llama.cpp's own converter uses for Mistral checkpoints
(``_set_vocab_mistral``) — so the GGUF's ids, pieces and token types are what a real Mistral GGUF carries, and
llama.cpp tokenizes and detokenizes with them as it would for the real model. The weights are random (seeded, so
every build is the same model and greedy output is reproducible across runs) and tiny: a llama-architecture
network with hidden size 64, 2 layers, 4 heads / 2 KV heads, FFN 128, all F32, so a token costs well under a
millisecond and the file is mostly vocabulary.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gguf
import mistral_common
import numpy as np
from gguf.vocab import MistralTokenizerType, MistralVocab

__all__ = ["CONTEXT_LENGTH", "MID", "TINY", "TOKENIZER_FILES", "VOCABS", "Shape", "build_gguf", "tokenizer_file"]

#: The vocabularies :func:`build_gguf` knows.
VOCABS = ("v1", "v3", "tekken")

#: Vocabulary → (the file bundled with mistral-common, the name MistralVocab must find it under). MistralVocab
#: looks for a tokenizer file in a directory and recognises only mistral-common's names (``tokenizer.model.v3``,
#: ``tekken.json``), not the bundled file names (``mistral_instruct_tokenizer_240323.model.v3``).
TOKENIZER_FILES: dict[str, tuple[str, str]] = {
    "v1": ("tokenizer.model.v1", "tokenizer.model.v1"),
    "v3": ("mistral_instruct_tokenizer_240323.model.v3", "tokenizer.model.v3"),
    "tekken": ("tekken_240911.json", "tekken.json"),
}

#: The training context the models declare (llama.cpp's default context size for them).
CONTEXT_LENGTH = 2048

_SEED = 20240911


@dataclass(frozen=True)
class Shape:
    """A llama-architecture network's size."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    ffn: int

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


#: What the tests use: milliseconds a token.
TINY = Shape(hidden=64, layers=2, heads=4, kv_heads=2, ffn=128)
#: What the engine benchmark uses (~150M parameters): a per-token cost of a real model's order, built in seconds.
MID = Shape(hidden=1024, layers=8, heads=16, kv_heads=4, ffn=2816)


def tokenizer_file(vocab: str) -> Path:
    """The mistral-common tokenizer file a vocabulary is built from.

    Raises:
        ValueError: For a vocabulary outside :data:`VOCABS`.
    """
    if vocab not in TOKENIZER_FILES:
        raise ValueError(f"Unknown vocabulary {vocab!r}; expected one of {', '.join(VOCABS)}")
    return Path(mistral_common.__file__).parent / "data" / TOKENIZER_FILES[vocab][0]


def _load_vocab(vocab: str) -> MistralVocab:
    with tempfile.TemporaryDirectory(prefix="gguf-vocab-") as folder:
        shutil.copyfile(tokenizer_file(vocab), Path(folder) / TOKENIZER_FILES[vocab][1])
        return MistralVocab(Path(folder))


def _add_vocabulary(writer: gguf.GGUFWriter, vocab: MistralVocab) -> None:
    """Write the tokenizer keys as llama.cpp's converter does (``conversion/base.py::_set_vocab_mistral``)."""
    tokens: list[bytes] = []
    scores: list[float] = []
    types: list[int] = []
    for text, score, token_type in vocab.all_tokens():
        tokens.append(text)
        scores.append(score)
        types.append(token_type)
    assert len(tokens) == vocab.vocab_size, (len(tokens), vocab.vocab_size)
    writer.add_tokenizer_model(vocab.gguf_tokenizer_model)  # "llama" (SentencePiece) or "gpt2" (Tekken)
    if vocab.tokenizer_type == MistralTokenizerType.tekken:
        writer.add_tokenizer_pre("tekken")
        writer.add_token_merges(vocab.extract_vocab_merges_from_model())
    writer.add_bos_token_id(vocab.bos_id)
    writer.add_eos_token_id(vocab.eos_id)
    writer.add_unk_token_id(vocab.unk_id)
    writer.add_pad_token_id(vocab.pad_id)
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_vocab_size(vocab.vocab_size)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)


def _add_weights(writer: gguf.GGUFWriter, vocab_size: int, shape: Shape) -> None:
    """Seeded normal weights, shaped (out, in) as in PyTorch; the writer stores GGUF's reversed dimensions."""
    rng = np.random.default_rng(_SEED)

    def matrix(rows: int, columns: int) -> np.ndarray:
        return rng.normal(0.0, 0.02, size=(rows, columns)).astype(np.float32)

    def norm() -> np.ndarray:
        return np.ones(shape.hidden, dtype=np.float32)

    writer.add_tensor("token_embd.weight", matrix(vocab_size, shape.hidden))
    for layer in range(shape.layers):
        block = f"blk.{layer}"
        writer.add_tensor(f"{block}.attn_norm.weight", norm())
        writer.add_tensor(f"{block}.attn_q.weight", matrix(shape.heads * shape.head_dim, shape.hidden))
        writer.add_tensor(f"{block}.attn_k.weight", matrix(shape.kv_heads * shape.head_dim, shape.hidden))
        writer.add_tensor(f"{block}.attn_v.weight", matrix(shape.kv_heads * shape.head_dim, shape.hidden))
        writer.add_tensor(f"{block}.attn_output.weight", matrix(shape.hidden, shape.heads * shape.head_dim))
        writer.add_tensor(f"{block}.ffn_norm.weight", norm())
        writer.add_tensor(f"{block}.ffn_gate.weight", matrix(shape.ffn, shape.hidden))
        writer.add_tensor(f"{block}.ffn_up.weight", matrix(shape.ffn, shape.hidden))
        writer.add_tensor(f"{block}.ffn_down.weight", matrix(shape.hidden, shape.ffn))
    writer.add_tensor("output_norm.weight", norm())
    writer.add_tensor("output.weight", matrix(vocab_size, shape.hidden))


def build_gguf(vocab: str, path: Path, shape: Shape = TINY) -> Path:
    """Write a random-weight llama-architecture GGUF with Mistral's ``vocab`` ("v1", "v3" or "tekken"), tiny by
    default.

    The same ``vocab`` always gives the same weights, hence the same greedy output.

    Returns:
        ``path``.

    Raises:
        ValueError: For a vocabulary outside :data:`VOCABS`.
    """
    mistral_vocab = _load_vocab(vocab)
    writer = gguf.GGUFWriter(path, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    writer.add_name(f"random-mistral-{vocab}-{shape.hidden}x{shape.layers}")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(CONTEXT_LENGTH)
    writer.add_embedding_length(shape.hidden)
    writer.add_block_count(shape.layers)
    writer.add_feed_forward_length(shape.ffn)
    writer.add_head_count(shape.heads)
    writer.add_head_count_kv(shape.kv_heads)
    writer.add_rope_dimension_count(shape.head_dim)
    writer.add_rope_freq_base(1_000_000.0 if vocab != "v1" else 10_000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    _add_vocabulary(writer, mistral_vocab)
    _add_weights(writer, mistral_vocab.vocab_size, shape)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
