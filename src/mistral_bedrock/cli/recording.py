"""``serve --record DIR`` and the flags that tune a cassette: they write the ``replay:DIR?…`` engine spec.

The spec is the one form a cassette's settings take everywhere (workers get it through the environment), so the
flags are a friendlier way to write it: ``--record DIR`` is ``--engine replay:DIR`` in mode ``all``, and each flag
overrides the matching option of a spec given with ``--engine``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["cassette_spec", "recording_options"]

F = TypeVar("F", bound=Callable[..., Any])

_MODES = ["none", "once", "new_episodes", "all"]


def recording_options(command: F) -> F:
    """The cassette flags, added to a click command."""
    options = [
        click.option(
            "--record",
            default=None,
            type=click.Path(file_okay=False),
            metavar="DIR",
            help="Proxy every request to Amazon Bedrock, signed with your AWS credentials, and write each answer "
            "into the cassette DIR (the replay:DIR engine in mode all).",
        ),
        click.option(
            "--record-mode",
            default=None,
            type=click.Choice(_MODES),
            help="When a cassette goes to Bedrock: none (replay only), once (record into an empty cassette), "
            "new_episodes (record what is not recorded), all. Default: all with --record, none with replay:DIR.",
        ),
        click.option("--upstream-url", default=None, metavar="URL", help="Where recording sends requests."),
        click.option("--upstream-region", default=None, metavar="REGION", help="The Region recording signs for."),
        click.option(
            "--secrets",
            default=None,
            type=click.Choice(["redact", "refuse"]),
            help="A credential, key id or account id found in a recording: redact it (default), or refuse to write "
            "the recording.",
        ),
        click.option(
            "--redact",
            multiple=True,
            metavar="REGEX",
            help="Replace matches with REDACTED in every recording (repeatable).",
        ),
        click.option(
            "--match-ignore",
            multiple=True,
            metavar="FIELD",
            help="A body field replay does not match on, e.g. inferenceConfig.temperature (repeatable).",
        ),
        click.option(
            "--replay-timing",
            default=None,
            metavar="TIMING",
            help="instant (default), recorded, or scaled:FACTOR.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def cassette_spec(
    engine: str,
    record: str | None,
    record_mode: str | None,
    upstream_url: str | None,
    upstream_region: str | None,
    secrets: str | None,
    redact: tuple[str, ...],
    match_ignore: tuple[str, ...],
    replay_timing: str | None,
    engine_given: bool,
) -> str:
    """The engine spec the flags describe: ``engine`` unchanged when no cassette flag is given.

    Raises:
        ValueError: Cassette flags without a cassette, ``--record`` beside another ``--engine``, a bad option.
    """
    from ..engines.cassette import RecordMode, ReplaySettings, Timing

    tuning = {
        "--record-mode": record_mode,
        "--upstream-url": upstream_url,
        "--upstream-region": upstream_region,
        "--secrets": secrets,
        "--redact": redact or None,
        "--match-ignore": match_ignore or None,
        "--replay-timing": replay_timing,
    }
    given = [flag for flag, value in tuning.items() if value is not None]
    if record is not None and engine_given:
        raise ValueError("--record DIR is the replay:DIR engine recording: give it instead of --engine.")
    if record is None and not engine.startswith("replay:"):
        if given:
            raise ValueError(f"{given[0]} tunes a cassette: give --record DIR or --engine replay:DIR.")
        return engine
    settings = (
        ReplaySettings.parse(engine.partition(":")[2])
        if record is None
        else ReplaySettings(Path(record), RecordMode.ALL)
    )
    changes: dict[str, Any] = {
        "mode": RecordMode(record_mode) if record_mode else None,
        "upstream_url": upstream_url,
        "region": upstream_region,
        "secrets": secrets,
        "redact": settings.redact + redact if redact else None,
        "ignore": settings.ignore + match_ignore if match_ignore else None,
        "timing": Timing.parse(replay_timing) if replay_timing else None,
    }
    return dataclasses.replace(settings, **{k: v for k, v in changes.items() if v is not None}).spec()
