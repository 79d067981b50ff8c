"""The transformers backend through real transformers and torch, on tiny random-weight Mistral checkpoints.

These never skip: CI installs the ``transformers`` extra and a CPU torch, and a missing one is a failure.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM

from mistral_bedrock.catalog import lookup
from mistral_bedrock.conversation import Params, Usage
from mistral_bedrock.engines import Stop
from mistral_bedrock.engines.local import GenerationSettings, LocalEngine, TokenBackend, check_vocabulary, huggingface
from mistral_bedrock.engines.local.huggingface import GENERATE_THREAD_NAME, TransformersBackend
from mistral_bedrock.prompt import encode_prompt
from mistral_bedrock.prompt.tokenizers import get_tokenizer
from tests.engines.engines_support import collect, stop_of, text_prompt
from tests.engines.local.hf_models import VOCAB_SIZES, build_hf

EOS = 2
LONG = 2_000  # far more ids than a cancelled or abandoned generation gets to make


@pytest.fixture
def backend(hf_v1: Path) -> Iterator[TransformersBackend]:
    loaded = TransformersBackend(str(hf_v1), threads=1)
    yield loaded
    loaded.close()


@pytest.fixture
def prompt() -> list[int]:
    """A real v1 prompt, as mistral-common renders it: ``<s>[INST] Hello, what's your name? [/INST]``."""
    from mistral_common.protocol.instruct.messages import UserMessage
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

    request: ChatCompletionRequest[Any] = ChatCompletionRequest(
        messages=[UserMessage(content="Hello, what's your name?")]
    )
    return list(get_tokenizer("v1").encode_chat_completion(request).tokens)


@pytest.fixture
def puts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the ids the generate thread hands over (the prompt's put not included), yielded or not."""
    seen: list[int] = []
    original = huggingface._QueueStreamer.put

    def counting(self: Any, value: Any) -> None:
        if self._prompt_seen:
            seen.extend(value.reshape(-1).tolist())
        original(self, value)

    monkeypatch.setattr(huggingface._QueueStreamer, "put", counting)
    return seen


def generate(backend: TransformersBackend, prompt_ids: list[int], **settings: Any) -> list[int]:
    return list(backend.generate(prompt_ids, GenerationSettings(**settings), threading.Event()))


def generate_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == GENERATE_THREAD_NAME]


# Loading


def test_a_checkpoint_loads_as_a_token_backend(backend: TransformersBackend, hf_v1: Path) -> None:
    assert isinstance(backend, TokenBackend)
    assert backend.name == f"transformers:{hf_v1}"
    assert backend.concurrency == 1


def test_the_vocabulary_size_comes_from_the_model_config(hf_v3: Path) -> None:
    backend = TransformersBackend(str(hf_v3))
    assert backend.vocabulary().size == VOCAB_SIZES["v3"]


def test_control_pieces_come_from_the_checkpoint_tokenizer_file(hf_v3: Path) -> None:
    pieces = TransformersBackend(str(hf_v3)).vocabulary().pieces
    assert pieces[1] == "<s>" and pieces[2] == "</s>" and pieces[3] == "[INST]" and pieces[5] == "[TOOL_CALLS]"


def test_a_v3_checkpoint_passes_the_vocabulary_check_for_a_v3_model(hf_v3: Path) -> None:
    check_vocabulary(TransformersBackend(str(hf_v3)).vocabulary(), lookup("mistral.mistral-large-2407-v1:0"), "tiny")


def test_without_a_tokenizer_file_only_the_size_is_known(tmp_path: Path) -> None:
    vocabulary = TransformersBackend(str(build_hf("v1", tmp_path / "bare", tokenizer=False))).vocabulary()
    assert (vocabulary.size, vocabulary.pieces) == (VOCAB_SIZES["v1"], {})


def test_a_missing_directory_is_a_value_error_naming_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="nowhere"):
        TransformersBackend(missing)


def test_a_directory_without_a_config_is_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"\0")
    with pytest.raises(ValueError, match=f"{tmp_path.name}.*not a Hugging Face checkpoint"):
        TransformersBackend(str(tmp_path))


def test_a_checkpoint_transformers_cannot_load_is_a_value_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "no-such-architecture"}')
    with pytest.raises(ValueError, match=f"Cannot load the Hugging Face checkpoint .*{tmp_path.name}"):
        TransformersBackend(str(tmp_path))


def test_a_dtype_is_applied_to_the_weights(hf_v1: Path) -> None:
    backend = TransformersBackend(str(hf_v1), dtype="bfloat16")
    assert backend._model.dtype == torch.bfloat16
    assert len(generate(backend, [1, 733], max_tokens=3)) == 3


def test_an_unknown_dtype_is_a_value_error(hf_v1: Path) -> None:
    with pytest.raises(ValueError, match="float8"):
        TransformersBackend(str(hf_v1), dtype="float8")


def test_missing_transformers_says_which_extra_to_install(hf_v1: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ImportError, match=r"pip install 'mistral-bedrock\[transformers\]'.*torch"):
        TransformersBackend(str(hf_v1))


# Generating


def test_greedy_output_equals_model_generate_called_directly(
    backend: TransformersBackend, hf_v1: Path, prompt: list[int]
) -> None:
    model = AutoModelForCausalLM.from_pretrained(str(hf_v1), local_files_only=True)
    direct = model.generate(
        input_ids=torch.tensor([prompt]),
        attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
        max_new_tokens=24,
        do_sample=False,
        eos_token_id=[EOS],
        pad_token_id=EOS,
    )
    streamed = generate(backend, prompt, max_tokens=24, stop_ids=frozenset({EOS}))
    assert streamed == direct[0, len(prompt) :].tolist()


def test_greedy_output_is_deterministic(backend: TransformersBackend, prompt: list[int]) -> None:
    assert generate(backend, prompt, max_tokens=16) == generate(backend, prompt, max_tokens=16, temperature=0.0)


def test_max_tokens_ids_are_generated(backend: TransformersBackend, prompt: list[int]) -> None:
    assert len(generate(backend, prompt, max_tokens=7)) == 7


def test_a_stop_id_ends_generation_and_is_yielded_last(backend: TransformersBackend, prompt: list[int]) -> None:
    free = generate(backend, prompt, max_tokens=20)
    stop_id = next(token for index, token in enumerate(free) if index >= 4 and token not in free[:index])
    ids = generate(backend, prompt, max_tokens=20, stop_ids=frozenset({stop_id}))
    assert ids == free[: free.index(stop_id) + 1]


def test_cancelled_stops_generation_midway_and_joins_the_thread(
    backend: TransformersBackend, prompt: list[int], puts: list[int]
) -> None:
    cancelled = threading.Event()
    ids: list[int] = []
    for token in backend.generate(prompt, GenerationSettings(max_tokens=LONG), cancelled):
        ids.append(token)
        if len(ids) == 3:
            cancelled.set()
    assert len(ids) == 3
    assert len(puts) < 50  # the thread stopped within a few ids, not at max_tokens
    assert generate_threads() == []


def test_a_consumer_that_stops_early_joins_the_thread(
    backend: TransformersBackend, prompt: list[int], puts: list[int]
) -> None:
    stream = backend.generate(prompt, GenerationSettings(max_tokens=LONG), threading.Event())
    first = [next(stream), next(stream)]
    stream.close()
    assert len(first) == 2
    assert len(puts) < 50
    assert generate_threads() == []


def test_a_failure_in_the_generate_thread_is_raised_to_the_consumer(backend: TransformersBackend) -> None:
    with pytest.raises(IndexError):
        generate(backend, [1, VOCAB_SIZES["v1"] + 5], max_tokens=4)  # an id past the embedding table
    assert generate_threads() == []


def test_a_seed_repeats_sampled_output(backend: TransformersBackend, prompt: list[int]) -> None:
    first = generate(backend, prompt, max_tokens=16, temperature=1.0, seed=7)
    assert generate(backend, prompt, max_tokens=16, temperature=1.0, seed=7) == first


def test_different_seeds_sample_differently(backend: TransformersBackend, prompt: list[int]) -> None:
    # Random weights give a near-uniform distribution over 32,000 ids: two seeds agreeing on 16 is not a risk.
    assert generate(backend, prompt, max_tokens=16, temperature=1.0, seed=7) != generate(
        backend, prompt, max_tokens=16, temperature=1.0, seed=8
    )


def test_a_seed_leaves_torch_global_generator_as_it_was(backend: TransformersBackend, prompt: list[int]) -> None:
    state = torch.get_rng_state()
    generate(backend, prompt, max_tokens=4, temperature=1.0, seed=7)
    assert torch.equal(torch.get_rng_state(), state)


def test_sampling_with_top_k_1_is_greedy(backend: TransformersBackend, prompt: list[int]) -> None:
    sampled = generate(backend, prompt, max_tokens=12, temperature=1.0, top_k=1, seed=3)
    assert sampled == generate(backend, prompt, max_tokens=12)


# Closing


def test_close_stops_a_running_generation_and_joins_its_thread(
    backend: TransformersBackend, prompt: list[int], puts: list[int]
) -> None:
    stream = backend.generate(prompt, GenerationSettings(max_tokens=LONG), threading.Event())
    next(stream)
    backend.close()
    assert len(puts) < 50
    assert generate_threads() == []
    assert list(stream) == []


def test_generate_after_close_is_a_runtime_error(backend: TransformersBackend, prompt: list[int]) -> None:
    backend.close()
    with pytest.raises(RuntimeError, match="closed"):
        generate(backend, prompt, max_tokens=4)


# Behind the engine


def test_the_local_engine_answers_a_text_prompt_with_it(backend: TransformersBackend) -> None:
    text = "<s>[INST] Hello, what's your name? [/INST]"
    prompt_ids = list(encode_prompt(text, lookup("mistral-7b")).token_ids)
    expected = generate(backend, prompt_ids, max_tokens=6, stop_ids=frozenset({EOS}))
    engine = LocalEngine(backend)
    events = collect(engine, text_prompt(text, params=Params(max_tokens=6, temperature=0.0)))
    engine.close()
    assert stop_of(events) == Stop("stop" if expected[-1] == EOS else "length", Usage(len(prompt_ids), len(expected)))
    assert generate_threads() == []
