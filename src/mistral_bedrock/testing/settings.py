"""What one test asks of the ``bedrock`` fixture, merged into one frozen object.

Sources, weakest first: the built-in defaults; the command line, or its ini equivalent (:class:`Options`, read once
per session); the ``bedrock_config`` fixture; the ``bedrock`` markers, the farthest (module, class) first and the
test's own last — pytest-recording's order. The fixture, the cassette's naming and the teardown checks then all read
the same answer, and a key or value a source gets wrong fails the test with one line naming the source instead of
being ignored.

Standard library and pytest only: the plugin imports this module in every pytest run.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

__all__ = ["KEYS", "RECORD_MODES", "BedrockSettings", "Options", "SettingsError", "merge"]

#: The record modes of a cassette: ``none`` replays only (offline); the others send what the cassette lacks
#: (``once``: only when it does not exist yet; ``new_episodes``: any miss; ``all``: everything) to Amazon Bedrock.
RECORD_MODES = ("none", "once", "new_episodes", "all")

#: How a cassette is matched, timed and cleaned: the ``replay:DIR`` engine's options (docs/TESTING.md).
CASSETTE_KEYS = ("match_ignore", "timing", "secrets", "redact", "redactors")

#: The keys ``bedrock_config`` and the marker take.
KEYS = ("engine", "faults", "cassette", "record", "assert_all_used", *CASSETTE_KEYS)


class SettingsError(ValueError):
    """A source's key or value is wrong; the message names the source."""


def record_mode(value: object, source: str) -> str:
    """A record mode as its name; a ``RecordMode`` (a string enum) is taken by its value."""
    name = value.value if isinstance(value, enum.Enum) else value
    if name not in RECORD_MODES:
        raise SettingsError(f"{source}: record must be one of {', '.join(RECORD_MODES)}, got {value!r}")
    return str(name)


def _text(config: pytest.Config, name: str) -> str | None:
    """A text option: the command line's value, else the ini file's, else None."""
    value = config.getoption(name)
    if value is None:
        value = config.getini(name) or None
    return None if value is None else str(value)


@dataclass(frozen=True)
class Options:
    """The session-wide options, from the command line, else the ini file, else the defaults.

    Attributes:
        engine: The engine of tests that name none (``--bedrock-engine``, ini ``bedrock_engine``).
        record: The record mode of tests that name none (``--bedrock-record``, ini ``bedrock_record``).
        cassette_dir: Where cassettes named by a relative name live (``--bedrock-cassette-dir``, relative to the
            directory pytest was started in; ini ``bedrock_cassette_dir``, relative to the ini file); None: a
            ``cassettes`` folder beside each test file.
        upstream_url: Where record modes send requests (``--bedrock-upstream-url``); None: Amazon Bedrock.
        region: The Region record modes sign for and send to (``--bedrock-region``); None: the AWS chain's.
        assert_all_used: Whether unused scripted rules and cassette interactions fail a test (ini
            ``bedrock_assert_all_used``).
        autouse: Whether every test gets ``bedrock_env`` (ini ``bedrock_autouse``).
    """

    engine: str = "builtin"
    record: str = "none"
    cassette_dir: Path | None = None
    upstream_url: str | None = None
    region: str | None = None
    assert_all_used: bool = True
    autouse: bool = False

    @classmethod
    def from_config(cls, config: pytest.Config) -> Options:
        """The options of a pytest run.

        Raises:
            pytest.UsageError: An ini ``bedrock_record`` that is not a record mode.
        """
        try:
            record = record_mode(_text(config, "bedrock_record") or "none", "bedrock_record")
        except SettingsError as exc:
            raise pytest.UsageError(str(exc)) from None
        cassette_dir: Path | None = None
        if config.getoption("bedrock_cassette_dir") is not None:
            cassette_dir = config.invocation_params.dir / str(config.getoption("bedrock_cassette_dir"))
        elif config.getini("bedrock_cassette_dir"):
            base = config.inipath.parent if config.inipath is not None else config.rootpath
            cassette_dir = base / str(config.getini("bedrock_cassette_dir"))
        return cls(
            engine=_text(config, "bedrock_engine") or "builtin",
            record=record,
            cassette_dir=cassette_dir,
            upstream_url=_text(config, "bedrock_upstream_url"),
            region=_text(config, "bedrock_region"),
            assert_all_used=bool(config.getini("bedrock_assert_all_used")),
            autouse=bool(config.getini("bedrock_autouse")),
        )

    @property
    def records(self) -> bool:
        """Whether the session's record mode sends requests to Amazon Bedrock."""
        return self.record != "none"


@dataclass(frozen=True)
class BedrockSettings:
    """One test's settings, all sources merged.

    Attributes:
        engine: An engine spec (``scripted:rules.yaml``, ``llamacpp:tiny.gguf``) or an engine object; None: the
            session's default (:attr:`Options.engine`).
        cassette: ``True`` (the test's own cassette), a name or path, or None for no cassette. A cassette and an
            engine exclude each other: the stronger source's wins.
        faults: Fault rules active from the test's start: ``--fault`` specs, JSON-like mappings or ``FaultRule``\\ s.
        record: The cassette's record mode.
        assert_all_used: Whether scripted rules and cassette interactions the test never used fail it.
        cassette_options: The cassette's ``match_ignore`` (body fields left out of matching), ``timing``,
            ``secrets`` (``redact`` or ``refuse``), ``redact`` (regular expressions) and ``redactors`` (hooks), as
            given; the replay engine checks them.
    """

    engine: object = None
    cassette: bool | str | os.PathLike[str] | None = None
    faults: tuple[Any, ...] = ()  # checked as they are added to the runtime
    record: str = "none"
    assert_all_used: bool = True
    cassette_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def chose_engine(self) -> bool:
        """Whether the test named its engine (or cassette), rather than running on the session's default."""
        return self.engine is not None or self.cassette is not None


def _faults(value: object) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        return (value,)  # one rule
    return tuple(value)


def _cassette(value: object, source: str) -> bool | str | os.PathLike[str] | None:
    if value is False:
        return None
    if value is None or value is True or isinstance(value, str | os.PathLike):
        return value
    raise SettingsError(f"{source}: cassette must be True, a name or a path, got {value!r}")


def _apply(settings: BedrockSettings, source: str, layer: Mapping[str, object]) -> BedrockSettings:
    """``settings`` with one source's keys applied, once they are checked."""
    unknown = sorted(str(key) for key in layer if key not in KEYS)
    if unknown:
        raise SettingsError(f"{source}: unknown key {', '.join(unknown)}; it takes {', '.join(KEYS)}")
    cassette = _cassette(layer.get("cassette"), source)
    if layer.get("engine") is not None and cassette is not None:
        raise SettingsError(f"{source}: give engine or cassette, not both (a cassette is the replay engine)")
    changes: dict[str, Any] = {}
    if "engine" in layer:
        changes.update(engine=layer["engine"], cassette=None)
    if cassette is not None:
        changes.update(engine=None, cassette=cassette)
    elif "cassette" in layer:
        changes["cassette"] = None
    if "faults" in layer:
        changes["faults"] = _faults(layer["faults"])
    if "record" in layer:
        changes["record"] = record_mode(layer["record"], source)
    if "assert_all_used" in layer:
        if not isinstance(layer["assert_all_used"], bool):
            raise SettingsError(f"{source}: assert_all_used must be True or False, got {layer['assert_all_used']!r}")
        changes["assert_all_used"] = layer["assert_all_used"]
    tuning = {key: layer[key] for key in CASSETTE_KEYS if key in layer}
    if tuning:
        changes["cassette_options"] = {**settings.cassette_options, **tuning}
    return replace(settings, **changes)


def merge(options: Options, layers: Iterable[tuple[str, Mapping[str, object]]]) -> BedrockSettings:
    """One test's settings: ``options``' defaults, then each ``(source, keys)`` layer in turn, the last strongest.

    Raises:
        SettingsError: An unknown key, a bad value, or engine and cassette both in one layer, naming the source.
    """
    settings = BedrockSettings(record=options.record, assert_all_used=options.assert_all_used)
    for source, layer in layers:
        settings = _apply(settings, source, layer)
    return settings
