"""The responses a server has in progress, so that a stop can end them: a stream with an in-stream
``serviceUnavailableException``, a request not yet answered with a 503 (Bedrock's words for "try again").
"""

from __future__ import annotations

import asyncio
import contextlib
import encodings.idna  # noqa: F401  (see serve(): must be imported before granian forks its workers)
import json
import sys
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mistral_bedrock.protocol.error_codes import ERROR_CODES
from mistral_bedrock.protocol.eventstream import encode_exception

from .request_ids import new_request_id
from .responses import STOPPING, error_response

__all__ = ["END_TIMEOUT_S", "STOPPING", "Ended", "OpenResponses"]

# How long ending one response may take: a client that reads nothing leaves no room for the last frames.
END_TIMEOUT_S = 2.0
_UNAVAILABLE = ERROR_CODES["ServiceUnavailableException"]
assert _UNAVAILABLE.stream_member is not None
# A member of both streaming operations' exception unions, so it needs no operation to be framed.
_UNAVAILABLE_FRAME = encode_exception(
    _UNAVAILABLE.stream_member, json.dumps({"message": _UNAVAILABLE.message}, separators=(",", ":")).encode()
)
_EVENT_STREAM = b"application/vnd.amazon.eventstream"


@dataclass(frozen=True)
class Ended:
    """What a stop ended: streams cut with an in-stream exception, requests answered 503 before their response."""

    streams: int = 0
    requests: int = 0

    def __add__(self, other: Ended) -> Ended:
        return Ended(self.streams + other.streams, self.requests + other.requests)

    def __bool__(self) -> bool:
        return bool(self.streams or self.requests)

    def __str__(self) -> str:
        parts = [(self.streams, "stream"), (self.requests, "pending request")]
        return " and ".join(f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in parts if n)


class _Open:
    """One request in progress, and how far its response has gone."""

    __slots__ = ("complete", "ended", "started", "stream", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.started = False  # the response's start went out
        self.stream = False  # and it is an event stream
        self.complete = False  # its last body message went out
        self.ended = False  # end_all cancelled it


class OpenResponses:
    """An ASGI app wrapped so that a stopping server can end the responses still in progress.

    Each request runs in its own task (uvicorn and granian both do so); :meth:`end_all` cancels those whose
    response can still be ended the way Bedrock ends one — an event stream with a ``serviceUnavailableException``
    frame, a response not yet started with a 503 — and sends that ending. A whole response already under way is
    left to finish. Requests that arrive after :meth:`end_all` get the 503 at once.

    Args:
        app: The app to serve.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None  # the serving loop, known from the first request
        self._open: set[_Open] = set()
        self._ending = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task() if scope["type"] == "http" else None
        if task is None:  # lifespan events; or a server that runs requests outside tasks, which cannot be ended
            await self.app(scope, receive, send)
            return
        if self.loop is None:
            self.loop = task.get_loop()
        entry = _Open(task)
        if self._ending:
            await self._end(entry, scope, receive, send)
            return

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.started = True
                headers = message.get("headers", ())
                entry.stream = any(k.lower() == b"content-type" and v == _EVENT_STREAM for k, v in headers)
            elif not message.get("more_body", False):
                entry.complete = True  # before the send: once handed to the server, the response is whole
            await send(message)

        self._open.add(entry)
        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if not entry.ended:
                raise
            if sys.version_info >= (3, 11):
                task.uncancel()
            await self._end(entry, scope, receive, send)
        finally:
            self._open.discard(entry)

    def end_all(self) -> Ended:
        """End every response in progress that can be ended (on the serving loop); return how many."""
        self._ending = True
        streams = requests = 0
        for entry in self._open:
            if entry.ended or entry.complete or (entry.started and not entry.stream):
                continue
            entry.ended = True
            entry.task.cancel(STOPPING)
            if entry.started:
                streams += 1
            else:
                requests += 1
        return Ended(streams, requests)

    async def _end(self, entry: _Open, scope: Scope, receive: Receive, send: Send) -> None:
        with contextlib.suppress(Exception):  # the client is gone, or reads nothing: the connection is closed
            await asyncio.wait_for(self._send_ending(entry, scope, receive, send), END_TIMEOUT_S)

    @staticmethod
    async def _send_ending(entry: _Open, scope: Scope, receive: Receive, send: Send) -> None:
        if entry.started:
            await send({"type": "http.response.body", "body": _UNAVAILABLE_FRAME, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        else:
            code, message = _UNAVAILABLE.code, _UNAVAILABLE.message
            await error_response(_UNAVAILABLE.status, code, message, new_request_id())(scope, receive, send)
