"""SigV4 parsing: the ``Authorization`` header, the request time, canonical URI and query, the signing key."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote, unquote_to_bytes

from ...errors import AccessDeniedException, IncompleteSignature
from .constants import (
    _SIGV4_TIMESTAMP,
    _UNRESERVED,
    ALGORITHM,
    MSG_API_KEY_FORMAT,
    MSG_MISSING_AUTH,
)
from .request import AuthRequest

_ISO_BASIC = re.compile(r"\d{8}T\d{6}Z")
# Splitting on whitespace as well as commas is what makes AWS report "'<x>' not a valid key=value pair" for a
# credential with a stray space in it (iann0036/cloud9-sync#10).
_PARAM_SEPARATORS = re.compile(r"[\s,]+")
# "AWS4-HMAC-SHA512" is an unsupported algorithm, but SigV2's "AWS AKID:sig" gets the generic missing-parameter
# answer (aws/aws-sdk-ruby#317).
_AWS_ALGORITHM = re.compile(r"AWS\d+-", re.IGNORECASE)
_REQUIRED_PARAMS = ("Credential", "Signature", "SignedHeaders")


def canonical_uri(raw_path: str) -> str:
    """The SigV4 canonical URI of a path as received, the way botocore computes it for non-S3 services.

    Dot segments and empty segments are removed (botocore's ``normalize_url_path``), then the *already encoded*
    path is percent-encoded again, keeping only unreserved characters and ``/``. So
    ``/model/mistral.mistral-7b-instruct-v0%3A2/invoke`` becomes
    ``/model/mistral.mistral-7b-instruct-v0%253A2/invoke`` and a raw ``:`` becomes ``%3A``.

    Args:
        raw_path: The path as received, decoded as latin-1.

    Returns:
        The canonical URI.
    """
    if not raw_path:
        return "/"
    segments: list[str] = []
    for segment in raw_path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
        else:
            segments.append(segment)
    normalized = ("/" if raw_path.startswith("/") else "") + "/".join(segments)
    if raw_path.endswith("/") and segments:
        normalized += "/"
    # Quote the received bytes, not a re-encoding of them: latin-1 round-trips every byte unchanged.
    return quote(normalized.encode("latin-1"), safe="/~") or "/"


def canonical_query_string(query_string: str) -> str:
    """The SigV4 canonical query string: every name and value decoded, re-encoded (RFC 3986), sorted.

    Decoding first makes ``a=x%20y`` and ``a=x y`` equal, as AWS treats them; ``+`` stays a literal plus.

    Args:
        query_string: The raw query string, without ``?``.

    Returns:
        The canonical query string (empty when there is no query).
    """
    pairs: list[tuple[str, str]] = []
    for item in query_string.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append(
            (
                quote(unquote_to_bytes(name.encode("latin-1")), safe=_UNRESERVED),
                quote(unquote_to_bytes(value.encode("latin-1")), safe=_UNRESERVED),
            )
        )
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _canonical_header_value(values: Sequence[str]) -> str:
    # botocore's Trimall: str.split() collapses every whitespace run, and repeated headers join with commas.
    return ",".join(" ".join(value.split()) for value in values)


@dataclass(frozen=True)
class _SigV4:
    """A parsed ``AWS4-HMAC-SHA256`` Authorization header."""

    header: str
    credential: str
    signed_headers: str
    signature: str
    timestamp: datetime
    amz_date: str

    @property
    def scope_parts(self) -> list[str]:
        return self.credential.split("/")


@dataclass(frozen=True)
class _Bearer:
    token: str


def _request_time(request: AuthRequest) -> tuple[datetime, str]:
    """The signing time from ``X-Amz-Date`` or ``Date``, and its ISO-8601 basic form for the string to sign."""
    amz_date = request.header("x-amz-date")
    raw = amz_date if amz_date is not None else request.header("date") or ""
    value = raw.strip()
    if _ISO_BASIC.fullmatch(value):
        try:  # by hand: strptime costs more than the rest of a lenient check together
            stamp = datetime(
                int(value[0:4]), int(value[4:6]), int(value[6:8]),
                int(value[9:11]), int(value[11:13]), int(value[13:15]), tzinfo=timezone.utc,
            )  # fmt: skip
            return stamp, value
        except ValueError:
            pass
    elif amz_date is None:
        # Only the Date header may use the HTTP date format (botocore writes it with email.utils.formatdate).
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None:
            when = (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
            return when, when.strftime(_SIGV4_TIMESTAMP)
    raise IncompleteSignature(
        f"Date must be in ISO-8601 'basic format'. Got '{raw}'. See http://en.wikipedia.org/wiki/ISO_8601"
    )


def _parse_authorization(request: AuthRequest) -> _SigV4 | _Bearer:
    """Parse the Authorization header the way the AWS front end does, in its order of checks."""
    values = [value.strip() for value in request.header_values("authorization")]
    values = [value for value in values if value]
    if not values:
        raise AccessDeniedException(MSG_MISSING_AUTH)
    if len(values) > 1:
        # Two credentials are ambiguous; AWS's exact answer is not documented, so refuse as unparseable.
        raise IncompleteSignature("Found multiple Authorization headers.")
    header = values[0]
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer":
        token = rest.strip()
        if not token or any(ch.isspace() for ch in token):
            raise AccessDeniedException(MSG_API_KEY_FORMAT)
        return _Bearer(token)

    params: dict[str, str] = {}
    if scheme == ALGORITHM:
        for item in _PARAM_SEPARATORS.split(rest.strip()):
            if not item:
                continue
            if "=" not in item:
                raise IncompleteSignature(
                    f"'{item}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'"
                )
            key, _, value = item.partition("=")
            params.setdefault(key, value)
    elif _AWS_ALGORITHM.match(scheme):
        raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{scheme}'.")
    # Any other scheme (Basic, a bare JWT…) reaches AWS's generic answer: every parameter is missing.

    problems = [
        f"Authorization header requires '{name}' parameter." for name in _REQUIRED_PARAMS if not params.get(name)
    ]
    if request.header("x-amz-date") is None and request.header("date") is None:
        problems.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if problems:
        raise IncompleteSignature(" ".join(problems) + f" Authorization={header}")

    timestamp, amz_date = _request_time(request)
    return _SigV4(header, params["Credential"], params["SignedHeaders"], params["Signature"], timestamp, amz_date)


def _check_credential_shape(auth: _SigV4) -> None:
    if len(auth.scope_parts) != 5:
        raise IncompleteSignature(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{auth.credential}'"
        )


@lru_cache(maxsize=128)
def _signing_key(secret: str, date: str, region: str, service: str, terminator: str) -> bytes:
    # The key only changes daily per scope, so caching saves four HMACs per request.
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, terminator):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key
