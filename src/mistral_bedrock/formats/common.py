"""Pieces shared by the native formats: schema building from the catalog, parameters into and out of a body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..catalog import ModelSpec
from ..conversation import Params, ToolCall
from ..errors import ModelErrorException, ValidationException
from . import schema as s
from .body_types import ChatRequest, TextRequest
from .json_body import has_bare_token, load_json
from .messages import MALFORMED, SchemaViolation, json_type_name, schema_error

__all__ = [
    "add_sampling",
    "decode_arguments",
    "param_schema",
    "params_from_body",
    "require_object",
    "validate",
]


def param_schema(spec: ModelSpec, key: str) -> s.Schema:
    """The schema of one numeric parameter, with the model's range."""
    limits = spec.params[key]
    if isinstance(limits.maximum, int) and isinstance(limits.minimum, int):
        return s.integer(limits.minimum, limits.maximum)
    return s.number(limits.minimum, limits.maximum)


def require_object(body: object) -> dict[str, Any]:
    """Bodies that are not JSON at all get Bedrock's generic message; non-objects the validator's."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            body = load_json(body)
        except (ValueError, UnicodeDecodeError):
            raise ValidationException(MALFORMED) from None
    if not isinstance(body, dict):
        raise schema_error([SchemaViolation("#", f"expected type: JSONObject, found: {json_type_name(body)}")])
    return body


def validate(body: dict[str, Any], schema: s.Schema) -> None:
    """The schema's violations in the validator's words; then a body still holding ``NaN`` or ``Infinity``
    where the schema allows anything or text is refused as unparseable (see :mod:`.json_body`)."""
    violations = s.check(body, schema)
    if violations:
        raise schema_error(violations)
    if has_bare_token(body):
        raise ValidationException(MALFORMED)


def params_from_body(body: Mapping[str, Any], stop_key: str | None = "stop") -> Params:
    """Read the numeric parameters and stop sequences out of an already validated native body."""

    def num(key: str) -> float | None:
        value = body.get(key)
        return float(value) if value is not None else None

    def whole(key: str) -> int | None:
        value = body.get(key)
        return int(value) if value is not None else None

    stop = body.get(stop_key) if stop_key else None
    if isinstance(stop, str):
        stop = [stop]
    return Params(
        max_tokens=whole("max_tokens"),
        temperature=num("temperature"),
        top_p=num("top_p"),
        top_k=whole("top_k"),
        stop=tuple(stop) if stop else None,
    )


def add_sampling(body: ChatRequest | TextRequest, params: Params) -> None:
    """The sampling parameters every native body spells alike; unset ones are left out."""
    if params.max_tokens is not None:
        body["max_tokens"] = params.max_tokens
    if params.temperature is not None:
        body["temperature"] = params.temperature
    if params.top_p is not None:
        body["top_p"] = params.top_p


def decode_arguments(call_id: str, name: str, arguments: object) -> ToolCall:
    """A tool call from the wire: arguments arrive as a JSON string (or, leniently, an object)."""
    if isinstance(arguments, Mapping):
        return ToolCall(call_id, name, dict(arguments))
    if arguments is not None and not isinstance(arguments, str):
        raise ModelErrorException(
            f"Tool call {name!r} has arguments of type {type(arguments).__name__}, not JSON text."
        )
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) and arguments else {}
    except ValueError:
        raise ModelErrorException(
            f"The model returned tool call {name!r} with arguments that are not valid JSON: {arguments!r}"
        ) from None
    if not isinstance(parsed, dict):
        raise ModelErrorException(
            f"The model returned tool call {name!r} with arguments that are not a JSON object: {arguments!r}"
        )
    return ToolCall(call_id, name, parsed)
