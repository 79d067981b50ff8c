"""The session's runtime: one in-process :class:`~mistral_bedrock.runtime.ServerThread` that every test shares, and
the engines tests ask for, each built once per session.

One server per session (per xdist worker) keeps a test's set-up to clearing state and swapping the engine: starting a
server, and above all loading a real model, costs far more than a test. Engines are cached by their spec; a scripted
engine's sequences start over for each test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mistral_bedrock.engines import Engine
    from mistral_bedrock.engines.relay import Relay
    from mistral_bedrock.runtime import RuntimeState, ServerThread

__all__ = ["RUNTIME_EXTRA", "MissingDependency", "SessionRuntime"]

RUNTIME_EXTRA = "pip install 'mistral-bedrock[runtime]'"


class MissingDependency(RuntimeError):
    """An optional package the fixture needs is not installed; the message says what to install."""


class SessionRuntime:
    """The shared runtime (answering with the built-in engine until a test installs its own), and the session's
    engine cache.

    Raises:
        MissingDependency: Without the ``runtime`` extra (starlette, uvicorn).
    """

    def __init__(self) -> None:
        try:
            from mistral_bedrock.runtime import RuntimeConfig, ServerThread, create_app
        except ImportError as exc:
            raise MissingDependency(f"the bedrock fixture needs the runtime extra ({exc}): {RUNTIME_EXTRA}") from None
        self._engines: dict[str, Engine | Relay] = {}
        self.server: ServerThread = ServerThread(create_app(RuntimeConfig(), engine=self.engine("builtin")))
        self.server.start()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def state(self) -> RuntimeState:
        app: Any = self.server.app  # a RuntimeApp: made above
        state: RuntimeState = app.state
        return state

    def engine(self, spec: str) -> Engine | Relay:
        """The engine for ``spec``, built on first use.

        Raises:
            ValueError: A bad spec, or an engine that does not load (naming the spec).
        """
        engine = self._engines.get(spec)
        if engine is None:
            from mistral_bedrock.engines import create_engine

            engine = self._engines[spec] = create_engine(spec)
        return engine

    def install(self, engine: Engine | Relay) -> None:
        """Answer with ``engine`` from now on; a scripted one starts its sequences over."""
        from mistral_bedrock.engines.scripted import ScriptedEngine

        if isinstance(engine, ScriptedEngine):
            engine.reset()
        self.state.engine = engine

    def clear(self) -> None:
        """No fault rules, an empty journal."""
        self.state.faults.reset()
        self.state.journal.clear()

    def stop(self) -> None:
        """Stop the server and close every engine it built (a loaded model)."""
        from mistral_bedrock.engines import close_engine

        self.server.stop()
        for engine in self._engines.values():
            close_engine(engine)
