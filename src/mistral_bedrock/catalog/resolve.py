"""Model identifiers: what Bedrock accepts on the wire, and what the client's short names resolve to.

Two doors, kept apart on purpose:

* :func:`resolve` is Bedrock's: a foundation-model id, its ARN, or an inference profile (id or ARN) whose
  geography the catalog lists for that model. Aliases are not identifiers; Bedrock answers them, like every
  unknown id, with ``The provided model identifier is invalid.`` The runtime uses only this door.
* :func:`for_region` is the client's: it also takes an alias and turns it into the identifier that Bedrock
  serves from the client's Region (the plain id, or ``us.``/``eu.``/``apac.`` + id for models served only
  through inference profiles), failing before any I/O when that Region has none.

:func:`lookup` finds a catalog entry by any of those names, for local tooling that never goes on the wire
(token counting, fault and engine rules).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import ModelNotServedError, ValidationException
from .data import MODELS
from .spec import ModelSpec

__all__ = [
    "INVALID_MODEL_MESSAGE",
    "ResolvedModel",
    "all_models",
    "for_region",
    "lookup",
    "on_demand_message",
    "resolve",
]

INVALID_MODEL_MESSAGE = "The provided model identifier is invalid."
MAX_ID_LENGTH = 2048  # InvokeModelIdentifier max length in the service model

_ARN = re.compile(
    r"^arn:(?P<partition>aws(?:-cn|-us-gov)?):bedrock:(?P<region>[a-z0-9-]+):(?P<account>\d{12})?:"
    r"(?P<kind>foundation-model|inference-profile)/(?P<id>.+)$"
)
_BY_ID: dict[str, ModelSpec] = {spec.model_id: spec for spec in MODELS}
_BY_ALIAS: dict[str, ModelSpec] = {}
for _spec in MODELS:
    for _name in _spec.aliases:
        if _name in _BY_ALIAS or _name in _BY_ID:  # pragma: no cover - guards the data table itself
            raise RuntimeError(f"duplicate catalog name {_name!r}")
        _BY_ALIAS[_name] = _spec


@dataclass(frozen=True)
class ResolvedModel:
    """A model identifier resolved through the catalog.

    Attributes:
        spec: The catalog entry.
        identifier: What goes into the request path: for the wire door, exactly what was given.
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


def on_demand_message(spec: ModelSpec) -> str:
    """Bedrock's answer to a plain id of a model served only through inference profiles."""
    return (
        f"Invocation of model ID {spec.model_id} with on-demand throughput isn\u2019t supported. "
        "Retry your request with the ID or ARN of an inference profile that contains this model."
    )


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _split_profile(name: str) -> tuple[str | None, str]:
    head, sep, rest = name.partition(".")
    if sep and rest.startswith("mistral."):
        return head, rest
    return None, name


@lru_cache(maxsize=1024)  # the runtime resolves the same few labels on every request; errors are not kept
def resolve(identifier: str, *, enforce_profile: bool = True) -> ResolvedModel:
    """Resolve an identifier exactly as Bedrock accepts it.

    Accepts a foundation-model id, a foundation-model ARN, an inference-profile id
    (``us.mistral.pixtral-large-2502-v1:0``) or its ARN, where the catalog lists that geography for the model.

    Args:
        identifier: The identifier as sent.
        enforce_profile: Reject a plain id of a model that Bedrock serves only through inference profiles,
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
        if match["partition"] != _partition(region):
            raise _invalid()  # a Region lives in one partition: no aws-cn ARN names us-east-1
    profile, bare = _split_profile(name)
    if match and (match["kind"] == "inference-profile") != (profile is not None):
        raise _invalid()  # a profile ARN names a profile; a foundation-model ARN names a model
    spec = _BY_ID.get(bare)
    if spec is None or (profile is not None and profile not in spec.profiles):
        raise _invalid()
    if enforce_profile and spec.requires_profile and profile is None:
        raise ValidationException(on_demand_message(spec))
    return ResolvedModel(spec=spec, identifier=identifier, profile=profile, region=region)


def lookup(name: str) -> ModelSpec:
    """The catalog entry for an alias or any identifier :func:`resolve` accepts (never sent on the wire).

    Raises:
        ValidationException: For a name the catalog does not know.
    """
    alias = _BY_ALIAS.get(name)
    return alias if alias is not None else resolve(name, enforce_profile=False).spec


def _regions_text(spec: ModelSpec) -> str:
    if spec.regions:
        return "on demand in " + ", ".join(sorted(spec.regions))
    return "; ".join(f"through the {geo}. profile from " + ", ".join(sorted(src)) for geo, src in spec.profiles.items())


def for_region(name: str, region: str) -> ResolvedModel:
    """The identifier a client in ``region`` sends for ``name``.

    An alias becomes the model's Bedrock id, or, for models served only through inference profiles, the
    profile of the Region's geography (``us-*`` → ``us.``, ``eu-*`` → ``eu.``, ``ap-*`` → ``apac.``). Ids, ARNs
    and profiles that the caller gives go out unchanged.

    Raises:
        ValidationException: For an unknown name (Bedrock's message), or a plain id of a profile-only model.
        ModelNotServedError: For an alias whose model Bedrock does not serve from ``region``.
    """
    spec = _BY_ALIAS.get(name)
    if spec is None:
        return resolve(name)
    if spec.served_in(region, None):
        return ResolvedModel(spec=spec, identifier=spec.model_id)
    geo = spec.profile_for(region)
    if geo is None:
        raise ModelNotServedError(
            f"{spec.name} ({spec.model_id}) is not served in {region}: Bedrock offers it {_regions_text(spec)}. "
            "Choose one of those Regions (region=… or AWS_REGION), or pass a full model id or ARN to send it as is."
        )
    return ResolvedModel(spec=spec, identifier=f"{geo}.{spec.model_id}", profile=geo)
