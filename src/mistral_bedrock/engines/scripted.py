"""The scripted engine: answers, tool calls, errors and timing from a rules file.

The first rule whose conditions all hold answers; with none, the ``default`` reply; without one, the built-in
engine. A rule with a ``sequence`` answers its successive matches with successive replies, the last repeating;
that state belongs to the engine instance (:meth:`ScriptedEngine.reset` clears it). Scripted text goes through
the same cutting and counting as the built-in engine's (:mod:`~mistral_bedrock.engines.shaping`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from ..conversation import ToolCall
from ..formats import ParsedRequest
from .builtin import builtin_answer
from .counting import OFFLOAD_CHARS, request_chars
from .engine import EngineEvent
from .rules import Reply, Rule, RuleSet, load_rules, parse_rules
from .shaping import Answer, ShapedAnswer, shape, stream_events

__all__ = ["ScriptedEngine"]

# A rule's match conditions, in the order docs/ENGINES.md lists them.
_CONDITIONS = ("model", "contains", "regex", "turn", "dialect")


def _output(request: ParsedRequest, reply: Reply) -> ShapedAnswer:
    if reply.text is None and reply.tool_calls is None:
        answer = builtin_answer(request)
    else:
        calls = tuple(ToolCall("", call.name, call.arguments) for call in reply.tool_calls or ())
        answer = Answer(reply.text or "", calls)
    # Per-token pieces where someone sees them: a stream, a delay between deltas, an error after some of them.
    error_after_deltas = reply.error is not None and bool(reply.error.after_deltas)
    pieces = request.stream or reply.token_latency_ms > 0 or error_after_deltas
    return shape(request, answer, stop_reason=reply.stop_reason, pieces=pieces)


def _describe(index: int, rule: Rule) -> str:
    label = f"rule {index}" + (f" ({rule.name!r})" if rule.name is not None else "")
    values = {name: getattr(rule, name) for name in _CONDITIONS}
    conditions = ", ".join(
        f"{name}={value.value if isinstance(value, Enum) else value!r}"
        for name, value in values.items()
        if value is not None
    )
    return f"{label}: {conditions or 'no conditions'}"


class ScriptedEngine:
    """Answers chosen by rules; see ``docs/ENGINES.md`` for the file format.

    Args:
        rules: A validated :class:`~mistral_bedrock.engines.rules.RuleSet`, or the same as Python values (a
            mapping with ``rules`` and ``default``, or a list of rules). None: no rules (built-in answers).

    Raises:
        ValueError: If the rules are invalid.

    Attributes:
        name: ``scripted``.
        rules: The rules.
    """

    name = "scripted"

    def __init__(
        self, rules: RuleSet | Mapping[str, Any] | list[Any] | None = None, *, source: str = "<rules>"
    ) -> None:
        self.rules = rules if isinstance(rules, RuleSet) else parse_rules(rules, source)
        self._matches: dict[int, int] = {}  # rule index → how many requests it has answered

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedEngine:
        """An engine with the rules of a YAML (``.yaml``/``.yml``) or JSON (``.json``) file.

        Raises:
            ValueError: If the file cannot be read or is invalid, naming the file, the rule and the problem.
        """
        return cls(load_rules(path))

    def reset(self) -> None:
        """Start every ``sequence`` over."""
        self._matches.clear()

    def unused_rules(self) -> list[str]:
        """The rules that answered no request since the last :meth:`reset` (or since the engine was made), each
        described by its index, its name and its match conditions, e.g. ``rule 1 ('weather'): contains='weather',
        turn=1``: what a test that scripted them expected and never sent."""
        return [_describe(index, rule) for index, rule in enumerate(self.rules.rules) if index not in self._matches]

    def select(self, request: ParsedRequest) -> Reply | None:
        """The reply for ``request`` (advancing the matching rule's sequence), or None for the built-in answer."""
        for index, rule in enumerate(self.rules.rules):
            if rule.matches(request):
                seen = self._matches.get(index, 0)
                self._matches[index] = seen + 1
                replies = rule.replies
                return replies[min(seen, len(replies) - 1)]
        return self.rules.default

    async def generate(self, request: ParsedRequest) -> AsyncIterator[EngineEvent]:
        """Yield the scripted answer's events.

        Raises:
            BedrockError: A scripted error — before any event, or after ``after_deltas`` text deltas.
        """
        reply = self.select(request) or Reply()  # an empty reply is the built-in answer
        if reply.latency_ms:
            await asyncio.sleep(reply.latency_ms / 1000)
        error = reply.error.exception() if reply.error is not None else None
        if error is not None and reply.error is not None and reply.error.after_deltas is None:
            raise error
        if request_chars(request) > OFFLOAD_CHARS:  # off the event loop, as in the built-in engine
            output = await asyncio.to_thread(_output, request, reply)
        else:
            output = _output(request, reply)
        after = reply.error.after_deltas if reply.error is not None else None
        async for event in stream_events(
            output, token_delay=reply.token_latency_ms / 1000, error=error, error_after_deltas=after or 0
        ):
            yield event
