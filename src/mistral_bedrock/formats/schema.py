"""A small JSON-schema checker that reports violations in the words of Bedrock's validator.

Bedrock validates InvokeModel bodies against a per-model JSON schema before the model sees them, and answers
with the validator's texts (``#: extraneous key [stop_sequences] is not permitted``, ``#/temperature:
expected type: Number, found: String``). The schemas here are plain dicts built from the catalog, so limits
live in one place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .messages import SchemaViolation, java_number, json_type_name

__all__ = ["Schema", "anything", "array", "check", "integer", "number", "obj", "string"]

Schema = Mapping[str, Any]

_TYPE_NAMES = {
    "object": "JSONObject",
    "array": "JSONArray",
    "string": "String",
    "integer": "Integer",
    "number": "Number",
    "boolean": "Boolean",
}


def obj(
    properties: Mapping[str, Schema],
    required: tuple[str, ...] = (),
    *,
    additional: bool = False,
    nullable: bool = False,
) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additional": additional,
        "nullable": nullable,
    }


def array(
    items: Schema | None = None,
    *,
    min_items: int | None = None,
    max_items: int | None = None,
    nullable: bool = False,
) -> Schema:
    return {
        "type": "array",
        "items": items,
        "minItems": min_items,
        "maxItems": max_items,
        "nullable": nullable,
    }


def string(*, enum: tuple[str, ...] = (), nullable: bool = False) -> Schema:
    return {"type": "string", "enum": enum, "nullable": nullable}


def number(minimum: float | None = None, maximum: float | None = None) -> Schema:
    return {"type": "number", "minimum": minimum, "maximum": maximum}


def integer(minimum: int | None = None, maximum: int | None = None) -> Schema:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def anything() -> Schema:
    """Any JSON value; the format checks it by hand (unions such as string-or-parts)."""
    return {"type": "any"}


def _type_ok(kind: str, value: object) -> bool:
    if kind == "any":
        return True
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        return False  # NaN and Infinity are not JSON numbers (see .json_body)
    if kind == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, (int, float))  # number


def check(value: object, schema: Schema, path: str = "#") -> list[SchemaViolation]:
    """Return every violation of ``schema`` by ``value``, depth first, keys in document order."""
    kind = schema["type"]
    if value is None and schema.get("nullable"):
        return []
    if not _type_ok(kind, value):
        found = json_type_name(value)
        return [SchemaViolation(path, f"expected type: {_TYPE_NAMES[kind]}, found: {found}")]
    out: list[SchemaViolation] = []
    if kind == "object":
        assert isinstance(value, dict)
        props: Mapping[str, Schema] = schema["properties"]
        out.extend(
            SchemaViolation(path, f"required key [{key}] not found") for key in schema["required"] if key not in value
        )
        for key, item in value.items():
            sub = props.get(key)
            if sub is None:
                if not schema["additional"]:
                    out.append(SchemaViolation(path, f"extraneous key [{key}] is not permitted"))
                continue
            out.extend(check(item, sub, f"{path}/{key}"))
    elif kind == "array":
        assert isinstance(value, list)
        if schema["maxItems"] is not None and len(value) > schema["maxItems"]:
            out.append(SchemaViolation(path, f"expected maximum item count: {schema['maxItems']}, found: {len(value)}"))
        if schema["minItems"] is not None and len(value) < schema["minItems"]:
            out.append(SchemaViolation(path, f"expected minimum item count: {schema['minItems']}, found: {len(value)}"))
        if schema["items"] is not None:
            for index, item in enumerate(value):
                out.extend(check(item, schema["items"], f"{path}/{index}"))
    elif kind == "string":
        if schema["enum"] and value not in schema["enum"]:
            out.append(SchemaViolation(path, f"{value} is not a valid enum value"))
    elif kind in ("number", "integer"):
        assert isinstance(value, (int, float))
        low, high = schema["minimum"], schema["maximum"]
        shown = java_number(value)
        if low is not None and value < low:
            out.append(SchemaViolation(path, f"{shown} is not greater or equal to {java_number(low)}"))
        if high is not None and value > high:
            out.append(SchemaViolation(path, f"{shown} is not less or equal to {java_number(high)}"))
    return out
