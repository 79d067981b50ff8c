"""Bedrock's front-end validation, read from botocore's ``bedrock-runtime`` service model.

Before an operation runs, Bedrock's front end ("Coral") reads the request into the operation's input structure
and checks every constraint the service model declares: lengths, patterns, ranges, item counts, enums,
required members and union cardinality. One message lists every violation, in member order::

    2 validation errors detected: Value at 'messages.73.member.content.2.member.toolUse.name' failed to satisfy
    constraint: Member must have length less than or equal to 64; Value at '…' failed to satisfy constraint:
    Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+

The constraints come from botocore's copy of the model, the one the SDKs are generated from, so none is copied
by hand and a new botocore brings new constraints with it. The model is read once, on first use; botocore is
imported only then, as the client does, so ``import mistral_bedrock`` stays light. This module lives in
``formats`` rather than ``protocol`` because it needs botocore's loader (search paths, compressed data files),
and ``protocol`` is standard library only.

The runtime meets a request in two steps, and so does this module:

* :func:`check_envelope`: the model id in the path, the modelled headers and the size of an InvokeModel body.
  It runs before the model id is resolved and before the body is parsed; the size check is ``len(body)``.
* :func:`check_members`: the JSON members of a Converse, ConverseStream or CountTokens body. A value of the
  wrong JSON type cannot be read into the structure at all, which is a ``SerializationException``; the
  constraints come after, all reported together.

How values are shown (``Value '…' at``), by what real messages show:

* strings as they are, numbers as Java prints them (``'1.5'``, ``'32424.0'`` for a float member), lists as
  ``[a, b]`` and maps as ``{k=v}``;
* nothing (``Value at``) for sensitive shapes, for blobs, and for everything under ``messages`` [R] (every real
  message about a member there omits the value, while ``toolConfig`` and ``inferenceConfig`` show it) and
  ``system`` [I] (the same kind of content);
* ``Value null`` for a missing required member.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import re
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import SerializationException
from .json_body import BareToken, has_bare_token
from .messages import coral_error, json_type_name

__all__ = [
    "JSON_OPERATIONS",
    "OPERATIONS",
    "check_envelope",
    "check_members",
    "envelope_violations",
    "java_value",
    "member_violations",
]

OPERATIONS = ("InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream", "CountTokens")
JSON_OPERATIONS = ("Converse", "ConverseStream", "CountTokens")
UNPARSEABLE = "Could not parse the request body as JSON."
# Shapes whose values Bedrock never echoes although the public model does not mark them sensitive.
_CONTENT_SHAPES = frozenset({"Messages", "SystemContentBlocks"})
_FLOAT_MAX = 3.4028234663852886e38


@dataclass(eq=False)
class _Shape:
    """One shape of the model, compiled for walking: its type and the constraints that apply to a value."""

    name: str
    kind: str  # structure, union, document, list, map, string, integer, long, float, double, boolean, blob, …
    sensitive: bool = False
    min: int | float | None = None
    max: int | float | None = None
    pattern: re.Pattern[str] | None = None
    enum: tuple[str, ...] = ()
    members: tuple[tuple[str, _Shape], ...] = ()
    required: frozenset[str] = frozenset()
    bindings: dict[str, tuple[str, str]] = field(default_factory=dict)  # member → (location, wire name)
    payload: str | None = None  # the member that is the whole HTTP body
    body_members: dict[str, tuple[int, _Shape]] = field(default_factory=dict)  # not bound: name → (order, shape)
    member: _Shape | None = None  # list items
    key: _Shape | None = None  # map keys
    value: _Shape | None = None  # map values

    def __post_init__(self) -> None:
        self.constrained = not (self.min is None and self.max is None and self.pattern is None and not self.enum)
        self.hides = self.sensitive or self.name in _CONTENT_SHAPES


class _Model:
    """The service model's input shapes, compiled once."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data["shapes"]
        self._shapes: dict[str, _Shape] = {}
        self.inputs = {name: self.shape(data["operations"][name]["input"]["shape"]) for name in OPERATIONS}

    def shape(self, name: str) -> _Shape:
        known = self._shapes.get(name)
        if known is not None:
            return known
        raw = self._data[name]
        kind = raw["type"]
        if kind == "structure":
            kind = "document" if raw.get("document") else "union" if raw.get("union") else "structure"
        shape = _Shape(
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


def input_shape(operation: str) -> _Shape:
    """The compiled input structure of one of :data:`OPERATIONS`."""
    return _model().inputs[operation]


# -- how the front end prints values ------------------------------------------------------------------------


def _java_decimal(text: str) -> str:
    """Java's ``Float``/``Double.toString`` layout for the shortest digits ``text`` of a finite number."""
    number = Decimal(text)
    if number == 0:
        return "-0.0" if number.is_signed() else "0.0"
    sign = "-" if number < 0 else ""
    number = abs(number).normalize()
    if Decimal("0.001") <= number < Decimal("1e7"):
        plain = format(number, "f")
        return sign + (plain if "." in plain else plain + ".0")
    digits = "".join(map(str, number.as_tuple().digits))
    exponent = number.adjusted()
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _to_float(value: float) -> float:
    """``float(value)``; infinite for an integer beyond a double, where ``float()`` raises (a caller's own int:
    a request body's are bare tokens by then, see .json_body)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _as_float(value: float) -> float:
    """``value`` rounded to a 32-bit float (Java's ``float``), infinite beyond its range."""
    value = _to_float(value)
    if math.isfinite(value) and abs(value) > _FLOAT_MAX:
        return math.copysign(math.inf, value)
    return float(struct.unpack("f", struct.pack("f", value))[0])


def _java_float(value: float, *, single: bool) -> str:
    if math.isnan(value):
        return "NaN"
    if single:
        value = _as_float(value)
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if not single:
        return _java_decimal(repr(value))
    as_float = value
    # The shortest digits that read back as the same 32-bit float, as Float.toString prints them.
    for digits in range(1, 10):
        text = f"{as_float:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == as_float:
            return _java_decimal(text)
    return _java_decimal(repr(as_float))  # pragma: no cover - nine digits always round-trip a float


def java_value(shape: _Shape, value: object) -> str:
    """A value as the Java front end prints it inside ``Value '…'``, read as ``shape``."""
    if shape.kind in ("float", "double") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _java_float(_to_float(value), single=shape.kind == "float")
    if shape.kind in ("integer", "long") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, list):
        item = shape.member or shape
        return "[" + ", ".join(java_value(item, v) for v in value) + "]"
    if isinstance(value, dict):
        members = dict(shape.members)
        parts = []
        for k, v in value.items():
            sub = shape.value if shape.value is not None else members.get(k, shape)
            parts.append(f"{k}={java_value(sub, v)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


# -- the walk ------------------------------------------------------------------------------------------------


def _constraints(shape: _Shape, value: object) -> Iterator[str]:
    """The texts of every constraint of ``shape`` that ``value`` (already of the right type) breaks."""
    if shape.kind in ("string", "list", "map", "blob"):
        size = _size(shape, value)
        if shape.max is not None and size > shape.max:
            yield f"Member must have length less than or equal to {shape.max}"
        if shape.min is not None and size < shape.min:
            yield f"Member must have length greater than or equal to {shape.min}"
    elif shape.kind in ("integer", "long", "float", "double"):
        assert isinstance(value, (int, float))
        if shape.kind == "float":
            value = _as_float(value)  # compared as the 32-bit float the member is read into
        if shape.min is not None and value < shape.min:
            yield f"Member must have value greater than or equal to {shape.min}"
        if shape.max is not None and value > shape.max:
            yield f"Member must have value less than or equal to {shape.max}"
    if shape.enum and value not in shape.enum:
        yield f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
    if shape.pattern is not None and isinstance(value, str) and not shape.pattern.fullmatch(value):
        yield f"Member must satisfy regular expression pattern: {shape.pattern.pattern}"


def _all_constraints(shape: _Shape) -> list[str]:
    """Every constraint of a map's key or value shape, listed in the front end's ``[…]`` form."""
    out = []
    noun = "value" if shape.kind in ("integer", "long", "float", "double") else "length"
    if shape.max is not None:
        out.append(f"Member must have {noun} less than or equal to {shape.max}")
    if shape.min is not None:
        out.append(f"Member must have {noun} greater than or equal to {shape.min}")
    if shape.enum:
        out.append(f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
    if shape.pattern is not None:
        out.append(f"Member must satisfy regular expression pattern: {shape.pattern.pattern}")
    return out


def _size(shape: _Shape, value: object) -> int:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if shape.kind == "blob" and isinstance(value, str):
        return _decoded_length(value)
    assert isinstance(value, (str, list, dict))
    return len(value)


def _decoded_length(text: str) -> int:
    """The byte length of a base64 value (already checked to be valid), without decoding it again."""
    stripped = text.rstrip("=")
    return len(stripped) * 3 // 4


class _Walk:
    """One request's walk: constraint violations in member order; a value of the wrong type is raised at once."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, path: str, constraint: str, value: str) -> None:
        self.problems.append(f"{value} at '{path}' failed to satisfy constraint: {constraint}")

    def value(self, shape: _Shape, value: object, path: str, hidden: bool) -> None:
        hidden = hidden or shape.hides
        _check_type(shape, value, path)
        if shape.constrained:
            for constraint in _constraints(shape, value):
                self.bad(path, constraint, _shown(shape, value, hidden))
        if shape.kind in ("structure", "union"):
            assert isinstance(value, dict)
            self.structure(shape, value, path, hidden)
        elif shape.kind == "list":
            assert isinstance(value, list)
            assert shape.member is not None
            for index, item in enumerate(value):
                where = f"{path}.{index + 1}.member"
                if item is None:  # the model's lists are dense: an item cannot be null [I]
                    self.bad(where, "Member must not be null", "Value null")
                else:
                    self.value(shape.member, item, where, hidden)
        elif shape.kind == "map":
            assert isinstance(value, dict)
            self.map(shape, value, path, hidden)
        elif shape.kind == "document" and has_bare_token(value):
            raise SerializationException(UNPARSEABLE)

    def structure(self, shape: _Shape, value: Mapping[str, Any], path: str, hidden: bool) -> None:
        members = shape.body_members  # those bound to the URI or a header are envelope_violations' business
        present = [name for name, item in value.items() if item is not None and name in members]
        if shape.kind == "union" and len(present) != 1:
            self.bad(path, "Member must have one and only one member set", "Value")
        missing = [name for name in shape.required if name in members and value.get(name) is None]
        names = present + missing
        if len(names) > 1:
            names.sort(key=lambda name: members[name][0])  # reported in the model's member order
        for name in names:
            where = f"{path}.{name}" if path else name
            item = value.get(name)
            if item is None:
                self.bad(where, "Member must not be null", "Value null")
            else:
                self.value(members[name][1], item, where, hidden)

    def map(self, shape: _Shape, value: Mapping[str, Any], path: str, hidden: bool) -> None:
        """Keys, then values, each reported once for the whole map with all of its shape's constraints."""
        assert shape.key is not None
        assert shape.value is not None
        key_shape, value_shape = shape.key, shape.value
        if any(next(_constraints(key_shape, k), None) for k in value):
            rules = ", ".join(_all_constraints(key_shape))
            self.bad(path, f"Map keys must satisfy constraint: [{rules}]", _shown(shape, value, hidden))
        if value_shape.kind in ("structure", "union", "list", "map", "document"):
            for key, item in value.items():
                if item is not None:
                    self.value(value_shape, item, f"{path}.{key}", hidden)
            return
        for key, item in value.items():
            if item is not None:
                _check_type(value_shape, item, f"{path}.{key}")
        if any(item is not None and next(_constraints(value_shape, item), None) for item in value.values()):
            rules = ", ".join(_all_constraints(value_shape))
            self.bad(path, f"Map value must satisfy constraint: [{rules}]", _shown(shape, value, hidden))


def _shown(shape: _Shape, value: object, hidden: bool) -> str:
    """``Value '…'``, or just ``Value`` where the front end keeps the value to itself."""
    if hidden or shape.sensitive or shape.kind == "blob":
        return "Value"
    return f"Value '{java_value(shape, value)}'"


_TYPE_NAMES = {
    "structure": "JSONObject",
    "union": "JSONObject",
    "map": "JSONObject",
    "list": "JSONArray",
    "string": "String",
    "blob": "String",
    "integer": "Integer",
    "long": "Integer",
    "float": "Number",
    "double": "Number",
    "boolean": "Boolean",
}


def _type_ok(shape: _Shape, value: object) -> bool:
    kind = shape.kind
    if kind in ("structure", "union", "map"):
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind in ("string", "blob"):
        return isinstance(value, str) and not isinstance(value, BareToken)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("document", "timestamp"):
        return True  # any JSON (NaN inside is looked for separately)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if kind in ("integer", "long"):
        return isinstance(value, int) or value.is_integer()
    return True


def _check_type(shape: _Shape, value: object, path: str) -> None:
    if _type_ok(shape, value):
        if shape.kind == "blob":
            try:
                base64.b64decode(str(value), validate=True)
            except (binascii.Error, ValueError):  # ValueError: non-ASCII text, which is no base64 either
                raise SerializationException(f"Value at '{path}' could not be read: invalid base64") from None
        return
    if isinstance(value, BareToken) and shape.kind not in ("integer", "long", "float", "double"):
        # NaN and Infinity are not JSON: where no number is expected, the body simply does not parse.
        raise SerializationException(UNPARSEABLE)
    expected = _TYPE_NAMES.get(shape.kind, shape.kind)
    raise SerializationException(
        f"Value at '{path}' could not be read: expected type: {expected}, found: {json_type_name(value)}"
    )


# -- the two entry points ---------------------------------------------------------------------------------


def envelope_violations(
    operation: str, model_id: str, headers: Iterable[tuple[str, str]] | Mapping[str, str], body: bytes
) -> list[str]:
    """The violations in what the front end reads before the JSON: the URI label, the headers, a blob body.

    Args:
        operation: One of :data:`OPERATIONS`.
        model_id: The ``{modelId}`` label, percent-decoded.
        headers: The request headers (any case); the last of repeated names wins.
        body: The raw body; only its length is looked at, and only where the body is the payload blob.
    """
    by_name = {k.lower(): v for k, v in (headers.items() if isinstance(headers, Mapping) else headers)}
    walk = _Walk()
    for name, member, location, wire in _envelope_members(operation):
        value: object
        if location == "uri":
            value = model_id
        elif location == "header":
            value = by_name.get(wire)
            if value is None:
                continue
        else:
            # The blob payload, by len(body) only: a body over the limit is refused before anything reads it.
            for constraint in _constraints(member, body):
                walk.bad(name, constraint, "Value")
            continue
        for constraint in _constraints(member, value):
            walk.bad(name, constraint, _shown(member, value, False))
    return walk.problems


@functools.cache
def _envelope_members(operation: str) -> tuple[tuple[str, _Shape, str, str], ...]:
    """The members the envelope check reads, in the model's order: ``(name, shape, location, wire name)``, the
    wire name lower-cased; a blob payload has the location ``payload``. Worked out once per operation."""
    shape = input_shape(operation)
    out = []
    for name, member in shape.members:
        location, wire = shape.bindings.get(name, ("", ""))
        if location in ("uri", "header"):
            out.append((name, member, location, wire.lower()))
        elif name == shape.payload and member.kind == "blob":
            out.append((name, member, "payload", ""))
    return tuple(out)


def check_envelope(
    operation: str, model_id: str, headers: Iterable[tuple[str, str]] | Mapping[str, str], body: bytes
) -> None:
    """Raise the front end's ``ValidationException`` for the label, headers or body size; see
    :func:`envelope_violations`."""
    problems = envelope_violations(operation, model_id, headers, body)
    if problems:
        raise coral_error(problems)


def member_violations(operation: str, body: Mapping[str, Any]) -> list[str]:
    """The constraint violations of a JSON body's members (not those bound to the URI or headers).

    Raises:
        SerializationException: A member holds a value of the wrong JSON type, or NaN/Infinity.
    """
    walk = _Walk()
    walk.structure(input_shape(operation), body, "", False)
    return walk.problems


def check_members(operation: str, body: Mapping[str, Any]) -> None:
    """Raise what the front end raises for a JSON body: a ``SerializationException`` for a wrong type, else one
    ``ValidationException`` listing every constraint violation; see :func:`member_violations`."""
    problems = member_violations(operation, body)
    if problems:
        raise coral_error(problems)
