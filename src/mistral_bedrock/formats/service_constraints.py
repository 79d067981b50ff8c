"""Bedrock's front-end validation, read from botocore's ``bedrock-runtime`` service model.

Before an operation runs, Bedrock's front end ("Coral") reads the request into the operation's input structure
and checks every constraint the service model declares: lengths, patterns, ranges, item counts, enums,
required members and union cardinality. One message lists every violation, in member order::

    2 validation errors detected: Value at 'messages.73.member.content.2.member.toolUse.name' failed to satisfy
    constraint: Member must have length less than or equal to 64; Value at '…' failed to satisfy constraint:
    Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+

The shapes and their constraints are botocore's (:mod:`.service_model`); this module walks a request against them.
The runtime meets a request in two steps, and so does this module:

* :func:`check_envelope`: the model id in the path, the modelled headers and the size of an InvokeModel body.
  It runs before the model id is resolved and before the body is parsed; the size check is ``len(body)``.
* :func:`check_members`: the JSON members of a Converse, ConverseStream or CountTokens body. A value of the
  wrong JSON type cannot be read into the structure at all, which is a ``SerializationException``; the
  constraints come after, all reported together.

How values are shown (``Value '…' at``), by what real messages show:

* as the Java front end prints them (:mod:`.java_values`);
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
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..errors import SerializationException
from .java_values import as_float32, java_value
from .json_body import BareToken, has_bare_token
from .messages import coral_error, json_type_name
from .service_model import OPERATIONS, Shape, input_shape

__all__ = [
    "OPERATIONS",
    "ConstraintWalk",
    "check_envelope",
    "check_members",
    "envelope_violations",
    "java_value",
    "member_violations",
]

UNPARSEABLE = "Could not parse the request body as JSON."


# -- the walk ------------------------------------------------------------------------------------------------


def _constraints(shape: Shape, value: object) -> Iterator[str]:
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
            value = as_float32(value)  # compared as the 32-bit float the member is read into
        if shape.min is not None and value < shape.min:
            yield f"Member must have value greater than or equal to {shape.min}"
        if shape.max is not None and value > shape.max:
            yield f"Member must have value less than or equal to {shape.max}"
    if shape.enum and value not in shape.enum:
        yield f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
    if shape.pattern is not None and isinstance(value, str) and not shape.pattern.fullmatch(value):
        yield f"Member must satisfy regular expression pattern: {shape.pattern.pattern}"


def _all_constraints(shape: Shape) -> list[str]:
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


def _size(shape: Shape, value: object) -> int:
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


class ConstraintWalk:
    """One request's walk: constraint violations in member order; a value of the wrong type is raised at once.

    Public so that other services' shapes (the batch control plane's, :mod:`mistral_bedrock.batch.jobs`) are worded
    by this same code.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, path: str, constraint: str, value: str) -> None:
        self.problems.append(f"{value} at '{path}' failed to satisfy constraint: {constraint}")

    def value(self, shape: Shape, value: object, path: str, hidden: bool) -> None:
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

    def structure(self, shape: Shape, value: Mapping[str, Any], path: str, hidden: bool) -> None:
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

    def map(self, shape: Shape, value: Mapping[str, Any], path: str, hidden: bool) -> None:
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


def _shown(shape: Shape, value: object, hidden: bool) -> str:
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


def _type_ok(shape: Shape, value: object) -> bool:
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


def _check_type(shape: Shape, value: object, path: str) -> None:
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
    walk = ConstraintWalk()
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
def _envelope_members(operation: str) -> tuple[tuple[str, Shape, str, str], ...]:
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
    walk = ConstraintWalk()
    walk.structure(input_shape(operation), body, "", False)
    return walk.problems


def check_members(operation: str, body: Mapping[str, Any]) -> None:
    """Raise what the front end raises for a JSON body: a ``SerializationException`` for a wrong type, else one
    ``ValidationException`` listing every constraint violation; see :func:`member_violations`."""
    problems = member_violations(operation, body)
    if problems:
        raise coral_error(problems)
