"""Reading what a response carries: each required field present and of its JSON type, or a typed error.

A format reads a response body or a stream event through these helpers, never with bare ``body["key"]`` or
``.get()`` on something that may not be an object: a 200 answer of the wrong shape must raise
:class:`~mistral_bedrock.errors.MalformedResponseError` naming the field, not ``KeyError`` or
``AttributeError`` — and must never read as an empty success. Paths in messages are written as a reader
would look them up: ``choices[0].message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import MalformedResponseError

__all__ = ["count", "each_object", "first_object", "json_kind", "malformed", "obj", "optional_text", "text"]


def json_kind(value: object) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def malformed(where: str, problem: str, body: object = None) -> MalformedResponseError:
    """The error for one field: ``Malformed response: choices[0].message is missing.``"""
    return MalformedResponseError(f"Malformed response: {where} {problem}.", body=body)


def _wrong(where: str, value: object, wanted: str) -> MalformedResponseError:
    if value is None:
        return malformed(where, "is missing")
    return malformed(where, f"is {json_kind(value)}, not {wanted}")


def obj(value: object, where: str) -> Mapping[str, Any]:
    """``value`` as a JSON object."""
    if not isinstance(value, Mapping):
        raise _wrong(where, value, "an object")
    return value


def text(value: object, where: str) -> str:
    """``value`` as a string; missing or null is an error."""
    if not isinstance(value, str):
        raise _wrong(where, value, "a string")
    return value


def optional_text(value: object, where: str) -> str | None:
    """``value`` as a string, or None when it is missing or null."""
    return None if value is None else text(value, where)


def count(value: object, where: str) -> int:
    """``value`` as a whole number (token counts, latencies, indexes); a boolean is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _wrong(where, value, "a whole number")


def each_object(value: object, where: str) -> list[Mapping[str, Any]]:
    """``value`` as an array of objects (missing or null is an empty array)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _wrong(where, value, "an array")
    return [obj(item, f"{where}[{index}]") for index, item in enumerate(value)]


def first_object(value: object, where: str) -> Mapping[str, Any]:
    """The first element of a non-empty array of objects (``outputs[0]``, ``choices[0]``)."""
    if not isinstance(value, list):
        raise _wrong(where, value, "an array")
    if not value:
        raise malformed(where, "is empty")
    return obj(value[0], f"{where}[0]")
