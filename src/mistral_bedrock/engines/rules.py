"""The rules file of the scripted engine: pydantic models, loading from YAML or JSON, and matching.

A rules file is a mapping with ``rules`` (a list, first match wins) and an optional ``default`` reply, or just the
list. Every rule has match conditions — all given ones must hold — and either a ``reply`` or a ``sequence`` of
replies. Unknown keys are errors, so a typo cannot silently disable a condition. See ``docs/ENGINES.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..catalog import Dialect, lookup
from ..conversation import WrittenStopReason
from ..errors import BedrockError, error_from_code
from ..formats import ParsedRequest
from ..protocol.error_codes import ERROR_CODES
from .view import last_user_text, user_turns

__all__ = ["ErrorSpec", "Reply", "Rule", "RuleSet", "ToolCallSpec", "load_rules", "parse_rules"]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class ErrorSpec(BaseModel):
    """A Bedrock error to raise instead of answering.

    Attributes:
        code: The AWS error code, e.g. ``ThrottlingException`` (one of the protocol table's codes).
        message: The message; Bedrock's usual message for the code when left out.
        after_deltas: Raise after this many text deltas, as an in-stream error; left out: before any event.
    """

    model_config = _STRICT

    code: str
    message: str | None = None
    after_deltas: int | None = Field(default=None, ge=0)

    @field_validator("code")
    @classmethod
    def _known_code(cls, code: str) -> str:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown AWS error code {code!r}; known codes: {', '.join(sorted(ERROR_CODES))}")
        return code

    def exception(self) -> BedrockError:
        """The typed exception to raise."""
        return error_from_code(self.code, self.message if self.message is not None else ERROR_CODES[self.code].message)


class ToolCallSpec(BaseModel):
    """A scripted tool call; its id is left to the format, and its arguments are sent as given."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)


class Reply(BaseModel):
    """One scripted answer.

    With neither ``text`` nor ``tool_calls`` the built-in engine's answer is used, so a reply can just add
    latency, an error or a stop reason to it.

    Attributes:
        text: The answer text (still cut by ``max_tokens`` and stop sequences, and counted by the tokenizer).
        tool_calls: Tool calls, sent after the text.
        stop_reason: Replaces the stop reason the engine would give.
        error: Raise this error (before the first event, or after ``after_deltas`` text deltas).
        latency_ms: Wait before the first event.
        token_latency_ms: Wait between two text deltas.
    """

    model_config = _STRICT

    text: str | None = None
    tool_calls: list[ToolCallSpec] | None = None
    stop_reason: WrittenStopReason | None = None  # "unknown" is only ever read, never written
    error: ErrorSpec | None = None
    latency_ms: float = Field(default=0.0, ge=0)
    token_latency_ms: float = Field(default=0.0, ge=0)


class Rule(BaseModel):
    """Match conditions (all given ones must hold) and what to answer.

    Attributes:
        name: A label, for error messages and readers.
        model: A model id or alias; matches requests for the same catalog model.
        contains: A substring of the last user turn (case-insensitive).
        regex: A regular expression searched for in the last user turn (``re.search``).
        turn: The number of user turns (1 for the first question).
        dialect: ``text``, ``chat``, ``chat-openai`` or ``converse``.
        reply: The answer.
        sequence: Answers for successive matches of this rule; the last one repeats.
    """

    model_config = _STRICT

    name: str | None = None
    model: str | None = None
    contains: str | None = None
    regex: str | None = None
    turn: int | None = Field(default=None, ge=1)
    dialect: Dialect | None = None
    reply: Reply | None = None
    sequence: list[Reply] | None = Field(default=None, min_length=1)

    @field_validator("model")
    @classmethod
    def _resolve_model(cls, model: str | None) -> str | None:
        if model is None:
            return None
        try:
            return lookup(model).model_id
        except BedrockError:
            raise ValueError(f"unknown model {model!r}") from None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, regex: str | None) -> str | None:
        if regex is not None:
            try:
                re.compile(regex)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {regex!r}: {exc}") from None
        return regex

    @model_validator(mode="after")
    def _one_answer(self) -> Rule:
        if (self.reply is None) == (self.sequence is None):
            raise ValueError("a rule needs exactly one of 'reply' and 'sequence'")
        return self

    def matches(self, request: ParsedRequest) -> bool:
        """Whether every condition of the rule holds for ``request``."""
        text = last_user_text(request)
        return (
            (self.model is None or self.model == request.spec.model_id)
            and (self.contains is None or self.contains.lower() in text.lower())
            and (self.regex is None or re.search(self.regex, text) is not None)
            and (self.turn is None or self.turn == user_turns(request))
            and (self.dialect is None or self.dialect is request.dialect)
        )

    @property
    def replies(self) -> Sequence[Reply]:
        """The rule's replies, in order (one for a plain ``reply``)."""
        if self.sequence is not None:
            return self.sequence
        return [self.reply] if self.reply is not None else []


class RuleSet(BaseModel):
    """A whole rules file.

    Attributes:
        rules: Tried in order; the first that matches answers.
        default: The answer when no rule matches; without it the built-in engine answers.
    """

    model_config = _STRICT

    rules: list[Rule] = Field(default_factory=list)
    default: Reply | None = None


def _where(loc: Sequence[int | str], data: object) -> str:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        index = loc[1]
        label = f"rule {index}"
        rules = data.get("rules") if isinstance(data, Mapping) else None
        if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], Mapping):
            name = rules[index].get("name")
            label += f" ({name!r})" if isinstance(name, str) else ""
        rest = ".".join(str(part) for part in loc[2:])
        return f"{label}, {rest}" if rest else label
    return ".".join(str(part) for part in loc) or "top level"


def _problem(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def parse_rules(data: object, source: str = "<rules>") -> RuleSet:
    """Validate rules already read into Python values (a mapping, or a bare list of rules).

    Args:
        data: The rules.
        source: Where they came from, for error messages.

    Raises:
        ValueError: Naming ``source``, the rule (0-based index) and the problem, for every problem found.
    """
    if data is None:  # an empty file
        data = {}
    if isinstance(data, list):
        data = {"rules": data}
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(err['loc'], data)}: {_problem(err)}" for err in exc.errors())
        raise ValueError(f"Invalid rules file {source}: {problems}") from None


def _read(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"Cannot read rules file {path}: {exc}") from exc
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"Invalid rules file {path}: not valid JSON: {exc}") from None
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:  # pragma: no cover - pyyaml ships with the runtime extra
            raise ValueError(f"Reading {path} needs PyYAML: pip install 'mistral-bedrock[runtime]'") from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"Invalid rules file {path}: not valid YAML: {exc}") from None
    raise ValueError(f"Rules file {path} must end in .yaml, .yml or .json")


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rules file; YAML or JSON by its extension.

    Raises:
        ValueError: If the file cannot be read or parsed, or its rules are invalid (naming file, rule, problem).
    """
    path = Path(path)
    return parse_rules(_read(path), str(path))
