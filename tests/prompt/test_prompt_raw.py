"""encode_prompt: raw text-completion prompts, the classic literal prompt, and the render round trip."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mistral_bedrock.catalog import MODELS, ModelSpec, lookup
from mistral_bedrock.conversation import Message
from mistral_bedrock.prompt import decode_prompt, encode_prompt, render, tokenizer_info
from tests.prompt.prompt_cases import MULTI, SINGLE, WEATHER, tool_conversation

CLASSIC_SINGLE = "<s>[INST] Hello, what's your name? [/INST]"
CLASSIC_MULTI = "<s>[INST] Q1 [/INST] A1</s> [INST] Q2 [/INST]"
MULTI_TURN = [Message.user("Q1"), Message.assistant("A1"), Message.user("Q2")]

V1_MODELS = ["mistral-7b", "mixtral"]
SENTENCEPIECE_INSTRUCT_MODELS = ["mistral-small", "mistral-large-2402", "mistral-large-2407"]


def _spec(name: str) -> ModelSpec:
    return lookup(name)


def _piece_id(spec: ModelSpec, piece: str) -> int:
    return tokenizer_info(spec).raw.vocab().index(piece)


# --- round trip ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["single", "multi", "tools", "tools-result", "continue"])
def test_encode_prompt_of_render_text_round_trips(spec: ModelSpec, case: str) -> None:
    info = tokenizer_info(spec)
    if case.startswith("tools") and not info.supports_tools:
        pytest.skip("v1 has no tools")
    rendered = {
        "single": lambda: render(SINGLE, spec),
        "multi": lambda: render(MULTI, spec),
        "tools": lambda: render(tool_conversation(), spec, [WEATHER]),
        "tools-result": lambda: render(tool_conversation(follow_up=False), spec, [WEATHER]),
        "continue": lambda: render([*MULTI_TURN, Message.assistant("Partial an")], spec, continue_final=True),
    }[case]()
    again = encode_prompt(rendered.text, spec)
    assert again.token_ids == rendered.token_ids
    assert again.text == rendered.text
    assert decode_prompt(again.token_ids, spec) == rendered.text


_ALPHABET = st.sampled_from([*"abcXYZ019 .,:;!?'\"-_()[]{}/<>\\\n\t", "  ", "\n\n", "é", "ß", "中", "😀", "ñ"])
_CONTENT = st.lists(_ALPHABET, min_size=0, max_size=12).map("".join)


def _no_control(spec: ModelSpec, *texts: str) -> bool:
    pattern = tokenizer_info(spec).control_pattern
    return not any(pattern.search(text) for text in texts)


@pytest.mark.parametrize(
    "model", ["mistral-7b", "mistral-small", "mistral-large-2407", "pixtral-large", "mistral-large"]
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(system=_CONTENT, user1=_CONTENT, answer=_CONTENT.filter(lambda s: s.strip(" ") != ""), user2=_CONTENT)
def test_round_trip_with_arbitrary_content(model: str, system: str, user1: str, answer: str, user2: str) -> None:
    spec = _spec(model)
    assume(_no_control(spec, system, user1, answer, user2))
    messages = [Message.user(user1), Message.assistant(answer), Message.user(user2)]
    if system:
        messages.insert(0, Message.system(system))
    rendered = render(messages, spec)
    assert encode_prompt(rendered.text, spec).token_ids == rendered.token_ids


# --- the classic literal prompt -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", V1_MODELS + SENTENCEPIECE_INSTRUCT_MODELS)
def test_classic_prompts_use_bos_and_eos_control_ids(model: str) -> None:
    spec = _spec(model)
    single = encode_prompt(CLASSIC_SINGLE, spec).token_ids
    assert single[0] == 1
    assert 1 not in single[1:]
    assert 2 not in single
    multi = encode_prompt(CLASSIC_MULTI, spec).token_ids
    assert multi[0] == 1
    assert multi.count(1) == 1
    assert multi.count(2) == 1
    # The characters of "<s>" / "</s>" never appear as text tokens.
    text_ids = [token for token in multi if token not in (1, 2)]
    assert "<s>" not in tokenizer_info(spec).raw.decode(text_ids)


@pytest.mark.parametrize("model", V1_MODELS)
def test_v1_inst_is_plain_text(model: str) -> None:
    spec = _spec(model)
    ids = encode_prompt("[INST]", spec).token_ids
    pieces = [tokenizer_info(spec).raw.id_to_piece(token) for token in ids]
    assert pieces == ["▁[", "INST", "]"]


@pytest.mark.parametrize("model", V1_MODELS)
def test_v1_classic_single_turn_is_exactly_mistral_common(model: str) -> None:
    spec = _spec(model)
    rendered = render([Message.user("Hello, what's your name?")], spec)
    assert rendered.text == CLASSIC_SINGLE
    assert encode_prompt(CLASSIC_SINGLE, spec).token_ids == rendered.token_ids


@pytest.mark.parametrize("model", V1_MODELS)
def test_v1_classic_multi_turn_differs_by_the_space_after_eos(model: str) -> None:
    """The literal prompt has ``</s> [INST]``; mistral-common renders ``</s>[INST]``. SentencePiece puts its
    dummy-prefix ``▁`` in front of the text after ``</s>`` either way, so the literal space becomes one extra
    token: a lone ``▁`` (id 28705) right after the EOS id."""
    spec = _spec(model)
    rendered = render(MULTI_TURN, spec)
    assert rendered.text == "<s>[INST] Q1 [/INST] A1</s>[INST] Q2 [/INST]"
    classic = encode_prompt(CLASSIC_MULTI, spec).token_ids
    eos_at = rendered.token_ids.index(2)
    space = _piece_id(spec, "▁")
    assert space == 28705
    assert classic == (*rendered.token_ids[: eos_at + 1], space, *rendered.token_ids[eos_at + 1 :])
    assert classic == (
        1,
        *(733, 16289, 28793, 1186, 28740, 733, 28748, 16289, 28793),  # ▁[INST] ▁Q1 ▁[/INST]
        *(330, 28740),  # ▁A1
        2,
        28705,  # the space after </s>: the only difference
        *(733, 16289, 28793, 1186, 28750, 733, 28748, 16289, 28793),  # ▁[INST] ▁Q2 ▁[/INST]
    )
    assert len(classic) == rendered.count + 1


@pytest.mark.parametrize("model", SENTENCEPIECE_INSTRUCT_MODELS)
def test_v2_v3_classic_prompts_have_a_lone_space_token_at_each_literal_space(model: str) -> None:
    """From v2 ``[INST]``/``[/INST]`` are control tokens and mistral-common writes no spaces around them
    (``<s>[INST]Q1[/INST]A1</s>[INST]Q2[/INST]``). Every space of the classic prompt next to a control token
    becomes its own ``▁`` token (``▁▁`` after ``</s>``, where the run is just that space)."""
    spec = _spec(model)
    space, double_space = _piece_id(spec, "▁"), _piece_id(spec, "▁▁")
    single = render([Message.user("Hello, what's your name?")], spec).token_ids
    assert single[:2] == (1, 3)
    assert single[-1] == 4
    assert encode_prompt(CLASSIC_SINGLE, spec).token_ids == (1, 3, space, *single[2:-1], space, 4)

    rendered = render(MULTI_TURN, spec)
    assert rendered.text == "<s>[INST]Q1[/INST]A1</s>[INST]Q2[/INST]"
    assert encode_prompt(rendered.text, spec).token_ids == rendered.token_ids
    q1, a1, q2 = (1954, 29508), (1098, 29508), (1954, 29518)  # ▁Q 1, ▁A 1, ▁Q 2
    assert rendered.token_ids == (1, 3, *q1, 4, *a1, 2, 3, *q2, 4)
    assert encode_prompt(CLASSIC_MULTI, spec).token_ids == (
        *(1, 3, space, *q1, space, 4),
        *(space, *a1, 2),
        double_space,
        *(3, space, *q2, space, 4),
    )


def test_tekken_classic_prompt_keeps_the_spaces_as_text() -> None:
    spec = _spec("mistral-large")
    ids = encode_prompt(CLASSIC_SINGLE, spec).token_ids
    assert ids[:2] == (1, 3)
    assert ids[-1] == 4
    assert encode_prompt(CLASSIC_SINGLE, spec).text == CLASSIC_SINGLE
    assert decode_prompt(ids, spec) == CLASSIC_SINGLE  # Tekken has no dummy prefix: the text is kept as is


def test_control_strings_in_prompts_for_v3_and_v7() -> None:
    v3 = _spec("mistral-large-2407")
    prompt = "<s>[AVAILABLE_TOOLS][][/AVAILABLE_TOOLS][INST]Hi[/INST][TOOL_CALLS][]</s>[TOOL_RESULTS]{}[/TOOL_RESULTS]"
    ids = encode_prompt(prompt, v3).token_ids
    assert [token for token in ids if token < 10] == [1, 6, 7, 3, 4, 5, 2, 8, 9]
    v7 = _spec("pixtral-large")
    ids = encode_prompt("<s>[SYSTEM_PROMPT]Be brief.[/SYSTEM_PROMPT][INST]Hi[/INST]", v7).token_ids
    assert [token for token in ids if token < 20] == [1, 16, 17, 3, 4]
    # In v2 [SYSTEM_PROMPT] is not a control token: plain text.
    v2 = _spec("mistral-small")
    assert [token for token in encode_prompt("[SYSTEM_PROMPT]", v2).token_ids if token < 20] == []


def test_no_implicit_bos() -> None:
    for spec in MODELS:
        ids = encode_prompt("[INST] Hi [/INST]", spec).token_ids
        assert ids[0] != 1
        assert encode_prompt("", spec).token_ids == ()
