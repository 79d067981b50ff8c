"""Engines answer parsed requests with text deltas, tool calls and a stop; the runtime serializes them.

* :class:`BuiltinEngine` (``builtin``) — deterministic answers computed from the request.
* :class:`ScriptedEngine` (``scripted:RULES``) — answers, tool calls, errors and latency from a rules file.
* Third-party engines register in the ``mistral_bedrock.engines`` entry-point group.

:func:`create_engine` builds any of them from ``NAME`` or ``NAME:ARG``. See ``docs/ENGINES.md``.
"""

from .builtin import LEAD_IN, BuiltinEngine, builtin_answer
from .counting import input_tokens
from .engine import Engine, EngineEvent, Stop, TextDelta, ToolCallEvent
from .registry import ENGINES, ENTRY_POINT_GROUP, EngineFactory, available_engines, create_engine
from .rules import RuleSet, load_rules, parse_rules
from .scripted import ScriptedEngine
from .shaping import Answer, ShapedAnswer, shape, stream_events

__all__ = [
    "ENGINES",
    "ENTRY_POINT_GROUP",
    "LEAD_IN",
    "Answer",
    "BuiltinEngine",
    "Engine",
    "EngineEvent",
    "EngineFactory",
    "RuleSet",
    "ScriptedEngine",
    "ShapedAnswer",
    "Stop",
    "TextDelta",
    "ToolCallEvent",
    "available_engines",
    "builtin_answer",
    "create_engine",
    "input_tokens",
    "load_rules",
    "parse_rules",
    "shape",
    "stream_events",
]
