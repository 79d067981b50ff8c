"""Bedrock's validation messages, in one place.

Two validators answer a bad request on Bedrock, and their texts differ:

* InvokeModel bodies go through a JSON-schema validator whose texts look like
  ``Malformed input request: #/temperature: expected type: Number, found: String, please reformat your input
  and try again.``
* Converse requests go through the AWS front end ("Coral"), whose texts look like
  ``1 validation error detected: Value '1.5' at 'inferenceConfig.temperature' failed to satisfy constraint:
  Member must have value less than or equal to 1``.

The texts seen in real Bedrock traffic are reproduced verbatim; the rest follow the same validators' patterns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from ..errors import ValidationException

__all__ = [
    "CONTAINER_VALIDATION_ERROR",
    "MALFORMED",
    "SchemaViolation",
    "coral_error",
    "coral_value",
    "java_number",
    "json_type_name",
    "schema_error",
]

MALFORMED = "Malformed input request, please reformat your input and try again."
CONTAINER_VALIDATION_ERROR = "The model returned the following errors: Validation Error"


class SchemaViolation:
    """One JSON-schema violation: a JSON pointer (``#/messages/0/role``) and the validator's text."""

    __slots__ = ("path", "text")

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text

    def render(self) -> str:
        return f"{self.path}: {self.text}"


def schema_error(violations: Sequence[SchemaViolation]) -> ValidationException:
    """Bedrock's schema-validator message for one or more violations.

    Violations that all sit on the root object are listed back to back (as seen for a body with missing and
    extraneous keys); otherwise several violations are summarised with their count.
    """
    if len(violations) == 1 or all(v.path == "#" for v in violations):
        body = "".join(v.render() for v in violations)
    else:
        body = f"{len(violations)} schema violations found"
    return ValidationException(f"Malformed input request: {body}, please reformat your input and try again.")


def json_type_name(value: object) -> str:
    """The Java-side type name the schema validator prints for a JSON value."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        # NaN and Infinity travel as bare tokens, which the validator's JSON reader takes for text.
        return "BigDecimal" if math.isfinite(value) else "String"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "JSONArray"
    return "JSONObject"


def java_number(value: float | int) -> str:
    """Print a limit the way the Java validator does: ``1.0`` for doubles, ``1`` for integers."""
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else f"{value:.1f}"
    return str(value)


def coral_value(value: object) -> str:
    """Render a value inside ``Value '…'`` as the front end does (JSON-ish, numbers plain)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return json.dumps(value, separators=(",", ":"))


def coral_error(violations: Sequence[str]) -> ValidationException:
    """The front end's message: ``N validation error(s) detected: v1; v2``."""
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return ValidationException(f"{count} validation {noun} detected: " + "; ".join(violations))
