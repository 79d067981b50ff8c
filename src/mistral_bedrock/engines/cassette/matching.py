"""Which recorded interaction answers a request: operation + resolved model + canonical body.

Matching on the URL alone served two same-URL requests each other's answers when their order changed; so the key
is the body itself, canonical (keys sorted, compact), less the fields a test chooses to ignore (a temperature, a
volatile system prompt). The model is the *resolved* id, so an alias, a profile and the bare id recorded under one
another still match. When nothing matches, :func:`nearest` says which recording came closest and where it first
differs, which is what someone fixing the test needs to see.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import difflib
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...prompt.sanitize import tokenizable

__all__ = ["Difference", "drop_fields", "first_difference", "match_key", "nearest", "parameters_of", "request_body"]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_$-]+$")


# Bedrock's request parameters that travel as headers (trace, guardrail, latency mode, service tier): they change
# the answer, so they take part in matching. The accept headers do not: SDKs differ in sending their default.
_PARAMETER_HEADER = re.compile(r"^x-amzn-bedrock-(?!accept$)(.+)$")


def parameters_of(headers: Mapping[str, str]) -> dict[str, str]:
    """The request's ``X-Amzn-Bedrock-*`` parameters, by name less the prefix (``trace``, ``guardrailidentifier``)."""
    found = {m[1]: value for name, value in headers.items() if (m := _PARAMETER_HEADER.match(name.lower()))}
    return dict(sorted(found.items()))


def request_body(operation: str, raw: bytes) -> Any:
    """The body as matching and the cassette see it: parsed; lone surrogates read as U+FFFD (as the runtime reads
    them); and CountTokens' base64 ``invokeModel.body`` decoded, so that its JSON is matched and read as JSON."""
    body = _tokenizable(json.loads(raw))
    if operation == "CountTokens" and isinstance(body, dict):
        inner = body.get("input", {}).get("invokeModel") if isinstance(body.get("input"), dict) else None
        if isinstance(inner, dict) and isinstance(inner.get("body"), str):
            # Left as sent when it is no JSON: the runtime validated it, Bedrock's answer says the rest.
            with contextlib.suppress(ValueError, binascii.Error):
                inner["body"] = _tokenizable(json.loads(base64.b64decode(inner["body"], validate=True)))
    return body


def _tokenizable(node: Any) -> Any:
    if isinstance(node, str):
        return tokenizable(node)
    if isinstance(node, dict):
        return {tokenizable(key): _tokenizable(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_tokenizable(value) for value in node]
    return node


def drop_fields(body: Any, paths: Sequence[str]) -> Any:
    """``body`` without the fields ``paths`` name (dotted; ``*`` is any list item or key); a copy, never in place."""
    for path in paths:
        body = _drop(body, path.split("."))
    return body


def _drop(node: Any, parts: list[str]) -> Any:
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        if rest:
            return {k: (_drop(v, rest) if head in ("*", k) else v) for k, v in node.items()}
        return {k: v for k, v in node.items() if head not in ("*", k)}
    if isinstance(node, list) and head == "*":
        return [_drop(item, rest) for item in node] if rest else []
    return node


def _canonical(node: Any) -> Any:
    """JSON's meaning, not one SDK's spelling: ``1.0`` (boto3) and ``1`` (the JS and Go SDKs) are one number."""
    if isinstance(node, dict):
        return {key: _canonical(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_canonical(value) for value in node]
    if isinstance(node, float) and node.is_integer():
        return int(node)
    return node


def match_key(
    operation: str, model_id: str, body: Any, ignore: Sequence[str] = (), parameters: Mapping[str, str] | None = None
) -> str:
    """The sha256 (hex) of the operation, the resolved model, the header parameters and the canonical body less
    ``ignore``."""
    identity: list[Any] = [operation, model_id, _canonical(drop_fields(body, ignore))]
    if parameters:
        identity.append(dict(parameters))
    canonical = json.dumps(
        identity,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _same(a: Any, b: Any) -> bool:
    """Equal as :func:`match_key` sees them: ``1 == 1.0``, but ``true`` is no number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, value)`` of every leaf, in document order; an empty list or map is a leaf."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            # A key that could be read as a path of its own is quoted: {"a.b": 1} is not {"a": {"b": 1}}.
            name = str(key) if _PLAIN_KEY.match(str(key)) else json.dumps(key, ensure_ascii=False)
            yield from _leaves(value, f"{path}.{name}" if path else name)
    elif isinstance(node, list) and node:
        for index, value in enumerate(node):
            yield from _leaves(value, f"{path}[{index}]")
    else:
        yield path or "(body)", node


@dataclass(frozen=True)
class Difference:
    """Where a request and a recording first differ, and how many leaves differ in all."""

    path: str
    sent: Any
    recorded: Any
    count: int

    def describe(self) -> str:
        return f"{self.path}: sent {_show(self.sent)}, recorded {_show(self.recorded)}"


_MISSING = object()


def _show(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def first_difference(sent: Any, recorded: Any) -> Difference | None:
    """The first leaf (in the sent body's order, then the recording's) whose value differs; None if equal."""
    mine = dict(_leaves(sent))
    theirs = dict(_leaves(recorded))
    differing = [path for path in mine if path not in theirs or not _same(theirs[path], mine[path])]
    differing += [path for path in theirs if path not in mine]
    if not differing:
        return None
    path = differing[0]
    return Difference(path, mine.get(path, _MISSING), theirs.get(path, _MISSING), len(differing))


def nearest(
    operation: str, model_id: str, body: Any, candidates: Sequence[tuple[str, str, Any]]
) -> tuple[int, Difference | None] | None:
    """The index of the candidate ``(operation, model, body)`` closest to the request, and the first difference.

    Closest: the same operation first, then the same model, then the fewest differing leaves, then the most alike
    text (a prompt one letter off beats an unrelated one).
    """
    sent = json.dumps(body, sort_keys=True, ensure_ascii=False)
    best: tuple[tuple[bool, bool, int, float], int, Difference | None] | None = None
    for index, (their_operation, their_model, their_body) in enumerate(candidates):
        difference = first_difference(body, their_body)
        alike = difflib.SequenceMatcher(None, sent, json.dumps(their_body, sort_keys=True, ensure_ascii=False))
        score = (
            their_operation != operation,
            their_model != model_id,
            difference.count if difference else 0,
            -alike.quick_ratio(),
        )
        if best is None or score < best[0]:
            best = (score, index, difference)
    return None if best is None else (best[1], best[2])
