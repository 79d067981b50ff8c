"""Authentication policies: the :class:`AuthPolicy` interface, :class:`LenientAuth` and :class:`StrictAuth`."""

from __future__ import annotations

import hashlib
import hmac
import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta, timezone

from ...errors import AccessDeniedException, InvalidSignatureException, UnrecognizedClientException
from .constants import (
    _SIGV4_TIMESTAMP,
    ALGORITHM,
    API_KEY_PREFIXES,
    DEFAULT_MAX_SKEW,
    MSG_API_KEY_FORMAT,
    MSG_API_KEY_INVALID,
    MSG_CONTENT_SHA256_MISMATCH,
    MSG_SIGNATURE_MISMATCH,
    MSG_UNKNOWN_ACCESS_KEY,
    SIGNING_SERVICE,
    TERMINATOR,
)
from .request import AuthRequest, Principal
from .sigv4 import (
    _Bearer,
    _canonical_header_value,
    _check_credential_shape,
    _parse_authorization,
    _signing_key,
    _SigV4,
    canonical_query_string,
    canonical_uri,
)

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


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


def _duration_text(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} sec"


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
