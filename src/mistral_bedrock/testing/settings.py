"""What one test asks of the ``bedrock`` fixture, merged into one frozen object.

Sources, weakest first: the built-in defaults; the ini file (:class:`Options`, read once per session); the
``bedrock_config`` fixture; the ``bedrock`` markers, the farthest (module, class) first and the test's own last —
pytest-recording's order. The command line's ``--bedrock-record`` is the exception: given, it wins over every other
source, so that ``--bedrock-record=none`` is offline and ``--bedrock-record=all`` re-records whatever the tests say.
The fixture, the cassette's naming, the teardown checks and the session's decision to read credentials then all read
the same answer, and a key or value a source gets wrong fails the test with one line naming the source instead of
being ignored.

Standard library and pytest only: the plugin imports this module in every pytest run.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

__all__ = ["DEFAULT_REGION", "KEYS", "RECORD_MODES", "BedrockSettings", "Options", "SettingsError", "merge"]

#: The record modes of a cassette: ``none`` replays only (offline); the others send what the cassette lacks
#: (``once``: only when it holds no recording yet; ``new_episodes``: any miss; ``all``: everything) to Amazon Bedrock.
RECORD_MODES = ("none", "once", "new_episodes", "all")

#: The Region of the fixture's clients, of ``bedrock_env`` and of recordings, unless ``--bedrock-region`` says.
DEFAULT_REGION = "us-east-1"

#: How a cassette is matched, timed and cleaned: the ``replay:DIR`` engine's options (docs/TESTING.md).
CASSETTE_KEYS = ("match_ignore", "timing", "secrets", "redact", "redactors")

#: The keys ``bedrock_config`` and the marker take.
KEYS = ("engine", "faults", "cassette", "record", "region", "assert_all_used", *CASSETTE_KEYS)

# The engines whose argument is a file or directory: an ini file's relative one is relative to the ini file.
_PATH_ENGINES = frozenset({"scripted", "llamacpp", "transformers", "replay"})
_REGION = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class SettingsError(ValueError):
    """A source's key or value is wrong; the message names the source."""


def _record_mode(value: object, source: str) -> str:
    """A record mode as its name; a ``RecordMode`` (a string enum) is taken by its value."""
    name = value.value if isinstance(value, enum.Enum) else value
    if name not in RECORD_MODES:
        raise SettingsError(f"{source}: record must be one of {', '.join(RECORD_MODES)}, got {value!r}")
    return str(name)


def _region_name(value: object, source: str) -> str:
    """A Region's name (``us-west-2``), checked for its form only: the runtime knows which Region serves what."""
    if not isinstance(value, str) or not _REGION.match(value):
        raise SettingsError(f"{source}: region must be a Region's name such as us-west-2, got {value!r}")
    return value


def _text(config: pytest.Config, name: str) -> str | None:
    """A text option: the command line's value, else the ini file's, else None."""
    value = config.getoption(name)
    if value is None:
        value = config.getini(name) or None
    return None if value is None else str(value)


def _engine_beside(spec: str, base: Path) -> str:
    """``spec`` with a relative file argument (``scripted:rules.yaml``, ``replay:DIR?mode=once``) made relative to
    ``base``; other specs as they are."""
    name, sep, argument = spec.partition(":")
    path, mark, query = argument.partition("?")
    if name not in _PATH_ENGINES or not path or os.path.isabs(path):
        return spec
    return f"{name}{sep}{base / path}{mark}{query}"


@dataclass(frozen=True)
class Options:
    """The session-wide options, from the command line, else the ini file, else the defaults.

    Attributes:
        engine: The engine of tests that name none (``--bedrock-engine``, relative to the directory pytest was
            started in; ini ``bedrock_engine``, a relative path in it relative to the ini file).
        record: The record mode of tests that name none (ini ``bedrock_record``).
        forced_record: ``--bedrock-record``: the record mode of every test, whatever else says; None when not given.
        cassette_dir: Where cassettes named by a relative name live (``--bedrock-cassette-dir``, relative to the
            directory pytest was started in; ini ``bedrock_cassette_dir``, relative to the ini file); None: a
            ``cassettes`` folder beside each test file.
        upstream_url: Where record modes send requests (``--bedrock-upstream-url``); None: Amazon Bedrock.
        region: The Region of tests that name none (``--bedrock-region``, ini ``bedrock_region``).
        assert_all_used: Whether unused scripted rules and cassette interactions fail a test (ini
            ``bedrock_assert_all_used``).
        autouse: Whether every test gets ``bedrock_env`` (ini ``bedrock_autouse``).
    """

    engine: str = "builtin"
    record: str = "none"
    forced_record: str | None = None
    cassette_dir: Path | None = None
    upstream_url: str | None = None
    region: str = DEFAULT_REGION
    assert_all_used: bool = True
    autouse: bool = False

    @classmethod
    def from_config(cls, config: pytest.Config) -> Options:
        """The options of a pytest run.

        Raises:
            pytest.UsageError: An ini ``bedrock_record`` that is not a record mode, or a Region that is no name.
        """
        ini_dir = config.inipath.parent if config.inipath is not None else config.rootpath
        forced = config.getoption("bedrock_record")
        try:
            record = _record_mode(config.getini("bedrock_record") or "none", "bedrock_record")
            region = _region_name(_text(config, "bedrock_region") or DEFAULT_REGION, "bedrock_region")
        except SettingsError as exc:
            raise pytest.UsageError(str(exc)) from None
        cassette_dir: Path | None = None
        if config.getoption("bedrock_cassette_dir") is not None:
            cassette_dir = config.invocation_params.dir / str(config.getoption("bedrock_cassette_dir"))
        elif config.getini("bedrock_cassette_dir"):
            cassette_dir = ini_dir / str(config.getini("bedrock_cassette_dir"))
        engine = config.getoption("bedrock_engine")
        if engine is None and config.getini("bedrock_engine"):
            engine = _engine_beside(str(config.getini("bedrock_engine")), ini_dir)
        return cls(
            engine=str(engine or "builtin"),
            record=record,
            forced_record=None if forced is None else str(forced),
            cassette_dir=cassette_dir,
            upstream_url=_text(config, "bedrock_upstream_url"),
            region=region,
            assert_all_used=bool(config.getini("bedrock_assert_all_used")),
            autouse=bool(config.getini("bedrock_autouse")),
        )


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
        region: The Region the test's clients sign for, and its recordings are made in.
        assert_all_used: Whether scripted rules and cassette interactions the test never used fail it.
        cassette_options: The cassette's ``match_ignore`` (body fields left out of matching), ``timing``,
            ``secrets`` (``redact`` or ``refuse``), ``redact`` (regular expressions) and ``redactors`` (a tuple of
            hooks), as given; the replay engine checks them.
    """

    engine: object = None
    cassette: bool | str | os.PathLike[str] | None = None
    faults: tuple[Any, ...] = ()  # checked as they are added to the runtime
    record: str = "none"
    region: str = DEFAULT_REGION
    assert_all_used: bool = True
    cassette_options: Mapping[str, Any] = field(default_factory=dict)


def _faults(value: object) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        return (value,)  # one rule
    return tuple(value)


def _engine(value: object, source: str) -> object:
    if value is None or isinstance(value, str):
        return value
    if callable(getattr(value, "generate", None)) or callable(getattr(value, "relay", None)):
        return value
    raise SettingsError(
        f"{source}: engine must be an engine spec such as 'scripted:rules.yaml', an engine object or None, "
        f"got {value!r}"
    )


def _cassette(value: object, source: str) -> bool | str | os.PathLike[str] | None:
    if value is False:
        return None
    if value is None or value is True:
        return value
    if isinstance(value, str | os.PathLike) and os.fspath(value):
        path = Path(os.fspath(value))
        if not path.is_absolute() and ".." in path.parts:
            raise SettingsError(
                f"{source}: cassette {os.fspath(value)!r} leaves the cassette directory; name one inside it, "
                "or give an absolute path"
            )
        return value
    raise SettingsError(f"{source}: cassette must be True, a name or a path, got {value!r}")


def _redactors(value: object, source: str) -> tuple[Any, ...]:
    hooks = (value,) if callable(value) else value
    if not isinstance(hooks, list | tuple) or not all(callable(hook) for hook in hooks):
        raise SettingsError(f"{source}: redactors must be a function or a list of functions, got {value!r}")
    return tuple(hooks)


def _apply(settings: BedrockSettings, options: Options, source: str, layer: Mapping[str, object]) -> BedrockSettings:
    """``settings`` with one source's keys applied, once they are checked."""
    unknown = sorted(str(key) for key in layer if key not in KEYS)
    if unknown:
        raise SettingsError(f"{source}: unknown key {', '.join(unknown)}; it takes {', '.join(KEYS)}")
    engine = _engine(layer.get("engine"), source)
    cassette = _cassette(layer.get("cassette"), source)
    if engine is not None and cassette is not None:
        raise SettingsError(f"{source}: give engine or cassette, not both (a cassette is the replay engine)")
    changes: dict[str, Any] = {}
    if "engine" in layer:  # the cassette it replaces goes, with its options
        changes.update(engine=engine, cassette=None, cassette_options={})
    if cassette is not None:
        changes.update(engine=None, cassette=cassette)
    elif "cassette" in layer:
        changes["cassette"] = None
    if "faults" in layer:
        changes["faults"] = _faults(layer["faults"])
    if "record" in layer:
        value = layer["record"]
        changes["record"] = options.record if value is None else _record_mode(value, source)
    if "region" in layer:
        changes["region"] = _region_name(layer["region"], source)
    if "assert_all_used" in layer:
        value = layer["assert_all_used"]
        if value is not None and not isinstance(value, bool):
            raise SettingsError(f"{source}: assert_all_used must be True or False, got {value!r}")
        changes["assert_all_used"] = options.assert_all_used if value is None else value
    tuning = {key: layer[key] for key in CASSETTE_KEYS if key in layer}
    if "redactors" in tuning:
        tuning["redactors"] = _redactors(tuning["redactors"], source)
    if tuning:
        changes["cassette_options"] = {**changes.get("cassette_options", settings.cassette_options), **tuning}
    return replace(settings, **changes)


def merge(
    options: Options, layers: Iterable[tuple[str, Mapping[str, object]]], *, every_source: bool = True
) -> BedrockSettings:
    """One test's settings: ``options``' defaults, then each ``(source, keys)`` layer in turn, the last strongest,
    then ``--bedrock-record`` when it was given.

    Args:
        every_source: Whether ``layers`` are all the test's sources. Without ``bedrock_config`` (at collection, when
            no fixture has run), cassette options may still find their cassette there, and are not checked.

    Raises:
        SettingsError: An unknown key, a bad value, engine and cassette both in one layer, or cassette options
            for a test without a cassette, naming the source.
    """
    settings = BedrockSettings(record=options.record, region=options.region, assert_all_used=options.assert_all_used)
    tuned_by: list[str] = []
    for source, layer in layers:
        settings = _apply(settings, options, source, layer)
        if "engine" in layer:
            tuned_by.clear()
        if any(key in layer for key in CASSETTE_KEYS):
            tuned_by.append(source)
    if every_source and settings.cassette is None and settings.cassette_options:
        keys = ", ".join(key for key in CASSETTE_KEYS if key in settings.cassette_options)
        raise SettingsError(
            f"{tuned_by[-1]}: {keys}: cassette options, and the test has no cassette (cassette=True or a name)"
        )
    if options.forced_record is not None:
        settings = replace(settings, record=options.forced_record)
    return settings
