"""Engines answer parsed requests with text deltas, tool calls and a stop; the runtime serializes them.

* :class:`BuiltinEngine` (``builtin``) — deterministic answers computed from the request.
* :class:`ScriptedEngine` (``scripted:RULES``) — answers, tool calls, errors and latency from a rules file.
* Real models (``llamacpp:FILE.gguf``, ``transformers:DIR``, ``upstream:URL``) — :class:`~.local.LocalEngine` over a
  backend, in :mod:`.local`, each behind an extra.
* Third-party engines register in the ``mistral_bedrock.engines`` entry-point group.

:func:`create_engine` builds any of them from ``NAME`` or ``NAME:ARG``; :func:`build_engine` adds ``ID=SOURCE``
routes (:class:`~.routing.RoutedEngine`). See ``docs/ENGINES.md``.
"""

from .builtin import LEAD_IN, BuiltinEngine, builtin_answer
from .counting import input_tokens
from .engine import Engine, EngineEvent, Stop, TextDelta, ToolCallEvent
from .registry import ENGINES, ENTRY_POINT_GROUP, EngineFactory, available_engines, build_engine, create_engine
from .routing import RoutedEngine, close_engine
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
    "RoutedEngine",
    "RuleSet",
    "ScriptedEngine",
    "ShapedAnswer",
    "Stop",
    "TextDelta",
    "ToolCallEvent",
    "available_engines",
    "build_engine",
    "builtin_answer",
    "close_engine",
    "create_engine",
    "input_tokens",
    "load_rules",
    "parse_rules",
    "shape",
    "stream_events",
]
