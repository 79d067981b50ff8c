"""Every constraint of botocore's ``bedrock-runtime`` model reachable from the five operations' inputs, as cases.

The walk here is the test's own, independent of the validator's: it reads botocore's model, and for every
length, pattern, range, item count, enum, required member and union it builds a request (boto3 parameters)
just outside the constraint and one just inside, on top of a request that works. Patterned strings need a
valid example, which is the one thing written by hand: :data:`SAMPLES` (a model that gains a pattern fails the
suite until it has one).
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.loaders import Loader

MODEL = Loader().load_service_model("bedrock-runtime", "service-2")
SHAPES: dict[str, Any] = MODEL["shapes"]
OPERATIONS = ("InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream", "CountTokens")
JSON_OPERATIONS = ("Converse", "ConverseStream", "CountTokens")
SEVEN_B = "mistral.mistral-7b-instruct-v0:2"
LARGE = "mistral.mistral-large-2402-v1:0"
KEY, VALUE = "<key>", "<value>"

# A valid value of each patterned shape (checked against the pattern below), and a character that keeps it valid
# when repeated (for values at a length limit).
SAMPLES: dict[str, tuple[str, str]] = {
    "InvokeModelIdentifier": (SEVEN_B, "a"),
    "ConversationalModelId": (LARGE, "a"),
    "FoundationModelVersionIdentifier": (SEVEN_B, "a"),
    "GuardrailIdentifier": ("abc123", "a"),
    "GuardrailVersion": ("1", "0"),
    "ProjectIdentifier": ("project-1", "a"),
    "ToolUseId": ("tooluse_1", "a"),
    "ToolName": ("top_song", "a"),
    "RequestMetadataKeyString": ("team", "a"),
    "RequestMetadataValueString": ("blue", "a"),
    "S3Uri": ("s3://bucket/key", "a"),
    "AccountId": ("123456789012", "1"),
}
# Requests that work on the runtime, which each case changes in one place.
BASE: dict[str, dict[str, Any]] = {
    "InvokeModel": {"modelId": SEVEN_B, "body": b'{"prompt": "hi", "max_tokens": 3}'},
    "InvokeModelWithResponseStream": {"modelId": SEVEN_B, "body": b'{"prompt": "hi", "max_tokens": 3}'},
    "Converse": {
        "modelId": LARGE,
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
        "inferenceConfig": {"maxTokens": 3},
    },
    "ConverseStream": {
        "modelId": LARGE,
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
        "inferenceConfig": {"maxTokens": 3},
    },
    "CountTokens": {"modelId": SEVEN_B, "input": {"invokeModel": {"body": b'{"prompt": "hi"}'}}},
}


@dataclass(frozen=True)
class Case:
    """One constraint of one member, with a request on each side of it.

    Attributes:
        operation: The operation whose input reaches the member.
        steps: Member names from the input structure, ``0`` for a list item, :data:`KEY` / :data:`VALUE` in maps.
        rule: ``min``, ``max``, ``pattern``, ``enum``, ``union`` or ``required``.
        location: ``uri``, ``header`` or ``payload`` for members outside the JSON body, else ``body``.
        outside: boto3 parameters that break the constraint.
        inside: boto3 parameters that keep it.
        path: The member's path as the front end prints it.
        text: The constraint's words in the front end's message.
    """

    operation: str
    steps: tuple[str | int, ...]
    rule: str
    location: str
    outside: dict[str, Any]
    inside: dict[str, Any]
    path: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.operation}:{'.'.join(map(str, self.steps)) or '<input>'}:{self.rule}"


def valid_string(name: str) -> str:
    shape = SHAPES[name]
    if "enum" in shape:
        return str(shape["enum"][0])
    if "pattern" in shape:
        return SAMPLES[name][0]
    return "x" * max(1, shape.get("min", 0))


def minimal(name: str) -> Any:
    """The smallest valid value of a shape: required members only, the first member of a union."""
    shape = SHAPES[name]
    kind = shape["type"]
    if kind == "structure":
        if shape.get("document"):
            return {}
        if shape.get("union"):
            first, ref = next(iter(shape["members"].items()))
            return {first: minimal(ref["shape"])}
        return {m: minimal(shape["members"][m]["shape"]) for m in shape.get("required", ())}
    if kind == "list":
        return [minimal(shape["member"]["shape"]) for _ in range(shape.get("min", 0))]
    if kind == "map":
        return {valid_string(shape["key"]["shape"]): minimal(shape["value"]["shape"])} if shape.get("min") else {}
    if kind == "string":
        return valid_string(name)
    if kind == "blob":
        return b"x" * max(1, shape.get("min", 0))
    if kind in ("integer", "long"):
        return shape.get("min", 1)
    if kind in ("float", "double"):
        return shape.get("min", 0.5)
    if kind == "boolean":
        return True
    raise AssertionError(f"no minimal value for {name} ({kind})")


def _sized(name: str, size: int) -> Any:
    """A value of ``size`` (characters, bytes, items or entries) that is otherwise valid."""
    shape = SHAPES[name]
    kind = shape["type"]
    if kind == "string":
        sample, pad = SAMPLES.get(name, ("", "x"))
        return (sample + pad * size)[:size] if size >= len(sample) or not sample else sample[:size]
    if kind == "blob":
        return b"x" * size
    if kind == "list":
        return [minimal(shape["member"]["shape"]) for _ in range(size)]
    if kind == "map":
        value = minimal(shape["value"]["shape"])
        return {f"k{i}": value for i in range(size)}
    raise AssertionError(kind)


def _outside_inside(name: str, rule: str) -> tuple[Any, Any, str]:
    shape = SHAPES[name]
    kind = shape["type"]
    number = kind in ("integer", "long", "float", "double")
    step = 1 if kind in ("integer", "long") else 0.5
    if rule == "min":
        if number:
            return shape["min"] - step, shape["min"], f"Member must have value greater than or equal to {shape['min']}"
        inside = _sized(name, shape["min"]) if "pattern" not in shape else valid_string(name)
        return (
            _sized(name, shape["min"] - 1),
            inside,
            f"Member must have length greater than or equal to {shape['min']}",
        )
    if rule == "max":
        if number:
            return shape["max"] + step, shape["max"], f"Member must have value less than or equal to {shape['max']}"
        return (
            _sized(name, shape["max"] + 1),
            _sized(name, shape["max"]),
            (f"Member must have length less than or equal to {shape['max']}"),
        )
    if rule == "pattern":
        return "!", valid_string(name), f"Member must satisfy regular expression pattern: {shape['pattern']}"
    if rule == "enum":
        return "NOT_A_MEMBER", shape["enum"][0], f"Member must satisfy enum value set: [{', '.join(shape['enum'])}]"
    if rule == "union":
        return {}, minimal(name), "Member must have one and only one member set"
    raise AssertionError(rule)


def _place(value: Any, name: str, steps: tuple[str | int, ...], leaf: Any) -> Any:
    """``value`` (of shape ``name``) with the member at ``steps`` set to ``leaf`` (``REMOVE`` deletes it)."""
    if not steps:
        return leaf
    shape = SHAPES[name]
    step, rest = steps[0], steps[1:]
    if shape["type"] == "list":
        items = list(value) if value else []
        item = items[0] if items else minimal(shape["member"]["shape"])
        return [_place(item, shape["member"]["shape"], rest, leaf), *items[1:]]
    if shape["type"] == "map":
        if step == KEY:
            return {leaf: minimal(shape["value"]["shape"])}
        return {"k": _place(minimal(shape["value"]["shape"]), shape["value"]["shape"], rest, leaf)}
    assert isinstance(step, str)
    member = shape["members"][step]["shape"]
    if shape.get("union"):
        current = value.get(step) if isinstance(value, dict) else None
        out: dict[str, Any] = {}  # one member set, the one on the path
    else:
        current = value.get(step) if isinstance(value, dict) else None
        out = dict(value) if isinstance(value, dict) else minimal(name)
    if current is None:
        current = minimal(member)
    placed = _place(current, member, rest, leaf)
    if placed is REMOVE:
        out.pop(step, None)
    else:
        out[step] = placed
    return out


REMOVE = object()


def coral_path(operation: str, steps: tuple[str | int, ...]) -> str:
    """Where the front end says the member is: list items 1-based; a map's keys, and its values when they are
    simple, reported at the map itself (structured values at ``map.<key>``)."""
    name = MODEL["operations"][operation]["input"]["shape"]
    parts: list[str] = []
    for step in steps:
        shape = SHAPES[name]
        if shape["type"] == "list":
            parts.append(f"{int(step) + 1}.member")
            name = shape["member"]["shape"]
        elif shape["type"] == "map":
            name = shape["value"]["shape"]
            if step == KEY or SHAPES[name]["type"] not in ("structure", "list", "map"):
                break
            parts.append("k")
        else:
            parts.append(str(step))
            name = shape["members"][step]["shape"]
    return ".".join(parts)


def _simple_map_value(operation: str, steps: tuple[str | int, ...]) -> bool:
    return bool(steps) and steps[-1] == VALUE and coral_path(operation, steps) == coral_path(operation, steps[:-1])


def _location(operation: str, steps: tuple[str | int, ...]) -> str:
    top = SHAPES[MODEL["operations"][operation]["input"]["shape"]]
    if not steps:
        return "body"
    ref = top["members"][steps[0]]
    if "location" in ref:
        return str(ref["location"])
    return "payload" if top.get("payload") == steps[0] else "body"


def cases() -> Iterator[Case]:
    for operation in OPERATIONS:
        top = MODEL["operations"][operation]["input"]["shape"]
        yield from _walk(operation, top, (), ())


def _walk(operation: str, name: str, steps: tuple[str | int, ...], seen: tuple[str, ...]) -> Iterator[Case]:
    shape = SHAPES[name]
    rules = [r for r in ("min", "max", "pattern", "enum") if r in shape]
    if "min" in rules and shape["min"] == 0:
        rules.remove("min")  # nothing is shorter than empty
    if shape.get("union"):
        rules.append("union")
    for rule in rules:
        outside, inside, text = _outside_inside(name, rule)
        yield _case(operation, steps, rule, outside, inside, text)
    if name in seen:
        return
    seen = (*seen, name)
    if shape["type"] == "structure" and not shape.get("document"):
        for member, ref in shape["members"].items():
            if member in shape.get("required", ()) and "location" not in ref:
                yield _case(operation, (*steps, member), "required", REMOVE, minimal(ref["shape"]), "")
            yield from _walk(operation, ref["shape"], (*steps, member), seen)
    elif shape["type"] == "list":
        yield from _walk(operation, shape["member"]["shape"], (*steps, 0), seen)
    elif shape["type"] == "map":
        yield from _walk(operation, shape["key"]["shape"], (*steps, KEY), seen)
        yield from _walk(operation, shape["value"]["shape"], (*steps, VALUE), seen)


def _case(operation: str, steps: tuple[str | int, ...], rule: str, outside: Any, inside: Any, text: str) -> Case:
    top = MODEL["operations"][operation]["input"]["shape"]
    base = copy.deepcopy(BASE[operation])
    path = coral_path(operation, steps)
    if rule == "required":
        text = "Member must not be null"
    return Case(
        operation=operation,
        steps=steps,
        rule=rule,
        location=_location(operation, steps),
        outside=_place(base, top, steps, outside),
        inside=_place(copy.deepcopy(BASE[operation]), top, steps, inside),
        path=path,
        text=text,
    )


def expected_fragment(case: Case) -> str:
    """What the front end's message must contain for the ``outside`` request."""
    if KEY in case.steps:
        return f"at '{case.path}' failed to satisfy constraint: Map keys must satisfy constraint: ["
    if _simple_map_value(case.operation, case.steps):
        return f"at '{case.path}' failed to satisfy constraint: Map value must satisfy constraint: ["
    prefix = "Value null " if case.rule == "required" else ""
    return f"{prefix}at '{case.path}' failed to satisfy constraint: {case.text}"


def json_body(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The JSON body boto3 sends for ``params``: members not bound to the URI or headers, blobs as base64."""
    top = SHAPES[MODEL["operations"][operation]["input"]["shape"]]
    return {k: _jsonable(v) for k, v in params.items() if "location" not in top["members"][k]}


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def headers(operation: str, params: dict[str, Any]) -> dict[str, str]:
    top = SHAPES[MODEL["operations"][operation]["input"]["shape"]]
    return {
        ref["locationName"]: str(params[m])
        for m, ref in top["members"].items()
        if ref.get("location") == "header" and m in params
    }


def check_samples() -> None:
    for name, (sample, pad) in SAMPLES.items():
        pattern = re.compile(SHAPES[name]["pattern"])
        assert pattern.fullmatch(sample), name
        if "max" in SHAPES[name]:  # padded to the limit for the length cases
            assert pattern.fullmatch(sample + pad * 3), name
