"""The llama.cpp backend, through the real llama-cpp-python, on tiny GGUFs with Mistral's own vocabularies.

These tests never skip: without llama-cpp-python they fail (CI installs the ``llamacpp`` extra). Random weights
say nothing about quality, so the tests check ids: that the prompt goes in as ids, that greedy output is the
model's argmax, and that every way of ending a generation ends it where it should.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from mistral_bedrock.engines.local.llamacpp import LlamaCppBackend, default_threads
from mistral_bedrock.engines.local.token_backend import GenerationSettings, TokenBackend
from mistral_bedrock.errors import ValidationException
from mistral_bedrock.prompt.tokenizers import tokenizer_info

from .gguf_models import CONTEXT_LENGTH

# The catalog tokenizer each tiny model's vocabulary was built from (Tekken: the file differs — 240911 against the
# catalog's 240718 — but the vocabulary and every control token are the same).
CATALOG_TOKENIZER = {"v1": "v1", "v3": "v3", "tekken": "v3-tekken"}


def prompt_ids(vocab: str = "v1", text: str = "Hello, what's your name?") -> list[int]:
    """A prompt as the engine would send it: mistral-common's ids, ``<s>`` first."""
    return list(tokenizer_info(CATALOG_TOKENIZER[vocab]).raw.encode(text, bos=True, eos=False))


def long_prompt(length: int) -> list[int]:
    """``<s>`` then "Hello" repeated: a prompt of exactly ``length`` ids (llama.cpp's contexts are 256 or more)."""
    bos, hello = prompt_ids(text="Hello")
    return [bos, *[hello] * (length - 1)]


def run(backend: LlamaCppBackend, settings: GenerationSettings, prompt: list[int] | None = None) -> list[int]:
    return [int(token) for token in backend.generate(prompt or prompt_ids(), settings, threading.Event())]


@pytest.fixture
def tiny_gguf(request: pytest.FixtureRequest) -> Path:
    """The tiny model named by the test's ``vocab`` parameter."""
    path: Path = request.getfixturevalue(f"tiny_gguf_{request.param}")
    return path


@pytest.fixture
def backend(tiny_gguf_v1: Path) -> Iterator[LlamaCppBackend]:
    model = LlamaCppBackend(str(tiny_gguf_v1), threads=1)
    yield model
    model.close()


def argmax_continuation(path: Path, prompt: list[int], count: int) -> list[int]:
    """Greedy ids computed by hand from llama.cpp's logits: the reference the backend's greedy output must equal."""
    llm = llama_cpp.Llama(model_path=str(path), n_threads=1, n_ctx=64, logits_all=True, verbose=False)
    try:
        llm.eval(prompt)
        ids: list[int] = []
        for _ in range(count):
            token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
            ids.append(token)
            llm.eval([token])
        return ids
    finally:
        llm.close()


def test_loads_a_gguf_with_its_training_context(tiny_gguf_v1: Path) -> None:
    model = LlamaCppBackend(str(tiny_gguf_v1))
    try:
        assert isinstance(model, TokenBackend)
        assert (model.name, model.concurrency) == (f"llamacpp:{tiny_gguf_v1}", 1)
        assert (model.threads, model.context) == (default_threads(), CONTEXT_LENGTH)
    finally:
        model.close()


def test_threads_and_context_are_as_given(tiny_gguf_v1: Path) -> None:
    model = LlamaCppBackend(str(tiny_gguf_v1), threads=1, context=256)
    try:
        assert (model.threads, model.context) == (1, 256)
    finally:
        model.close()


@pytest.mark.parametrize("tiny_gguf", ["v1", "v3", "tekken"], indirect=True)
def test_vocabulary_is_mistral_commons(tiny_gguf: Path) -> None:
    vocab = tiny_gguf.stem.removeprefix("tiny-")
    info = tokenizer_info(CATALOG_TOKENIZER[vocab])
    model = LlamaCppBackend(str(tiny_gguf), threads=1)
    try:
        vocabulary = model.vocabulary()
    finally:
        model.close()
    assert vocabulary.size == info.raw.n_words
    assert vocabulary.pieces == {token: piece for piece, token in info.control.items()}
    assert (vocabulary.pieces[info.bos_id], vocabulary.pieces[info.eos_id]) == ("<s>", "</s>")
    if vocab != "v1":
        assert vocabulary.pieces[info.control["[INST]"]] == "[INST]"


@pytest.mark.parametrize("tiny_gguf", ["v1", "v3", "tekken"], indirect=True)
def test_greedy_output_is_the_models_argmax(tiny_gguf: Path) -> None:
    vocab = tiny_gguf.stem.removeprefix("tiny-")
    prompt = prompt_ids(vocab)
    model = LlamaCppBackend(str(tiny_gguf), threads=1)
    try:
        ids = run(model, GenerationSettings(max_tokens=16), prompt)
    finally:
        model.close()
    assert ids == argmax_continuation(tiny_gguf, prompt, 16)


def test_greedy_output_repeats_whatever_ran_before(backend: LlamaCppBackend) -> None:
    first = run(backend, GenerationSettings(max_tokens=12, temperature=0))
    run(backend, GenerationSettings(max_tokens=5), prompt_ids(text="Something else entirely."))
    assert run(backend, GenerationSettings(max_tokens=12)) == first


@pytest.mark.parametrize("max_tokens", [0, 1, 7])
def test_max_tokens_is_the_number_of_ids(backend: LlamaCppBackend, max_tokens: int) -> None:
    assert len(run(backend, GenerationSettings(max_tokens=max_tokens))) == max_tokens


def test_a_stop_id_ends_generation_and_comes_last(backend: LlamaCppBackend) -> None:
    free = run(backend, GenerationSettings(max_tokens=12))
    stop = next(token for index, token in enumerate(free) if index >= 3 and token not in free[:index])
    ids = run(backend, GenerationSettings(max_tokens=12, stop_ids=frozenset({stop})))
    assert ids == free[: free.index(stop) + 1]


def test_cancelling_stops_generation_after_the_ids_already_taken(backend: LlamaCppBackend) -> None:
    cancelled = threading.Event()
    ids = []
    for token in backend.generate(prompt_ids(), GenerationSettings(max_tokens=50), cancelled):
        ids.append(token)
        if len(ids) == 3:
            cancelled.set()
    assert len(ids) == 3


def test_cancelled_before_the_start_yields_nothing(backend: LlamaCppBackend) -> None:
    cancelled = threading.Event()
    cancelled.set()
    assert list(backend.generate(prompt_ids(), GenerationSettings(max_tokens=5), cancelled)) == []


def test_a_seed_repeats_sampled_output(backend: LlamaCppBackend) -> None:
    settings = GenerationSettings(max_tokens=12, temperature=1.0, seed=7)
    first = run(backend, settings)
    assert run(backend, settings) == first
    assert run(backend, GenerationSettings(max_tokens=12, temperature=1.0, seed=8)) != first


def test_top_k_of_one_samples_the_argmax(backend: LlamaCppBackend) -> None:
    greedy = run(backend, GenerationSettings(max_tokens=8))
    assert run(backend, GenerationSettings(max_tokens=8, temperature=1.5, top_k=1, seed=3)) == greedy


def test_a_prompt_that_fills_the_context_is_a_validation_error(tiny_gguf_v1: Path) -> None:
    model = LlamaCppBackend(str(tiny_gguf_v1), threads=1, context=256)
    try:
        with pytest.raises(ValidationException, match="Input is too long"):
            run(model, GenerationSettings(max_tokens=1), long_prompt(256))
    finally:
        model.close()


def test_output_ends_where_the_context_ends(tiny_gguf_v1: Path) -> None:
    model = LlamaCppBackend(str(tiny_gguf_v1), threads=1, context=256)
    try:
        assert len(run(model, GenerationSettings(max_tokens=50), long_prompt(250))) == 6
    finally:
        model.close()


def test_a_missing_file_is_a_value_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.gguf"
    with pytest.raises(ValueError, match=r"absent\.gguf: no such GGUF"):
        LlamaCppBackend(str(path))


def test_a_file_that_is_not_gguf_is_a_value_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"{}" + bytes(64))
    with pytest.raises(ValueError, match=r"model\.safetensors: not a GGUF"):
        LlamaCppBackend(str(path))


def test_without_llama_cpp_the_error_names_the_extra(tiny_gguf_v1: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # what `import llama_cpp` sees when it is not installed
    with pytest.raises(ImportError, match=r"pip install 'mistral-bedrock\[llamacpp\]'"):
        LlamaCppBackend(str(tiny_gguf_v1))


def test_after_close_generation_fails_and_close_may_repeat(tiny_gguf_v1: Path) -> None:
    model = LlamaCppBackend(str(tiny_gguf_v1), threads=1)
    model.close()
    model.close()
    with pytest.raises(RuntimeError, match="closed"):
        run(model, GenerationSettings(max_tokens=1))


def test_importing_the_module_does_not_import_llama_cpp() -> None:
    code = "import sys, mistral_bedrock.engines.local.llamacpp; assert 'llama_cpp' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
