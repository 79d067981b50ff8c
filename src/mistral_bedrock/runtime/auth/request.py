"""What authentication sees of a request (:class:`AuthRequest`) and who made it (:class:`Principal`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from .constants import _UNRESERVED


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

    _by_name: dict[str, list[str]] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # A tuple keeps the frozen request hashable and stops callers mutating the header list afterwards.
        headers = tuple((str(k), str(v)) for k, v in self.headers)
        object.__setattr__(self, "headers", headers)
        # Names lower-cased once: a check looks several headers up.
        by_name: dict[str, list[str]] = {}
        for key, value in headers:
            by_name.setdefault(key.lower(), []).append(value)
        object.__setattr__(self, "_by_name", by_name)

    def header_values(self, name: str) -> list[str]:
        """All values of header ``name`` (case-insensitive), in arrival order."""
        return list(self._by_name.get(name.lower(), ()))

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
