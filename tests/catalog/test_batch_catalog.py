"""The catalog's batch records: price-list-verified for Mistral Large 3 and Ministral 3 8B/14B, unknown elsewhere."""

from __future__ import annotations

import pytest

from mistral_bedrock.catalog import MODELS, BatchSpec, lookup

VERIFIED = {
    # model id: batch USD per million tokens (input, output), from the AWS Price List rows [R]
    "mistral.mistral-large-3-675b-instruct": (0.25, 0.75),
    "mistral.ministral-3-14b-instruct": (0.10, 0.10),
    "mistral.ministral-3-8b-instruct": (0.07, 0.07),
}


@pytest.mark.parametrize(("model_id", "prices"), VERIFIED.items())
def test_verified_batch_prices(model_id: str, prices: tuple[float, float]) -> None:
    batch = lookup(model_id).batch
    assert isinstance(batch, BatchSpec)
    assert (batch.price_input * 1000, batch.price_output * 1000) == pytest.approx(prices)
    assert batch.verified == "price-list"
    assert batch.evidence.startswith("[R]")
    assert "Price List" in batch.evidence
    assert batch.invocation_types == frozenset({"InvokeModel", "Converse"})


def test_every_other_model_is_unknown() -> None:
    for spec in MODELS:
        if spec.model_id not in VERIFIED:
            assert spec.batch is None, spec.model_id


@pytest.mark.parametrize("model_id", ["mistral.mistral-large-3-675b-instruct", "mistral.ministral-3-14b-instruct"])
def test_batch_is_half_of_on_demand_where_the_price_list_says_so(model_id: str) -> None:
    spec = lookup(model_id)
    assert spec.batch is not None
    assert spec.batch.cost(1_000_000, 1_000_000) == pytest.approx(spec.cost(1_000_000, 1_000_000) / 2)


def test_batch_cost() -> None:
    batch = lookup("mistral-large-3").batch
    assert batch is not None
    assert batch.cost(2_000_000, 1_000_000) == pytest.approx(0.50 + 0.75)
