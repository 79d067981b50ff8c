"""ASGI responses in Bedrock's shapes: JSON bodies, restJson1 errors, and event streams.

The event-stream response writes pre-encoded frames straight to the ASGI ``send``: one ``http.response.body``
message per frame, so every event reaches the client as soon as it exists, over HTTP/1.1 chunked encoding or
HTTP/2 data frames alike.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send

from mistral_bedrock.errors import BedrockError
from mistral_bedrock.protocol.error_codes import (
    ERROR_CODES,
    ERROR_TYPE_HEADER,
    error_body,
    error_code_for_stream_member,
    error_type_header,
    parse_error,
)
from mistral_bedrock.protocol.eventstream import decode_message, encode_exception
from mistral_bedrock.protocol.operations import Operation

__all__ = [
    "STOPPING",
    "DropConnection",
    "EventStreamResponse",
    "JSONBytesResponse",
    "StreamEnd",
    "error_response",
    "exception_frame",
    "outcome",
]

# The message of the CancelledError that ends a response when the server stops, so that code on the way can tell
# that ending (a ServiceUnavailableException sent in the stream) from a client that went away.
STOPPING = "mistral-bedrock: the server is stopping"


class DropConnection(Exception):
    """Raised inside a stream to cut the connection without a clean ending (an injected fault)."""


@dataclass(frozen=True)
class StreamEnd:
    """How a stream ended: the events sent, the AWS code of the in-stream exception it ended with, a cut."""

    events: int
    exception: str | None = None
    dropped: bool = False


# The fixed bytes of a ``:message-type: exception`` header: a cheap test on every frame, before any decoding.
_EXCEPTION_MARK = b"\x0d:message-type\x07\x00\x09exception"


def _exception_code(frame: bytes) -> str | None:
    """The AWS code of an in-stream exception frame; None for an event."""
    end = 12 + int.from_bytes(frame[4:8], "big")
    if frame.find(_EXCEPTION_MARK, 12, end) < 0:
        return None
    member = decode_message(frame).exception_type
    return error_code_for_stream_member(member) if member else None


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


def exception_frame(operation: Operation, error: BedrockError) -> bytes:
    """An in-stream exception; codes that are not members of this stream's union travel as model errors."""
    row = ERROR_CODES.get(error.error_code)
    member = row.stream_member if row else None
    body: dict[str, Any] = {"message": error.message}
    if member is None or member not in operation.stream_errors:
        member = "modelStreamErrorException"
        body = {"message": error.message, "originalStatusCode": error.status or 500, "originalMessage": error.message}
    return encode_exception(member, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())


def outcome(response: object) -> tuple[int, str | None]:
    """The status and AWS error code of a handler's answer: a relay's may be an error (a recorded refusal)."""
    if isinstance(response, JSONBytesResponse) and response.status >= 400:
        return response.status, parse_error(response.headers, response.body, response.status)[0]
    return 200, None


_YIELD_EVERY = 8  # frames between two turns given to the event loop by a stream that never waits


class EventStreamResponse:
    """A ``application/vnd.amazon.eventstream`` response fed by an async iterator of encoded frames.

    If the iterator raises :class:`DropConnection`, the response ends without its final empty body message,
    which makes the server cut the connection mid-body — what a client sees when a network path dies.

    ``on_end``, when set, is called once with how the stream ended, *before* the bytes that let a client see
    that end leave: before an in-stream exception frame, before the final empty body message, before the cut.
    The journal is written there, so a client that has seen the end finds the entry.
    """

    def __init__(self, frames: AsyncIterator[bytes], request_id: str) -> None:
        self.frames = frames
        self.headers = [
            (b"content-type", b"application/vnd.amazon.eventstream"),
            (b"x-amzn-requestid", request_id.encode()),
            (b"x-amzn-bedrock-content-type", b"application/json"),
        ]
        self.on_end: Callable[[StreamEnd], None] | None = None
        self._events = 0
        self._gone = False  # the client disconnected: nothing more is generated or sent

    def _end(self, end: StreamEnd) -> None:
        on_end, self.on_end = self.on_end, None
        if on_end is not None:
            on_end(end)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        self._events = 0
        # A client that goes away is journalled when it goes, not when the stream would have ended: servers that
        # drop what is sent to a closed connection (uvicorn) let the stream run on to its end.
        watcher = asyncio.ensure_future(self._watch_disconnect(receive))
        try:
            try:
                async for frame in self.frames:
                    if self._gone:
                        # Servers that drop writes to a closed connection (uvicorn) would let the engine run on to
                        # its end, and asyncio logs every write to the dead socket.
                        return
                    code = _exception_code(frame)
                    if code is not None:
                        self._end(StreamEnd(self._events, exception=code))
                    else:
                        self._events += 1
                    await send({"type": "http.response.body", "body": frame, "more_body": True})
                    if self._events % _YIELD_EVERY == 0:
                        # A send to a client that has gone may return without suspending (uvicorn), and an engine
                        # that is never paced never suspends either: give the loop a turn now and then, so that the
                        # disconnect is seen (and other connections are served).
                        await asyncio.sleep(0)
            except DropConnection:
                self._end(StreamEnd(self._events, dropped=True))
                if self._events == 0:
                    # granian holds a response's start back until its first body message, and answers an app that
                    # returns before one with a plain-text 500. An empty chunk commits the headers and opens the
                    # body (it puts no byte on the wire), so returning now cuts the connection, as under uvicorn.
                    await send({"type": "http.response.body", "body": b"", "more_body": True})
                return
            self._end(StreamEnd(self._events))
            await send({"type": "http.response.body", "body": b""})
        except asyncio.CancelledError as cancelled:
            if cancelled.args == (STOPPING,):  # the stopping server ends the stream with this exception
                self._end(StreamEnd(self._events, exception="ServiceUnavailableException"))
            raise
        finally:
            watcher.cancel()
            # A stream that broke off for any other reason is journalled too.
            self._end(StreamEnd(self._events))
            # Close the frames' generator now, not whenever it is collected: what it holds (an engine's generation,
            # a relay's connection to Bedrock) is let go as soon as the client is.
            close = getattr(self.frames, "aclose", None)
            if close is not None:
                await close()

    async def _watch_disconnect(self, receive: Receive) -> None:
        """Journal the stream as it stands once the client disconnects (the request body was read before)."""
        while (await receive())["type"] != "http.disconnect":
            pass
        self._gone = True
        self._end(StreamEnd(self._events))
