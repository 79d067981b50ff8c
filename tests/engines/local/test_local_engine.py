"""The local engine's reading of a model's ids, with scripted ids (a stand-in model, see ``scripted_ids``)."""

from __future__ import annotations

import asyncio
import json

import pytest

from mistral_bedrock.catalog import Dialect, lookup
from mistral_bedrock.conversation import Params, Usage
from mistral_bedrock.engines import Stop, TextDelta
from mistral_bedrock.engines.local import LocalEngine
from mistral_bedrock.errors import ModelErrorException, ValidationException
from mistral_bedrock.prompt import decode, encode_prompt, render
from mistral_bedrock.prompt.tokenizers import tokenizer_info
from tests.engines.engines_support import TOP_SONG, calls_of, chat, collect, collect_until_error, stop_of, text_of
from tests.engines.engines_support import text_prompt as text_request
from tests.engines.local.scripted_ids import ScriptedIds, ids_of

LARGE = "mistral.mistral-large-2407-v1:0"  # v3 tokenizer: has [TOOL_CALLS]
EOS = 2
PROMPT = "<s>[INST] Hello, what's your name? [/INST]"


def test_the_prompt_goes_in_as_mistral_common_ids() -> None:
    backend = ScriptedIds([EOS])
    collect(LocalEngine(backend), text_request(PROMPT))
    assert backend.calls[0][0] == encode_prompt(PROMPT, lookup("mistral-7b")).token_ids


def test_a_conversation_goes_in_rendered_with_its_tools() -> None:
    backend = ScriptedIds([EOS], vocab_model=LARGE)
    request = chat("What is the top song on WZPZ?", model=LARGE, tools=[TOP_SONG])
    collect(LocalEngine(backend), request)
    assert backend.calls[0][0] == render(list(request.messages), lookup(LARGE), [TOP_SONG]).token_ids


def test_text_ends_at_eos_with_stop_and_exact_usage() -> None:
    backend = ScriptedIds([*ids_of("My name is Mistral."), EOS, *ids_of(" never read")])
    events = collect(LocalEngine(backend), text_request(PROMPT))
    assert text_of(events) == " My name is Mistral."
    prompt_tokens = len(encode_prompt(PROMPT, lookup("mistral-7b")).token_ids)
    assert stop_of(events) == Stop("stop", Usage(prompt_tokens, len(ids_of("My name is Mistral.")) + 1))


def test_the_chat_dialect_has_no_leading_space() -> None:
    backend = ScriptedIds([*ids_of("Hello there."), EOS])
    assert (
        text_of(collect(LocalEngine(backend), chat("Hi", model="mistral-7b", dialect=Dialect.TEXT))) == " Hello there."
    )
    backend = ScriptedIds([*ids_of("Hello there.", LARGE), EOS], vocab_model=LARGE)
    assert text_of(collect(LocalEngine(backend), chat("Hi", model=LARGE))) == "Hello there."


def test_max_tokens_ends_with_length() -> None:
    backend = ScriptedIds(ids_of("one two three four five six seven eight"))
    events = collect(LocalEngine(backend), text_request(PROMPT, params=Params(max_tokens=3)))
    assert stop_of(events).reason == "length"
    assert stop_of(events).usage.output_tokens == 3
    assert backend.calls[0][1].max_tokens == 3


def test_a_stop_sequence_cuts_before_it_and_cancels_the_model() -> None:
    ids = [*ids_of("Counting: one, two, STOP three, four"), EOS]
    backend = ScriptedIds(ids, pause_after=len(ids_of("Counting: one, two, STOP")))
    events = collect(LocalEngine(backend), text_request(PROMPT, params=Params(stop=("STOP",))))
    assert text_of(events) == " Counting: one, two, "
    assert stop_of(events).reason == "stop" and stop_of(events).stop_sequence == "STOP"
    assert backend.cancel_seen.is_set()


def test_text_that_only_begins_like_a_stop_sequence_is_sent() -> None:
    backend = ScriptedIds([*ids_of("It is ST and then more"), EOS])
    events = collect(LocalEngine(backend), text_request(PROMPT, params=Params(stop=("STOP",))))
    assert text_of(events) == " It is ST and then more"
    assert stop_of(events).stop_sequence is None


def test_multibyte_characters_arrive_whole() -> None:
    text = "Ünïcödé 日本語 🎉"
    backend = ScriptedIds([*ids_of(text), EOS])
    events = collect(LocalEngine(backend), text_request(PROMPT))
    pieces = [event.text for event in events if isinstance(event, TextDelta)]
    assert "".join(pieces) == " " + text
    assert all("\ufffd" not in piece for piece in pieces)


def test_tool_calls_after_the_tool_calls_token_become_calls() -> None:
    info = tokenizer_info(lookup(LARGE))
    calls = [{"name": "top_song", "arguments": {"sign": "WZPZ"}, "id": "abcdefghi"}]
    ids = [info.control["[TOOL_CALLS]"], *ids_of(json.dumps(calls), LARGE), EOS]
    events = collect(LocalEngine(ScriptedIds(ids, vocab_model=LARGE)), chat("Top song?", model=LARGE, tools=[TOP_SONG]))
    assert [(call.name, dict(call.arguments), call.id) for call in calls_of(events)] == [
        ("top_song", {"sign": "WZPZ"}, "")
    ]
    assert stop_of(events).reason == "tool_calls"
    assert text_of(events) == ""


def test_output_after_the_tool_calls_token_that_is_no_call_is_text() -> None:
    info = tokenizer_info(lookup(LARGE))
    ids = [info.control["[TOOL_CALLS]"], *ids_of("not json at all", LARGE), EOS]
    events = collect(LocalEngine(ScriptedIds(ids, vocab_model=LARGE)), chat("Top song?", model=LARGE, tools=[TOP_SONG]))
    assert calls_of(events) == [] and stop_of(events).reason == "stop"
    assert "not json at all" in text_of(events)


def test_a_cut_tool_call_is_length_not_a_call() -> None:
    info = tokenizer_info(lookup(LARGE))
    ids = [info.control["[TOOL_CALLS]"], *ids_of('[{"name": "top_song", "arguments": {"sign": "WZ', LARGE)]
    request = chat("Top song?", model=LARGE, tools=[TOP_SONG], params=Params(max_tokens=len(ids)))
    events = collect(LocalEngine(ScriptedIds(ids, vocab_model=LARGE)), request)
    assert calls_of(events) == [] and stop_of(events).reason == "length"


def test_sampling_comes_from_the_request_or_the_models_defaults() -> None:
    backend = ScriptedIds([EOS])
    collect(LocalEngine(backend, seed=7), text_request(PROMPT, params=Params(temperature=0.0, top_p=0.5, top_k=3)))
    settings = backend.calls[0][1]
    assert (settings.temperature, settings.top_p, settings.top_k, settings.seed) == (0.0, 0.5, 3, 7)
    assert settings.stop_ids == frozenset({EOS})
    collect(LocalEngine(backend), text_request(PROMPT))
    spec = lookup("mistral-7b")
    assert backend.calls[1][1].temperature == spec.default("temperature")


def test_a_model_with_another_vocabulary_is_refused_before_any_event() -> None:
    engine = LocalEngine(ScriptedIds([EOS], vocab_model="mistral-7b"))  # a v1 model
    events, error = collect_until_error(engine, chat("Hi", model=LARGE))  # asked as a v3 model
    assert events == []
    assert isinstance(error, ValidationException)
    assert "tokenizer v3" in error.message and "32,000 tokens" in error.message


def test_a_backend_failure_is_a_model_error() -> None:
    backend = ScriptedIds(ids_of("one two three four"), fail_after=2)
    _, error = collect_until_error(LocalEngine(backend), text_request(PROMPT))
    assert isinstance(error, ModelErrorException)
    assert "ran out of memory" in error.message


def test_a_client_that_leaves_cancels_the_generation() -> None:
    backend = ScriptedIds([*ids_of("word " * 200), EOS], pause_after=5)
    engine = LocalEngine(backend)

    async def leave_after_two() -> None:
        stream = engine.generate(text_request(PROMPT))
        await anext(stream)
        await anext(stream)
        await stream.aclose()  # what the runtime does when the client disconnects

    asyncio.run(leave_after_two())
    engine.close()  # waits for the worker: it has seen the flag by now
    assert backend.cancel_seen.is_set()
    assert backend.yielded <= 5  # it never went past the pause, where only a cancel lets it on


def test_close_closes_the_backend() -> None:
    backend = ScriptedIds([EOS])
    LocalEngine(backend).close()
    assert backend.closed


@pytest.mark.parametrize("concurrent", [2, 4])
def test_requests_beyond_the_backends_concurrency_queue_and_all_answer(concurrent: int) -> None:
    backend = ScriptedIds([*ids_of("Same answer."), EOS])
    engine = LocalEngine(backend)

    async def run_all() -> list[str]:
        async def one() -> str:
            return "".join([e.text async for e in engine.generate(text_request(PROMPT)) if isinstance(e, TextDelta)])

        return await asyncio.gather(*(one() for _ in range(concurrent)))

    assert asyncio.run(run_all()) == [" Same answer."] * concurrent
    engine.close()


def test_tool_choice_any_starts_the_answer_with_the_tool_calls_token() -> None:
    info = tokenizer_info(lookup(LARGE))
    calls = [{"name": "top_song", "arguments": {"sign": "WKRP"}}]
    backend = ScriptedIds([*ids_of(json.dumps(calls), LARGE), EOS], vocab_model=LARGE)
    request = chat("Top song?", model=LARGE, tools=[TOP_SONG], tool_choice="any")
    events = collect(LocalEngine(backend), request)
    rendered = render(list(request.messages), lookup(LARGE), [TOP_SONG])
    assert backend.calls[0][0] == (*rendered.token_ids, info.control["[TOOL_CALLS]"])
    assert [(call.name, dict(call.arguments)) for call in calls_of(events)] == [("top_song", {"sign": "WKRP"})]
    assert stop_of(events).usage.input_tokens == rendered.count


def test_a_forced_tool_is_named_in_the_prompt_and_the_model_writes_its_arguments() -> None:
    backend = ScriptedIds([*ids_of('{"sign": "WZPZ"}}]', LARGE), EOS], vocab_model=LARGE)
    request = chat("Top song?", model=LARGE, tools=[TOP_SONG], forced_tool="top_song")
    events = collect(LocalEngine(backend), request)
    prompt = list(backend.calls[0][0])
    after = prompt[prompt.index(tokenizer_info(lookup(LARGE)).control["[TOOL_CALLS]"]) + 1 :]
    assert decode(after, lookup(LARGE)).strip() == '[{"name": "top_song", "arguments":'
    assert [(call.name, dict(call.arguments)) for call in calls_of(events)] == [("top_song", {"sign": "WZPZ"})]
    assert stop_of(events).reason == "tool_calls"


def test_with_tool_choice_none_a_tool_calls_token_is_no_call() -> None:
    info = tokenizer_info(lookup(LARGE))
    ids = [*ids_of("Sure.", LARGE), info.control["[TOOL_CALLS]"], *ids_of('[{"name": "top_song"}]', LARGE), EOS]
    request = chat("Top song?", model=LARGE, tools=[TOP_SONG], tool_choice="none")
    events = collect(LocalEngine(ScriptedIds(ids, vocab_model=LARGE)), request)
    assert calls_of(events) == [] and stop_of(events).reason == "stop"
    assert text_of(events).startswith("Sure.")
