"""The engines' memo: bounded in bytes, charged honestly, never keeping an entry too large to be worth it; and the
output step that uses it: only as many tokens encoded as ``max_tokens`` needs, whole answers decoded once."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mistral_bedrock.catalog import lookup
from mistral_bedrock.conversation import Params
from mistral_bedrock.engines import Answer, BuiltinEngine, TextDelta, memo, shape
from mistral_bedrock.engines.memo import LRU, footprint
from mistral_bedrock.engines.shaping import detokenize, whole_text
from mistral_bedrock.prompt import encode_text
from mistral_bedrock.runtime import RuntimeConfig, create_app
from tests.engines.engines_support import collect, stop_of, text_of, text_prompt

MIB = 1024 * 1024
ENGINE = BuiltinEngine()


@pytest.fixture(autouse=True)
def _fresh_memo() -> Iterator[None]:
    memo.clear()
    yield
    memo.configure()  # the defaults, for the tests that follow
    memo.clear()


def test_a_long_text_is_charged_its_length_and_token_ids_36_bytes_each() -> None:
    prompt = "word " * 100_000
    assert footprint(("v3", prompt)) >= len(prompt)
    ids = tuple(range(1000, 1000 + 10_000))
    assert footprint(ids) == sys.getsizeof(ids) + 28 * len(ids) >= 36 * len(ids)
    assert footprint(5) == 0 and footprint(1000) == sys.getsizeof(1000)  # small ints are shared
    pieces = ("a" * 10, "b" * 1000)
    assert footprint(pieces) == sys.getsizeof(pieces) + sum(sys.getsizeof(piece) for piece in pieces)


def test_the_store_stays_within_its_budget_and_drops_the_oldest_first() -> None:
    memo.configure(total_bytes=MIB, entry_bytes=64 * 1024)
    lru: LRU[tuple[int, ...]] = LRU("test")
    for index in range(100):
        lru.keep(("text", index, "x" * 20_000), tuple(range(300, 1300)))
        assert memo.usage().bytes <= MIB
    assert lru.lookup(("text", 99, "x" * 20_000)) is not None  # the newest stay
    assert lru.lookup(("text", 0, "x" * 20_000)) is None  # the oldest went first
    assert 10 < memo.usage().entries < 100


def test_an_entry_over_the_entry_budget_is_not_kept() -> None:
    memo.configure(total_bytes=8 * MIB, entry_bytes=100_000)
    lru: LRU[int] = LRU("test")
    calls: list[str] = []
    long_prompt = "x" * 200_000
    for _ in range(3):
        lru.get(("v3", long_prompt), lambda: calls.append("long") or 1)
        lru.get(("v3", "short"), lambda: calls.append("short") or 2)
    assert calls == ["long", "short", "long", "long"]  # the short one is computed once, the long one every time
    assert memo.usage().entries == 1


def test_configure_shrinks_at_once_and_zero_keeps_nothing() -> None:
    lru: LRU[int] = LRU("test")
    for index in range(50):
        lru.keep(("k", index), index + 1000)
    assert memo.usage().entries == 50
    memo.configure(total_bytes=0, entry_bytes=0)
    assert memo.usage() == memo.MemoUsage(0, 0, 0, 0)
    lru.keep(("k", 1), 1001)
    assert lru.lookup(("k", 1)) is None
    with pytest.raises(ValueError, match="0 or more"):
        memo.configure(total_bytes=-1)


def test_the_runtime_config_sets_the_budget() -> None:
    create_app(RuntimeConfig(memo_bytes=3 * MIB, memo_entry_bytes=MIB // 4))
    assert (memo.usage().total_bytes, memo.usage().entry_bytes) == (3 * MIB, MIB // 4)
    create_app(RuntimeConfig())
    assert (memo.usage().total_bytes, memo.usage().entry_bytes) == (memo.DEFAULT_TOTAL_BYTES, memo.DEFAULT_ENTRY_BYTES)


def test_many_distinct_long_prompts_keep_the_memo_within_its_budget() -> None:
    memo.configure(total_bytes=2 * MIB, entry_bytes=256 * 1024)
    for index in range(30):
        prompt = f"<s>[INST] Document {index}: " + "river mountain story " * 3_000 + " [/INST]"
        events = collect(ENGINE, text_prompt(prompt, model="mistral-large-2407", params=Params(max_tokens=200)))
        assert stop_of(events).usage.output_tokens == 200
        assert memo.usage().bytes <= 2 * MIB
    assert memo.usage().entries > 0


def test_a_long_answer_is_encoded_only_as_far_as_max_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    from mistral_bedrock.prompt import pieces as pieces_module

    encoded: list[int] = []
    real = pieces_module.encode_plain

    def counting(info: object, text: str) -> list[int]:
        encoded.append(len(text))
        return real(info, text)  # type: ignore[arg-type]

    monkeypatch.setattr(pieces_module, "encode_plain", counting)
    answer = "alpha beta gamma delta " * 50_000  # 1.15 MB, ~200k tokens
    request = text_prompt("<s>[INST] Hi [/INST]", model="mistral-large-2407", params=Params(max_tokens=100))
    output = shape(request, Answer(answer))
    assert output.stop.reason == "length" and output.stop.usage.output_tokens == 100
    assert sum(encoded) < 3 * pieces_module.PIECE_CHARS  # a piece or two, not the whole answer


MODELS_BY_FAMILY = ["mistral-7b", "mistral-small", "mistral-large-2407", "pixtral-large", "mistral-large"]
_TEXT = st.lists(st.sampled_from([" ", "\n", "a", "Hello", "中", "😀", "é", "  ", "1", "</s>", "\u0301"])).map("".join)


@pytest.mark.parametrize("model", MODELS_BY_FAMILY)
@settings(max_examples=60)
@given(text=_TEXT, budget=st.integers(0, 25))
def test_a_whole_answer_is_decoded_in_one_call_as_the_pieces_join(model: str, text: str, budget: int) -> None:
    spec = lookup(model)
    ids = encode_text(text, spec)[:budget]
    assert whole_text(ids, spec, text) == "".join(detokenize(ids, spec, text))
    request = text_prompt("<s>[INST] Hi [/INST]", model=model, params=Params(max_tokens=max(budget, 1)))
    streamed, whole = shape(request, Answer(text)), shape(request, Answer(text), pieces=False)
    assert whole.text == streamed.text and whole.stop == streamed.stop
    assert len(whole.deltas) == (1 if whole.text else 0)


def test_invoke_and_stream_give_the_same_answer() -> None:
    request = text_prompt("<s>[INST] " + "Tell me about rivers. " * 40 + "[/INST]", params=Params(max_tokens=30))
    whole = collect(ENGINE, request)
    streamed = collect(ENGINE, dataclasses.replace(request, stream=True))
    assert text_of(whole) == text_of(streamed) and stop_of(whole) == stop_of(streamed)
    assert sum(isinstance(event, TextDelta) for event in streamed) == 30
    assert sum(isinstance(event, TextDelta) for event in whole) == 1
