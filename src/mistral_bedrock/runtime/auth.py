"""Authentication for the local Bedrock runtime: AWS SigV4 and Bedrock API keys (``Authorization: Bearer``).

The runtime builds an :class:`AuthRequest` from each incoming request and asks its :class:`AuthPolicy` for a
:class:`Principal`; a refusal is raised as the typed exception from :mod:`mistral_bedrock.errors`, which carries
the AWS error code and HTTP status the runtime must answer with. Everything here is pure standard library and
does no I/O, so it can be tested (and reused by other front ends) without a server.

Policies:

* :class:`LenientAuth` (the default): any *well-formed* ``AWS4-HMAC-SHA256`` or ``Bearer`` credentials are
  accepted without checking them against a secret, the clock or the credential scope. Requests without
  credentials, and SigV4 headers that real AWS would reject as unparseable, are refused exactly as Bedrock does,
  so clients exercise their auth-error paths even offline.
* :class:`StrictAuth`: verifies SigV4 the way the AWS front end does for ``bedrock-runtime`` (signing name
  ``bedrock``, double-encoded canonical URI, ±5 minutes of clock skew) against configured access keys, and
  compares bearer tokens against configured Bedrock API keys. The region is not checked unless pinned, since
  one local runtime answers for every region.

botocore (1.44) refuses to send a Bearer token to an ``http://`` endpoint ("Bearer authorization requires an HTTPS
endpoint."), so boto3 clients using ``AWS_BEARER_TOKEN_BEDROCK`` need the runtime behind TLS; other clients differ.

Errors. Codes, statuses and messages copy what AWS answers; the evidence for each is in brackets:

* No ``Authorization`` header: 403 ``AccessDeniedException``, ``Authorization header is missing`` [a real Bedrock
  reply in karthink/gptel#1397 with ``x-amzn-ErrorType: AccessDeniedException`` and ``Content-Length: 45``; also
  anthropics/claude-code#45000]. It is not ``MissingAuthenticationTokenException``, which API Gateway sends.
* A SigV4 header that cannot be parsed: 400 ``IncompleteSignature`` (400 per the Bedrock troubleshooting page):

  - ``Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter.
    Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a
    'X-Amz-Date' or a 'Date' header. Authorization=<header>``, listing only what is missing [aws/chalice#828,
    brendanhay/amazonka#316, aws/aws-sdk-ruby#317 (also for other schemes such as ``Basic``)];
  - ``'<item>' not a valid key=value pair (missing equal-sign) in Authorization header: '<header>'``
    [iann0036/cloud9-sync#10];
  - ``Unsupported AWS 'algorithm': '<scheme>'.`` and ``Date must be in ISO-8601 'basic format'. Got '<date>'. See
    http://en.wikipedia.org/wiki/ISO_8601`` [scratchstack-aws-signature's AWS-derived tests];
  - ``Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '<cred>'``
    [mhart/aws4#97].

* Request time outside ``±max_skew`` (strict): 403 ``InvalidSignatureException``, ``Signature expired:
  20250130T203827Z is now earlier than 20250130T204131Z (20250130T204631Z - 5 min.)`` or ``Signature not yet
  current: <t> is still later than <now+skew> (<now> + 5 min.)`` [Bedrock: anthropics/anthropic-sdk-go#122 (403),
  aws-samples/bedrock-access-gateway#163; AWS SigV4 troubleshooting page].
* Wrong credential scope (strict): 403 ``InvalidSignatureException``, ``Credential should be scoped to correct
  service: 'bedrock'. `` and its siblings for region, terminator and date. Each complaint ends in ``". "``; the
  ``Content-Length: 112`` in JuliaCloud/AWS.jl#334 only adds up with that trailing space [403 for a restJson
  service: aws/aws-sdk-go#1850].
* Unknown access key (strict): 403 ``UnrecognizedClientException``, ``The security token included in the request
  is invalid.`` [Bedrock: vercel/ai#4163, Aider-AI/aider#1986].
* Signature mismatch (strict): 403 ``InvalidSignatureException``, ``The request signature we calculated does not
  match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service
  documentation for details.`` followed, as AWS does, by the canonical string and string-to-sign the server
  computed [Bedrock: continuedev/continue#9297].
* Unknown bearer token (strict): 403 ``AccessDeniedException``, ``Invalid API Key format: Must start with
  pre-defined prefix`` when the token lacks the ``ABSK`` / ``bedrock-api-key-`` prefix of Bedrock API keys, else
  ``Authentication failed: Please make sure your API Key is valid.``
  [aws-solutions-library-samples/guidance-for-claude-code-with-amazon-bedrock#784, different-ai/openwork#3929,
  anomalyco/opencode#47073].

Two choices are inferred rather than observed: an ``x-amz-content-sha256`` header whose digest disagrees with the
body is refused as ``InvalidSignatureException`` with S3's wording (strict only; without the check a signed
request's body could be swapped), and a ``Signature`` that is not 64 hex digits is refused by :class:`LenientAuth`
as a signature mismatch, which is what AWS itself answers for it (it never reports it as incomplete).

Real Bedrock writes the missing-header body as ``{"Message":…}`` with the ``com.amazon.coral.service`` error-type
suffix; the runtime's error envelope decides whether to reproduce that.

The ``--auth`` flag (:func:`parse_auth_spec`)::

    lenient                                   the default (also the empty string)
    strict:AKID:SECRET[,AKID2:SECRET2…]       SigV4 against these access keys
    strict-token:TOKEN[,TOKEN2…]              Bedrock API keys (Authorization: Bearer) only
    strict                                    keys and tokens from the environment only
    …;key=AKID:SECRET[,…]                     more access keys
    …;token=TOKEN[,…]                         more API keys, e.g. strict:AKID:SECRET;token=abc
    …;skew=SECONDS                            allowed clock skew (default 300)
    …;region=REGION                           also require this region in the credential scope

Environment variables, read for every ``strict…`` spec so that secrets need not appear in the process list:
``MISTRAL_BEDROCK_AUTH_KEYS`` (``AKID:SECRET[,AKID:SECRET…]``) and ``MISTRAL_BEDROCK_AUTH_TOKENS``
(``TOKEN[,TOKEN…]``). They are ignored by ``lenient``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import quote, unquote_to_bytes

from ..errors import (
    AccessDeniedException,
    IncompleteSignature,
    InvalidSignatureException,
    UnrecognizedClientException,
)

__all__ = [
    "ALGORITHM",
    "DEFAULT_MAX_SKEW",
    "ENV_KEYS",
    "ENV_TOKENS",
    "SIGNING_SERVICE",
    "AuthPolicy",
    "AuthRequest",
    "LenientAuth",
    "Principal",
    "StrictAuth",
    "canonical_query_string",
    "canonical_uri",
    "parse_auth_spec",
]

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNING_SERVICE = "bedrock"
TERMINATOR = "aws4_request"
DEFAULT_MAX_SKEW = timedelta(minutes=5)
ENV_KEYS = "MISTRAL_BEDROCK_AUTH_KEYS"
ENV_TOKENS = "MISTRAL_BEDROCK_AUTH_TOKENS"

# Long-term Bedrock API keys start with "ABSK", short-term ones with "bedrock-api-key-"; Bedrock answers a
# token with neither prefix differently from a well-formed but unknown one.
API_KEY_PREFIXES = ("ABSK", "bedrock-api-key-")

MSG_MISSING_AUTH = "Authorization header is missing"
MSG_UNKNOWN_ACCESS_KEY = "The security token included in the request is invalid."
MSG_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
MSG_API_KEY_FORMAT = "Invalid API Key format: Must start with pre-defined prefix"
MSG_API_KEY_INVALID = "Authentication failed: Please make sure your API Key is valid."
MSG_CONTENT_SHA256_MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed."

_SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_ISO_BASIC = re.compile(r"\d{8}T\d{6}Z")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
# Splitting on whitespace as well as commas is what makes AWS report "'<x>' not a valid key=value pair" for a
# credential with a stray space in it (iann0036/cloud9-sync#10).
_PARAM_SEPARATORS = re.compile(r"[\s,]+")
# "AWS4-HMAC-SHA512" is an unsupported algorithm, but SigV2's "AWS AKID:sig" gets the generic missing-parameter
# answer (aws/aws-sdk-ruby#317).
_AWS_ALGORITHM = re.compile(r"AWS\d+-", re.IGNORECASE)
_REQUIRED_PARAMS = ("Credential", "Signature", "SignedHeaders")
_UNRESERVED = "-_.~"


@dataclass(frozen=True)
class AuthRequest:
    """What authentication needs from one HTTP request, exactly as it arrived.

    Attributes:
        method: The HTTP method, e.g. ``POST``.
        raw_path: The path as received, still percent-encoded (ASGI ``raw_path`` decoded as latin-1), without
            the query string. Signatures cover the encoded form, so a decoded path cannot be verified.
        query_string: The raw query string, without ``?``.
        headers: ``(name, value)`` pairs in arrival order; names are case-insensitive and may repeat.
        body: The complete request body.
    """

    method: str
    raw_path: str
    query_string: str = ""
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""

    def __post_init__(self) -> None:
        # A tuple keeps the frozen request hashable and stops callers mutating the header list afterwards.
        object.__setattr__(self, "headers", tuple((str(k), str(v)) for k, v in self.headers))

    def header_values(self, name: str) -> list[str]:
        """All values of header ``name`` (case-insensitive), in arrival order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        values = self.header_values(name)
        return values[0] if values else None

    @classmethod
    def from_asgi(cls, scope: Mapping[str, Any], body: bytes) -> AuthRequest:
        """Build the request from an ASGI HTTP scope and its fully read body.

        Args:
            scope: The ASGI ``http`` scope. ``raw_path`` is used when the server provides it; otherwise the
                decoded ``path`` is re-encoded the way botocore encodes a label, which cannot restore an encoded
                ``/`` (``%2F``), so ARN model ids then fail strict verification.
            body: The request body.

        Returns:
            The request, with bytes decoded as latin-1 so that no byte is lost.
        """
        raw = scope.get("raw_path")
        if isinstance(raw, bytes | bytearray):
            raw_path = bytes(raw).decode("latin-1")
        else:
            raw_path = quote(str(scope.get("path", "/")).encode("utf-8"), safe="/" + _UNRESERVED)
        # Some servers have put the query string into raw_path; it is never part of the canonical URI.
        raw_path = raw_path.partition("?")[0]
        query = scope.get("query_string", b"")
        query_string = bytes(query).decode("latin-1") if isinstance(query, bytes | bytearray) else str(query)
        headers = [
            (bytes(name).decode("latin-1"), bytes(value).decode("latin-1")) for name, value in scope.get("headers", ())
        ]
        return cls(str(scope.get("method", "GET")), raw_path, query_string, headers, body)


@dataclass(frozen=True)
class Principal:
    """Who made an accepted request.

    Attributes:
        kind: ``sigv4`` or ``bearer``.
        access_key_id: The SigV4 access key id (not secret), or None for bearer tokens.
        token_fingerprint: ``sha256:`` and 12 hex digits of the bearer token, or None; the token itself is never
            kept, so principals are safe to log.
        region: The region of the SigV4 credential scope, or None for bearer tokens.
        verified: True when the credentials were checked against a configured secret (:class:`StrictAuth`).
    """

    kind: Literal["sigv4", "bearer"]
    access_key_id: str | None = None
    token_fingerprint: str | None = None
    region: str | None = None
    verified: bool = False

    @property
    def identity(self) -> str:
        """The access key id or the token fingerprint, for logs."""
        return self.access_key_id or self.token_fingerprint or ""


class AuthPolicy(ABC):
    """Decides whether a request may proceed."""

    @abstractmethod
    def check(self, request: AuthRequest, now: datetime) -> Principal:
        """Authenticate ``request`` at time ``now``.

        Args:
            request: The request as received.
            now: The server's current time; naive datetimes are taken as UTC. Passed in so that callers and
                tests control the clock.

        Returns:
            The authenticated principal.

        Raises:
            AccessDeniedException: No credentials, or a bearer token that is not accepted.
            IncompleteSignature: A SigV4 ``Authorization`` header that cannot be parsed.
            UnrecognizedClientException: An access key that is not configured.
            InvalidSignatureException: A wrong signature, clock skew or credential scope.
        """

    @abstractmethod
    def describe(self) -> str:
        """A one-line summary for startup logs; never contains secrets."""


def _fingerprint(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


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


def _duration_text(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} sec"


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


class LenientAuth(AuthPolicy):
    """Accept any well-formed SigV4 or bearer credentials without verifying them.

    Well-formed means: an ``AWS4-HMAC-SHA256`` header with ``Credential`` (five ``/``-separated elements),
    ``SignedHeaders`` and a 64-hex-digit ``Signature``, plus an ``X-Amz-Date`` or ``Date`` header in ISO-8601 basic
    format; or ``Bearer <token>`` with a non-empty token. The secret, the clock and the scope are not checked.
    """

    def check(self, request: AuthRequest, now: datetime) -> Principal:
        """Accept well-formed credentials; see :meth:`AuthPolicy.check`."""
        auth = _parse_authorization(request)
        if isinstance(auth, _Bearer):
            return Principal("bearer", token_fingerprint=_fingerprint(auth.token))
        _check_credential_shape(auth)
        if not _HEX64.fullmatch(auth.signature):
            # AWS does not call a malformed signature incomplete; it simply does not match.
            raise InvalidSignatureException(MSG_SIGNATURE_MISMATCH)
        access_key_id, _, region, _, _ = auth.scope_parts
        return Principal("sigv4", access_key_id=access_key_id, region=region)

    def describe(self) -> str:
        """See :meth:`AuthPolicy.describe`."""
        return "lenient (any well-formed SigV4 or Bearer credentials)"

    def __repr__(self) -> str:
        return "LenientAuth()"


@lru_cache(maxsize=128)
def _signing_key(secret: str, date: str, region: str, service: str, terminator: str) -> bytes:
    # The key only changes daily per scope, so caching saves four HMACs per request.
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, terminator):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


class StrictAuth(AuthPolicy):
    """Verify SigV4 signatures and bearer tokens against configured credentials.

    Args:
        keys: Access key id → secret access key. Any session token is accepted with a known key, but it must be
            among the signed headers.
        tokens: Accepted bearer tokens (Bedrock API keys).
        max_skew: How far the request time may be from ``now`` either way (AWS: 5 minutes).
        region: When set, the credential scope must name this region.
        explain_mismatch: Append the canonical request and string to sign to mismatch messages, as AWS does.

    Raises:
        ValueError: No keys and no tokens, an empty key id or secret, or a non-positive ``max_skew``.
    """

    def __init__(
        self,
        keys: Mapping[str, str] | None = None,
        tokens: Collection[str] = (),
        *,
        max_skew: timedelta = DEFAULT_MAX_SKEW,
        region: str | None = None,
        explain_mismatch: bool = True,
    ) -> None:
        self._keys = dict(keys or {})
        self._tokens = tuple(dict.fromkeys(tokens))
        if not self._keys and not self._tokens:
            raise ValueError("StrictAuth needs at least one access key or bearer token")
        if any(not key_id or not secret for key_id, secret in self._keys.items()):
            raise ValueError("StrictAuth access key ids and secrets must be non-empty")
        if any(not token for token in self._tokens):
            raise ValueError("StrictAuth bearer tokens must be non-empty")
        if max_skew <= timedelta(0):
            raise ValueError("StrictAuth max_skew must be positive")
        self.max_skew = max_skew
        self.region = region
        self.explain_mismatch = explain_mismatch
        self._token_bytes = tuple(token.encode("utf-8") for token in self._tokens)

    @property
    def access_key_ids(self) -> frozenset[str]:
        """The configured access key ids (not secret)."""
        return frozenset(self._keys)

    def describe(self) -> str:
        """See :meth:`AuthPolicy.describe`."""
        parts = [f"{len(self._keys)} access key(s)", f"{len(self._tokens)} API key(s)"]
        parts.append(f"max skew {_duration_text(self.max_skew)}")
        if self.region:
            parts.append(f"region {self.region}")
        return "strict (" + ", ".join(parts) + ")"

    def __repr__(self) -> str:
        # Never show secrets or tokens, even in debug output.
        return f"StrictAuth(keys={sorted(self._keys)!r}, tokens={len(self._tokens)}, max_skew={self.max_skew!r})"

    def check(self, request: AuthRequest, now: datetime) -> Principal:
        """Verify the request; see :meth:`AuthPolicy.check`."""
        auth = _parse_authorization(request)
        if isinstance(auth, _Bearer):
            return self._check_bearer(auth.token)
        return self._check_sigv4(request, auth, now)

    def _check_bearer(self, token: str) -> Principal:
        candidate = token.encode("utf-8")
        matched = False
        for accepted in self._token_bytes:
            # Compare against every token so the time taken does not reveal which one is closest.
            matched |= hmac.compare_digest(accepted, candidate)
        if not matched:
            looks_like_key = token.startswith(API_KEY_PREFIXES)
            raise AccessDeniedException(MSG_API_KEY_INVALID if looks_like_key else MSG_API_KEY_FORMAT)
        return Principal("bearer", token_fingerprint=_fingerprint(token), verified=True)

    def _check_sigv4(self, request: AuthRequest, auth: _SigV4, now: datetime) -> Principal:
        signed = [name.strip().lower() for name in auth.signed_headers.split(";")]
        # AWS checks the signed-header requirements before the clock and the scope.
        if "host" not in signed:
            raise InvalidSignatureException("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        if request.header("x-amz-security-token") is not None and "x-amz-security-token" not in signed:
            raise InvalidSignatureException("'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.")

        self._check_clock(auth.timestamp, now)
        _check_credential_shape(auth)
        access_key_id, scope_date, scope_region, scope_service, terminator = auth.scope_parts
        self._check_scope(auth, scope_date, scope_region, scope_service, terminator)

        secret = self._keys.get(access_key_id)
        if secret is None:
            raise UnrecognizedClientException(MSG_UNKNOWN_ACCESS_KEY)

        content_sha256 = request.header("x-amz-content-sha256")
        payload_hash = content_sha256.strip() if content_sha256 is not None else None
        body_hash = hashlib.sha256(request.body).hexdigest()
        canonical = "\n".join(
            [
                request.method.upper(),
                canonical_uri(request.raw_path),
                canonical_query_string(request.query_string),
                "".join(f"{name}:{_canonical_header_value(request.header_values(name))}\n" for name in signed),
                ";".join(signed),
                payload_hash if payload_hash is not None else body_hash,
            ]
        )
        scope = auth.credential.split("/", 1)[1]
        string_to_sign = "\n".join(
            [ALGORITHM, auth.amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()]
        )
        key = _signing_key(secret, scope_date, scope_region, scope_service, terminator)
        expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode("ascii"), auth.signature.encode("utf-8", "replace")):
            message = MSG_SIGNATURE_MISMATCH
            if self.explain_mismatch:
                message += (
                    f"\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
                    f"The String-to-Sign should have been\n'{string_to_sign}'\n"
                )
            raise InvalidSignatureException(message)

        # A signed digest only protects the body if it is the body's digest; UNSIGNED-PAYLOAD opts out on purpose.
        if payload_hash is not None and _HEX64.fullmatch(payload_hash) and payload_hash.lower() != body_hash:
            raise InvalidSignatureException(MSG_CONTENT_SHA256_MISMATCH)
        return Principal("sigv4", access_key_id=access_key_id, region=scope_region, verified=True)

    def _check_clock(self, timestamp: datetime, now: datetime) -> None:
        current = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
        # AWS compares whole seconds; fractions would make "X is now earlier than X" messages possible.
        current = current.replace(microsecond=0)
        earliest, latest = current - self.max_skew, current + self.max_skew
        skew = _duration_text(self.max_skew)
        if timestamp < earliest:
            raise InvalidSignatureException(
                f"Signature expired: {timestamp:{_SIGV4_TIMESTAMP}} is now earlier than "
                f"{earliest:{_SIGV4_TIMESTAMP}} ({current:{_SIGV4_TIMESTAMP}} - {skew}.)"
            )
        if timestamp > latest:
            raise InvalidSignatureException(
                f"Signature not yet current: {timestamp:{_SIGV4_TIMESTAMP}} is still later than "
                f"{latest:{_SIGV4_TIMESTAMP}} ({current:{_SIGV4_TIMESTAMP}} + {skew}.)"
            )

    def _check_scope(self, auth: _SigV4, date: str, region: str, service: str, terminator: str) -> None:
        problems: list[str] = []
        if self.region is not None and region != self.region:
            problems.append(f"Credential should be scoped to a valid region, not '{region}'.")
        if service != SIGNING_SERVICE:
            problems.append(f"Credential should be scoped to correct service: '{SIGNING_SERVICE}'.")
        if terminator != TERMINATOR:
            problems.append(f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'.")
        expected_date = auth.amz_date[:8]
        if date != expected_date:
            problems.append(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{date}' != '{expected_date}', from '{auth.amz_date}'."
            )
        if problems:
            # AWS ends every scope complaint with ". " (trailing space included).
            raise InvalidSignatureException("".join(problem + " " for problem in problems))


def _parse_keys(text: str, where: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for index, entry in enumerate(text.split(","), start=1):
        entry = entry.strip()
        key_id, sep, secret = entry.partition(":")
        # Messages name the position, never the entry: the entry may be a secret.
        if not sep or not key_id or not secret:
            raise ValueError(f"{where}: key #{index} must be ACCESS_KEY_ID:SECRET_ACCESS_KEY")
        if any(ch.isspace() for ch in entry) or "/" in key_id:
            raise ValueError(f"{where}: key #{index} contains whitespace, or '/' in the access key id")
        if keys.get(key_id, secret) != secret:
            raise ValueError(f"{where}: access key id {key_id!r} is given twice with different secrets")
        keys[key_id] = secret
    return keys


def _parse_tokens(text: str, where: str) -> list[str]:
    tokens: list[str] = []
    for index, token in enumerate(text.split(","), start=1):
        token = token.strip()
        if not token or any(ch.isspace() for ch in token):
            raise ValueError(f"{where}: token #{index} is empty or contains whitespace")
        tokens.append(token)
    return tokens


def _merge_keys(into: dict[str, str], extra: Mapping[str, str], where: str) -> None:
    for key_id, secret in extra.items():
        if into.get(key_id, secret) != secret:
            raise ValueError(f"{where}: access key id {key_id!r} is given twice with different secrets")
        into[key_id] = secret


def parse_auth_spec(spec: str, environ: Mapping[str, str] | None = None) -> AuthPolicy:
    """Build the policy named by the ``--auth`` flag; the syntax is in the module docstring.

    Args:
        spec: The flag value, e.g. ``lenient``, ``strict:AKID:SECRET`` or ``strict:AKID:SECRET;token=abc``.
        environ: Where to read :data:`ENV_KEYS` and :data:`ENV_TOKENS`; ``os.environ`` when None.

    Returns:
        The policy.

    Raises:
        ValueError: The spec is malformed; the message names the problem but never echoes a secret.
    """
    env = os.environ if environ is None else environ
    clauses = [clause.strip() for clause in spec.split(";")]
    clauses = [clause for clause in clauses if clause]
    if not clauses or clauses[0].lower() == "lenient":
        if len(clauses) > 1:
            raise ValueError("--auth: 'lenient' takes no options")
        return LenientAuth()

    head, options = clauses[0], clauses[1:]
    keys: dict[str, str] = {}
    tokens: list[str] = []
    kind, sep, value = head.partition(":")
    if kind.lower() == "strict":
        if sep:
            if not value:
                raise ValueError("--auth: 'strict:' needs ACCESS_KEY_ID:SECRET_ACCESS_KEY[,…]")
            keys = _parse_keys(value, "--auth strict")
    elif kind.lower() == "strict-token":
        if not value:
            raise ValueError("--auth: 'strict-token:' needs TOKEN[,TOKEN…]")
        tokens = _parse_tokens(value, "--auth strict-token")
    else:
        raise ValueError(
            f"--auth: unknown mode {kind!r}; expected lenient, strict[:AKID:SECRET,…] or strict-token:TOKEN[,…]"
        )

    max_skew = DEFAULT_MAX_SKEW
    region: str | None = None
    for option in options:
        name, sep, value = option.partition("=")
        name = name.strip().lower()
        value = value.strip()
        if not sep or not value:
            raise ValueError(f"--auth: option {name!r} must look like NAME=VALUE")
        if name in ("key", "keys"):
            _merge_keys(keys, _parse_keys(value, "--auth key="), "--auth key=")
        elif name in ("token", "tokens"):
            tokens.extend(_parse_tokens(value, "--auth token="))
        elif name == "skew":
            try:
                seconds = float(value)
            except ValueError:
                raise ValueError(f"--auth: skew must be a number of seconds, got {value!r}") from None
            if not seconds > 0:
                raise ValueError(f"--auth: skew must be positive, got {value!r}")
            max_skew = timedelta(seconds=seconds)
        elif name == "region":
            region = value
        else:
            raise ValueError(f"--auth: unknown option {name!r}; expected key=, token=, skew= or region=")

    if env.get(ENV_KEYS, "").strip():
        _merge_keys(keys, _parse_keys(env[ENV_KEYS], ENV_KEYS), ENV_KEYS)
    if env.get(ENV_TOKENS, "").strip():
        tokens.extend(_parse_tokens(env[ENV_TOKENS], ENV_TOKENS))
    if not keys and not tokens:
        raise ValueError(
            f"--auth: strict mode needs at least one access key or token (in the spec, {ENV_KEYS} or {ENV_TOKENS})"
        )
    return StrictAuth(keys, tokens, max_skew=max_skew, region=region)
