"""Which of the journal's entries belong to the test running now.

Clearing the journal when a test starts is not enough: a stream an earlier test left open is journalled when it
ends, which may be during a later test, and that test's ``bedrock.requests`` would show a request it never sent.
So the session's server is wrapped in :class:`Generations`, a small ASGI middleware that notes, for each request, the
test generation current when the request *arrived*, and the request id of its response (``x-amzn-RequestId``, sent
before the journal's entry of a stream and after that of a whole answer, so known by the time a client has seen
either). A test's requests are the journal's entries whose ids arrived in its generation.

The server runs in its own thread; the generation and the ids are shared with the test's thread under a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from mistral_bedrock.runtime.journal import JournalEntry

__all__ = ["Generations"]

_REQUEST_ID = b"x-amzn-requestid"


class Generations:
    """``app``, noting which requests arrived since the last :meth:`begin`.

    Args:
        app: The runtime's ASGI app.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._generation = 0
        self._ids: set[str] = set()  # the request ids of this generation's requests

    def begin(self) -> None:
        """Start a new generation (a test, or its ``reset()``): what arrived before is no longer its own."""
        with self._lock:
            self._generation += 1
            self._ids.clear()

    def received(self, entries: Iterable[JournalEntry]) -> list[JournalEntry]:
        """The ``entries`` of requests that arrived in this generation."""
        with self._lock:
            ids = set(self._ids)
        return [entry for entry in entries if entry.request_id in ids]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with self._lock:
            arrived = self._generation

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", ()):
                    if name.lower() == _REQUEST_ID:
                        with self._lock:
                            if arrived == self._generation:
                                self._ids.add(value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, noting)
