"""The catalog as data: ids, aliases, ARNs and inference profiles resolve; unknown ids fail as on Bedrock."""

from __future__ import annotations

import pytest

from mistral_bedrock.catalog import MODELS, Dialect, resolve
from mistral_bedrock.errors import ValidationException


def test_spec_section_5_1_ids_are_all_present() -> None:
    ids = {m.model_id for m in MODELS}
    assert {
        "mistral.mistral-7b-instruct-v0:2",
        "mistral.mixtral-8x7b-instruct-v0:1",
        "mistral.mistral-large-2402-v1:0",
        "mistral.mistral-small-2402-v1:0",
        "mistral.mistral-large-2407-v1:0",
        "mistral.pixtral-large-2502-v1:0",
        "mistral.mistral-large-3-675b-instruct",
        "mistral.ministral-3-3b-instruct",
        "mistral.ministral-3-8b-instruct",
        "mistral.ministral-3-14b-instruct",
        "mistral.magistral-small-2509",
        "mistral.voxtral-mini-3b-2507",
        "mistral.voxtral-small-24b-2507",
    } <= ids


@pytest.mark.parametrize(
    ("given", "model_id", "profile", "region"),
    [
        ("mistral-7b", "mistral.mistral-7b-instruct-v0:2", None, None),
        ("mixtral-8x7b", "mistral.mixtral-8x7b-instruct-v0:1", None, None),
        ("mistral-small", "mistral.mistral-small-2402-v1:0", None, None),
        ("mistral-large", "mistral.mistral-large-3-675b-instruct", None, None),
        ("mistral-large-2402", "mistral.mistral-large-2402-v1:0", None, None),
        ("mistral.mistral-large-2407-v1:0", "mistral.mistral-large-2407-v1:0", None, None),
        ("us.mistral.pixtral-large-2502-v1:0", "mistral.pixtral-large-2502-v1:0", "us", None),
        ("eu.mistral.pixtral-large-2502-v1:0", "mistral.pixtral-large-2502-v1:0", "eu", None),
        ("apac.mistral.mistral-large-2407-v1:0", "mistral.mistral-large-2407-v1:0", "apac", None),
        (
            "arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-large-2402-v1:0",
            "mistral.mistral-large-2402-v1:0",
            None,
            "us-east-1",
        ),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.mistral.pixtral-large-2502-v1:0",
            "mistral.pixtral-large-2502-v1:0",
            "us",
            "us-east-1",
        ),
    ],
)
def test_resolution(given: str, model_id: str, profile: str | None, region: str | None) -> None:
    resolved = resolve(given)
    assert (resolved.model_id, resolved.profile, resolved.region, resolved.identifier) == (
        model_id,
        profile,
        region,
        given,
    )


@pytest.mark.parametrize(
    "given",
    [
        "mistral.mistral-7b-instruct-v0:3",
        "anthropic.claude-v2",
        "us.mistral-7b",  # a profile prefix needs the full id
        "arn:aws:bedrock:us-east-1:123456789012:foundation-model/mistral.mistral-7b-instruct-v0:2",
        "arn:aws:bedrock:us-east-1::inference-profile/us.mistral.pixtral-large-2502-v1:0",
        "",
        "bad model id with spaces",
    ],
)
def test_unknown_ids_get_bedrocks_message(given: str) -> None:
    with pytest.raises(ValidationException) as info:
        resolve(given)
    assert info.value.message == "The provided model identifier is invalid."


def test_overlong_id_fails_the_length_constraint() -> None:
    with pytest.raises(ValidationException, match="less than or equal to 2048"):
        resolve("m" * 3000)


def test_profile_only_models_need_a_profile() -> None:
    with pytest.raises(ValidationException, match="with on-demand throughput isn\u2019t supported"):
        resolve("mistral.pixtral-large-2502-v1:0")
    assert resolve("mistral.pixtral-large-2502-v1:0", enforce_profile=False).profile is None


def test_every_entry_is_consistent() -> None:
    names: set[str] = set()
    for spec in MODELS:
        assert spec.dialects, spec.model_id
        assert spec.params["max_tokens"].maximum == spec.max_output
        assert 1 <= int(spec.params["max_tokens"].default or 0) <= spec.max_output
        assert spec.price_input > 0 and spec.price_output > 0
        for name in (spec.model_id, *spec.aliases):
            assert name not in names
            names.add(name)
        assert spec.accepts(Dialect.CONVERSE)
    text_models = {m.model_id for m in MODELS if Dialect.TEXT in m.dialects}
    assert "mistral.mistral-7b-instruct-v0:2" in text_models
    assert resolve("mistral-7b").spec.native_dialect is Dialect.TEXT
    assert resolve("mistral-large-2407").spec.native_dialect is Dialect.CHAT


def test_cost() -> None:
    spec = resolve("mistral-7b").spec
    assert spec.cost(1000, 1000) == pytest.approx(0.00035)
