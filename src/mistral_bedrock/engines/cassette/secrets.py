"""Finding and redacting credentials and account ids in recorded Bedrock traffic, before a cassette is written.

A cassette is committed to a repository, so whatever it holds is published. Recorded traffic can carry the
recording machine's credentials: a request echoed back in an error, a SigV4 ``Authorization`` header or an
``X-Amz-Security-Token``, a key id hidden in base64 (an event stream's ``chunk.bytes``, a ``Basic`` header, a
blob inside a model's answer), and account ids inside ARNs (inference profiles, provisioned models).

What counts as a hit: each active credential value (the access key id in any letter case), plain or encoded; unless
``builtin`` is off, AKIA/ASIA access key ids of any account and 12-digit account ids in ARNs (":" also "%3A" or "%3a"),
except the placeholder ``000000000000``; and the user's redact regexes. Encoded means any form of
:mod:`.secret_forms`, nested: base64 (decoded, and each credential's base64 searched as a substring, which finds a
secret in a blob that does not decode on its own), line-wrapped base64, percent-encoding and backslash escapes.

Every rule and every form reports spans of the text, so a secret is replaced where it is, in the encoding it is in,
and the rest of the text is kept. Where spans overlap the longest is taken, and the text is scanned again until
nothing is found; a text that never settles (a user pattern that matches its own marker) is replaced whole. The
access key id in use and any AKIA/ASIA id get the same marker, so requests redacted with and without the credentials
read the same.

Credential values shorter than 8 characters are not searched for: they would redact common words.

Findings say what and where, never the value: messages built from them are printed and logged.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from .secret_forms import BASE64_RUN, View, base64_cores, decode_base64, encode_base64_like, escaped, line_wrapped

__all__ = ["Finding", "SecretScanner", "SecretsFound"]

ACCESS_KEY_ID = "access key id"
SECRET_ACCESS_KEY = "secret access key"
SESSION_TOKEN = "session token"
AWS_ACCESS_KEY_ID = "AWS access key id"
ACCOUNT_ID = "account id"
PATTERN = "pattern"

# Shorter values are too likely to be ordinary words (a 4-letter key would redact every "test").
MIN_VALUE_LENGTH = 8
ZERO_ACCOUNT = "000000000000"
REDACTED = "REDACTED"

# The prefix before the look-behind: a regular expression that starts with a literal is searched for fast.
_ACCESS_KEY_ID_PATTERN = re.compile(r"(?:AKIA|ASIA)(?<![A-Z0-9]....)[A-Z0-9]{16}(?![A-Z0-9])")
# Request paths carry ARNs percent-encoded (/model/arn%3Aaws%3Abedrock…), in either case of hex digit.
_ARN_ACCOUNT_PATTERN = re.compile(
    r"arn(?::|%3[Aa])aws[a-z-]*(?::|%3[Aa])[a-z0-9-]+(?::|%3[Aa])[a-z0-9-]*(?::|%3[Aa])(?P<account>\d{12})(?!\d)"
)
# How deep views nest (the escaped text of a percent-encoded one…): each level is one more scan of its stretch.
_VIEW_DEPTH = 3
# Passes over a text before it counts as never settling; a second pass is the rule (a marker next to a key id's
# start can make a new one).
_PASSES = 4

# The encodings a credential's base64 forms are searched in: UTF-8, and UTF-16 (PowerShell's -EncodedCommand).
_CODECS = ("utf-8", "utf-16-le", "utf-16-be")

# What was found, without where: a kind and an encoding.
_Found = tuple[str, str]


@dataclass(frozen=True)
class Finding:
    """A secret found: its kind, where it was, and how it was encoded (plain, base64…); never its value."""

    kind: str
    where: str
    encoding: str

    def describe(self) -> str:
        return f"{self.kind} ({self.encoding}) at {self.where or '<root>'}"


class SecretsFound(ValueError):
    """Secrets would be written: the message lists their kinds and places, never their values."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        super().__init__("secrets found (values not shown): " + "; ".join(f.describe() for f in self.findings))


class _Rule(NamedTuple):
    kind: str
    pattern: re.Pattern[str]
    replacement: str
    encoding: str = "plain"
    group: int | str = 0  # the part of a match that is replaced
    # Whether the pattern can match at all: a substring test is ten times faster than a search, and mostly false.
    present: Callable[[str], bool] = lambda _text: True


class _Hit(NamedTuple):
    start: int
    end: int
    replacement: str
    found: tuple[_Found, ...]
    rank: int  # the order of the rule or form that found it: findings are reported in it, and it breaks ties


@dataclass(frozen=True)
class SecretScanner:
    """Finds and redacts the given credential values, AWS key ids, ARN account ids and user patterns.

    Works on JSON-like data (dicts, lists, tuples, strings and scalars); dict keys are scanned too. With ``builtin``
    off, only ``values`` and ``patterns`` are searched for (a user's redact patterns, applied to content alone).
    """

    values: tuple[tuple[str, str], ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    builtin: bool = True

    @classmethod
    def for_credentials(
        cls,
        access_key_id: str | None,
        secret_access_key: str | None,
        session_token: str | None,
        patterns: Sequence[str] = (),
        *,
        builtin: bool = True,
    ) -> SecretScanner:
        given = ((ACCESS_KEY_ID, access_key_id), (SECRET_ACCESS_KEY, secret_access_key), (SESSION_TOKEN, session_token))
        return cls(
            values=tuple((kind, value) for kind, value in given if value),
            patterns=tuple(re.compile(pattern) for pattern in patterns),
            builtin=builtin,
        )

    def find(self, data: Any, where: str = "") -> list[Finding]:
        """The secrets in ``data``; ``where`` is the path of ``data`` itself, prefixed to the findings' paths."""
        return _unique(self._walk(data, where)[1])

    def redact(self, data: Any) -> tuple[Any, list[Finding]]:
        """A cleaned deep copy of ``data``, and what was replaced in it."""
        cleaned, findings = self._walk(data, "")
        return cleaned, _unique(findings)

    def find_in_text(self, text: str) -> list[Finding]:
        """The secrets in a raw text (a serialized cassette), each found at ``"text"``."""
        return _unique(self._clean_string(text, "text")[1])

    @cached_property
    def _rules(self) -> tuple[_Rule, ...]:
        # Credential values come first, so that the active key id is reported as such, not as any AKIA id.
        rules: list[_Rule] = []
        for kind, value in self.values:
            if len(value) < MIN_VALUE_LENGTH:
                continue
            # Key ids are upper case, but a lowered one is still the id; a secret or a token differs in any letter.
            forms: tuple[str, ...] = (value,)
            if kind == ACCESS_KEY_ID:
                forms += (value.lower(),)
                rules.append(_any_case_rule(kind, value))
            else:
                rules.append(_literal_rule(kind, forms, "plain"))
            cores = (core for form in forms for codec in _CODECS for core in base64_cores(form.encode(codec)))
            rules.append(_literal_rule(kind, tuple(dict.fromkeys(cores)), "base64"))
        if self.builtin:
            rules.append(_Rule(AWS_ACCESS_KEY_ID, _ACCESS_KEY_ID_PATTERN, _marker(AWS_ACCESS_KEY_ID)))
            rules.append(_Rule(ACCOUNT_ID, _ARN_ACCOUNT_PATTERN, ZERO_ACCOUNT, group="account"))
        rules.extend(_Rule(PATTERN, pattern, REDACTED) for pattern in self.patterns)
        return tuple(rules)

    def _walk(self, data: Any, where: str) -> tuple[Any, list[Finding]]:
        if isinstance(data, str):
            return self._clean_string(data, where)
        if isinstance(data, dict):
            return self._walk_dict(data, where)
        if isinstance(data, list | tuple):
            cleaned: list[Any] = []
            findings: list[Finding] = []
            for index, item in enumerate(data):
                item, found = self._walk(item, f"{where}[{index}]")
                cleaned.append(item)
                findings.extend(found)
            return (cleaned if isinstance(data, list) else tuple(cleaned)), findings
        return data, []

    def _walk_dict(self, data: dict[Any, Any], where: str) -> tuple[dict[Any, Any], list[Finding]]:
        cleaned: dict[Any, Any] = {}
        findings: list[Finding] = []
        for key, value in data.items():
            if isinstance(key, str):
                key, found = self._clean_string(key, "")
                # The path is built from the cleaned key: a key that is a secret must not leak through a path.
                findings.extend(Finding(f.kind, f"{_child(where, key)} (key)", f.encoding) for f in found)
            cleaned[key], found = self._walk(value, _child(where, str(key)))
            findings.extend(found)
        return cleaned, findings

    def _clean_string(self, text: str, where: str) -> tuple[str, list[Finding]]:
        cleaned, found = self._clean(text, 0)
        return cleaned, [Finding(kind, where, encoding) for kind, encoding in found]

    def _clean(self, text: str, depth: int) -> tuple[str, list[_Found]]:
        found: list[_Found] = []
        passes = 0
        while hits := self._hits(text, depth):
            if passes == _PASSES:
                # A marker that a pattern matches again: what the text becomes is no longer the text. None of it stays.
                kind = hits[0].found[0][0]
                return (REDACTED if kind == PATTERN else _marker(kind)), found
            kept = _disjoint(hits)
            found += [each for hit in sorted(kept, key=lambda hit: (hit.rank, hit.start)) for each in hit.found]
            text = _apply(text, kept)
            passes += 1
        return text, found

    def _hits(self, text: str, depth: int) -> list[_Hit]:
        """What one pass finds in ``text``, possibly overlapping: each span, its replacement and what it is."""
        hits: list[_Hit] = []
        runs = list(BASE64_RUN.finditer(text))
        for run in runs:
            decoded = decode_base64(run[0])
            if decoded is None:
                continue
            # Redacting inside the decoded text keeps the blob valid base64, which replacing a secret's base64 form
            # by a marker (the rule below, for blobs that do not decode alone) would not.
            cleaned, found = self._clean(decoded[0], depth)
            if found:
                replacement = encode_base64_like(run[0], cleaned, decoded[1])
                hits.append(_Hit(*run.span(), replacement, _within("base64", found), 0))
        for rank, rule in enumerate(self._rules, 1):
            if not rule.present(text):
                continue
            for match in rule.pattern.finditer(text):
                # An empty match replaced would insert a marker between every two characters.
                if match[rule.group] not in ("", rule.replacement):
                    what = ((rule.kind, rule.encoding),)
                    hits.append(_Hit(*match.span(rule.group), rule.replacement, what, rank))
        if depth < _VIEW_DEPTH:
            # A whole wrapped block is longer than any of its lines, so it wins over a line's own redaction, which
            # would re-encode that line and hide what straddles it.
            hits += self._view_hits(line_wrapped(text, runs), depth, len(self._rules) + 1)
            hits += self._view_hits(escaped(text), depth, len(self._rules) + 2)
        return hits

    def _view_hits(self, views: Iterable[View], depth: int, rank: int) -> list[_Hit]:
        hits: list[_Hit] = []
        for view in views:
            for hit in self._hits(view.text, depth + 1):
                start, end = view.source_span(hit.start, hit.end)
                hits.append(_Hit(start, end, view.encode(hit.replacement), _within(view.label, hit.found), rank))
        return hits


def _literal_rule(kind: str, literals: tuple[str, ...], encoding: str) -> _Rule:
    pattern = re.compile("|".join(map(re.escape, literals)))
    return _Rule(kind, pattern, _marker(kind), encoding, present=lambda text: any(map(text.__contains__, literals)))


def _any_case_rule(kind: str, value: str) -> _Rule:
    lowered = value.lower()
    pattern = re.compile(re.escape(value), re.IGNORECASE)
    return _Rule(kind, pattern, _marker(kind), present=lambda text: lowered in text.lower())


def _within(outer: str, found: Iterable[_Found]) -> tuple[_Found, ...]:
    """What was found inside a form, named by the form then by how it was held there ("line-wrapped base64")."""
    return tuple((kind, outer if inner in ("plain", outer) else f"{outer} {inner}") for kind, inner in found)


def _disjoint(hits: list[_Hit]) -> list[_Hit]:
    """The hits to apply: the longest first, then by rank; one that overlaps a hit kept waits for the next pass."""
    starts: list[int] = []
    ends: list[int] = []
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda hit: (hit.start - hit.end, hit.rank, hit.start)):
        index = bisect.bisect_right(starts, hit.start)
        if (index and ends[index - 1] > hit.start) or (index < len(starts) and starts[index] < hit.end):
            continue
        starts.insert(index, hit.start)
        ends.insert(index, hit.end)
        kept.append(hit)
    return kept


def _apply(text: str, hits: list[_Hit]) -> str:
    pieces: list[str] = []
    position = 0
    for hit in sorted(hits, key=lambda hit: hit.start):
        pieces += (text[position : hit.start], hit.replacement)
        position = hit.end
    pieces.append(text[position:])
    return "".join(pieces)


def _marker(kind: str) -> str:
    # One marker per key id, whichever rule found it: a request redacted with the credentials in use reads as one
    # redacted without them. Letters and dashes only: safe unquoted in YAML, in a URL, in JSON, and plain in any log.
    return f"{REDACTED}-{(AWS_ACCESS_KEY_ID if kind == ACCESS_KEY_ID else kind).replace(' ', '-')}"


def _child(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))
