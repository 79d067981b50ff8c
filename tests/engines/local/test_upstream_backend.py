"""The upstream backend (vLLM, llama-server, Ollama over HTTP), against a STAND-IN upstream server.

Every test here talks to :class:`~tests.engines.local.upstream_stand_in.StandInUpstream`, a stand-in that speaks
the three servers' streaming formats; no real vLLM, llama-server or Ollama runs. What is checked is the client
side: the request bodies, reading ids or text back, limits, cancellation, error mapping and the text-mode guard.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mistral_bedrock.catalog import lookup
from mistral_bedrock.engines.local.text_guard import check_text_safe
from mistral_bedrock.engines.local.token_backend import GenerationSettings, TokenBackend, Vocabulary
from mistral_bedrock.engines.local.upstream import UpstreamBackend, upstream_backend
from mistral_bedrock.engines.local.upstream_target import parse_upstream_url
from mistral_bedrock.errors import (
    ModelErrorException,
    ModelNotReadyException,
    ModelTimeoutException,
    ServiceUnavailableException,
    ThrottlingException,
    ValidationException,
)

from .upstream_stand_in import EOS, LLAMA_SERVER_MODELS, LLAMA_SERVER_PROPS, StandInUpstream, derived_reply

PROMPT = [1, 3, 1027, 4]
GREEDY = GenerationSettings(max_tokens=16, temperature=0.0, top_p=1.0, top_k=None, stop_ids=frozenset({EOS}))

V1_MODEL = "mistral.mistral-7b-instruct-v0:2"
V3_MODEL = "mistral.mistral-large-2407-v1:0"
TEKKEN_MODEL = "mistral.ministral-3-8b-instruct"


@pytest.fixture
def stand_in() -> Iterator[StandInUpstream]:
    """A STAND-IN upstream server (not a real vLLM, llama-server or Ollama), fresh for each test."""
    with StandInUpstream() as server:
        yield server


@pytest.fixture
def make() -> Iterator[Callable[..., UpstreamBackend]]:
    """Makes backends (``make(URL, **options)``) and closes them after the test, so no connection is left open."""
    made: list[UpstreamBackend] = []

    def factory(url: str, **options: Any) -> UpstreamBackend:
        made.append(UpstreamBackend(url, **options))
        return made[-1]

    yield factory
    for upstream in made:
        upstream.close()


@pytest.fixture
def backend(stand_in: StandInUpstream, make: Callable[..., UpstreamBackend]) -> Callable[..., UpstreamBackend]:
    """A backend on the STAND-IN upstream: ``backend(KIND, **options)``."""
    return lambda kind="vllm", **options: make(f"{stand_in.url}#{kind}", **options)


@pytest.fixture
def generated(backend: Callable[..., UpstreamBackend]) -> Callable[..., list[int]]:
    """Generate to the end from the STAND-IN upstream: ``generated(KIND, settings)``."""
    return lambda kind="vllm", settings=GREEDY: list(backend(kind).generate(PROMPT, settings, threading.Event()))


@pytest.fixture
def generated_text(backend: Callable[..., UpstreamBackend]) -> Callable[..., list[int | str]]:
    """Generate text to the end from the STAND-IN upstream as Ollama: ``generated_text(prompt)``."""
    return lambda prompt="[INST] Hi [/INST]": list(
        backend("ollama=mistral:7b").generate_text(prompt, GREEDY, threading.Event())
    )


def last_body(stand_in: StandInUpstream) -> Any:
    return stand_in.requests[-1][2]


# -- the URL ------------------------------------------------------------------------------------------------------


def test_url_without_kind_is_vllm() -> None:
    target = parse_upstream_url("http://127.0.0.1:8000/")
    assert (target.base_url, target.kind, target.model) == ("http://127.0.0.1:8000", "vllm", None)


def test_url_names_the_ollama_model() -> None:
    target = parse_upstream_url("http://localhost:11434#ollama=mistral:7b-instruct")
    assert (target.kind, target.model, target.text_mode) == ("ollama", "mistral:7b-instruct", True)


def test_url_for_ollama_without_a_model_is_refused() -> None:
    with pytest.raises(ValueError, match="#ollama=NAME"):
        parse_upstream_url("http://localhost:11434#ollama")


def test_url_with_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown server kind 'tgi'"):
        parse_upstream_url("http://localhost:8080#tgi")


def test_registry_factory_reads_the_url() -> None:
    upstream = upstream_backend("http://127.0.0.1:9#llama-server")
    try:
        assert (upstream.target.kind, upstream.text_mode) == ("llama-server", False)
    finally:
        upstream.close()


def test_backend_is_a_token_backend_that_takes_eight_at_once(make: Callable[..., UpstreamBackend]) -> None:
    upstream = make("http://127.0.0.1:9#llama-server")
    assert isinstance(upstream, TokenBackend)
    assert upstream.concurrency == 8
    assert upstream.name == "upstream:http://127.0.0.1:9#llama-server"


# -- request bodies -------------------------------------------------------------------------------------------


def test_vllm_body_sends_ids_sampling_and_neutralises_extras(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    settings = GenerationSettings(max_tokens=5, temperature=0.7, top_p=0.9, top_k=50, seed=42, stop_ids=frozenset({2}))
    generated("vllm", settings)
    assert stand_in.requests[-1][:2] == ("POST", "/v1/completions")
    assert last_body(stand_in) == {
        "prompt": PROMPT,
        "max_tokens": 5,
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": 50,
        "seed": 42,
        "stream": True,
        "return_token_ids": True,
        "skip_special_tokens": False,
        "add_special_tokens": False,
        "stop_token_ids": [2],
        "ignore_eos": False,
        "repetition_penalty": 1.0,
        "min_p": 0.0,
    }


def test_vllm_body_names_the_model_given_in_the_url(
    stand_in: StandInUpstream, make: Callable[..., UpstreamBackend]
) -> None:
    upstream = make(f"{stand_in.url}#vllm=mistral-7b")
    list(upstream.generate(PROMPT, GREEDY, threading.Event()))
    assert last_body(stand_in)["model"] == "mistral-7b"


def test_unset_sampling_is_sent_neutral_and_no_seed(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    generated("vllm", GenerationSettings(max_tokens=3))
    body = last_body(stand_in)
    assert (body["temperature"], body["top_p"], body["top_k"]) == (1.0, 1.0, -1)
    assert "seed" not in body


def test_llama_server_body_sends_ids_sampling_and_neutralises_extras(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    settings = GenerationSettings(max_tokens=5, temperature=0.7, top_p=0.9, top_k=50, seed=42, stop_ids=frozenset({2}))
    generated("llama-server", settings)
    assert stand_in.requests[-1][:2] == ("POST", "/completion")
    assert last_body(stand_in) == {
        "prompt": PROMPT,
        "n_predict": 5,
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": 50,
        "seed": 42,
        "min_p": 0.0,
        "repeat_penalty": 1.0,
        "typical_p": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "dry_multiplier": 0.0,
        "xtc_probability": 0.0,
        "mirostat": 0,
        "ignore_eos": False,
        "stream": True,
        "return_tokens": True,
        "cache_prompt": True,
    }


def test_ollama_body_sends_raw_text_and_options(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    upstream = backend("ollama=mistral:7b")
    settings = GenerationSettings(max_tokens=5, temperature=0.7, top_p=0.9, top_k=50, seed=42, stop_ids=frozenset({2}))
    list(upstream.generate_text("[INST] Hi [/INST]", settings, threading.Event()))
    assert stand_in.requests[-1][:2] == ("POST", "/api/generate")
    assert last_body(stand_in) == {
        "model": "mistral:7b",
        "prompt": "[INST] Hi [/INST]",
        "raw": True,
        "stream": True,
        "options": {
            "temperature": 0.7,
            "top_p": 0.9,
            "top_k": 50,
            "seed": 42,
            "num_predict": 5,
            "repeat_penalty": 1.0,
            "min_p": 0.0,
            "stop": [],
        },
    }


def test_ollama_prompt_loses_its_leading_bos(
    stand_in: StandInUpstream, generated_text: Callable[..., list[int | str]]
) -> None:
    generated_text("<s>[INST] Hi [/INST]")
    assert last_body(stand_in)["prompt"] == "[INST] Hi [/INST]"


# -- reading ids back -------------------------------------------------------------------------------------------


def test_vllm_ids_come_back_in_order_across_chunks(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    stand_in.per_chunk = 3
    assert generated("vllm") == derived_reply(PROMPT)


def test_llama_server_ids_come_back_in_order(generated: Callable[..., list[int]]) -> None:
    assert generated("llama-server") == derived_reply(PROMPT)


def test_max_tokens_ends_generation_even_when_the_server_sends_more(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    stand_in.honour_limits = False
    stand_in.reply = [10, 11, 12, 13, 14, 15]
    assert generated("vllm", GenerationSettings(max_tokens=3)) == [10, 11, 12]


def test_vllm_stops_at_a_stop_id_it_was_sent(stand_in: StandInUpstream, generated: Callable[..., list[int]]) -> None:
    stand_in.reply = [10, 11, 77, 12, 13]
    assert generated("vllm", GenerationSettings(max_tokens=9, stop_ids=frozenset({77}))) == [10, 11, 77]


def test_stop_id_ends_generation_even_when_the_server_goes_on(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    stand_in.honour_limits = False  # llama-server knows no stop ids but its model's end of generation
    stand_in.reply = [10, 11, 77, 12, 13, EOS]
    assert generated("llama-server", GenerationSettings(max_tokens=9, stop_ids=frozenset({77}))) == [
        10,
        11,
        77,
    ]


def test_end_of_sequence_is_yielded_last(stand_in: StandInUpstream, generated: Callable[..., list[int]]) -> None:
    stand_in.reply = [10, EOS, 11]
    assert generated("llama-server") == [10, EOS]


# -- cancellation -------------------------------------------------------------------------------------------------


def test_cancel_between_ids_closes_the_stream(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    stand_in.hold_after = 2
    upstream = backend()
    cancelled = threading.Event()
    ids = upstream.generate(PROMPT, GREEDY, cancelled)
    first = [next(ids), next(ids)]
    cancelled.set()
    assert list(ids) == []
    assert stand_in.disconnected.wait(10)
    assert first == derived_reply(PROMPT)[:2]


def test_cancel_while_waiting_for_the_server_closes_the_stream(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    stand_in.hold_after = 0  # headers sent, then nothing: the reader blocks, as during a long prefill
    upstream = backend()
    cancelled = threading.Event()
    received: list[int] = []
    reader = threading.Thread(target=lambda: received.extend(upstream.generate(PROMPT, GREEDY, cancelled)))
    reader.start()
    assert stand_in.holding.wait(10)
    cancelled.set()
    assert stand_in.disconnected.wait(10)
    reader.join(10)
    assert not reader.is_alive()
    assert received == []


def test_leaving_the_generator_closes_the_stream(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    stand_in.hold_after = 1
    upstream = backend("llama-server")
    ids = upstream.generate(PROMPT, GREEDY, threading.Event())
    next(ids)
    ids.close()
    assert stand_in.disconnected.wait(10)


# -- errors -------------------------------------------------------------------------------------------------------


def test_unreachable_server_is_service_unavailable_naming_it(make: Callable[..., UpstreamBackend]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    upstream = make(f"http://127.0.0.1:{port}#vllm")
    with pytest.raises(ServiceUnavailableException, match=f"http://127.0.0.1:{port}#vllm cannot be reached"):
        list(upstream.generate(PROMPT, GREEDY, threading.Event()))


def test_429_is_throttling(stand_in: StandInUpstream, generated: Callable[..., list[int]]) -> None:
    stand_in.status = 429
    stand_in.error_body = {"error": {"message": "too many", "type": "RateLimitError", "code": 429}}
    with pytest.raises(ThrottlingException, match="too many"):
        generated()


def test_context_overflow_is_input_too_long(stand_in: StandInUpstream, generated: Callable[..., list[int]]) -> None:
    stand_in.status = 400
    stand_in.error_body = {
        "error": {
            "message": "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.",
            "type": "BadRequestError",
            "code": 400,
        }
    }
    with pytest.raises(ValidationException) as caught:
        generated()
    assert caught.value.message == "Input is too long for requested model."


def test_llama_server_context_overflow_is_input_too_long(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    stand_in.status = 400
    stand_in.error_body = {
        "error": {
            "code": 400,
            "message": "the request exceeds the available context size",
            "type": "exceed_context_size_error",
        }
    }
    with pytest.raises(ValidationException, match="Input is too long for requested model"):
        generated("llama-server")


def test_other_400_is_a_model_error(stand_in: StandInUpstream, generated: Callable[..., list[int]]) -> None:
    stand_in.status = 400
    stand_in.error_body = {"object": "error", "message": "top_k must be -1 or at least 1", "code": 400}
    with pytest.raises(ModelErrorException, match="answered 400: top_k must be"):
        generated()


def test_500_is_a_model_error_with_the_upstream_status(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    stand_in.status = 500
    stand_in.error_body = {"error": {"message": "CUDA out of memory", "type": "InternalServerError"}}
    with pytest.raises(ModelErrorException, match="answered 500: CUDA out of memory") as caught:
        generated()
    assert caught.value.status == 424  # Bedrock's status for a model error; the upstream's is in the message


def test_503_is_model_not_ready(stand_in: StandInUpstream, generated: Callable[..., list[int]]) -> None:
    stand_in.status = 503
    stand_in.error_body = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    with pytest.raises(ModelNotReadyException, match="Loading model"):
        generated("llama-server")


def test_vllm_stream_cut_before_done_is_a_model_error(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    stand_in.cut_after = 2
    with pytest.raises(ModelErrorException, match="ended before its end marker"):
        generated("vllm")


def test_llama_server_stream_cut_before_stop_is_a_model_error(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    stand_in.cut_after = 2
    with pytest.raises(ModelErrorException, match="ended before its end marker"):
        generated("llama-server")


def test_ids_before_a_cut_are_yielded_before_the_error(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    stand_in.cut_after = 2
    received: list[int] = []
    with pytest.raises(ModelErrorException):
        received.extend(backend().generate(PROMPT, GREEDY, threading.Event()))
    assert received == derived_reply(PROMPT)[:2]


def test_error_chunk_in_the_stream_is_a_model_error(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    stand_in.error_after = 1
    with pytest.raises(ModelErrorException, match="stand-in engine failure"):
        generated("vllm")


def test_vllm_without_token_ids_is_a_model_error(
    stand_in: StandInUpstream, generated: Callable[..., list[int]]
) -> None:
    stand_in.without_ids = True
    with pytest.raises(ModelErrorException, match="return_token_ids"):
        generated("vllm")


def test_silence_past_the_read_timeout_is_a_model_timeout(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    stand_in.hold_after = 1
    upstream = backend(read_timeout=0.2)
    with pytest.raises(ModelTimeoutException, match=r"sent nothing for 0\.2 s"):
        list(upstream.generate(PROMPT, GREEDY, threading.Event()))


# -- text mode (Ollama) -------------------------------------------------------------------------------------------


def test_ollama_yields_text_pieces_then_the_end_of_sequence_it_stopped_at(
    generated_text: Callable[..., list[int | str]],
) -> None:
    assert generated_text() == ["Hello", ",", " world", "!", EOS]


def test_ollama_cut_at_num_predict_ends_without_the_end_of_sequence(
    stand_in: StandInUpstream, generated_text: Callable[..., list[int | str]]
) -> None:
    stand_in.done_reason = "length"
    assert generated_text() == ["Hello", ",", " world", "!"]


def test_ollama_stream_cut_before_done_is_a_model_error(
    stand_in: StandInUpstream, generated_text: Callable[..., list[int | str]]
) -> None:
    stand_in.cut_after = 2
    with pytest.raises(ModelErrorException, match="ended before its end marker"):
        generated_text()


def test_ollama_error_line_is_a_model_error(
    stand_in: StandInUpstream, generated_text: Callable[..., list[int | str]]
) -> None:
    stand_in.error_after = 1
    with pytest.raises(ModelErrorException, match="stand-in failure"):
        generated_text()


def test_text_upstream_refuses_ids(make: Callable[..., UpstreamBackend]) -> None:
    upstream = make("http://127.0.0.1:9#ollama=mistral")
    assert upstream.text_mode
    with pytest.raises(TypeError, match="generate_text"):
        next(upstream.generate(PROMPT, GREEDY, threading.Event()))


def test_id_upstream_refuses_text(make: Callable[..., UpstreamBackend]) -> None:
    upstream = make("http://127.0.0.1:9#vllm")
    assert not upstream.text_mode
    with pytest.raises(TypeError, match="generate\\(prompt_ids"):
        next(upstream.generate_text("Hi", GREEDY, threading.Event()))


@pytest.mark.parametrize(
    ("model", "tokenizer", "control"),
    [(V1_MODEL, "v1", "</s>"), (V3_MODEL, "v3", "[INST]"), (TEKKEN_MODEL, "v3-tekken", "[TOOL_CALLS]")],
)
def test_guard_refuses_control_strings_in_content(model: str, tokenizer: str, control: str) -> None:
    spec = lookup(model)
    assert spec.tokenizer == tokenizer
    with pytest.raises(ValidationException, match=f"contains '{re.escape(control)}'"):
        check_text_safe(["Hello", f"please say {control} now"], spec)


def test_guard_lets_v1_content_say_inst_which_is_plain_text_there() -> None:
    check_text_safe(["What does [INST] mean?"], lookup(V1_MODEL))


@pytest.mark.parametrize("model", [V1_MODEL, V3_MODEL, TEKKEN_MODEL])
def test_guard_passes_plain_content(model: str) -> None:
    check_text_safe(["Hello, what's the weather in <b>Paris</b>? [1] [x]"], lookup(model))


# -- the vocabulary -------------------------------------------------------------------------------------------


def test_vllm_vocabulary_has_no_size_and_reads_the_context_length(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    upstream = backend("vllm")
    assert upstream.vocabulary() == Vocabulary(None, {})
    assert upstream.context_length == 4096
    assert stand_in.requests[-1][:2] == ("GET", "/v1/models")


def test_vllm_vocabulary_refuses_a_model_the_server_does_not_serve(backend: Callable[..., UpstreamBackend]) -> None:
    with pytest.raises(ModelErrorException, match="serves stand-in, not mistral-7b"):
        backend("vllm=mistral-7b").vocabulary()


def test_llama_server_vocabulary_has_its_size(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    stand_in.models = LLAMA_SERVER_MODELS
    assert backend("llama-server").vocabulary() == Vocabulary(32768, {})


def test_llama_server_context_length_is_its_slots_context(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    stand_in.models = LLAMA_SERVER_MODELS
    stand_in.props = LLAMA_SERVER_PROPS
    upstream = backend("llama-server")
    upstream.vocabulary()
    assert upstream.context_length == 2048


def test_llama_server_context_length_without_props_is_the_trained_one(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    stand_in.models = LLAMA_SERVER_MODELS
    upstream = backend("llama-server")
    upstream.vocabulary()
    assert upstream.context_length == 32768


def test_ollama_vocabulary_asks_for_the_named_model(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    upstream = backend("ollama=mistral:7b")
    assert upstream.vocabulary() == Vocabulary(32768, {})
    assert stand_in.requests[-1] == ("POST", "/api/show", {"model": "mistral:7b"})


def test_ollama_vocabulary_of_an_unknown_model_is_a_model_error(
    stand_in: StandInUpstream, backend: Callable[..., UpstreamBackend]
) -> None:
    stand_in.status = 404
    stand_in.error_body = {"error": "model 'mistral:7b' not found"}
    with pytest.raises(ModelErrorException, match="answered 404: model 'mistral:7b' not found"):
        backend("ollama=mistral:7b").vocabulary()


def test_vocabulary_of_an_unreachable_server_is_service_unavailable(make: Callable[..., UpstreamBackend]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServiceUnavailableException, match="cannot be reached"):
        make(f"http://127.0.0.1:{port}").vocabulary()
