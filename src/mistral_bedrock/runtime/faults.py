"""Fault injection: Bedrock's failure modes on demand, per model or global, by rate or by count.

A rule says *what* goes wrong and *when*:

=================  ==============================================================================
kind               effect
=================  ==============================================================================
``error``          the request fails before any byte with an AWS error (``code``), e.g. throttling
``latency``        ``first_byte_ms`` before the answer starts, ``per_token_ms`` between stream events
``stream-error``   a stream breaks after ``after_frames`` event frames with an in-stream exception
                   (``code``, default ``modelStreamErrorException``'s code)
``drop``           the connection is cut after ``after_frames`` event frames, mid-body, with no clean ending
=================  ==============================================================================

``rate`` (0 to 1) fires on that share of matching requests, drawn from a seeded generator so a run is
repeatable; ``count`` fires on the next N matching requests (with ``rate``: on at most N of them); neither means
every request. ``model`` limits a rule to one model (any id form the catalog resolves); ``operation`` to one
operation (its name, ``ConverseStream``, or its path suffix, ``converse-stream``). ``stream-error`` and ``drop``
only match the two streaming operations, so a count is never used up by a request they could not break.

One request gets at most one fault of each effect: the first ``error`` rule that fires wins and nothing else is
drawn (the request fails at once); otherwise every firing ``latency`` rule adds up, and the first firing
``stream-error`` or ``drop`` rule breaks the stream.

Rules come from ``--fault`` flags (:func:`~.fault_specs.parse_fault_spec`) or from the control endpoint as JSON
(:meth:`FaultRule.from_json`); both are checked field by field, and every complaint names its field. The live
rules and how often each fired are kept in a :class:`~mistral_bedrock.runtime.store.Store`, which ``serve``
shares between its workers, so a count holds across all of them.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from mistral_bedrock.catalog import lookup
from mistral_bedrock.errors import BedrockError, MistralBedrockError
from mistral_bedrock.protocol.error_codes import ERROR_CODES
from mistral_bedrock.protocol.operations import OPERATIONS

from .responses import DropConnection

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "CODE_ALIASES",
    "INT_FIELDS",
    "KINDS",
    "MAX_INT",
    "NO_FAULTS",
    "FaultController",
    "FaultKind",
    "FaultRule",
    "Faults",
]

FaultKind = Literal["error", "latency", "stream-error", "drop"]
KINDS: tuple[FaultKind, ...] = ("error", "latency", "stream-error", "drop")
# Short names for the codes people inject most.
CODE_ALIASES = {
    "throttle": "ThrottlingException",
    "throttling": "ThrottlingException",
    "not-ready": "ModelNotReadyException",
    "timeout": "ModelTimeoutException",
    "unavailable": "ServiceUnavailableException",
    "internal": "InternalServerException",
}
_OPERATION_NAMES = {op.name.value: op.name.value for op in OPERATIONS.values()} | {
    op.suffix: op.name.value for op in OPERATIONS.values()
}
_STREAMING = frozenset(op.name.value for op in OPERATIONS.values() if op.streaming)
# The fields each kind may set besides the common ones (rate, count, model, operation); anything else is a mistake
# that would otherwise be ignored in silence.
_KIND_FIELDS: dict[str, frozenset[str]] = {
    "error": frozenset({"code", "message"}),
    "latency": frozenset({"first_byte_ms", "per_token_ms"}),
    "stream-error": frozenset({"code", "message", "after_frames"}),
    "drop": frozenset({"after_frames"}),
}
_COMMON_FIELDS = frozenset({"kind", "rate", "count", "model", "operation"})
INT_FIELDS = ("count", "first_byte_ms", "per_token_ms", "after_frames")
MAX_INT = 2**31 - 1
_TEXT_FIELDS = ("code", "message", "model", "operation")


def _text(value: object) -> str:
    """A value as the person who wrote it would recognise it: JSON's spelling (``"2"``, ``true``, ``null``)."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, str):
        return '"' + value + '"'
    return str(value)


@dataclass(frozen=True)
class FaultRule:
    """One fault. See the module docstring for the fields' meaning.

    Raises:
        ValueError: on construction, naming the field that is wrong (an unknown kind, model, operation or error
            code, a wrong type, a negative number, a rate outside 0..1, a field the kind does not use).
    """

    kind: FaultKind
    code: str | None = None
    message: str | None = None
    rate: float | None = None
    count: int | None = None
    model: str | None = None
    operation: str | None = None
    first_byte_ms: int = 0
    per_token_ms: int = 0
    after_frames: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {_text(self.kind)}")
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string, got {_text(value)}")
        for name in INT_FIELDS:
            value = getattr(self, name)
            # bool is an int to Python, never to the person who wrote `true`.
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"{name} must be a non-negative integer, got {_text(value)}")
            if value is not None and value > MAX_INT:  # what the shared SQLite store (and a sleep) can hold
                raise ValueError(f"{name} must be at most {MAX_INT}, got {value}")
        if self.rate is not None and (
            not isinstance(self.rate, int | float)
            or isinstance(self.rate, bool)
            or not math.isfinite(self.rate)
            or not 0 <= self.rate <= 1
        ):
            raise ValueError(f"rate must be a number from 0 to 1, got {_text(self.rate)}")
        unused = [
            name
            for name in ("code", "message", "first_byte_ms", "per_token_ms", "after_frames")
            if name not in _KIND_FIELDS[self.kind] and getattr(self, name) not in (None, 0)
        ]
        if unused:
            raise ValueError(f"{unused[0]} does not apply to {self.kind} faults")
        if self.code is not None:
            code = CODE_ALIASES.get(self.code, self.code)
            if code not in ERROR_CODES:
                raise ValueError(f"code must be an AWS error code of the error table, got {_text(self.code)}")
            object.__setattr__(self, "code", code)
        if self.kind == "error" and self.code is None:
            raise ValueError("code is required for an error fault, e.g. ThrottlingException")
        if self.kind == "latency" and not (self.first_byte_ms or self.per_token_ms):
            raise ValueError("a latency fault needs first_byte_ms or per_token_ms")
        if self.operation is not None:
            operation = _OPERATION_NAMES.get(self.operation)
            if operation is None:
                names = ", ".join(op.name.value for op in OPERATIONS.values())
                raise ValueError(f"operation must be one of {names} (or its path suffix), got {_text(self.operation)}")
            if self.kind in ("stream-error", "drop") and operation not in _STREAMING:
                raise ValueError(f"operation {operation} does not stream, so a {self.kind} fault cannot apply to it")
            object.__setattr__(self, "operation", operation)
        if self.model is not None:
            try:
                object.__setattr__(self, "model", lookup(self.model).model_id)
            except MistralBedrockError:
                raise ValueError(f"model must be a model the catalog knows, got {_text(self.model)}") from None

    @classmethod
    def from_json(cls, data: object) -> FaultRule:
        """A rule from its JSON form (the control endpoint's, and :meth:`to_json`'s).

        Raises:
            ValueError: naming the field that is wrong, or the unknown fields.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a fault rule must be a JSON object, got {_text(data)}")
        if data.get("kind") is None:  # a null kind is as absent as any other null field
            raise ValueError("kind is required")
        kind = data["kind"]
        allowed = _COMMON_FIELDS | _KIND_FIELDS.get(kind, frozenset()) if isinstance(kind, str) else _COMMON_FIELDS
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(name) for name in data if name not in known)
        if unknown:
            raise ValueError(f"unknown field {', '.join(unknown)}; a fault rule has {', '.join(sorted(known))}")
        if kind in KINDS:
            unused = sorted(str(name) for name, value in data.items() if name not in allowed and value is not None)
            if unused:
                raise ValueError(f"{unused[0]} does not apply to {kind} faults")
        # Explicit nulls mean "not set", as if the field were absent.
        return cls(**{str(k): v for k, v in data.items() if v is not None})

    def to_json(self) -> dict[str, Any]:
        """The rule's JSON form: its kind's fields and the common ones that are set."""
        allowed = _COMMON_FIELDS | _KIND_FIELDS[self.kind]
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name in allowed and getattr(self, f.name) is not None
        }

    def matches(self, model_id: str, operation: str) -> bool:
        """Whether the rule applies to a request for ``model_id`` through ``operation`` (its name)."""
        if self.kind in ("stream-error", "drop") and operation not in _STREAMING:
            return False
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
    drop_after_frames: int | None = None

    def raise_error(self) -> None:
        """Fail the request with the error fault, if one holds: before any work, as Bedrock's front end would."""
        rule = self.error
        if rule is not None:
            assert rule.code is not None
            raise BedrockError(rule.message or ERROR_CODES[rule.code].message, error_code=rule.code)

    def before_frame(self, sent: int) -> BedrockError | None:
        """What breaks a stream before its next frame, once ``sent`` frames went out.

        Returns:
            The in-stream exception to end the stream with, or None to send the frame.

        Raises:
            DropConnection: The connection is to be cut here.
        """
        if self.drop_after_frames is not None and sent >= self.drop_after_frames:
            raise DropConnection
        rule = self.stream_error
        if rule is None or sent < rule.after_frames:
            return None
        code = rule.code or "ModelStreamErrorException"
        return BedrockError(rule.message or ERROR_CODES[code].message, error_code=code)

    def applied(
        self, *, events: int | None = None, exception: str | None = None, dropped: bool = False
    ) -> list[dict[str, Any]]:
        """The faults that took effect, for the journal.

        Args:
            events: For a stream, how many events went out before it ended; None for a whole response.
            exception: The AWS code of the in-stream exception the stream ended with, if any.
            dropped: Whether the connection was cut.
        """
        out: list[dict[str, Any]] = []
        if self.error is not None:
            out.append({"kind": "error", "code": self.error.code})
        if self.first_byte_ms or self.per_token_ms:
            out.append({"kind": "latency", "first_byte_ms": self.first_byte_ms, "per_token_ms": self.per_token_ms})
        rule = self.stream_error
        # A stream-error takes effect when the stream broke exactly where it says; a shorter stream ends first.
        if rule is not None and exception is not None and events == rule.after_frames:
            out.append({"kind": "stream-error", "after_frames": rule.after_frames, "code": exception})
        if self.drop_after_frames is not None and dropped:
            out.append({"kind": "drop", "after_frames": self.drop_after_frames})
        return out


NO_FAULTS = Faults()


class FaultController:
    """Draws the faults of each request from the rules in a store.

    The rules are read from the store again only when its rules version moves, so a request that no rule matches
    costs one version read. Counts are kept by the store, atomically: with ``serve --workers N`` a ``count=3``
    fires on exactly 3 requests whichever worker answers them. ``rate`` is drawn in each process from
    ``seed``; with several workers which requests it picks depends on how they are spread.

    Args:
        store: Where the rules and their counts live.
        seed: Seed of the generator for ``rate``.
    """

    def __init__(self, store: Store, *, seed: int = 0) -> None:
        self.store = store
        self.seed = seed
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._version = -1
        self._rules: list[tuple[int, FaultRule]] = []
        self._spent: set[int] = set()  # count rules used up: they stay so until the rules change

    def add(self, rule: FaultRule) -> None:
        self.add_all([rule])

    def add_all(self, rules: Iterable[FaultRule]) -> None:
        """Add rules, all or none."""
        self.store.add_rules([rule.to_json() for rule in rules])

    def reset(self) -> None:
        """Remove every rule and restart the generator for ``rate``."""
        self.store.clear_rules()
        with self._lock:
            self._random = random.Random(self.seed)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every rule with ``id``, how often it fired, what is left of its count, and whether it can still fire."""
        listed: list[dict[str, Any]] = []
        for stored in self.store.rules():
            count = stored.spec.get("count")
            remaining = None if count is None else max(count - stored.fired, 0)
            listed.append(
                {
                    "id": stored.id,
                    **stored.spec,
                    "fired": stored.fired,
                    "remaining": remaining,
                    "active": remaining != 0,
                }
            )
        return listed

    def _current(self) -> list[tuple[int, FaultRule]]:
        version = self.store.rules_version()
        if version != self._version:
            rules = [(stored.id, FaultRule.from_json(stored.spec)) for stored in self.store.rules()]
            with self._lock:
                self._rules, self._version, self._spent = rules, version, set()
        return self._rules

    def _fires(self, rule_id: int, rule: FaultRule) -> bool:
        if rule_id in self._spent:
            return False
        if rule.rate is not None:
            with self._lock:
                if self._random.random() >= rule.rate:
                    return False
        if self.store.fire(rule_id, rule.count):
            return True
        self._spent.add(rule_id)  # only a count stops a rule from firing in the store
        return False

    def decide(self, model_id: str, operation: str) -> Faults:
        """Draw the faults for one request to ``model_id`` through ``operation`` (its name)."""
        rules = self._current()
        if not rules:
            return NO_FAULTS
        matching = [(rule_id, rule) for rule_id, rule in rules if rule.matches(model_id, operation)]
        for rule_id, rule in matching:
            if rule.kind == "error" and self._fires(rule_id, rule):
                return Faults(error=rule)
        first_byte = per_token = 0
        stream_error: FaultRule | None = None
        drop: int | None = None
        for rule_id, rule in matching:
            if rule.kind == "latency":
                if self._fires(rule_id, rule):
                    first_byte += rule.first_byte_ms
                    per_token += rule.per_token_ms
            elif rule.kind != "error" and stream_error is None and drop is None and self._fires(rule_id, rule):
                if rule.kind == "drop":
                    drop = rule.after_frames
                else:
                    stream_error = rule
        return Faults(None, first_byte, per_token, stream_error, drop)
