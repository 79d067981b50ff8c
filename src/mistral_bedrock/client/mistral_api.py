"""Mistral's own chat API over Bedrock: ``client.chat.complete(model=…, messages=…)`` as ``mistralai`` spells it.

Code written for Mistral's SDK keeps working: the same keywords, messages and tools as dicts or as ``mistralai``
objects, and answers with the field names of its models (``res.choices[0].message.content``,
``event.data.choices[0].delta.content``). Each answer's ``model_dump()`` is what ``mistralai``'s own pydantic
models validate.

What a Bedrock body cannot carry is refused before any request, naming the parameter and the model
(:class:`UnsupportedParameterError`); nothing is dropped. Values that ask for Mistral's default behaviour
(``n=1``, ``safe_prompt=False``, a zero penalty…) are accepted, since Bedrock behaves that way anyway. Two
mappings keep the meaning while changing the spelling: ``tool_choice="required"`` is sent as ``any`` (Mistral
documents them as the same), and a forced function (``{"type": "function", "function": {"name": …}}``) is sent as
``any`` with only that tool offered, which leaves the model no other call to make.

The body is the one :meth:`ClientCore.chat_call` builds: the model's chat dialect when it has one, else the
tokenizer-exact prompt of its text dialect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING

from typing_extensions import Unpack

from .closing import AsyncClosing, Closing
from .usage_errors import ClientClosedError

if TYPE_CHECKING:
    # The shells import this module to attach ``chat``, so they are imported here only where used.
    from .aio import AsyncMistralBedrock, AsyncStream
    from .sync import MistralBedrock, Stream

from .mistral_answers import (
    AssistantMessage,
    ChatCompletionChoice,
    ChatCompletionResponse,
    CompletionChunk,
    CompletionEvent,
    CompletionResponseStreamChoice,
    DeltaMessage,
    FunctionCall,
    StreamEvents,
    ToolCall,
    UsageInfo,
    completion_response,
    finish_reason,
    usage_info,
)
from .mistral_requests import (
    ChatOptions,
    NeutralRequest,
    UnsupportedParameterError,
    neutral_request,
    prepare_chat,
)

__all__ = [
    "AssistantMessage",
    "AsyncCompletionEventStream",
    "Chat",
    "ChatCompletionChoice",
    "ChatCompletionResponse",
    "ChatOptions",
    "CompletionChunk",
    "CompletionEvent",
    "CompletionEventStream",
    "CompletionResponseStreamChoice",
    "DeltaMessage",
    "FunctionCall",
    "NeutralRequest",
    "ToolCall",
    "UnsupportedParameterError",
    "UsageInfo",
    "completion_response",
    "finish_reason",
    "neutral_request",
    "usage_info",
]


# -- the streams ---------------------------------------------------------------------------------------------
class CompletionEventStream(Closing):
    """What ``chat.stream`` returns: iterate it for :class:`CompletionEvent`; ``with`` releases the connection."""

    def __init__(self, stream: Stream, model: str) -> None:
        self._stream = stream
        self._events = self._generate(StreamEvents(model))

    def _generate(self, events: StreamEvents) -> Iterator[CompletionEvent]:
        yield events.opening()
        for delta in self._stream:
            yield events.delta(delta)
        yield events.closing(self._stream.result())

    def __iter__(self) -> CompletionEventStream:
        return self

    def __next__(self) -> CompletionEvent:
        return next(self._events)

    def close(self) -> None:
        self._stream.close()


class AsyncCompletionEventStream(AsyncClosing):
    """What ``await chat.stream_async(…)`` returns: ``async for`` it; ``async with`` releases the connection."""

    def __init__(self, stream: AsyncStream, model: str, owned: AsyncMistralBedrock | None = None) -> None:
        self._stream = stream
        self._owned = owned  # a client made for this stream alone, closed with it
        self._events = self._generate(StreamEvents(model))

    async def _generate(self, events: StreamEvents) -> AsyncIterator[CompletionEvent]:
        try:
            yield events.opening()
            async for delta in self._stream:
                yield events.delta(delta)
            yield events.closing(await self._stream.result())
        finally:
            if self._owned is not None:  # read to its end (or failed): the client made for it goes with it
                await self._owned.close()

    def __aiter__(self) -> AsyncCompletionEventStream:
        return self

    async def __anext__(self) -> CompletionEvent:
        return await self._events.__anext__()

    async def close(self) -> None:
        await self._stream.close()
        if self._owned is not None:
            await self._owned.close()


# -- the namespace -------------------------------------------------------------------------------------------
class Chat:
    """``client.chat``: Mistral's chat methods, with ``mistralai``'s keywords and answers, on either client.

    As on ``mistralai``'s one client, both kinds of call are there: on :class:`MistralBedrock`, the async methods
    run through an :class:`AsyncMistralBedrock` made for each call on the caller's event loop (an async client's
    connections belong to the loop that opened them) and closed after it; on :class:`AsyncMistralBedrock`, the sync
    methods run through a :class:`MistralBedrock` made on first use and closed with the client.

    Args:
        client: The client whose settings and endpoint every call uses.
    """

    def __init__(self, client: MistralBedrock | AsyncMistralBedrock) -> None:
        self._client = client
        self._sync_twin: MistralBedrock | None = None

    def _sync(self) -> MistralBedrock:
        from .sync import MistralBedrock

        if self._client._closed:
            raise ClientClosedError
        if isinstance(self._client, MistralBedrock):
            return self._client
        if self._sync_twin is None:
            self._sync_twin = MistralBedrock.like(self._client)
        return self._sync_twin

    def _async(self) -> tuple[AsyncMistralBedrock, bool]:
        """The async client for one call, and whether the call owns (and closes) it."""
        from .aio import AsyncMistralBedrock

        if self._client._closed:
            raise ClientClosedError
        if isinstance(self._client, AsyncMistralBedrock):
            return self._client, False
        return AsyncMistralBedrock.like(self._client), True

    def close(self) -> None:
        """Close the sync client made for an async client's sync calls (the client's ``close`` calls this)."""
        if self._sync_twin is not None:
            self._sync_twin.close()
            self._sync_twin = None

    def complete(
        self, *, model: str, messages: Iterable[object], **options: Unpack[ChatOptions]
    ) -> ChatCompletionResponse:
        """A whole answer (``mistralai``'s ``chat.complete``)."""
        client = self._sync()
        prepared = prepare_chat(client._core, model, messages, options, stream=False)
        return completion_response(client._call(prepared))

    def stream(
        self, *, model: str, messages: Iterable[object], **options: Unpack[ChatOptions]
    ) -> CompletionEventStream:
        """The answer as events (``mistralai``'s ``chat.stream``). The request is sent now, as there."""
        from .sync import Stream

        client = self._sync()
        prepared = prepare_chat(client._core, model, messages, options, stream=True)
        stream = Stream(client, prepared)
        stream.__enter__()
        return CompletionEventStream(stream, prepared.model.identifier)

    async def complete_async(
        self, *, model: str, messages: Iterable[object], **options: Unpack[ChatOptions]
    ) -> ChatCompletionResponse:
        """``complete``, awaitable."""
        client, owned = self._async()
        try:
            prepared = prepare_chat(client._core, model, messages, options, stream=False)
            return completion_response(await client._call(prepared))
        finally:
            if owned:
                await client.close()

    async def stream_async(
        self, *, model: str, messages: Iterable[object], **options: Unpack[ChatOptions]
    ) -> AsyncCompletionEventStream:
        """``stream``, awaited before iterating as in ``mistralai``: ``async for e in await chat.stream_async(…)``."""
        from .aio import AsyncStream

        client, owned = self._async()
        try:
            prepared = prepare_chat(client._core, model, messages, options, stream=True)
            stream = AsyncStream(client, prepared)
            await stream.__aenter__()
        except BaseException:
            if owned:
                await client.close()
            raise
        return AsyncCompletionEventStream(stream, prepared.model.identifier, client if owned else None)
