"""Engines by name: the built-in ones, plus third-party engines found through entry points.

A third-party package registers an engine in the ``mistral_bedrock.engines`` entry-point group; the entry point
names a factory (a class or a function). :func:`create_engine` calls it with the spec's argument — ``NAME:ARG``
→ ``factory("ARG")``, plain ``NAME`` → ``factory()`` — and checks that the result is an
:class:`~mistral_bedrock.engines.Engine`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any

from ..catalog import lookup
from .builtin import BuiltinEngine
from .engine import Engine
from .relay import Relay
from .routing import RoutedEngine, close_engine, parse_model_route
from .scripted import ScriptedEngine

__all__ = [
    "ENGINES",
    "ENTRY_POINT_GROUP",
    "MODEL_ENGINES",
    "EngineFactory",
    "available_engines",
    "build_engine",
    "create_engine",
]

#: The entry-point group third-party engines register in.
ENTRY_POINT_GROUP = "mistral_bedrock.engines"

#: Builds an engine from the argument after ``NAME:`` (None when the spec has none).
EngineFactory = Callable[[str | None], Engine | Relay]


def _builtin(argument: str | None) -> Engine:
    if argument is not None:
        raise ValueError(f"The builtin engine takes no argument (got 'builtin:{argument}').")
    return BuiltinEngine()


def _scripted(argument: str | None) -> Engine:
    if not argument:
        raise ValueError("The scripted engine needs a rules file: 'scripted:PATH' (.yaml, .yml or .json).")
    return ScriptedEngine.from_file(argument)


def _source(name: str, argument: str | None, form: str) -> str:
    if not argument:
        raise ValueError(f"The {name} engine needs its model: '{name}:{form}'.")
    return argument


# Real models: each backend's module (and its heavy imports) loads only when its engine is named.
def _llamacpp(argument: str | None) -> Engine:
    from .local import LocalEngine
    from .local.llamacpp import LlamaCppBackend

    return LocalEngine(LlamaCppBackend(_source("llamacpp", argument, "PATH.gguf")))


def _transformers(argument: str | None) -> Engine:
    from .local import LocalEngine
    from .local.huggingface import TransformersBackend

    return LocalEngine(TransformersBackend(_source("transformers", argument, "CHECKPOINT_DIR")))


def _upstream(argument: str | None) -> Engine:
    from .local import LocalEngine
    from .local.upstream import upstream_backend

    return LocalEngine(upstream_backend(_source("upstream", argument, "URL[#vllm|#llama-server|#ollama=MODEL]")))


def _replay(argument: str | None) -> Relay:
    from .cassette import ReplayEngine, ReplaySettings

    return ReplayEngine(ReplaySettings.parse(_source("replay", argument, "DIR[?mode=once&timing=recorded…]")))


#: The engines that load a model (and take a while to): the CLI shows their loading.
MODEL_ENGINES = frozenset({"llamacpp", "transformers", "upstream"})

#: The engines that ship with mistral-bedrock.
ENGINES: dict[str, EngineFactory] = {
    "builtin": _builtin,
    "scripted": _scripted,
    "llamacpp": _llamacpp,
    "transformers": _transformers,
    "upstream": _upstream,
    "replay": _replay,
}


def _from_entry_point(name: str, factory: Callable[..., Any]) -> EngineFactory:
    def build(argument: str | None) -> Engine | Relay:
        engine = factory() if argument is None else factory(argument)
        if not isinstance(engine, (Engine, Relay)):
            raise TypeError(f"Entry point {name!r} in {ENTRY_POINT_GROUP!r} did not return an engine: {engine!r}")
        return engine

    return build


def _discovered() -> dict[str, Any]:
    return {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}


def available_engines() -> list[str]:
    """Every engine name :func:`create_engine` accepts, sorted: built-in and installed third-party ones."""
    return sorted({*ENGINES, *_discovered()})


def create_engine(spec: str) -> Engine | Relay:
    """Build an engine from ``NAME`` or ``NAME:ARG`` (``builtin``, ``scripted:rules.yaml``, ``llamacpp:m.gguf``,
    ``transformers:DIR``, ``upstream:http://host:8000#vllm``, ``replay:cassettes/``).

    Built-in names win over third-party entry points of the same name. Entry points are loaded only when named.

    Raises:
        ValueError: For an unknown name (listing the available ones), or an argument the engine rejects.
    """
    name, sep, argument = spec.partition(":")
    arg = argument if sep else None
    factory = ENGINES.get(name)
    if factory is None:
        point = _discovered().get(name)
        if point is None:
            raise ValueError(f"Unknown engine {name!r}; available engines: {', '.join(available_engines())}")
        factory = _from_entry_point(name, point.load())
    return factory(arg)


def build_engine(spec: str, models: Sequence[str] = ()) -> Engine | Relay:
    """The runtime's engine: ``spec`` for every model, except those ``models`` routes (``ID=SOURCE`` each).

    A routed model is loaded now and its vocabulary checked against the catalog's tokenizer for its id.

    Raises:
        ValueError: A bad spec or route, a model that does not load, or a vocabulary that is not the id's.
    """
    fallback = create_engine(spec)
    if not models:
        return fallback
    if isinstance(fallback, Relay):
        close_engine(fallback)
        raise ValueError(f"--model cannot be combined with the {fallback.name} engine, which answers every model")
    routes: dict[str, Engine] = {}
    try:
        for route in models:
            model_id, source = parse_model_route(route)
            if model_id in routes:
                raise ValueError(f"--model {route!r}: {model_id} is routed twice")
            engine = create_engine(source)
            if isinstance(engine, Relay):
                close_engine(engine)
                raise ValueError(f"--model {route!r}: the {engine.name} engine answers every model; use --engine")
            routes[model_id] = engine
            check = getattr(engine, "check", None)
            if callable(check):
                check(lookup(model_id))
    except BaseException:
        for engine in (*routes.values(), fallback):
            close_engine(engine)
        raise
    return RoutedEngine(routes, fallback)
