"""The session's runtime: one in-process :class:`~mistral_bedrock.runtime.ServerThread` that every test shares, and
the engines tests ask for, each built once per session.

One server per session (per xdist worker) keeps a test's set-up to clearing state and swapping the engine: starting a
server, and above all loading a real model, costs far more than a test. Engines are cached by their spec; a scripted
engine's sequences start over for each test. The server is shared, its journal is not: each test (and each
``reset()``) starts a generation of :class:`~.generations.Generations`, and sees only the requests that arrived in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .generations import Generations

if TYPE_CHECKING:
    from mistral_bedrock.engines import Engine
    from mistral_bedrock.engines.relay import Relay
    from mistral_bedrock.runtime import RuntimeState, ServerThread
    from mistral_bedrock.runtime.journal import JournalEntry

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
        self._app = create_app(RuntimeConfig(), engine=self.engine("builtin"))
        self._generations = Generations(self._app)
        self.server: ServerThread = ServerThread(self._generations)
        self.server.start()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def state(self) -> RuntimeState:
        return self._app.state

    def requests(self) -> list[JournalEntry]:
        """The journal's entries of the requests that arrived since the last :meth:`clear`, oldest first."""
        return self._generations.received(self.state.journal.entries())

    def engine(self, spec: str) -> Engine | Relay:
        """The engine for ``spec``, built on first use.

        Raises:
            ValueError: A bad spec, or an engine that does not load (naming the spec).
        """
        engine = self._engines.get(spec)
        if engine is None:
            from mistral_bedrock.engines import create_engine
            from mistral_bedrock.engines.cassette import ReplaySettings

            name, _, argument = spec.partition(":")
            if name == "replay" and ReplaySettings.parse(argument).mode.records:
                # Recording reads real credentials: only the plugin's own cassettes may, under --bedrock-record.
                raise ValueError(
                    f"engine {spec!r} records: use cassette= with --bedrock-record (or record=) to record in tests"
                )
            engine = self._engines[spec] = create_engine(spec)
        return engine

    def install(self, engine: Engine | Relay) -> None:
        """Answer with ``engine`` from now on; a scripted one starts its sequences over."""
        from mistral_bedrock.engines.scripted import ScriptedEngine

        if isinstance(engine, ScriptedEngine):
            engine.reset()
        self.state.engine = engine

    def clear(self) -> None:
        """No fault rules, an empty journal, and a new generation: what arrived before is another test's."""
        self._generations.begin()
        self.state.faults.reset()
        self.state.journal.clear()

    def stop(self) -> None:
        """Stop the server and close every engine it built (a loaded model)."""
        from mistral_bedrock.engines import close_engine

        self.server.stop()
        for engine in self._engines.values():
            close_engine(engine)
