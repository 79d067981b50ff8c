"""Cost estimates: input tokens counted as the runtime counts them, the max-tokens bound, on-demand and batch prices,
and sampling that says so."""

from __future__ import annotations

import pytest

from mistral_bedrock.batch.cost import estimate, request_input_tokens, requested_max_tokens
from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.records import InputRecord, positional_id
from mistral_bedrock.batch.validation import parse_model_input
from mistral_bedrock.catalog import lookup
from mistral_bedrock.prompt import count_tokens, encode_prompt

LARGE_3 = "mistral.mistral-large-3-675b-instruct"
SEVEN_B = "mistral.mistral-7b-instruct-v0:2"
INVOKE = InvocationType.INVOKE_MODEL


def _chat(n: int, max_tokens: int | None = 100) -> list[InputRecord]:
    out = []
    for i in range(n):
        body: dict[str, object] = {"messages": [{"role": "user", "content": f"Question {i}: what is {i} squared?"}]}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        out.append(InputRecord(i, positional_id(i), body))
    return out


def test_exact_input_tokens_and_prices() -> None:
    records = _chat(120)
    spec = lookup(LARGE_3)
    expected = sum(count_tokens(str(r.model_input["messages"][0]["content"]), spec) for r in records)  # type: ignore[index]
    result = estimate(records, model=LARGE_3, invocation=INVOKE)
    assert result.exact
    assert (result.records, result.counted, result.invalid) == (120, 120, 0)
    assert result.input_tokens == expected
    assert result.output_tokens_max == 120 * 100
    assert result.on_demand_cost == pytest.approx(spec.cost(expected, 12_000))
    assert result.batch_cost == pytest.approx(result.on_demand_cost / 2)  # Large 3: 50 % [R]
    assert result.saving == pytest.approx(result.on_demand_cost / 2)
    assert result.batch_note.startswith("[R]")
    assert result.notes == ()


def test_a_raw_prompt_is_counted_as_sent() -> None:
    prompt = "<s>[INST] Write a haiku about the sea. [/INST]"
    records = [InputRecord(i, positional_id(i), {"prompt": prompt, "max_tokens": 50}) for i in range(100)]
    result = estimate(records, model=SEVEN_B, invocation=INVOKE)
    assert result.input_tokens == 100 * encode_prompt(prompt, lookup(SEVEN_B)).count
    assert result.batch_cost is None  # no batch price in the catalog: never a guess
    assert "not guessed" in result.batch_note


def test_unset_max_tokens_reserves_the_model_maximum() -> None:
    result = estimate(_chat(10, max_tokens=None), model=LARGE_3, invocation=INVOKE)
    assert result.unset_max_tokens == 10
    assert result.output_tokens_max == 10 * lookup(LARGE_3).max_output
    assert any("Bedrock reserves it" in note for note in result.notes)


def test_converse_records_count_the_same_conversation() -> None:
    native = _chat(100)
    converse = [
        InputRecord(
            r.index,
            r.record_id,
            {
                "messages": [{"role": "user", "content": [{"text": r.model_input["messages"][0]["content"]}]}],  # type: ignore[index]
                "inferenceConfig": {"maxTokens": 100},
            },
        )
        for r in native
    ]
    a = estimate(native, model=LARGE_3, invocation=INVOKE)
    b = estimate(converse, model=LARGE_3, invocation=InvocationType.CONVERSE)
    assert (a.input_tokens, a.output_tokens_max) == (b.input_tokens, b.output_tokens_max)


@pytest.mark.parametrize("as_list", [True, False])
def test_sampling_counts_a_spread_and_scales(as_list: bool) -> None:
    records = _chat(1000)
    exact = estimate(records, model=LARGE_3, invocation=INVOKE)
    source = records if as_list else iter(records)
    sampled = estimate(source, model=LARGE_3, invocation=INVOKE, sample=50)
    assert not sampled.exact
    assert sampled.counted == 50  # exactly the sample, whether the total is known or not
    assert sampled.input_tokens == pytest.approx(exact.input_tokens, rel=0.02)
    assert sampled.output_tokens_max == exact.output_tokens_max  # the bound is always over every record
    assert "input tokens counted on 50 of 1000 valid records, evenly spread, and scaled to all of them" in sampled.notes


@pytest.mark.parametrize(("size", "sample"), [(150, 10), (150, 40), (151, 150), (7, 10)])
@pytest.mark.parametrize("as_list", [True, False])
def test_the_sample_is_exactly_the_records_counted(size: int, sample: int, as_list: bool) -> None:
    records = _chat(size)
    result = estimate(records if as_list else iter(records), model=LARGE_3, invocation=INVOKE, sample=sample)
    assert result.counted == min(size, sample)
    assert result.exact is (sample >= size)
    if sample < size:
        assert (
            f"input tokens counted on {sample} of {size} valid records, evenly spread, and scaled to all of them"
            in (result.notes)
        )


def test_invalid_records_are_not_counted() -> None:
    records = _chat(100)
    records[3] = InputRecord(3, "x", {"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"})
    result = estimate(records, model=LARGE_3, invocation=INVOKE)
    assert (result.counted, result.invalid) == (99, 1)
    assert (
        "1 record is refused by the model's format: Bedrock bills nothing for it, so neither its input nor its max "
        "tokens is counted" in result.notes
    )


@pytest.mark.parametrize("sample", [None, 10])
def test_a_refused_record_adds_no_tokens_and_no_cost(sample: int | None) -> None:
    good = _chat(100)
    refused = InputRecord(100, "huge", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1_000_000_000})
    alone = estimate(good, model=LARGE_3, invocation=INVOKE, sample=sample)
    result = estimate([*good, refused], model=LARGE_3, invocation=INVOKE, sample=sample)
    assert (result.records, result.invalid) == (101, 1)
    assert result.counted == alone.counted  # counted and invalid never overlap
    assert (result.input_tokens, result.output_tokens_max) == (alone.input_tokens, 100 * 100)
    assert result.on_demand_cost == alone.on_demand_cost
    two = estimate([*good, refused, InputRecord(101, "t", {"prompt": 7})], model=LARGE_3, invocation=INVOKE)
    assert (
        "2 records are refused by the model's format: Bedrock bills nothing for them, so neither their input "
        "nor their max tokens is counted" in two.notes
    )


def test_helpers() -> None:
    assert requested_max_tokens(INVOKE, {"max_tokens": 7}) == 7
    assert requested_max_tokens(INVOKE, {"max_tokens": True}) is None
    assert requested_max_tokens(InvocationType.CONVERSE, {"inferenceConfig": {"maxTokens": 9}}) == 9
    assert requested_max_tokens(InvocationType.CONVERSE, {}) is None
    spec = lookup(LARGE_3)
    request = parse_model_input(spec, INVOKE, {"messages": [{"role": "user", "content": "hello"}]})
    assert request_input_tokens(request) == count_tokens("hello", spec)
    with pytest.raises(ValueError, match="sample"):
        estimate([], model=LARGE_3, invocation=INVOKE, sample=0)
