"""Resolve anything a user or a client may send as a model id: id, alias, ARN, inference profile."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ValidationException
from .data import MODELS
from .spec import ModelSpec

__all__ = [
    "INVALID_MODEL_MESSAGE",
    "PROFILE_PREFIXES",
    "ResolvedModel",
    "all_models",
    "resolve",
]

INVALID_MODEL_MESSAGE = "The provided model identifier is invalid."
# Geography prefixes of cross-region inference profiles.
PROFILE_PREFIXES = ("us", "eu", "apac", "us-gov", "global")
MAX_ID_LENGTH = 2048  # InvokeModelIdentifier max length in the service model

_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:bedrock:(?P<region>[a-z0-9-]+):(?P<account>\d{12})?:"
    r"(?P<kind>foundation-model|inference-profile)/(?P<id>.+)$"
)
_BY_NAME: dict[str, ModelSpec] = {}
for _spec in MODELS:
    for _name in (_spec.model_id, *_spec.aliases):
        if _name in _BY_NAME:  # pragma: no cover - guards the data table itself
            raise RuntimeError(f"duplicate catalog name {_name!r}")
        _BY_NAME[_name] = _spec


@dataclass(frozen=True)
class ResolvedModel:
    """A model identifier resolved through the catalog.

    Attributes:
        spec: The catalog entry.
        identifier: What was given, unchanged (this is what goes into the request path).
        profile: The inference-profile geography (``us``, ``eu``, …), or None for a plain model id.
        region: The region named by an ARN, or None.
    """

    spec: ModelSpec
    identifier: str
    profile: str | None = None
    region: str | None = None

    @property
    def model_id(self) -> str:
        return self.spec.model_id


def all_models() -> tuple[ModelSpec, ...]:
    """Every catalog entry, in catalog order."""
    return MODELS


def _invalid() -> ValidationException:
    return ValidationException(INVALID_MODEL_MESSAGE)


def _split_profile(name: str) -> tuple[str | None, str]:
    head, sep, rest = name.partition(".")
    if sep and head in PROFILE_PREFIXES and rest.startswith("mistral."):
        return head, rest
    return None, name


def resolve(identifier: str, *, enforce_profile: bool = True) -> ResolvedModel:
    """Resolve a model identifier.

    Accepts a foundation-model id, an alias (``mistral-7b``, ``mistral-large``…), a foundation-model ARN, an
    inference-profile id (``us.mistral.pixtral-large-2502-v1:0``) or its ARN.

    Args:
        identifier: The identifier as sent.
        enforce_profile: Reject a bare id for models that Bedrock serves only through inference profiles,
            with Bedrock's message, as the real service does.

    Raises:
        ValidationException: With Bedrock's messages for unknown or malformed ids.
    """
    if len(identifier) > MAX_ID_LENGTH:
        raise ValidationException(
            f"1 validation error detected: Value '{identifier}' at 'modelId' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_ID_LENGTH}"
        )
    region: str | None = None
    name = identifier
    match = _ARN.match(identifier)
    if match:
        region, name = match["region"], match["id"]
        is_profile = match["kind"] == "inference-profile"
        if is_profile != (match["account"] is not None):
            raise _invalid()  # foundation-model ARNs have no account, profiles always have one
    profile, bare = _split_profile(name)
    if match and match["kind"] == "inference-profile" and profile is None:
        raise _invalid()
    spec = _BY_NAME.get(bare)
    if spec is None or (profile is not None and bare != spec.model_id):
        raise _invalid()
    if enforce_profile and spec.requires_profile and profile is None:
        raise ValidationException(
            f"Invocation of model ID {spec.model_id} with on-demand throughput isn\u2019t supported. "
            "Retry your request with the ID or ARN of an inference profile that contains this model."
        )
    return ResolvedModel(spec=spec, identifier=identifier, profile=profile, region=region)
