"""Tool-call arguments built from JSON schemas: always valid, filled from the user's words."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from mistral_bedrock.engines.arguments import arguments_for


def obj(properties: dict[str, Any], *required: str, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), **extra}


SCHEMAS: dict[str, dict[str, Any]] = {
    "empty": {"type": "object", "properties": {}},
    "no-type": {"properties": {"q": {}}},
    "const-enum": obj({"a": {"const": 7}, "b": {"enum": ["x", "y"]}}, "a", "b"),
    "string-limits": obj(
        {"s": {"type": "string", "minLength": 300}, "t": {"type": "string", "maxLength": 3}}, "s", "t"
    ),
    "formats": obj({"when": {"type": "string", "format": "date-time"}, "mail": {"type": "string", "format": "email"}}),
    "integers": obj(
        {
            "a": {"type": "integer", "minimum": 10, "maximum": 20},
            "b": {"type": "integer", "exclusiveMinimum": 5},
            "c": {"type": "integer", "maximum": -3},
            "d": {"type": "integer", "minimum": 1, "multipleOf": 5},
            "e": {"type": "integer", "exclusiveMaximum": 0},
        },
        "a",
        "b",
        "c",
        "d",
        "e",
    ),
    "numbers": obj(
        {
            "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "y": {"type": "number", "minimum": 2.5},
        },
        "x",
        "y",
    ),
    "draft4-exclusive": {
        "$schema": "http://json-schema.org/draft-04/schema#",
        **obj({"n": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1}}, "n"),
    },
    "arrays": obj(
        {
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 3, "uniqueItems": True},
            "none": {"type": "array", "items": {"type": "integer"}, "maxItems": 0},
            "enums": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 2, "uniqueItems": True},
        },
        "tags",
        "none",
        "enums",
    ),
    "nested": obj({"outer": obj({"inner": obj({"flag": {"type": "boolean"}}, "flag")}, "inner")}, "outer"),
    "nullable": obj({"v": {"type": ["null", "integer"]}, "w": {"anyOf": [{"type": "null"}, {"type": "string"}]}}, "v"),
    "one-of": obj({"u": {"oneOf": [{"type": "integer"}, {"type": "string", "minLength": 2}]}}, "u"),
    "all-of": {"allOf": [obj({"a": {"type": "string"}}, "a"), obj({"b": {"type": "integer"}}, "b")]},
    "refs": {
        "type": "object",
        "$defs": {"point": obj({"x": {"type": "number"}, "y": {"type": "number"}}, "x", "y")},
        "properties": {"from": {"$ref": "#/$defs/point"}, "to": {"$ref": "#/$defs/point"}},
        "required": ["from", "to"],
    },
    "definitions": {
        "type": "object",
        "definitions": {"node": obj({"name": {"type": "string"}, "child": {"$ref": "#/definitions/node"}}, "name")},
        "properties": {"tree": {"$ref": "#/definitions/node"}},
        "required": ["tree"],
    },
    "min-properties": {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "required": ["a"],
        "minProperties": 2,
        "additionalProperties": False,
    },
    "default": obj({"unit": {"type": "string", "default": "metric"}}, "unit"),
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@pytest.mark.parametrize("text", ["", "What is the weather in New York for 12 days on KXYZ?", "-4.5 héllo 👋"])
def test_arguments_validate(name: str, text: str) -> None:
    schema = SCHEMAS[name]
    arguments = arguments_for(schema, text)
    jsonschema.validate(arguments, schema)
    assert arguments_for(schema, text) == arguments  # deterministic


@pytest.mark.parametrize(
    ("prop", "text", "expected"),
    [
        ({"type": "string", "description": "The call sign of the station."}, "Top song on WZPZ?", "WZPZ"),
        ({"type": "string", "description": "Ticker symbol"}, "Price of AAPL today", "AAPL"),
        ({"type": "string"}, "What's the weather in New York today?", "New York"),
        ({"type": "string"}, "hello there", "hello there"),
        ({"type": "string"}, "", "p"),
        ({"type": "integer", "maximum": 10}, "for 3 days", 3),
        ({"type": "integer", "maximum": 10}, "for 30 days", 10),
        ({"type": "integer", "minimum": 5}, "for 3 days", 5),
        ({"type": "string", "enum": ["celsius", "fahrenheit"]}, "in Fahrenheit please", "fahrenheit"),
    ],
)
def test_values_come_from_the_user_text(prop: dict[str, Any], text: str, expected: Any) -> None:
    names = {"The call sign of the station.": "sign", "Ticker symbol": "ticker"}
    name = names.get(prop.get("description", ""), "city" if "York" in text else "p")
    assert arguments_for(obj({name: prop}, name), text) == {name: expected}


def test_optional_parameters_are_left_out_when_some_are_required() -> None:
    schema = obj({"a": {"type": "string"}, "b": {"type": "string"}}, "a")
    assert set(arguments_for(schema, "x")) == {"a"}
    assert set(arguments_for(obj({"a": {"type": "string"}, "b": {"type": "integer"}}), "x")) == {"a", "b"}


def test_pattern_picks_a_matching_candidate() -> None:
    schema = obj({"station": {"type": "string", "pattern": "^[A-Z]{4}$"}}, "station")
    assert arguments_for(schema, "What plays on Radio WZPZ?") == {"station": "WZPZ"}
    schema = obj({"q": {"type": "string", "pattern": "^[a-z ]+$"}}, "q")
    assert arguments_for(schema, "Hello there") == {"q": "q"}  # the name fits where the text does not
