"""ASGI responses in Bedrock's shapes: JSON bodies, restJson1 errors, and event streams.

The event-stream response writes pre-encoded frames straight to the ASGI ``send``: one ``http.response.body``
message per frame, so every event reaches the client as soon as it exists, over HTTP/1.1 chunked encoding or
HTTP/2 data frames alike.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.types import Receive, Scope, Send

from mistral_bedrock.protocol.errors import ERROR_TYPE_HEADER, error_body, error_type_header

__all__ = ["DropConnection", "EventStreamResponse", "JSONBytesResponse", "error_response"]


class DropConnection(Exception):
    """Raised inside a stream to cut the connection without a clean ending (an injected fault)."""


class JSONBytesResponse:
    """A complete response whose body is already encoded."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        raw.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


def json_response(payload: Any, request_id: str, extra: dict[str, str] | None = None) -> JSONBytesResponse:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"content-type": "application/json", "x-amzn-RequestId": request_id, **(extra or {})}
    return JSONBytesResponse(200, body, headers)


def error_response(status: int, code: str, message: str, request_id: str) -> JSONBytesResponse:
    """Bedrock's error: the status, ``x-amzn-ErrorType: Code:http://internal.amazon.com/…``, ``{"message":…}``."""
    headers = {
        "content-type": "application/json",
        "x-amzn-RequestId": request_id,
        ERROR_TYPE_HEADER: error_type_header(code),
    }
    return JSONBytesResponse(status, error_body(message), headers)


class EventStreamResponse:
    """A ``application/vnd.amazon.eventstream`` response fed by an async iterator of encoded frames.

    If the iterator raises :class:`DropConnection`, the response ends without its final empty body message,
    which makes the server close the connection mid-body — what a client sees when a network path dies.
    """

    def __init__(self, frames: AsyncIterator[bytes], request_id: str) -> None:
        self.frames = frames
        self.headers = [
            (b"content-type", b"application/vnd.amazon.eventstream"),
            (b"x-amzn-requestid", request_id.encode()),
            (b"x-amzn-bedrock-content-type", b"application/json"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        try:
            async for frame in self.frames:
                await send({"type": "http.response.body", "body": frame, "more_body": True})
        except DropConnection:
            return
        await send({"type": "http.response.body", "body": b""})
