"""botocore's ``bedrock-runtime`` service model, compiled into shapes that a request can be walked against.

The constraints come from botocore's copy of the model, the one the SDKs are generated from, so none is copied
by hand and a new botocore brings new constraints with it. The model is read once, on first use; botocore is
imported only then, as the client does, so ``import mistral_bedrock`` stays light. This module lives in
``formats`` rather than ``protocol`` because it needs botocore's loader (search paths, compressed data files),
and ``protocol`` is standard library only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OPERATIONS", "Shape", "input_shape"]

OPERATIONS = ("InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream", "CountTokens")
# Shapes whose values Bedrock never echoes although the public model does not mark them sensitive.
_CONTENT_SHAPES = frozenset({"Messages", "SystemContentBlocks"})


@dataclass(eq=False)
class Shape:
    """One shape of the model, compiled for walking: its type and the constraints that apply to a value."""

    name: str
    kind: str  # structure, union, document, list, map, string, integer, long, float, double, boolean, blob, …
    sensitive: bool = False
    min: int | float | None = None
    max: int | float | None = None
    pattern: re.Pattern[str] | None = None
    enum: tuple[str, ...] = ()
    members: tuple[tuple[str, Shape], ...] = ()
    required: frozenset[str] = frozenset()
    bindings: dict[str, tuple[str, str]] = field(default_factory=dict)  # member → (location, wire name)
    payload: str | None = None  # the member that is the whole HTTP body
    body_members: dict[str, tuple[int, Shape]] = field(default_factory=dict)  # not bound: name → (order, shape)
    member: Shape | None = None  # list items
    key: Shape | None = None  # map keys
    value: Shape | None = None  # map values

    def __post_init__(self) -> None:
        self.constrained = not (self.min is None and self.max is None and self.pattern is None and not self.enum)
        self.hides = self.sensitive or self.name in _CONTENT_SHAPES


class _Model:
    """The service model's input shapes, compiled once."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data["shapes"]
        self._shapes: dict[str, Shape] = {}
        self.inputs = {name: self.shape(data["operations"][name]["input"]["shape"]) for name in OPERATIONS}

    def shape(self, name: str) -> Shape:
        known = self._shapes.get(name)
        if known is not None:
            return known
        raw = self._data[name]
        kind = raw["type"]
        if kind == "structure":
            kind = "document" if raw.get("document") else "union" if raw.get("union") else "structure"
        shape = Shape(
            name,
            kind,
            sensitive=bool(raw.get("sensitive")),
            min=raw.get("min"),
            max=raw.get("max"),
            pattern=re.compile(raw["pattern"]) if "pattern" in raw else None,
            enum=tuple(raw.get("enum", ())),
            required=frozenset(raw.get("required", ())),
            payload=raw.get("payload"),
        )
        self._shapes[name] = shape  # registered before its members: the model's shapes may refer to themselves
        if kind in ("structure", "union"):
            shape.members = tuple((m, self.shape(ref["shape"])) for m, ref in raw["members"].items())
            shape.bindings = {
                m: (ref["location"], ref.get("locationName", m))
                for m, ref in raw["members"].items()
                if "location" in ref
            }
            shape.body_members = {
                m: (order, member) for order, (m, member) in enumerate(shape.members) if m not in shape.bindings
            }
        elif kind == "list":
            shape.member = self.shape(raw["member"]["shape"])
        elif kind == "map":
            shape.key = self.shape(raw["key"]["shape"])
            shape.value = self.shape(raw["value"]["shape"])
        return shape


@functools.cache
def _model() -> _Model:
    from botocore.loaders import Loader  # a 100 ms import, paid only when the first request is checked

    return _Model(Loader().load_service_model("bedrock-runtime", "service-2"))


def input_shape(operation: str) -> Shape:
    """The compiled input structure of one of :data:`OPERATIONS`."""
    return _model().inputs[operation]
