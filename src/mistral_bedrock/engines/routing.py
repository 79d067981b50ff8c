"""Which engine answers which Bedrock model: ``--model ID=SOURCE`` routes, over the ``--engine`` for the rest.

``serve --model mistral.mistral-7b-instruct-v0:2=llamacpp:mistral-7b.Q4_K_M.gguf --model
mistral.mistral-large-2407-v1:0=upstream:http://gpu-box:8000`` serves two real models under their Bedrock ids and
answers every other model with the ``--engine`` (the built-in one by default). A routed model is loaded, and its
vocabulary checked against the catalog's tokenizer for that id, when the runtime starts, so a wrong file is one
clear error at start rather than nonsense answers later.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from ..catalog import resolve
from ..errors import MistralBedrockError
from ..formats import ParsedRequest
from .engine import Engine, EngineEvent
from .relay import Relay

__all__ = ["RoutedEngine", "close_engine", "parse_model_route"]


def parse_model_route(route: str) -> tuple[str, str]:
    """``ID=SOURCE`` → (the Bedrock model id, the engine spec).

    Raises:
        ValueError: Not ``ID=SOURCE``, or an id Bedrock does not know (the catalog's ids and ARNs, not aliases:
            the route names what clients send).
    """
    model, sep, source = route.partition("=")
    if not sep or not model.strip() or not source.strip():
        raise ValueError(
            f"--model {route!r}: expected ID=SOURCE, e.g. mistral.mistral-7b-instruct-v0:2=llamacpp:m.gguf"
        )
    try:
        model_id = resolve(model.strip()).model_id
    except MistralBedrockError:
        raise ValueError(f"--model {route!r}: {model.strip()!r} is not a Bedrock model id of the catalog") from None
    return model_id, source.strip()


def close_engine(engine: Engine | Relay) -> None:
    """Free an engine's resources, if it holds any (a loaded model); engines without ``close`` hold none."""
    close = getattr(engine, "close", None)
    if callable(close):
        close()


class RoutedEngine:
    """Answers each request with the engine routed for its model, or with ``fallback``."""

    def __init__(self, routes: Mapping[str, Engine], fallback: Engine) -> None:
        self.routes = dict(routes)
        self.fallback = fallback
        names = [f"{model}={engine.name}" for model, engine in sorted(self.routes.items())]
        self.name = " ".join([*names, fallback.name])

    def generate(self, request: ParsedRequest) -> AsyncIterator[EngineEvent]:
        return self.routes.get(request.spec.model_id, self.fallback).generate(request)

    def close(self) -> None:
        engines: Sequence[Engine] = [*self.routes.values(), self.fallback]
        for engine in engines:
            close_engine(engine)
