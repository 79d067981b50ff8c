"""A test's cassette: the directory it lives in, and the replay engine that plays it (or records it).

Naming follows pytest-recording's: ``cassette=True`` is ``cassettes/{module}/{test}`` beside the test file, the
test's name with its class (``TestX.test_y``) and its parameters' id. With ``--bedrock-cassette-dir`` every test file
shares one root, so the module is the file's path from the rootdir (``tests/unit/test_api``): two ``test_api.py`` in
different folders must not share cassettes. A name is ``{cassette_dir}/{name}``; an absolute path is used as given.

A cassette's name must stay one per test. An id that had to be made safe for a file name gets a short hash of
itself (``New York`` and ``New/York`` both read ``New-York``), and a name longer than file systems like is cut and
hashed the same way.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mistral_bedrock.engines.cassette import ReplayEngine

    from .upstream import Upstream

__all__ = ["cassette_directory", "cassette_name", "has_recordings", "replay_engine"]

_UNSAFE = re.compile(r"[^\w.]+")
_PARAMETRIZED = re.compile(r"^([^\[]*)\[(.*)\]$", re.S)
_MAX_NAME = 100
_RECORDING_SUFFIXES = (".yaml", ".yml", ".json")  # what the replay engine reads


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _safe(text: str) -> str:
    """``text`` made safe for a file name; when that changed it, with a hash of ``text`` so that it stays unique."""
    safe = _UNSAFE.sub("-", text).strip("-.")
    return safe if safe == text else f"{safe}-{_digest(text)}".lstrip("-")


def cassette_name(item: pytest.Item) -> str:
    """The test's own cassette name: ``test_y``, ``TestX.test_y``, ``test_z-alpha`` for ``test_z[alpha]``,
    ``test_z-1-a-b-<hash>`` for ``test_z[1-a/b]``; at most about 100 characters."""
    cls = getattr(item, "cls", None)
    found = _PARAMETRIZED.match(item.name)
    test, ident = (found[1], found[2]) if found else (item.name, None)
    name = _safe(f"{cls.__name__}.{test}" if cls is not None else test)
    if ident is not None:
        name = f"{name}-{_safe(ident)}"
    if len(name) > _MAX_NAME:
        name = f"{name[: _MAX_NAME - 9].rstrip('-.')}-{_digest(item.name if ident is None else ident)}"
    return name


def _module(path: Path, rootdir: Path) -> Path:
    """The test file's path from the rootdir, without its suffix; a file outside it by its name and a hash."""
    try:
        return path.with_suffix("").relative_to(rootdir)
    except ValueError:
        return Path(f"{path.stem}-{_digest(str(path))}")


def cassette_directory(
    cassette: bool | str | os.PathLike[str], item: pytest.Item, base: Path | None, rootdir: Path
) -> Path:
    """Where the cassette ``cassette`` (a marker's or ``bedrock_config``'s value) of ``item`` lives, ``base`` being
    ``--bedrock-cassette-dir`` (None: a ``cassettes`` folder beside the test file) and ``rootdir`` pytest's."""
    if base is None:
        root, module = item.path.parent / "cassettes", Path(item.path.stem)
    else:
        root, module = base, _module(item.path, rootdir)
    if isinstance(cassette, bool):
        return root / module / cassette_name(item)
    return root / Path(os.fspath(cassette))  # an absolute path replaces root


def has_recordings(directory: Path) -> bool:
    """Whether the cassette holds any recording: mode ``once`` then only replays it."""
    try:
        return any(path.suffix in _RECORDING_SUFFIXES for path in directory.iterdir())
    except OSError:  # missing, or unreadable (the replay engine then says so)
        return False


def replay_engine(
    directory: Path, record: str, region: str, upstream: Upstream | None, options: Mapping[str, Any] | None = None
) -> ReplayEngine:
    """The engine that replays ``directory`` — and, in a record mode, records what it lacks through ``upstream``,
    signing for ``region``. A directory that does not exist is an empty cassette: a test that sent nothing (or only
    requests the runtime refused) recorded none, and git keeps no empty directory.

    ``options`` are the test's cassette keys (``match_ignore``, ``timing``, ``secrets``, ``redact``, ``redactors``).

    Raises:
        pytest.UsageError: A record mode the session read no credentials for, or a bad cassette option.
    """
    from mistral_bedrock.engines.cassette import RecordMode, ReplayEngine, ReplaySettings, Timing

    mode = RecordMode(record)
    if mode is RecordMode.ONCE and upstream is None and has_recordings(directory):
        mode = RecordMode.NONE  # what once does with a cassette that holds recordings: the session saw it so
    if mode.records and upstream is None:
        raise pytest.UsageError(
            f"record mode {record!r} of cassette {directory} was set by bedrock_config only, where the session's "
            f"start cannot see it, so no AWS credentials were read; pass --bedrock-record={record} (or put record= "
            "and cassette= on the test's bedrock marker) so that they are read before the tests run"
        )
    tuning = dict(options or {})
    try:
        settings = ReplaySettings(
            directory=directory,
            mode=mode,
            upstream_url=upstream.url if upstream is not None else None,
            region=region,
            timing=Timing.parse(str(tuning.get("timing", "instant"))),
            ignore=_strings(tuning.get("match_ignore"), "match_ignore"),
            secrets=str(tuning.get("secrets", "redact")),
            redact=_strings(tuning.get("redact"), "redact"),
        )
    except ValueError as exc:
        raise pytest.UsageError(f"bedrock cassette {directory}: {exc}") from None
    credentials = upstream.credentials if upstream is not None else None
    return ReplayEngine(settings, credentials=credentials, redactors=tuning.get("redactors", ()), missing_ok=True)


def _strings(value: object, key: str) -> tuple[str, ...]:
    """One string or a list of them (a marker's ``match_ignore="a.b"`` or ``match_ignore=["a.b", "c"]``)."""
    if value is None:
        return ()
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ValueError(f"{key} must be a string or a list of strings, got {value!r}")
    return tuple(items)
