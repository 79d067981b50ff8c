"""The object the ``bedrock`` fixture gives a test: the session's runtime, set up for this test alone.

At the start of each test the fault rules and the journal are cleared and the test's engine installed, so nothing
leaks from one test into the next; at its end, what the test left unmet is checked (:mod:`.leftovers`). Clients made
here point at the runtime with dummy credentials and the test's Region, and read nothing of the developer's AWS
configuration (config files, profile, proxy): a test must pass the same on every machine. The synchronous ones are
closed with the test.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .environment import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from .leftovers import Section, leftovers

if TYPE_CHECKING:
    from mistral_bedrock.client import AsyncMistralBedrock, MistralBedrock
    from mistral_bedrock.engines import Engine
    from mistral_bedrock.engines.cassette import ReplayEngine
    from mistral_bedrock.engines.relay import Relay
    from mistral_bedrock.engines.scripted import ScriptedEngine
    from mistral_bedrock.runtime import FaultController, FaultRule
    from mistral_bedrock.runtime.journal import JournalEntry

    from .session import SessionRuntime
    from .settings import BedrockSettings, Options
    from .upstream import Upstream

__all__ = ["BedrockFixture", "FaultRules"]


class FaultRules:
    """The runtime's fault rules (see docs/RUNTIME.md, "Faults"), cleared before each test."""

    def __init__(self, controller: FaultController) -> None:
        self._controller = controller

    def add(self, rule: str | Mapping[str, Any] | FaultRule) -> None:
        """Add a rule: a ``--fault`` spec (``"throttle:count=1"``), its JSON form, or a ``FaultRule``.

        Raises:
            ValueError: An invalid rule, naming what is wrong.
        """
        from mistral_bedrock.runtime import FaultRule, parse_fault_spec

        if isinstance(rule, str):
            rule = parse_fault_spec(rule)
        elif not isinstance(rule, FaultRule):
            rule = FaultRule.from_json(rule)
        self._controller.add(rule)

    def clear(self) -> None:
        """Remove every rule."""
        self._controller.reset()

    @property
    def rules(self) -> list[dict[str, Any]]:
        """Every rule with how often it fired and what is left of its count (the control endpoint's listing)."""
        return self._controller.snapshot()


class BedrockFixture:
    """The ``bedrock`` fixture: a local Bedrock runtime for one test.

    Args:
        runtime: The session's runtime.
        engine: The engine the test starts with (a ``ReplayEngine`` with ``cassette``).
        chose: Whether the test named that engine itself (its scripted rules are then checked at teardown).
        region: The Region the test's clients sign for.
        cassette: The cassette's directory, when ``engine`` replays one (closed and checked at teardown).
    """

    def __init__(
        self, runtime: SessionRuntime, engine: Any, *, chose: bool, region: str, cassette: Path | None = None
    ) -> None:
        self._runtime = runtime
        self._region = region
        self._scripted: list[ScriptedEngine] = []
        self._cassettes: list[tuple[Path, ReplayEngine]] = []
        self._closers: list[Callable[[], object]] = []
        self.faults = FaultRules(runtime.state.faults)
        runtime.clear()
        if cassette is not None:
            self._cassettes.append((cassette, engine))
        self._install(engine, chose=chose)

    @classmethod
    def for_test(
        cls,
        item: pytest.Item,
        runtime: SessionRuntime,
        options: Options,
        settings: BedrockSettings,
        upstream: Upstream | None,
    ) -> BedrockFixture:
        """The fixture of ``item``, whose merged settings are ``settings``: its engine or cassette installed, its
        fault rules added.

        Raises:
            ValueError: A bad engine spec or fault rule, an unreadable cassette (naming it).
            pytest.UsageError: A record mode the session's start read no credentials for, a bad cassette option.
        """
        region = settings.region
        if settings.cassette is not None:
            from .cassettes import cassette_directory, replay_engine

            directory = cassette_directory(settings.cassette, item, options.cassette_dir, item.config.rootpath)
            engine = replay_engine(directory, settings.record, region, upstream, settings.cassette_options)
            fixture = cls(runtime, engine, chose=True, region=region, cassette=directory)
        elif settings.engine is None:
            fixture = cls(runtime, runtime.engine(options.engine), chose=False, region=region)
        elif isinstance(settings.engine, str):
            fixture = cls(runtime, runtime.engine(settings.engine), chose=True, region=region)
        else:
            fixture = cls(runtime, settings.engine, chose=True, region=region)
        for rule in settings.faults:
            fixture.faults.add(rule)
        return fixture

    @property
    def url(self) -> str:
        """The runtime's endpoint URL, e.g. ``http://127.0.0.1:51234``."""
        return self._runtime.url

    @property
    def region(self) -> str:
        """The Region the test's clients sign for, and ``bedrock_env`` sets (``--bedrock-region``, the marker's
        ``region``)."""
        return self._region

    @property
    def engine(self) -> Engine | Relay:
        """The engine answering now."""
        return self._runtime.state.engine

    @property
    def requests(self) -> list[JournalEntry]:
        """The requests the runtime received during this test (since its last :meth:`reset`), oldest first:
        ``operation``, ``model``, ``model_id``, ``status``, ``error_code``, ``faults`` and ``body`` (parsed JSON) of
        each. A request is listed once answered (a stream: once it ended)."""
        return self._runtime.requests()

    def client(self, **kwargs: Any) -> Any:
        """A boto3 ``bedrock-runtime`` client of the runtime, signing for :attr:`region`, that reads none of the
        developer's AWS configuration (files, profile, proxy); ``kwargs`` go to ``boto3.client`` (e.g. ``config``).
        Without boto3 the test fails, saying what to install."""
        try:
            import boto3  # noqa: F401  (before the session, which is cached: a test may take boto3 away)
            from botocore.config import Config
        except ImportError:
            pytest.fail("bedrock.client() needs boto3: pip install boto3", pytrace=False)
        config = Config(proxies={})  # not the shell's HTTP_PROXY, which would take the loopback address for its own
        if kwargs.get("config") is not None:
            config = config.merge(kwargs["config"])
        params: dict[str, Any] = {
            "endpoint_url": self.url,
            "region_name": self._region,
            "aws_access_key_id": ACCESS_KEY_ID,
            "aws_secret_access_key": SECRET_ACCESS_KEY,
            **kwargs,
            "config": config,
        }
        client = _offline_session().client("bedrock-runtime", **params)
        self._closers.append(client.close)
        return client

    def mistral_client(self, **kwargs: Any) -> MistralBedrock:
        """The project's own client of the runtime; ``kwargs`` go to :class:`~mistral_bedrock.MistralBedrock`."""
        from mistral_bedrock.client import MistralBedrock

        client = MistralBedrock(**self._client_settings(kwargs))
        self._closers.append(client.close)
        return client

    def async_client(self, **kwargs: Any) -> AsyncMistralBedrock:
        """The project's async client of the runtime; close it yourself (``async with``), on your event loop."""
        from mistral_bedrock.client import AsyncMistralBedrock

        return AsyncMistralBedrock(**self._client_settings(kwargs))

    def _client_settings(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {
            "endpoint_url": self.url,
            "region": self._region,
            "aws_access_key_id": ACCESS_KEY_ID,
            "aws_secret_access_key": SECRET_ACCESS_KEY,
            **kwargs,
        }

    def script(self, rules: Mapping[str, Any] | list[Any] | str | os.PathLike[str]) -> ScriptedEngine:
        """Answer with a scripted engine for the rest of the test (rules as in docs/ENGINES.md): a mapping with
        ``rules`` and ``default``, a list of rules, or the path of a YAML or JSON rules file. Its rules are
        checked at teardown like a marker's.

        Raises:
            ValueError: Invalid rules, naming the rule and the problem.
        """
        from mistral_bedrock.engines.scripted import ScriptedEngine

        engine = (
            ScriptedEngine.from_file(os.fspath(rules))
            if isinstance(rules, str | os.PathLike)
            else ScriptedEngine(rules)
        )
        self._install(engine, chose=True)
        return engine

    def reset(self) -> None:
        """Clear the fault rules and the journal, and start a scripted engine's sequences over (and its count of
        used rules, which the teardown check reads)."""
        self._runtime.clear()
        self._runtime.install(self.engine)

    def _install(self, engine: Engine | Relay, *, chose: bool) -> None:
        from mistral_bedrock.engines.scripted import ScriptedEngine

        if chose and isinstance(engine, ScriptedEngine):
            self._scripted.append(engine)
        self._runtime.install(engine)

    def finish(self, *, unused: bool) -> list[Section]:
        """End the test: close its clients and cassettes (writing what they recorded), and say what it left unmet
        (:func:`.leftovers`).

        Args:
            unused: Whether unused scripted rules and cassette interactions count.
        """
        from mistral_bedrock.engines import close_engine

        for close in self._closers:
            close()
        self._runtime.install(self._runtime.engine("builtin"))
        for _, engine in self._cassettes:
            close_engine(engine)
        return leftovers(self._scripted, self._cassettes, unused=unused)


@functools.cache
def _offline_session() -> Any:
    """A boto3 session that reads no AWS config or credentials file and no profile (``AWS_PROFILE=nope`` would
    fail every client, a ``max_attempts`` in ``~/.aws/config`` change what a test sees). One per process: a boto3
    session adds its handlers to its botocore session each time it is made."""
    import boto3
    import botocore.session
    from botocore.configprovider import ConstantProvider

    core = botocore.session.Session()
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    core.get_component("config_store").set_config_provider("profile", ConstantProvider(None))
    return boto3.Session(botocore_session=core)
