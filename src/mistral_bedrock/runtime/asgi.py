"""Reading an ASGI request as the runtime's routes and auth see it: the raw path, the headers, the whole body."""

from __future__ import annotations

from urllib.parse import quote

from starlette.types import Receive, Scope

from .auth import AuthRequest

__all__ = ["header_pairs", "raw_path", "read_body", "read_request"]


def raw_path(scope: Scope) -> str:
    """The path as sent, still percent-encoded: an ARN's ``%2F`` stays inside its label."""
    raw = scope.get("raw_path")
    if raw:
        return bytes(raw).decode("latin-1").split("?", 1)[0]
    return quote(scope["path"], safe="/:@!$&'()*+,;=-._~")


def header_pairs(scope: Scope) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def read_request(scope: Scope, receive: Receive) -> AuthRequest:
    """The whole request as auth and routing see it: method, raw path, raw query, headers, body."""
    body = await read_body(receive)
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    return AuthRequest(scope["method"], raw_path(scope), query, tuple(header_pairs(scope)), body)
