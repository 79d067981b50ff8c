"""A response stream of the synchronous client, :class:`Stream`, generated from ``aio_stream.py``.

Do not edit: change ``aio_stream.py`` and run ``python scripts/unasync.py``. Both shells drive the same I/O-free
core, so they differ only in how they wait for bytes.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ..conversation import Delta
from ..errors import StreamError
from .core import ClientCore
from .prepared import Prepared
from .result import Result
from .stream_state import StreamState

if TYPE_CHECKING:
    from .sync import MistralBedrock

__all__ = ["Stream", "connection_broke"]


class Stream:
    """A response stream: ``for`` it for :class:`~mistral_bedrock.conversation.Delta` values (text and tool
    calls), then ``stream.result()``. Use it as ``with`` so that its connection is always released.

    Iteration can stop and resume: after a ``break``, iterating again goes on where it stopped, and
    :meth:`result` reads what is left. A stream that breaks — cut connection, corrupt frame, in-stream exception,
    no stop reason, closed before its end — raises a typed error; it never ends quietly with part of an answer.
    """

    def __init__(
        self, client: MistralBedrock, prepared: Prepared, on_done: Callable[[Result], None] | None = None
    ) -> None:
        self._client = client
        self._prepared = prepared
        self._on_done = on_done
        self._response: httpx.Response | None = None
        self._chunks: Iterator[bytes] | None = None
        self._state: StreamState | None = None
        self._pending: deque[Delta] = deque()
        self._result: Result | None = None
        self._closed = False

    @property
    def request_body(self) -> Mapping[str, Any]:
        """The body this stream sends (or sent)."""
        return self._prepared.body

    def __enter__(self) -> Stream:
        self._open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _open(self) -> StreamState:
        if self._state is None:
            if self._closed:
                raise StreamError("the stream was closed before it was read")
            started = time.perf_counter()
            self._response = self._client._send(self._prepared)
            self._chunks = self._response.iter_raw()
            self._state = ClientCore.stream_state(self._prepared, self._response.headers, started)
        return self._state

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> Delta:
        state = self._open()
        assert self._chunks is not None
        while not self._pending:
            if self._result is not None:
                raise StopIteration
            if self._closed:
                raise state.broken("the stream was closed before its end")
            try:
                data = self._chunks.__next__()
            except StopIteration:
                self.close()
                self._finish(state)
                continue
            except httpx.HTTPError as exc:
                closed_by_us = self._closed or self._client._closed
                self.close()
                reason = "the stream was closed before its end" if closed_by_us else connection_broke(exc)
                raise state.broken(reason) from exc
            self._pending.extend(delta for delta in state.feed(data) if delta.text or delta.tool_calls)
        return self._pending.popleft()

    def _finish(self, state: StreamState) -> None:
        self._result = state.finish()
        if self._on_done is not None:
            on_done, self._on_done = self._on_done, None
            on_done(self._result)

    def text_stream(self) -> Iterator[str]:
        """Only the text, piece by piece."""
        for delta in self:
            if delta.text:
                yield delta.text

    def result(self) -> Result:
        """The whole answer; reads whatever of the stream was not read yet."""
        for _ in self:
            pass
        assert self._result is not None
        return self._result

    def close(self) -> None:
        """Release the connection; an unfinished stream then ends with a :class:`StreamError` if read on."""
        self._closed = True
        if self._response is not None:
            self._response.close()


def connection_broke(exc: httpx.HTTPError) -> str:
    """What a broken connection is called in a StreamError."""
    return f"the connection broke mid-stream: {str(exc) or type(exc).__name__}"
