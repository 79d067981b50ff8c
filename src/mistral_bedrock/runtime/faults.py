"""Fault injection: Bedrock's failure modes on demand, per model or global, by rate or by count.

A rule says *what* goes wrong and *when*:

=================  ==============================================================================
kind               effect
=================  ==============================================================================
``error``          the request fails before any byte with an AWS error (``code``), e.g. throttling
``latency``        ``first_byte_ms`` before the answer starts, ``per_token_ms`` between stream events
``stream-error``   a stream breaks after ``after`` chunks with an in-stream exception (``code``,
                   default ``modelStreamErrorException``'s code)
``drop``           the connection is cut after ``after`` chunks, mid-stream, with no clean ending
=================  ==============================================================================

``rate`` (0 to 1) fires on that share of matching requests, drawn from a seeded generator so a run is
repeatable; ``count`` fires on the next N matching requests; neither means every request. ``model`` limits a
rule to one model (any id form the catalog resolves); ``operation`` to one operation.

Rules come from ``--fault`` flags (:func:`parse_fault_spec`) or from the control endpoint as JSON.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mistral_bedrock.catalog import lookup
from mistral_bedrock.errors import MistralBedrockError
from mistral_bedrock.protocol.errors import ERROR_CODES

__all__ = ["FaultController", "FaultKind", "FaultRule", "Faults", "parse_fault_spec"]

FaultKind = Literal["error", "latency", "stream-error", "drop"]
_KINDS: tuple[FaultKind, ...] = ("error", "latency", "stream-error", "drop")
# Short names for the codes people inject most.
_ALIASES = {
    "throttle": "ThrottlingException",
    "throttling": "ThrottlingException",
    "not-ready": "ModelNotReadyException",
    "timeout": "ModelTimeoutException",
    "unavailable": "ServiceUnavailableException",
    "internal": "InternalServerException",
}


@dataclass
class FaultRule:
    """One fault. See the module docstring for the fields' meaning."""

    kind: FaultKind
    code: str | None = None
    message: str | None = None
    rate: float | None = None
    count: int | None = None
    model: str | None = None
    operation: str | None = None
    first_byte_ms: int = 0
    per_token_ms: int = 0
    after: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(_KINDS)}")
        if self.code is not None:
            self.code = _ALIASES.get(self.code, self.code)
            if self.code not in ERROR_CODES:
                raise ValueError(f"unknown AWS error code {self.code!r}")
        if self.kind == "error" and self.code is None:
            raise ValueError("an error fault needs a code, e.g. ThrottlingException")
        if self.rate is not None and not 0 <= self.rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, got {self.rate}")
        if self.count is not None and self.count < 0:
            raise ValueError(f"count must not be negative, got {self.count}")
        if min(self.first_byte_ms, self.per_token_ms, self.after) < 0:
            raise ValueError("latencies and 'after' must not be negative")
        if self.model is not None:
            try:
                self.model = lookup(self.model).model_id
            except MistralBedrockError:
                raise ValueError(f"unknown model {self.model!r} in fault rule") from None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        allowed = set(cls.__dataclass_fields__) - {"fired"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(str(exc)) from None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def matches(self, model_id: str, operation: str) -> bool:
        return (self.model is None or self.model == model_id) and (
            self.operation is None or self.operation == operation
        )


@dataclass(frozen=True)
class Faults:
    """What the faults decided for one request."""

    error: FaultRule | None = None
    first_byte_ms: int = 0
    per_token_ms: int = 0
    stream_error: FaultRule | None = None
    drop_after: int | None = None


@dataclass
class FaultController:
    """The live set of rules of one runtime. Thread-safe: servers may call it from several threads."""

    rules: list[FaultRule] = field(default_factory=list)
    seed: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self.rules.append(rule)

    def reset(self) -> None:
        with self._lock:
            self.rules.clear()
            self._random = random.Random(self.seed)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_json() for rule in self.rules]

    def _fires(self, rule: FaultRule) -> bool:
        if rule.count is not None:
            if rule.fired >= rule.count:
                return False
        elif rule.rate is not None and self._random.random() >= rule.rate:
            return False
        rule.fired += 1
        return True

    def decide(self, model_id: str, operation: str) -> Faults:
        """Draw the faults for one request; counts and the random stream advance here."""
        error = stream_error = None
        first_byte = per_token = 0
        drop: int | None = None
        with self._lock:
            for rule in self.rules:
                if not rule.matches(model_id, operation) or not self._fires(rule):
                    continue
                if rule.kind == "error" and error is None:
                    error = rule
                elif rule.kind == "latency":
                    first_byte += rule.first_byte_ms
                    per_token += rule.per_token_ms
                elif rule.kind == "stream-error" and stream_error is None:
                    stream_error = rule
                elif rule.kind == "drop" and drop is None:
                    drop = rule.after
        return Faults(error, first_byte, per_token, stream_error, drop)


_FIELD_TYPES: dict[str, type] = {
    "rate": float,
    "count": int,
    "first_byte_ms": int,
    "per_token_ms": int,
    "after": int,
    "first_byte": int,
    "per_token": int,
}
_FIELD_NAMES = {"first_byte": "first_byte_ms", "per_token": "per_token_ms"}


def parse_fault_spec(spec: str) -> FaultRule:
    """Parse a ``--fault`` flag.

    Forms: ``KIND_OR_CODE[:key=value,…]``, where the head is a fault kind (``latency``, ``stream-error``,
    ``drop``) or an AWS error code or short name (``ThrottlingException``, ``throttle``, ``not-ready``,
    ``timeout``, ``unavailable``, ``internal``), which makes an ``error`` rule. Examples::

        throttle:rate=0.3
        ModelNotReadyException:count=2,model=mistral-7b
        latency:first_byte=200,per_token=10
        stream-error:after=3
        drop:after=2,model=mistral-large-2407

    Raises:
        ValueError: naming what is wrong.
    """
    head, _, rest = spec.partition(":")
    head = head.strip()
    if not head:
        raise ValueError(f"empty fault spec {spec!r}")
    fields: dict[str, Any] = {}
    if head in _KINDS:
        fields["kind"] = head
    else:
        fields["kind"] = "error"
        fields["code"] = head
    for item in _items(rest):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"fault option {item!r} in {spec!r} is not key=value")
        converter = _FIELD_TYPES.get(key, str)
        try:
            fields[_FIELD_NAMES.get(key, key)] = converter(value.strip())
        except ValueError:
            raise ValueError(f"fault option {key}={value!r} in {spec!r} is not a {converter.__name__}") from None
    return FaultRule.from_json(fields)


def _items(rest: str) -> Iterable[str]:
    return [part for part in rest.split(",") if part.strip()]
