"""The engine contract on real engines over tiny random-weight models with Mistral's vocabularies.

Each engine answers requests of the Bedrock models whose tokenizer its model has: directly, and through the
runtime with boto3 (the independent oracle of Bedrock's wire protocol), where greedy answers must be the same.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from mistral_bedrock.catalog import Dialect, lookup
from mistral_bedrock.conversation import Params
from mistral_bedrock.engines import Stop, TextDelta, ToolCallEvent, create_engine
from mistral_bedrock.engines.local import LocalEngine
from mistral_bedrock.formats import ParsedRequest
from mistral_bedrock.prompt import encode_prompt
from mistral_bedrock.prompt.input_tokens import render_input
from mistral_bedrock.runtime import RuntimeConfig, ServerThread, create_app
from tests.engines.engines_support import chat, collect, stop_of, text_of, text_prompt

GREEDY = Params(temperature=0.0, max_tokens=24)
V1_MODEL = "mistral.mistral-7b-instruct-v0:2"
V3_MODEL = "mistral.mistral-large-2407-v1:0"
TEKKEN_MODEL = "mistral.ministral-3-8b-instruct"

# engine → (how to build its spec from the session's tiny models, the Bedrock model it answers as, a request)
CASES: dict[str, tuple[Callable[[pytest.FixtureRequest], str], str, ParsedRequest]] = {
    "llamacpp-v1-text": (
        lambda r: f"llamacpp:{r.getfixturevalue('tiny_gguf_v1')}",
        V1_MODEL,
        text_prompt("<s>[INST] Hello, what's your name? [/INST]", model=V1_MODEL, params=GREEDY),
    ),
    "llamacpp-v3-chat": (
        lambda r: f"llamacpp:{r.getfixturevalue('tiny_gguf_v3')}",
        V3_MODEL,
        chat("Hi", "Hello!", "How are you?", model=V3_MODEL, params=GREEDY),
    ),
    "llamacpp-tekken-openai": (
        lambda r: f"llamacpp:{r.getfixturevalue('tiny_gguf_tekken')}",
        TEKKEN_MODEL,
        chat("What's new?", model=TEKKEN_MODEL, dialect=Dialect.CHAT_OPENAI, params=GREEDY),
    ),
    "transformers-v1-text": (
        lambda r: f"transformers:{r.getfixturevalue('hf_v1')}",
        V1_MODEL,
        text_prompt("<s>[INST] Tell me a story [/INST]", model=V1_MODEL, params=GREEDY),
    ),
    "transformers-v3-converse": (
        lambda r: f"transformers:{r.getfixturevalue('hf_v3')}",
        V3_MODEL,
        chat("Write a poem about the sea", model=V3_MODEL, dialect=Dialect.CONVERSE, params=GREEDY),
    ),
}


@dataclasses.dataclass
class Case:
    engine: LocalEngine
    model_id: str
    request: ParsedRequest


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> Iterator[Case]:
    make_spec, model_id, parsed = CASES[request.param]
    engine = create_engine(make_spec(request))
    assert isinstance(engine, LocalEngine)
    yield Case(engine, model_id, parsed)
    engine.close()


def with_params(request: ParsedRequest, **changes: Any) -> ParsedRequest:
    return dataclasses.replace(request, params=dataclasses.replace(request.params, **changes))


def prompt_count(request: ParsedRequest) -> int:
    if request.prompt is not None:
        return encode_prompt(request.prompt, request.spec).count
    return render_input(request.messages, request.spec, request.tools).count


def test_events_then_exactly_one_stop(case: Case) -> None:
    events = collect(case.engine, case.request)
    assert isinstance(events[-1], Stop)
    assert all(isinstance(event, (TextDelta, ToolCallEvent)) for event in events[:-1])
    assert all(event.text for event in events if isinstance(event, TextDelta))


def test_usage_counts_the_prompt_and_the_generated_ids(case: Case) -> None:
    stop = stop_of(collect(case.engine, case.request))
    assert stop.usage.input_tokens == prompt_count(case.request)
    assert 1 <= stop.usage.output_tokens <= 24
    # A random model rarely ends by itself: then it stopped at max_tokens.
    assert (stop.reason == "length") == (stop.usage.output_tokens == 24)


def test_greedy_answers_repeat(case: Case) -> None:
    assert collect(case.engine, case.request) == collect(case.engine, case.request)


def test_max_tokens_gives_at_most_that_many(case: Case) -> None:
    stop = stop_of(collect(case.engine, with_params(case.request, max_tokens=3)))
    assert stop.usage.output_tokens <= 3
    assert stop.reason == ("length" if stop.usage.output_tokens == 3 else "stop")


def test_a_stop_sequence_cuts_right_before_it(case: Case) -> None:
    full = text_of(collect(case.engine, case.request))
    cut = max(1, len(full) // 2)
    sequence = full[cut : cut + 3]
    if not sequence.strip():
        pytest.fail(f"the greedy answer {full!r} has no text to cut at")  # never for these models: tested here
    events = collect(case.engine, with_params(case.request, stop=(sequence,)))
    assert text_of(events) == full[: full.index(sequence)]
    assert stop_of(events).stop_sequence == sequence


def test_a_model_answers_only_as_models_with_its_vocabulary(case: Case) -> None:
    other = V3_MODEL if lookup(case.model_id).tokenizer == "v1" else V1_MODEL
    with pytest.raises(ValueError, match="cannot answer as"):
        case.engine.check(lookup(other))


# -- through the runtime, read by boto3 ----------------------------------------------------------------------------


def _native_body(request: ParsedRequest) -> dict[str, Any]:
    from mistral_bedrock.formats import format_for

    if request.prompt is not None:
        return {"prompt": request.prompt, "max_tokens": 24, "temperature": 0.0}
    return dict(format_for(request.dialect).build_body(request.spec, list(request.messages), request.params))


def _through_runtime(case: Case) -> tuple[str, int]:
    spec = lookup(case.model_id)
    region = sorted(spec.regions)[0]
    app = create_app(RuntimeConfig(min_first_byte_ms=0), engine=case.engine)
    with ServerThread(app=app) as server:
        client = boto3.client(
            "bedrock-runtime",
            endpoint_url=server.url,
            region_name=region,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}),
        )
        if case.request.dialect is Dialect.CONVERSE:
            response = client.converse_stream(
                modelId=spec.model_id,
                messages=[{"role": "user", "content": [{"text": case.request.messages[0].content}]}],
                inferenceConfig={"maxTokens": 24, "temperature": 0.0},
            )
            text, tokens = "", 0
            for event in response["stream"]:
                text += event.get("contentBlockDelta", {}).get("delta", {}).get("text", "")
                tokens = event.get("metadata", {}).get("usage", {}).get("outputTokens", tokens)
            return text, tokens
        streamed = client.invoke_model_with_response_stream(
            modelId=spec.model_id, body=json.dumps(_native_body(case.request))
        )
        text, tokens = "", 0
        for event in streamed["body"]:
            chunk = json.loads(event["chunk"]["bytes"])
            for output in chunk.get("outputs", []):
                text += output.get("text", "")
            for choice in chunk.get("choices", []):
                piece = choice.get("message", choice.get("delta", {})).get("content") or ""
                text += piece
            tokens = chunk.get("amazon-bedrock-invocationMetrics", {}).get("outputTokenCount", tokens)
        return text, tokens


def test_the_runtime_streams_the_same_greedy_answer_boto3_reads(case: Case) -> None:
    direct = collect(case.engine, case.request)
    text, tokens = _through_runtime(case)
    assert text == text_of(direct)
    assert tokens == stop_of(direct).usage.output_tokens
