"""The pace table: a row for every model in the catalog, each value graded, nothing a pacer could trip on."""

from __future__ import annotations

import pytest

from mistral_bedrock.catalog import MODELS
from mistral_bedrock.catalog.pace import DEFAULT_PACE, PACES, ModelPace, pace_for

MODEL_IDS = [model.model_id for model in MODELS]


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_every_catalog_model_has_a_pace_row(model_id: str) -> None:
    # A model added to the catalog needs its row here: `serve --pace bedrock` would otherwise give it a guess.
    assert model_id in PACES, f"add {model_id} to mistral_bedrock/catalog/pace.py, with evidence grades"
    assert pace_for(model_id) is PACES[model_id]


def test_no_row_names_a_model_the_catalog_lacks() -> None:
    assert set(PACES) <= set(MODEL_IDS)


@pytest.mark.parametrize("model_id", sorted(PACES))
def test_each_value_is_plausible_and_graded(model_id: str) -> None:
    pace = PACES[model_id]
    assert 100 <= pace.ttft_ms <= 5000, "Bedrock's first token takes tenths of a second, never less"
    assert 5 <= pace.tokens_per_s <= 1000
    assert set(pace.evidence) == {"ttft_ms", "tokens_per_s"}
    for value, grade in pace.evidence.items():
        assert grade.startswith(("[S] ", "[I] ")), f"{model_id} {value}: {grade!r} has no evidence grade"
        # A measurement names where it comes from.
        assert not grade.startswith("[S]") or "Artificial Analysis" in grade


def test_an_unlisted_model_gets_the_default_pace() -> None:
    assert pace_for("mistral.not-in-the-catalog-v9:0") is DEFAULT_PACE


def test_a_pace_must_be_positive() -> None:
    with pytest.raises(ValueError, match="tokens_per_s > 0"):
        ModelPace(300, 0, {})
    with pytest.raises(ValueError, match="ttft_ms >= 0"):
        ModelPace(-1, 10, {})
