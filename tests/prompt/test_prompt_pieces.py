"""Long strings encoded in pieces give exactly the ids of one encode call, for every tokenizer family.

The cut rule (``prompt.pieces``) rests on two facts per family, each checked here directly — the SentencePiece
vocabularies' pieces never hold ``▁`` after another character nor a newline; tekken's pre-tokenizer pattern is
the one the rule was derived from — and then on generated text with pieces as small as one character, so every
cut the rule allows is exercised.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mistral_bedrock.catalog import lookup
from mistral_bedrock.prompt import count_prompt_tokens, encode_prompt, encode_text, encode_text_prefix, tokenizer_info
from mistral_bedrock.prompt import pieces as pieces_module
from mistral_bedrock.prompt.pieces import PIECE_CHARS, _words, encode_pieces, encode_plain, pieces
from mistral_bedrock.prompt.sanitize import tokenizable
from mistral_bedrock.prompt.tokenizers import TokenizerInfo

# One model per tokenizer family of the catalog: v1, v2, v3, v7 (multimodal), tekken.
FAMILIES = {
    "v1": "mistral.mistral-7b-instruct-v0:2",
    "v2": "mistral.mistral-large-2402-v1:0",
    "v3": "mistral.mistral-large-2407-v1:0",
    "v7-mm": "mistral.pixtral-large-2502-v1:0",
    "v3-tekken": "mistral.magistral-small-2509",
}
SENTENCEPIECE = ["v1", "v2", "v3", "v7-mm"]
TEKKEN_PATTERN = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|"
    r"\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Text dense in the places where cuts may fall and where they must not: words and digits between single, double
# and odd spaces, newlines before and after everything, punctuation, marks, scripts without spaces, emoji,
# control strings, lone surrogates.
_ATOMS = st.sampled_from(
    [
        " ", "  ", "\n", "\n\n", "\r\n", "\t", "\u00a0", "\u3000", "a", "Hello", "world", "X", "42", "7", "é", "e\u0301",
        "\u0301", "中文", "😀", "-", "/", ".", ",", "'s", "<s>", "</s>", "[INST]", "[/INST]", "_", "ǅ", "²", "\ud800",
    ]
)  # fmt: skip
TEXT = st.lists(_ATOMS | st.text(st.characters(codec="utf-8"), max_size=4), max_size=40).map("".join)


def _info(family: str) -> TokenizerInfo:
    return tokenizer_info(family)


def _whole(info: TokenizerInfo, text: str, *, dummy_prefix: bool) -> list[int]:
    clean = tokenizable(text)
    if dummy_prefix:
        return info.raw.encode(clean, bos=False, eos=False) if clean else []
    return encode_plain(info, clean) if clean else []


@pytest.mark.parametrize("family", SENTENCEPIECE)
def test_no_sentencepiece_piece_spans_a_cut(family: str) -> None:
    model = _info(family).raw._model  # type: ignore[attr-defined]
    vocabulary = [model.id_to_piece(i) for i in range(model.get_piece_size())]
    assert not [piece for piece in vocabulary if "\u2581" in piece.lstrip("\u2581")]  # ▁ only leads a piece
    assert not [piece for piece in vocabulary if "\n" in piece]  # a newline is always its byte piece
    assert [model.id_to_piece(i) for i in _info(family).newline_ids] == ["\u2581", "<0x0A>"]


def test_tekken_pattern_is_the_one_the_cut_rule_was_derived_from() -> None:
    assert _info("v3-tekken").raw._model._pat_str == TEKKEN_PATTERN  # type: ignore[attr-defined]


def test_pieces_join_to_the_text_and_cut_only_where_allowed() -> None:
    text = "alpha beta\ngamma  delta\n\nepsilon, zeta 12 34\n-x"
    parts = list(pieces(text, 1))
    assert "".join(parts) == text
    assert parts == ["alpha", " beta\n", "gamma  delta\n\n", "epsilon, zeta", " 12", " 34\n-x"]
    assert list(pieces("x" * 10_000)) == ["x" * 10_000]  # no cut: one piece


@pytest.mark.parametrize("family", list(FAMILIES))
@settings(max_examples=300)
@given(text=TEXT, size=st.sampled_from([1, 2, 5, 16]), dummy_prefix=st.booleans())
def test_pieces_encode_as_the_whole_string(family: str, text: str, size: int, dummy_prefix: bool) -> None:
    info = _info(family)
    ids, complete = encode_pieces(info, text, dummy_prefix=dummy_prefix, size=size)
    assert complete
    assert ids == _whole(info, text, dummy_prefix=dummy_prefix)


@pytest.mark.parametrize("family", list(FAMILIES))
@settings(max_examples=100)
@given(text=TEXT, size=st.sampled_from([1, 5]), limit=st.integers(0, 30))
def test_an_early_stop_gives_a_prefix_longer_than_the_limit(family: str, text: str, size: int, limit: int) -> None:
    info = _info(family)
    whole = _whole(info, text, dummy_prefix=False)
    ids, complete = encode_pieces(info, text, dummy_prefix=False, limit=limit, size=size)
    if complete:
        assert ids == whole
    else:
        assert len(ids) > limit and whole[: len(ids)] == ids


def _kept(info: TokenizerInfo) -> list[dict[str, tuple[int, ...]]]:
    table = pieces_module._WORDS.get(info.name)
    return [table.prefixed, table.plain] if table is not None else []


def test_words_are_cut_only_where_the_rule_allows() -> None:
    text = "Hello  world, it's 42 x-y\nz  "
    assert _words(text) == ["Hello  world, it's", " 42", " x-y\nz  "]
    assert "".join(_words(text)) == text and _words("") == [""] and _words(" a") == [" a"]


@pytest.mark.parametrize("family", list(FAMILIES))
@settings(max_examples=100)
@given(texts=st.lists(TEXT, min_size=2, max_size=6), dummy_prefix=st.booleans())
def test_the_word_table_gives_the_whole_string_ids_while_it_fills_and_starts_over(
    family: str, texts: list[str], dummy_prefix: bool
) -> None:
    # A table of two words starts over all the time: every text is encoded partly from kept words, partly anew.
    info = _info(family)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pieces_module, "WORDS_KEPT", 2)
        patch.setattr(pieces_module, "_WORDS", {})
        for text in texts + texts:
            ids, _ = encode_pieces(info, text, dummy_prefix=dummy_prefix)
            assert ids == _whole(info, text, dummy_prefix=dummy_prefix)
            assert all(len(kept) <= 2 for kept in _kept(info))


@pytest.mark.parametrize("family", list(FAMILIES))
def test_long_text_in_real_pieces(family: str) -> None:
    spec = lookup(FAMILIES[family])
    text = " ".join(f"word{i} é\nline {i}, and 😀 more" for i in range(2_000))
    assert len(list(pieces(text))) > 10 and len(text) > 10 * PIECE_CHARS
    assert list(encode_text(text, spec)) == _whole(_info(family), text, dummy_prefix=False)
    prompt = "<s>[INST] " + text + " [/INST]"
    count = encode_prompt(prompt, spec).count
    assert count_prompt_tokens(prompt, spec) == count
    assert count_prompt_tokens(prompt, spec, count + 1) == count
    assert count_prompt_tokens(prompt, spec, count // 3) >= count // 3
    ids, complete = encode_text_prefix(text, spec, 100)
    assert not complete and 100 < len(ids) < 2 * PIECE_CHARS and list(ids) == list(encode_text(text, spec))[: len(ids)]


@pytest.mark.parametrize("family", list(FAMILIES))
@settings(max_examples=100)
@given(text=TEXT, limit=st.integers(1, 40))
def test_a_prompt_count_is_exact_below_its_limit(family: str, text: str, limit: int) -> None:
    spec = lookup(FAMILIES[family])
    prompt = "<s>[INST] " + text + " [/INST]" + text
    count = encode_prompt(prompt, spec).count
    limited = count_prompt_tokens(prompt, spec, limit)
    assert limited == count if count < limit else limited >= limit
