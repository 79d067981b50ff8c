"""The catalog as data: ids, aliases, ARNs and inference profiles resolve; unknown ids fail as on Bedrock."""

from __future__ import annotations

import pytest

from mistral_bedrock.catalog import MODELS, Dialect, ModelSpec, for_region, lookup, resolve
from mistral_bedrock.errors import ModelNotServedError, ValidationException


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
        ("mistral.mistral-7b-instruct-v0:2", "mistral.mistral-7b-instruct-v0:2", None, None),
        ("mistral.mistral-large-2407-v1:0", "mistral.mistral-large-2407-v1:0", None, None),
        ("mistral.devstral-2-123b", "mistral.devstral-2-123b", None, None),
        ("us.mistral.pixtral-large-2502-v1:0", "mistral.pixtral-large-2502-v1:0", "us", None),
        ("eu.mistral.pixtral-large-2502-v1:0", "mistral.pixtral-large-2502-v1:0", "eu", None),
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
        # Aliases are the client's convenience; Bedrock does not know them.
        "mistral-7b",
        "mixtral",
        "mistral-large",
        "arn:aws:bedrock:us-east-1::foundation-model/mixtral",
        # Inference profiles exist only where the catalog lists them: Pixtral in us. and eu., nothing else.
        "global.mistral.pixtral-large-2502-v1:0",
        "apac.mistral.pixtral-large-2502-v1:0",
        "us-gov.mistral.pixtral-large-2502-v1:0",
        "us.mistral.mistral-7b-instruct-v0:2",
        "eu.mistral.mistral-large-3-675b-instruct",
        "global.mistral.ministral-3-3b-instruct",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/apac.mistral.pixtral-large-2502-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/mistral.mistral-7b-instruct-v0:2",
        # A Region lives in one partition.
        "arn:aws-cn:bedrock:us-east-1::foundation-model/mistral.mistral-7b-instruct-v0:2",
        "arn:aws-us-gov:bedrock:us-east-1::foundation-model/mistral.mistral-7b-instruct-v0:2",
        "arn:aws:bedrock:cn-north-1::foundation-model/mistral.mistral-7b-instruct-v0:2",
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
    assert lookup("mistral-7b").native_dialect is Dialect.TEXT
    assert lookup("mistral-large-2407").native_dialect is Dialect.CHAT


# Every value of an entry carries its evidence grade.
_GRADED = ("dialects", "tokenizer", "context_window", "max_output", "params", "max_stop", "converse", "price")


@pytest.mark.parametrize("spec", MODELS, ids=lambda m: m.model_id)
def test_every_value_has_an_evidence_grade(spec: ModelSpec) -> None:
    for field in (*_GRADED, "regions", "profiles"):
        grade = spec.evidence.get(field, "")
        assert grade.startswith(("[D]", "[D~]", "[R]", "[S]", "[I]")), (spec.model_id, field, grade)
    assert set(spec.evidence) <= {*_GRADED, "regions", "profiles"}


@pytest.mark.parametrize(
    ("name", "region", "identifier"),
    [
        ("mistral-7b", "us-east-1", "mistral.mistral-7b-instruct-v0:2"),
        ("mixtral-8x7b", "eu-west-3", "mistral.mixtral-8x7b-instruct-v0:1"),
        ("mistral-large-2407", "us-west-2", "mistral.mistral-large-2407-v1:0"),
        ("mistral-small", "us-east-1", "mistral.mistral-small-2402-v1:0"),
        ("pixtral-large", "us-east-1", "us.mistral.pixtral-large-2502-v1:0"),
        ("pixtral-large", "us-west-2", "us.mistral.pixtral-large-2502-v1:0"),
        ("pixtral-large", "eu-central-1", "eu.mistral.pixtral-large-2502-v1:0"),
        ("devstral-2", "eu-north-1", "mistral.devstral-2-123b"),
        # What the caller spells out goes out as it is.
        ("mistral.mistral-large-2407-v1:0", "us-east-1", "mistral.mistral-large-2407-v1:0"),
        ("eu.mistral.pixtral-large-2502-v1:0", "us-east-1", "eu.mistral.pixtral-large-2502-v1:0"),
    ],
)
def test_aliases_resolve_to_what_the_region_serves(name: str, region: str, identifier: str) -> None:
    assert for_region(name, region).identifier == identifier


@pytest.mark.parametrize(
    ("name", "region", "where"),
    [
        ("pixtral-large", "ap-northeast-1", "through the us. profile from us-east-1, us-east-2, us-west-2"),
        ("pixtral-large", "us-west-1", "through the us. profile"),
        ("mistral-large-2407", "us-east-1", "on demand in us-west-2"),
        ("mistral-small", "eu-west-1", "on demand in us-east-1"),
        ("mistral-large-3", "eu-west-1", "on demand in ap-northeast-1"),
    ],
)
def test_an_alias_the_region_does_not_serve_fails_before_io(name: str, region: str, where: str) -> None:
    with pytest.raises(ModelNotServedError, match=region) as info:
        for_region(name, region)
    assert where in str(info.value)


def test_lookup_takes_aliases_for_local_tooling() -> None:
    assert lookup("mixtral").model_id == "mistral.mixtral-8x7b-instruct-v0:1"
    assert lookup("mistral.pixtral-large-2502-v1:0").model_id == "mistral.pixtral-large-2502-v1:0"
    with pytest.raises(ValidationException):
        lookup("gpt-4")


def test_catalog_fixes_from_the_audit() -> None:
    large3, magistral = lookup("mistral-large-3"), lookup("magistral-small")
    assert (large3.context_window, large3.max_output) == (128_000, 32_000)
    assert "eu-west-1" not in large3.regions
    assert magistral.converse.images and magistral.max_output == 40_000
    assert all(lookup(f"ministral-3-{size}").max_output == 8_192 for size in ("3b", "8b", "14b"))
    assert lookup("voxtral-mini").converse.audio and lookup("voxtral-small").converse.audio
    assert {spec.model_id for spec in MODELS if spec.profiles} == {"mistral.pixtral-large-2502-v1:0"}
    assert set(lookup("pixtral-large").profiles) == {"us", "eu"}


def test_cost() -> None:
    spec = lookup("mistral-7b")
    assert spec.cost(1000, 1000) == pytest.approx(0.00035)
