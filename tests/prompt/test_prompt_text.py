"""encode_text / decode / truncate_to_tokens: generated text, token by token."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mistral_bedrock.catalog import ModelSpec, lookup
from mistral_bedrock.conversation import Message
from mistral_bedrock.prompt import decode, encode_text, render, tokenizer_info, truncate_to_tokens

MODELS_BY_TOKENIZER = ["mistral-7b", "mistral-small", "mistral-large-2407", "pixtral-large", "mistral-large"]
_TEXT = st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0x1F64F), max_size=40) | st.lists(
    st.sampled_from([" ", "\n", "a", "Hello", "中", "😀", "é", "  ", "1", "</s>", "[INST]"])
).map("".join)


def _spec(name: str) -> ModelSpec:
    return lookup(name)


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("model", MODELS_BY_TOKENIZER)
@_SETTINGS
@given(text=_TEXT)
def test_decode_inverts_encode_text(model: str, text: str) -> None:
    spec = _spec(model)
    ids = encode_text(text, spec)
    assert not set(ids) & {1, 2}  # no BOS/EOS, control strings are text
    assert decode(ids, spec) == text


@pytest.mark.parametrize("model", MODELS_BY_TOKENIZER)
@_SETTINGS
@given(text=_TEXT, n=st.integers(min_value=0, max_value=30))
def test_truncate_to_tokens(model: str, text: str, n: int) -> None:
    spec = _spec(model)
    cut = truncate_to_tokens(text, n, spec)
    assert text.startswith(cut)
    assert len(encode_text(cut, spec)) <= n
    if len(encode_text(text, spec)) <= n:
        assert cut == text
    assert "\ufffd" not in cut or "\ufffd" in text


@pytest.mark.parametrize("model", MODELS_BY_TOKENIZER)
def test_generated_answer_tokens_are_the_rendered_answer_tokens(model: str) -> None:
    """What the model generates after [/INST] is what mistral-common writes for the answer: for SentencePiece
    that starts with ``▁`` (Bedrock returns a leading space), for Tekken it does not."""
    spec = _spec(model)
    answer = "Ketchup, obviously.\nAnd mustard."
    ids = render([Message.user("Q"), Message.assistant(answer), Message.user("Q2")], spec).token_ids
    start = ids.index(4) + 1 if tokenizer_info(spec).control.get("[/INST]") == 4 else None
    generated = " " + answer if tokenizer_info(spec).sentencepiece else answer
    if start is None:  # v1: [/INST] is text; the answer follows its last token
        start = ids.index(2) - len(encode_text(generated, spec))
    end = ids.index(2)
    assert ids[start:end] == encode_text(generated, spec)
    assert decode(ids[start : end + 1], spec) == generated  # the EOS is dropped


def test_cutting_inside_a_character_moves_back_to_a_whole_one() -> None:
    tekken = _spec("mistral-large")
    emoji_ids = encode_text("a😀", tekken)
    assert len(emoji_ids) > 2  # byte-level pieces
    assert "\ufffd" in decode(emoji_ids[:2], tekken)
    assert truncate_to_tokens("a😀", 2, tekken) == "a"
    assert truncate_to_tokens("a😀", len(emoji_ids), tekken) == "a😀"


@pytest.mark.parametrize("model", ["mistral-7b", "mistral-large-2407"])
def test_cutting_inside_a_byte_fallback_character(model: str) -> None:
    spec = _spec(model)
    ids = encode_text("a\U0001d538", spec)  # MATHEMATICAL DOUBLE-STRUCK CAPITAL A: four <0xNN> pieces
    assert len(ids) == 5
    assert decode(ids[:3], spec) == "a\ufffd\ufffd"  # one replacement character per byte so far
    assert [truncate_to_tokens("a\U0001d538", n, spec) for n in range(6)] == ["", "a", "a", "a", "a", "a\U0001d538"]


def test_truncate_examples() -> None:
    v1 = _spec("mistral-7b")
    assert [decode(encode_text(" Ketchup is", v1)[:k], v1) for k in range(5)] == [
        "",
        " K",
        " Ketch",
        " Ketchup",
        " Ketchup is",
    ]
    assert truncate_to_tokens(" Ketchup is", 3, v1) == " Ketchup"
    assert truncate_to_tokens(" Ketchup is", 0, v1) == ""
    with pytest.raises(ValueError, match="n must be >= 0"):
        truncate_to_tokens("x", -1, v1)
