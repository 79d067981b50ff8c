"""A test's cassette: the directory it lives in, and the replay engine that plays it (or records it).

Naming follows pytest-recording's: ``cassette=True`` is ``{cassette_dir}/{module}/{test}``, the test's name with
its class (``TestX.test_y``) and its parameters' id made safe for a file name; a name is ``{cassette_dir}/{name}``;
an absolute path is used as given. ``cassette_dir`` is ``--bedrock-cassette-dir``, or a ``cassettes`` folder beside
the test file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mistral_bedrock.engines.cassette import ReplayEngine

    from .upstream import Upstream

__all__ = ["cassette_directory", "cassette_name", "replay_engine"]


def cassette_name(item: pytest.Item) -> str:
    """The test's own cassette name: ``test_y``, ``TestX.test_y``, ``test_z-1-a-b`` for ``test_z[1-a/b]``."""
    cls = getattr(item, "cls", None)
    name = f"{cls.__name__}.{item.name}" if cls is not None else item.name
    return re.sub(r"[^\w.]+", "-", name).strip("-")


def cassette_directory(cassette: bool | str | os.PathLike[str], item: pytest.Item, base: Path | None) -> Path:
    """Where the cassette ``cassette`` (a marker's or ``bedrock_config``'s value) of ``item`` lives."""
    root = base if base is not None else item.path.parent / "cassettes"
    if isinstance(cassette, bool):
        return root / item.path.stem / cassette_name(item)
    return root / Path(os.fspath(cassette))  # an absolute path replaces root


def replay_engine(
    directory: Path, record: str, upstream: Upstream | None, options: Mapping[str, Any] | None = None
) -> ReplayEngine:
    """The engine that replays ``directory`` — and, in a record mode, records what it lacks through ``upstream``.

    ``options`` are the test's cassette keys (``match_ignore``, ``timing``, ``secrets``, ``redact``, ``redactors``).

    Raises:
        pytest.UsageError: A record mode without credentials read at the session's start, or a bad cassette option.
    """
    from mistral_bedrock.engines.cassette import RecordMode, ReplayEngine, ReplaySettings, Timing

    mode = RecordMode(record)
    if mode is not RecordMode.NONE and upstream is None:
        raise pytest.UsageError(
            f"record mode {record!r} was set by bedrock_config only, after the session read no AWS credentials; "
            "pass --bedrock-record (or put record= on the test's bedrock marker) so they are read at the start"
        )
    tuning = dict(options or {})
    try:
        settings = ReplaySettings(
            directory=directory,
            mode=mode,
            upstream_url=upstream.url if upstream is not None else None,
            region=upstream.region if upstream is not None else None,
            timing=Timing.parse(str(tuning.get("timing", "instant"))),
            ignore=_strings(tuning.get("match_ignore"), "match_ignore"),
            secrets=str(tuning.get("secrets", "redact")),
            redact=_strings(tuning.get("redact"), "redact"),
        )
    except ValueError as exc:
        raise pytest.UsageError(f"bedrock cassette {directory}: {exc}") from None
    redactors = tuning.get("redactors") or ()
    if callable(redactors):
        redactors = (redactors,)
    return ReplayEngine(
        settings, credentials=upstream.credentials if upstream is not None else None, redactors=tuple(redactors)
    )


def _strings(value: object, key: str) -> tuple[str, ...]:
    """One string or a list of them (a marker's ``match_ignore="a.b"`` or ``match_ignore=["a.b", "c"]``)."""
    if value is None:
        return ()
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ValueError(f"{key} must be a string or a list of strings, got {value!r}")
    return tuple(items)
