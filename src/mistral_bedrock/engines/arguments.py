"""Tool-call arguments that satisfy a tool's JSON schema by construction, filled from the user's words.

No validator is involved: each keyword the built-in engine understands is honoured while the value is built.
Understood: ``type`` (also a list of types), ``const``, ``enum``, ``default``, ``properties``/``required``/
``minProperties``, ``items``/``minItems``/``maxItems``/``uniqueItems``, ``minimum``/``maximum`` and their
exclusive forms, ``multipleOf``, ``minLength``/``maxLength``, simple ``pattern`` checks, common ``format``
values, ``anyOf``/``oneOf`` (first branch), ``allOf`` (merged) and local ``$ref`` (``#/$defs/…``,
``#/definitions/…``).

How strings are filled (the first rule that gives a value):

1. A parameter whose name or description mentions a sign, call sign, code or id takes the first all-caps word
   of 3 to 5 letters in the user's text (``WZPZ`` in "What is the most popular song on WZPZ?").
2. A parameter that looks like a name or a place (``location``, ``city``, ``name``, ``artist``…) takes the last
   run of capitalised words in the user's text, its first word excepted ("weather in Paris" → ``Paris``).
3. Otherwise the user's text itself (at most 100 characters), or the parameter's name when there is none.

With a ``pattern``, the first of these candidates that matches it is taken, else the first word or capitalised
run of the user's text that does; when none does, the first candidate is used anyway (no string is generated
from a pattern). Numbers take the first number in the user's text when it is in range, else the minimum (or,
without one, the maximum). Booleans are ``true``. Array items are varied, for ``uniqueItems``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["arguments_for"]

_CODE_WORDS = re.compile(r"\b(?:call ?sign|sign|code|id|ids|identifier|ticker|symbol)\b", re.I)
_NAME_WORDS = re.compile(
    r"\b(?:name|location|city|town|place|country|region|state|station|artist|author|person|title|company)\b", re.I
)
_CAPS = re.compile(r"\b[A-Z]{3,5}\b")
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_MAX_TEXT = 100
_FORMATS = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
_MAX_DEPTH = 12  # recursive $refs stop here


def _words(name: str) -> str:
    """``callSign``/``call_sign``/``call-sign`` → ``call Sign``/``call sign``: words the keyword regexes see."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ")


class _Builder:
    def __init__(self, root: Mapping[str, Any], user_text: str) -> None:
        self._root = root
        self._text = user_text

    # -- schema plumbing --------------------------------------------------------------------------
    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = self._root
            for part in ref[2:].split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, Mapping) else None
            if isinstance(target, Mapping):
                merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
                return self._resolve(merged)
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches and isinstance(branches[0], Mapping):
                rest = {k: v for k, v in schema.items() if k != key}
                non_null = [b for b in branches if isinstance(b, Mapping) and b.get("type") != "null"]
                return self._resolve({**rest, **(non_null or branches)[0]})
        parts = schema.get("allOf")
        if isinstance(parts, list):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for raw in parts:
                if isinstance(raw, Mapping):
                    sub = self._resolve(raw)
                    merged["properties"] = {**merged.get("properties", {}), **sub.get("properties", {})}
                    merged["required"] = [*merged.get("required", []), *sub.get("required", [])]
                    merged.update({k: v for k, v in sub.items() if k not in ("properties", "required")})
            return merged
        return schema

    @staticmethod
    def _type(schema: Mapping[str, Any]) -> str:
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            kind = kinds[0] if kinds else "null"
        if isinstance(kind, str):
            return kind
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return "string"

    # -- values -----------------------------------------------------------------------------------
    def value(self, schema: Mapping[str, Any], name: str, index: int = 0, depth: int = 0) -> Any:
        schema = self._resolve(schema) if depth < _MAX_DEPTH else schema
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return self._enum(enum, index)
        if "default" in schema and index == 0:
            return schema["default"]
        kind = self._type(schema)
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, name, depth)
        if kind in ("integer", "number"):
            return self._number(schema, kind == "integer", index)
        if kind == "boolean":
            return index % 2 == 0
        if kind == "null":
            return None
        return self._string(schema, name, index)

    def _enum(self, enum: list[Any], index: int) -> Any:
        lowered = self._text.lower()
        mentioned = [v for v in enum if isinstance(v, str) and v and v.lower() in lowered]
        if mentioned and index == 0:
            return mentioned[0]
        return enum[index % len(enum)]

    def _object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties: Mapping[str, Any] = schema.get("properties") or {}
        required = [key for key in schema.get("required") or () if isinstance(key, str)]
        # Only what is required: optional parameters stay at their defaults, as models usually leave them.
        chosen = list(dict.fromkeys(required)) or list(properties)
        minimum = int(schema.get("minProperties") or 0)
        for key in properties:
            if len(chosen) >= minimum:
                break
            if key not in chosen:
                chosen.append(key)
        result: dict[str, Any] = {}
        for key in chosen:
            sub = properties.get(key)
            result[key] = self.value(sub if isinstance(sub, Mapping) else {}, key, 0, depth + 1)
        return result

    def _array(self, schema: Mapping[str, Any], name: str, depth: int) -> list[Any]:
        items = schema.get("items")
        item_schema: Mapping[str, Any] = items if isinstance(items, Mapping) else {}
        count = max(int(schema.get("minItems") or 0), 1)
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        # Varying the index gives distinct items, for uniqueItems.
        return [self.value(item_schema, name, i, depth + 1) for i in range(count)]

    def _number(self, schema: Mapping[str, Any], integer: bool, index: int) -> int | float:
        low, low_open = _bound(schema, "minimum", "exclusiveMinimum")
        high, high_open = _bound(schema, "maximum", "exclusiveMaximum")
        nudge = 1.0 if integer else 0.5

        def allowed(v: float) -> bool:
            above = low is None or (v > low if low_open else v >= low)
            below = high is None or (v < high if high_open else v <= high)
            return above and below and (not integer or v == int(v))

        found = _NUMBER.search(self._text)
        value = float(found.group()) if found and index == 0 else 1.0 + index
        if not allowed(value):
            if low is not None:
                value = float(math.ceil(low)) if integer else low
                value += nudge if not allowed(value) else 0.0
            elif high is not None:
                value = float(math.floor(high)) if integer else high
                value -= nudge if not allowed(value) else 0.0
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0:
            multiple = math.ceil(value / step) * step
            if not allowed(multiple):
                multiple += step
            value = multiple
        return int(value) if integer else value

    def _string(self, schema: Mapping[str, Any], name: str, index: int) -> str:
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS and index == 0:
            return _FORMATS[fmt]
        candidates = [*self._from_text(schema, name), name or "value"]
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            # Any word of the text may be what the pattern wants (a code, a number, a name).
            extra = [*_CAPS.findall(self._text), *(m.group() for m in _CAPITALISED_RUN.finditer(self._text))]
            extra += re.findall(r"[\w@.:/+-]+", self._text)
            matching = [c for c in [*candidates, *extra] if _matches(pattern, c)]
            candidates = matching or candidates
        value = candidates[0] if index == 0 else f"{candidates[0]} {index + 1}"
        low = int(schema.get("minLength") or 0)
        if len(value) < low:
            value = value + "x" * (low - len(value))
        if "maxLength" in schema:
            value = value[: int(schema["maxLength"])]
        return value

    def _from_text(self, schema: Mapping[str, Any], name: str) -> list[str]:
        description = str(schema.get("description") or "")
        about = f"{_words(name)} {description}"
        found: list[str] = []
        if _CODE_WORDS.search(about):
            found += _CAPS.findall(self._text)[:1]
        if _NAME_WORDS.search(_words(name)):
            runs = [m.group() for m in _CAPITALISED_RUN.finditer(self._text) if m.start() > 0 and m.group() != "I"]
            found += runs[-1:]
        if self._text:
            found.append(self._text[:_MAX_TEXT])
        return found


def _bound(schema: Mapping[str, Any], key: str, exclusive_key: str) -> tuple[float | None, bool]:
    """A bound and whether it is exclusive; draft 4 spells exclusivity as a boolean beside the bound."""
    exclusive = schema.get(exclusive_key)
    if isinstance(exclusive, (int, float)) and not isinstance(exclusive, bool):
        return float(exclusive), True
    bound = schema.get(key)
    if isinstance(bound, (int, float)) and not isinstance(bound, bool):
        return float(bound), exclusive is True
    return None, False


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True  # a pattern Python cannot read (ECMA-only syntax) is not ours to enforce


def arguments_for(parameters: Mapping[str, Any], user_text: str) -> dict[str, Any]:
    """Arguments for a tool whose ``parameters`` schema is given, filled from ``user_text`` where sensible.

    Args:
        parameters: The tool's JSON schema (an object schema).
        user_text: The last user turn.

    Returns:
        A JSON object that validates against ``parameters`` for the keywords listed in this module's docs.
    """
    value = _Builder(parameters, user_text).value(parameters, "", 0)
    return value if isinstance(value, dict) else {}
