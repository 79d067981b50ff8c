"""How a cassette is used: the ``replay:DIR[?option=value&…]`` spec, parsed into :class:`ReplaySettings`.

The whole configuration travels as one engine spec string, because that string is what reaches every place an
engine is named: ``serve --engine``, the example commands' ``--engine``, ``serve``'s worker processes (through the
environment) and the pytest plugin's marker. ``serve --record DIR`` and its flags write the same spec.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

__all__ = ["RecordMode", "ReplaySettings", "Timing"]


class RecordMode(str, enum.Enum):
    """When a request goes to Amazon Bedrock and is recorded (pytest-recording's modes)."""

    NONE = "none"  # offline: replay only, and a request with no recording fails
    ONCE = "once"  # record everything into an empty cassette; replay only once it holds anything
    NEW_EPISODES = "new_episodes"  # replay what is recorded, record what is not
    ALL = "all"  # record everything anew, replaying nothing

    @property
    def records(self) -> bool:
        """Whether this mode may send a request to Bedrock (and so needs credentials)."""
        return self is not RecordMode.NONE


@dataclass(frozen=True)
class Timing:
    """How fast a replayed answer comes: at once (``instant``), as recorded, or at recorded times scaled."""

    scale: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Timing:
        if text == "instant":
            return cls(0.0)
        if text == "recorded":
            return cls(1.0)
        kind, _, factor = text.partition(":")
        try:
            scale = float(factor) if kind == "scaled" else -1.0
        except ValueError:
            scale = -1.0
        if not (0.0 <= scale <= 1000.0):
            raise ValueError(f"replay timing {text!r}: expected instant, recorded or scaled:FACTOR (0 to 1000)")
        return cls(scale)

    def __str__(self) -> str:
        factor = repr(self.scale).removesuffix(".0")  # repr: the shortest text that reads back the same float
        return {0.0: "instant", 1.0: "recorded"}.get(self.scale, f"scaled:{factor}")


_SECRETS = ("redact", "refuse")
_FIELD = re.compile(r"^[A-Za-z0-9_$-]+(\.([A-Za-z0-9_$-]+|\*))*$")


@dataclass(frozen=True)
class ReplaySettings:
    """A cassette and how to use it.

    Attributes:
        directory: The cassette: a directory of interaction files (one YAML file per request).
        mode: When to go to Bedrock and record (default: never).
        timing: How fast replayed answers come.
        ignore: Request body fields left out of matching, as dotted paths (``inferenceConfig.temperature``,
            ``messages.*.content``; ``*`` is any list item or key).
        upstream_url: Where record modes send requests (default: ``https://bedrock-runtime.{region}.amazonaws.com``).
        region: The Region record modes sign for and reach (default: the AWS configuration's, else us-east-1).
        secrets: What a secret found in an interaction gets before it is written: ``redact`` (replaced) or
            ``refuse`` (the interaction is not written, and the engine reports it).
        redact: Regular expressions whose matches are replaced with ``REDACTED`` in every written string (prompts
            that must not be committed). Incoming requests are redacted the same way before matching.
    """

    directory: Path
    mode: RecordMode = RecordMode.NONE
    timing: Timing = Timing()
    ignore: tuple[str, ...] = ()
    upstream_url: str | None = None
    region: str | None = None
    secrets: str = "redact"
    redact: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "directory", Path(self.directory))
        object.__setattr__(self, "mode", RecordMode(self.mode))
        if self.secrets not in _SECRETS:
            raise ValueError(f"replay secrets={self.secrets!r}: expected redact or refuse")
        for path in self.ignore:
            if not _FIELD.match(path):
                raise ValueError(f"replay ignore={path!r}: expected a dotted field path such as inferenceConfig.topP")
        for pattern in self.redact:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"replay redact={pattern!r}: not a regular expression ({exc})") from None
        if self.upstream_url is not None and urlsplit(self.upstream_url).scheme not in ("http", "https"):
            raise ValueError(f"replay upstream={self.upstream_url!r}: expected an http:// or https:// URL")

    @classmethod
    def parse(cls, argument: str) -> ReplaySettings:
        """``DIR`` or ``DIR?mode=once&timing=scaled:0.1&ignore=FIELD&upstream=URL&region=R&secrets=refuse&redact=RE``.

        Raises:
            ValueError: An unknown option, a repeated single option, or a bad value.
        """
        directory, _, query = argument.partition("?")
        if not directory:
            raise ValueError("The replay engine needs its cassette directory: 'replay:DIR'.")
        options: dict[str, list[str]] = {}
        for pair in query.split("&") if query else ():
            name, sep, value = pair.partition("=")
            if not sep or not name:
                raise ValueError(f"replay options {query!r}: expected NAME=VALUE pairs joined by '&'")
            # unquote, not unquote_plus: a regular expression's '+' is a plus, not a space.
            options.setdefault(unquote(name), []).append(unquote(value))
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise ValueError(f"replay option {unknown[0]!r} is unknown; known: {', '.join(sorted(_OPTIONS))}")
        single: dict[str, str] = {}
        for name, values in options.items():
            if name not in _REPEATABLE:
                if len(values) > 1:
                    raise ValueError(f"replay option {name!r} is given twice")
                single[name] = values[0]
        try:
            mode = RecordMode(single.get("mode", "none"))
        except ValueError:
            raise ValueError(
                f"replay mode={single['mode']!r}: expected one of {', '.join(m.value for m in RecordMode)}"
            ) from None
        return cls(
            directory=Path(directory),
            mode=mode,
            timing=Timing.parse(single.get("timing", "instant")),
            ignore=tuple(options.get("ignore", ())),
            upstream_url=single.get("upstream"),
            region=single.get("region"),
            secrets=single.get("secrets", "redact"),
            redact=tuple(options.get("redact", ())),
        )

    def spec(self) -> str:
        """This as an engine spec (``replay:DIR?…``), which :meth:`parse` reads back equal."""
        pairs = [
            ("mode", self.mode.value if self.mode is not RecordMode.NONE else None),
            ("timing", str(self.timing) if self.timing.scale else None),
            *(("ignore", path) for path in self.ignore),
            ("upstream", self.upstream_url),
            ("region", self.region),
            ("secrets", self.secrets if self.secrets != "redact" else None),
            *(("redact", pattern) for pattern in self.redact),
        ]
        query = "&".join(f"{name}={quote(value, safe='/:.*')}" for name, value in pairs if value is not None)
        return f"replay:{self.directory}" + (f"?{query}" if query else "")


_OPTIONS = frozenset({"mode", "timing", "ignore", "upstream", "region", "secrets", "redact"})
_REPEATABLE = frozenset({"ignore", "redact"})
