"""The model catalog: every Mistral model on Bedrock as data, and resolution of ids, aliases and ARNs."""

from .data import MODELS
from .resolve import (
    INVALID_MODEL_MESSAGE,
    ResolvedModel,
    all_models,
    for_region,
    lookup,
    on_demand_message,
    resolve,
)
from .spec import BatchSpec, ConverseFeatures, Dialect, ModelSpec, ParamSpec

__all__ = [
    "INVALID_MODEL_MESSAGE",
    "MODELS",
    "BatchSpec",
    "ConverseFeatures",
    "Dialect",
    "ModelSpec",
    "ParamSpec",
    "ResolvedModel",
    "all_models",
    "for_region",
    "lookup",
    "on_demand_message",
    "resolve",
]
