"""Credentials through botocore, and request signing: SigV4 (or a Bearer API key).

The standard AWS chain applies — explicit keys, environment, shared config and profiles, SSO, container and
instance credentials — and so does ``AWS_BEARER_TOKEN_BEDROCK`` (Bedrock API keys). botocore (imported only when
credentials are first needed) finds and refreshes the credentials; the signature itself is computed here, the same
bytes botocore's ``SigV4Auth`` writes (a test compares the two), because botocore's way through ``AWSRequest`` and
``email.message`` headers cost more client CPU than the rest of a call. Every attempt is signed anew, so a retry
never reuses an expired ``X-Amz-Date``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

from ..errors import MistralBedrockError

__all__ = ["BEARER_ENV", "NoCredentialsError", "Signer"]

BEARER_ENV = "AWS_BEARER_TOKEN_BEDROCK"
SIGNING_NAME = "bedrock"  # not "bedrock-runtime": the service model's signingName
ALGORITHM = "AWS4-HMAC-SHA256"
# Headers a proxy may add, change or drop on the way: botocore leaves them out of the signature, and so do we
# (and a stale Authorization, which botocore removes before signing).
_UNSIGNED_HEADERS = frozenset(
    {
        "authorization", "baggage", "connection", "expect", "keep-alive", "proxy-authenticate",
        "proxy-authorization", "te", "traceparent", "tracestate", "trailer", "transfer-encoding", "upgrade",
        "user-agent", "x-amzn-trace-id",
    }
)  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}


class NoCredentialsError(MistralBedrockError):
    """No AWS credentials and no Bedrock API key could be found."""


@lru_cache(maxsize=256)
def _url_parts(url: str) -> tuple[str, str, str]:
    """(host header value, canonical URI, canonical query) of a URL, as botocore's SigV4 derives them."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    segments: list[str] = []
    for segment in parts.path.split("/"):  # botocore's remove_dot_segments; empty segments go too
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    path = "/" + "/".join(segments)
    if parts.path.endswith("/") and segments:
        path += "/"
    pairs = sorted(pair.partition("=")[::2] for pair in parts.query.split("&")) if parts.query else []
    return host, quote(path, safe="/~"), "&".join(f"{key}={value}" for key, value in pairs)


@lru_cache(maxsize=32)
def _signing_key(secret: str, date: str, region: str) -> bytes:
    # The key changes once a day per scope: caching it saves four HMACs per request.
    key = ("AWS4" + secret).encode()
    for part in (date, region, SIGNING_NAME, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _amz_date() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


@dataclass
class Signer:
    """Signs requests for one region with SigV4 (or a Bearer API key).

    Attributes:
        region: The signing region.
        profile: A shared-config profile name, or None for the default chain.
        access_key_id: Explicit credentials (with ``secret_access_key`` and optional ``session_token``).
        api_key: A Bedrock API key sent as ``Authorization: Bearer``; defaults to ``AWS_BEARER_TOKEN_BEDROCK``.
    """

    region: str
    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    api_key: str | None = None

    def __post_init__(self) -> None:
        self._credentials: Any = None
        if self.api_key is None and self.access_key_id is None:
            self.api_key = os.environ.get(BEARER_ENV) or None

    def _resolve(self) -> Any:
        if self._credentials is None:
            import botocore.credentials
            import botocore.session

            if self.access_key_id is not None:
                self._credentials = botocore.credentials.Credentials(
                    self.access_key_id, self.secret_access_key or "", self.session_token
                )
            else:
                session = botocore.session.Session(profile=self.profile)
                self._credentials = session.get_credentials()
            if self._credentials is None:
                raise NoCredentialsError(
                    "No AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or "
                    f"{BEARER_ENV}, or configure a profile."
                )
        return self._credentials

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, str]:
        """The headers to send, ``Authorization`` included."""
        if self.api_key:
            return {**headers, "Authorization": f"Bearer {self.api_key}"}
        credentials = self._resolve().get_frozen_credentials()
        host, canonical_uri, canonical_query = _url_parts(url)
        amz_date = _amz_date()
        out = {**headers, "X-Amz-Date": amz_date}
        if credentials.token:
            out["X-Amz-Security-Token"] = credentials.token
        # SigV4's Trimall: surrounding whitespace dropped, inner runs collapsed to one space.
        signed = {name.lower(): " ".join(value.split()) for name, value in out.items()}
        signed = {name: value for name, value in signed.items() if name not in _UNSIGNED_HEADERS}
        signed["host"] = host
        names = sorted(signed)
        signed_headers = ";".join(names)
        canonical = "\n".join(
            (
                method.upper(),
                canonical_uri,
                canonical_query,
                "".join(f"{name}:{signed[name]}\n" for name in names),
                signed_headers,
                hashlib.sha256(body).hexdigest(),
            )
        )
        scope = f"{amz_date[:8]}/{self.region}/{SIGNING_NAME}/aws4_request"
        to_sign = f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = _signing_key(credentials.secret_key, amz_date[:8], self.region)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        out["Authorization"] = (
            f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={signed_headers}, "
            f"Signature={signature}"
        )
        return out


def default_region(profile: str | None) -> str | None:
    """The region from the standard chain (env, then profile), without credentials."""
    env = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if env:
        return env
    import botocore.session

    region = botocore.session.Session(profile=profile).get_config_variable("region")
    return str(region) if region else None
