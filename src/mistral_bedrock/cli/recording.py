"""``serve --record DIR`` and the flags that tune a cassette: they write the ``replay:DIR?…`` engine spec.

The spec is the one form a cassette's settings take everywhere (workers get it through the environment), so the
flags are a friendlier way to write it: ``--record DIR`` is ``--engine replay:DIR`` in mode ``all``, and each flag
overrides the matching option of a spec given with ``--engine``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["CassetteFlags", "cassette_spec", "recording_options"]

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


@dataclass(frozen=True)
class CassetteFlags:
    """The values of :func:`recording_options`' flags, as click passes them."""

    record: str | None = None
    record_mode: str | None = None
    upstream_url: str | None = None
    upstream_region: str | None = None
    secrets: str | None = None
    redact: tuple[str, ...] = ()
    match_ignore: tuple[str, ...] = ()
    replay_timing: str | None = None


def cassette_spec(engine: str, flags: CassetteFlags, *, engine_given: bool) -> str:
    """The engine spec the flags describe: ``engine`` unchanged when no cassette flag is given.

    Raises:
        ValueError: Cassette flags without a cassette, ``--record`` beside another ``--engine``, a bad option.
    """
    from ..engines.cassette import RecordMode, ReplaySettings, Timing

    tuning = {
        "--record-mode": flags.record_mode,
        "--upstream-url": flags.upstream_url,
        "--upstream-region": flags.upstream_region,
        "--secrets": flags.secrets,
        "--redact": flags.redact or None,
        "--match-ignore": flags.match_ignore or None,
        "--replay-timing": flags.replay_timing,
    }
    given = [flag for flag, value in tuning.items() if value is not None]
    if flags.record is not None and engine_given:
        raise ValueError("--record DIR is the replay:DIR engine recording: give it instead of --engine.")
    if flags.record is None and not engine.startswith("replay:"):
        if given:
            raise ValueError(f"{given[0]} tunes a cassette: give --record DIR or --engine replay:DIR.")
        return engine
    settings = (
        ReplaySettings.parse(engine.partition(":")[2])
        if flags.record is None
        else ReplaySettings(Path(flags.record), RecordMode.ALL)
    )
    changes: dict[str, Any] = {
        "mode": RecordMode(flags.record_mode) if flags.record_mode else None,
        "upstream_url": flags.upstream_url,
        "region": flags.upstream_region,
        "secrets": flags.secrets,
        "redact": settings.redact + flags.redact if flags.redact else None,
        "ignore": settings.ignore + flags.match_ignore if flags.match_ignore else None,
        "timing": Timing.parse(flags.replay_timing) if flags.replay_timing else None,
    }
    settings = dataclasses.replace(settings, **{k: v for k, v in changes.items() if v is not None})
    if not settings.mode.records:
        recording_only = {
            "--upstream-url": flags.upstream_url,
            "--upstream-region": flags.upstream_region,
            "--secrets": flags.secrets,
        }
        for flag, value in recording_only.items():
            if value is not None:
                raise ValueError(f"{flag} applies to recording: give --record-mode once, new_episodes or all")
    return settings.spec()
