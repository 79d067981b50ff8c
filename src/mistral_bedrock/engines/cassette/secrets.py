"""Finding and redacting credentials and account ids in recorded Bedrock traffic, before a cassette is written.

A cassette is committed to a repository, so whatever it holds is published. Recorded traffic can carry the
recording machine's credentials: a request echoed back in an error, a SigV4 ``Authorization`` header or an
``X-Amz-Security-Token``, a key id hidden in base64 (an event stream's ``chunk.bytes``, a ``Basic`` header, a
blob inside a model's answer), and account ids inside ARNs (inference profiles, provisioned models).

What counts as a hit: each active credential value, plain or base64-encoded; AKIA/ASIA access key ids of any
account; 12-digit account ids in ARNs (also percent-encoded, as in a request path), except the placeholder
``000000000000``; and the user's redact regexes. Base64 is searched two ways: strings that are base64 runs are
decoded and their text scanned (so redaction can re-encode them), and each credential's base64 forms at the three
byte alignments are searched as substrings (which finds a secret in a blob that does not decode on its own).

Credential values shorter than 8 characters are not searched for: they would redact common words.

Findings say what and where, never the value: messages built from them are printed and logged.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

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

_ACCESS_KEY_ID_PATTERN = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
# Request paths carry ARNs percent-encoded (/model/arn%3Aaws%3Abedrock…), so ":" may be "%3A" throughout.
_ARN_ACCOUNT_PATTERN = re.compile(
    r"(?P<head>arn(?P<sep>:|%3[Aa])aws[a-z-]*(?P=sep)[a-z0-9-]+(?P=sep)[a-z0-9-]*(?P=sep))\d{12}(?!\d)"
)
# Both alphabets, standard and URL-safe. Shorter runs are mostly words and ids (an encoded key id takes 28).
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")


@dataclass(frozen=True)
class Finding:
    """A secret found: its kind, where it was, and whether it was plain or base64-encoded; never its value."""

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
    # The replacement for a match; a rule that returns the match itself has not hit (an ARN already zeroed).
    replace: Callable[[re.Match[str]], str]
    encoding: str = "plain"


@dataclass(frozen=True)
class SecretScanner:
    """Finds and redacts the given credential values, AWS key ids, ARN account ids and user patterns.

    Works on JSON-like data (dicts, lists, tuples, strings and scalars); dict keys are scanned too.
    """

    values: tuple[tuple[str, str], ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def for_credentials(
        cls,
        access_key_id: str | None,
        secret_access_key: str | None,
        session_token: str | None,
        patterns: Sequence[str] = (),
    ) -> SecretScanner:
        given = ((ACCESS_KEY_ID, access_key_id), (SECRET_ACCESS_KEY, secret_access_key), (SESSION_TOKEN, session_token))
        return cls(
            values=tuple((kind, value) for kind, value in given if value),
            patterns=tuple(re.compile(pattern) for pattern in patterns),
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
        return _unique(self._clean_text(text, "text", "plain")[1])

    @cached_property
    def _rules(self) -> tuple[_Rule, ...]:
        # Credential values come first, so that the active key id is reported as such, not as any AKIA id.
        rules: list[_Rule] = []
        for kind, value in self.values:
            if len(value) < MIN_VALUE_LENGTH:
                continue
            rules.append(_Rule(kind, re.compile(re.escape(value)), _constant(_marker(kind))))
            rules.extend(
                _Rule(kind, re.compile(re.escape(core)), _constant(_marker(kind)), "base64")
                for core in _base64_cores(value)
            )
        rules.append(_Rule(AWS_ACCESS_KEY_ID, _ACCESS_KEY_ID_PATTERN, _constant(_marker(AWS_ACCESS_KEY_ID))))
        rules.append(_Rule(ACCOUNT_ID, _ARN_ACCOUNT_PATTERN, lambda match: match["head"] + ZERO_ACCOUNT))
        # An empty match replaced would insert REDACTED between every two characters.
        rules.extend(_Rule(PATTERN, p, lambda match: REDACTED if match[0] else "") for p in self.patterns)
        return tuple(rules)

    def _walk(self, data: Any, where: str) -> tuple[Any, list[Finding]]:
        if isinstance(data, str):
            return self._clean_text(data, where, "plain")
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
                key, found = self._clean_text(key, "", "plain")
                # The path is built from the cleaned key: a key that is a secret must not leak through a path.
                findings.extend(Finding(f.kind, f"{_child(where, key)} (key)", f.encoding) for f in found)
            cleaned[key], found = self._walk(value, _child(where, str(key)))
            findings.extend(found)
        return cleaned, findings

    def _clean_text(self, text: str, where: str, encoding: str) -> tuple[str, list[Finding]]:
        findings: list[Finding] = []
        # Base64 runs first: redacting inside the decoded text keeps the blob valid base64, which replacing a
        # secret's base64 form by a marker (the fallback below, for blobs that do not decode alone) would not.
        text = _BASE64_RUN.sub(lambda match: self._clean_run(match[0], where, findings), text)
        for rule in self._rules:
            text, hit = _substitute(text, rule.pattern, rule.replace)
            if hit:
                findings.append(Finding(rule.kind, where, "base64" if encoding == "base64" else rule.encoding))
        return text, findings

    def _clean_run(self, run: str, where: str, findings: list[Finding]) -> str:
        decoded = _decode(run)
        if decoded is None:
            return run
        text, codec = decoded
        cleaned, found = self._clean_text(text, where, "base64")
        findings.extend(found)
        return run if cleaned == text else _encode_like(run, cleaned, codec)


def _base64_cores(value: str) -> Iterable[str]:
    """The parts of base64(prefix + value + suffix) that depend on ``value`` alone, for any prefix and suffix.

    Base64 maps 3 bytes to 4 characters, so how ``value`` encodes depends on the prefix's length modulo 3. The
    characters that mix the prefix's or suffix's bits with the value's are left out: those are what is stable.
    Credentials are ASCII letters, digits, "+", "/" and "=", whose base64 never holds "+" or "/" (that takes bytes like
    "~" or "?"), so these forms are the same in the URL-safe alphabet.
    """
    raw = value.encode()
    cores: dict[str, None] = {}  # ordered, so that redaction is the same in every process
    for lead in range(3):
        encoded = base64.b64encode(bytes(lead) + raw).decode("ascii")
        core = encoded[-(-8 * lead // 6) : 8 * (lead + len(raw)) // 6]
        cores[core] = None
    return cores


def _decode(run: str) -> tuple[str, str] | None:
    """The text a base64 run encodes, and the codec that gives back its exact bytes; None if it is not base64."""
    body = run.rstrip("=")
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), _altchars(run), validate=True)
    except binascii.Error:
        return None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Latin-1 maps every byte to one character: binary data comes back byte for byte.
        return raw.decode("latin-1"), "latin-1"


def _encode_like(run: str, text: str, codec: str) -> str:
    """``text`` encoded with the same alphabet as ``run``, and unpadded if ``run`` was."""
    encoded = base64.b64encode(text.encode(codec), _altchars(run)).decode("ascii")
    return encoded.rstrip("=") if "=" not in run and len(run) % 4 else encoded


def _altchars(run: str) -> bytes:
    return b"-_" if "-" in run or "_" in run else b"+/"


def _substitute(text: str, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str]) -> tuple[str, bool]:
    hit = False

    def one(match: re.Match[str]) -> str:
        nonlocal hit
        replacement = replace(match)
        hit = hit or replacement != match[0]
        return replacement

    return pattern.sub(one, text), hit


def _constant(replacement: str) -> Callable[[re.Match[str]], str]:
    return lambda _match: replacement


def _marker(kind: str) -> str:
    # Letters and dashes only: safe unquoted in YAML, and plain in any log.
    return f"{REDACTED}-{kind.replace(' ', '-')}"


def _child(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))
