"""The asynchronous client: :class:`AsyncMistralBedrock`, the same methods as the sync one, awaitable.

Truly async: I/O goes through ``httpx.AsyncClient``, backoff through ``asyncio.sleep``, and nothing blocks the
event loop for the network, so N concurrent calls overlap.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
from typing_extensions import Unpack

from ..catalog import Dialect, lookup
from ..conversation import Delta, Message
from ..errors import MistralBedrockError, StreamError, TransportError
from ..prompt import count_tokens as _count_tokens
from .conversation import ConversationState
from .core import ClientCore, Prepared, StreamState
from .inputs import MessagesInput, ToolsInput, to_messages, to_tools
from .result import Result
from .retry import RetryPolicy
from .settings import LOCAL_CREDENTIALS, ClientSettings, Sampling, params
from .tools import ToolLoop, ToolRun

if TYPE_CHECKING:
    from ..runtime import RuntimeConfig, ServerThread

__all__ = ["AsyncConversation", "AsyncMistralBedrock", "AsyncStream"]


class AsyncStream:
    """The async twin of :class:`~.sync.Stream`: ``async with``, ``async for``, then ``await stream.result()``."""

    def __init__(
        self, client: AsyncMistralBedrock, prepared: Prepared, on_done: Callable[[Result], None] | None = None
    ) -> None:
        self._client = client
        self._prepared = prepared
        self._on_done = on_done
        self._response: httpx.Response | None = None
        self._state: StreamState | None = None
        self._result: Result | None = None

    @property
    def request_body(self) -> Mapping[str, Any]:
        """The body this stream sends (or sent)."""
        return self._prepared.body

    async def __aenter__(self) -> AsyncStream:
        await self._open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _open(self) -> StreamState:
        if self._state is None:
            started = time.perf_counter()
            self._response = await self._client._send(self._prepared)
            self._state = ClientCore.stream_state(self._prepared, self._response.headers, started)
        return self._state

    async def __aiter__(self) -> AsyncIterator[Delta]:
        state = await self._open()
        assert self._response is not None
        if self._result is not None:
            return
        try:
            async for data in self._response.aiter_raw():
                for delta in state.feed(data):
                    if delta.text or delta.tool_calls:
                        yield delta
        except httpx.HTTPError as exc:
            raise state.broken(f"the connection broke mid-stream: {exc}") from exc
        finally:
            await self.close()
        self._result = state.finish()
        if self._on_done is not None:
            self._on_done(self._result)

    async def text_stream(self) -> AsyncIterator[str]:
        """Only the text, piece by piece."""
        async for delta in self:
            if delta.text:
                yield delta.text

    async def result(self) -> Result:
        """The whole answer; reads whatever of the stream was not read yet."""
        if self._result is None:
            async for _ in self:
                pass
        assert self._result is not None
        return self._result

    async def close(self) -> None:
        if self._response is not None:
            await self._response.aclose()


class AsyncConversation:
    """The async twin of :class:`~.sync.Conversation`."""

    def __init__(self, client: AsyncMistralBedrock, state: ConversationState) -> None:
        self._client = client
        self.state = state

    @property
    def history(self) -> list[Message]:
        return self.state.history

    @property
    def last_prompt(self) -> str | None:
        return self.state.last_prompt

    async def send(self, text: str) -> Result:
        prepared, turns = self.state.prepare(self._client._core, text, stream=False)
        result = await self._client._call(prepared)
        self.state.commit(prepared, turns, result)
        return result

    def stream(self, text: str) -> AsyncStream:
        prepared, turns = self.state.prepare(self._client._core, text, stream=True)
        return AsyncStream(self._client, prepared, lambda result: self.state.commit(prepared, turns, result))

    def load(self, history: list[Message]) -> None:
        """Replace the history, e.g. with a saved conversation."""
        self.state.load(history)

    def reset(self) -> None:
        self.state.reset()


class AsyncMistralBedrock:
    """Mistral models on Bedrock, asynchronously. Arguments as for :class:`~.sync.MistralBedrock`."""

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        settings = ClientSettings(
            region, profile, endpoint_url, aws_access_key_id, aws_secret_access_key, aws_session_token, api_key,
            timeout, connect_timeout,
        )  # fmt: skip
        self._core = settings.core()
        self.retry = retry or RetryPolicy()
        self._owns_http = http_client is None
        self._http = http_client or settings.async_http()
        self._server: ServerThread | None = None

    @classmethod
    def local(cls, config: RuntimeConfig | None = None, **kwargs: Any) -> AsyncMistralBedrock:
        """A client wired to an embedded runtime started now in a background thread (closed with the client)."""
        from ..runtime import ServerThread

        server = ServerThread(config=config).start()
        client = cls(endpoint_url=server.url, region="us-east-1", **{**LOCAL_CREDENTIALS, **kwargs})
        client._server = server
        return client

    @property
    def endpoint_url(self) -> str:
        return self._core.endpoint_url

    @property
    def region(self) -> str:
        return self._core.region

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()
        if self._server is not None:
            # Stopping joins the server thread; do it off the event loop.
            await asyncio.to_thread(self._server.stop)
            self._server = None

    async def __aenter__(self) -> AsyncMistralBedrock:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- transport --------------------------------------------------------------------------------------
    async def _send(self, prepared: Prepared) -> httpx.Response:
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            error: MistralBedrockError
            try:
                request = self._http.build_request(
                    "POST", self._core.url(prepared), headers=self._core.headers(prepared), content=prepared.payload
                )
                response = await self._http.send(request, stream=prepared.streaming)
                if response.status_code == 200:
                    return response
                body = await response.aread()
                await response.aclose()
                error = self._core.error(response.status_code, response.headers, body)
            except httpx.TransportError as exc:
                error = TransportError(f"{type(exc).__name__}: {exc}")
            delay = self.retry.next_delay(attempt, error, time.monotonic() - started)
            if delay is None:
                raise error
            await asyncio.sleep(delay)

    async def _call(self, prepared: Prepared) -> Result:
        started = time.perf_counter()
        response = await self._send(prepared)
        try:
            return self._core.result(prepared, response.headers, response.content, started)
        except httpx.HTTPError as exc:
            raise StreamError(f"the connection broke while reading the response: {exc}") from exc

    # -- the API --------------------------------------------------------------------------------------
    async def complete(
        self,
        prompt: MessagesInput,
        *,
        model: str = "mistral-7b",
        raw: bool = False,
        **sampling: Unpack[Sampling],
    ) -> Result:
        """See :meth:`MistralBedrock.complete`."""
        p = params(**sampling)
        return await self._call(self._core.complete_call(prompt, model, p, raw=raw))

    async def chat(
        self,
        messages: MessagesInput,
        *,
        model: str = "mistral-large-2402",
        tools: ToolsInput | None = None,
        tool_choice: str | None = None,
        **sampling: Unpack[Sampling],
    ) -> Result:
        """See :meth:`MistralBedrock.chat`."""
        p = params(**sampling)
        return await self._call(self._core.chat_call(messages, model, p, tools, tool_choice))

    async def converse(
        self,
        messages: MessagesInput,
        *,
        model: str = "mistral-large-2402",
        system: str | None = None,
        tools: ToolsInput | None = None,
        tool_choice: str | None = None,
        **sampling: Unpack[Sampling],
    ) -> Result:
        """See :meth:`MistralBedrock.converse`."""
        p = params(**sampling)
        return await self._call(self._core.converse_call(messages, model, p, system, tools, tool_choice))

    def stream(
        self,
        prompt_or_messages: MessagesInput,
        *,
        model: str = "mistral-large-2402",
        tools: ToolsInput | None = None,
        tool_choice: str | None = None,
        raw: bool = False,
        dialect: Dialect | str | None = None,
        **sampling: Unpack[Sampling],
    ) -> AsyncStream:
        """See :meth:`MistralBedrock.stream`."""
        p = params(**sampling)
        prepared = self._core.stream_call(prompt_or_messages, model, p, tools, tool_choice, raw=raw, dialect=dialect)
        return AsyncStream(self, prepared)

    def converse_stream(
        self,
        messages: MessagesInput,
        *,
        model: str = "mistral-large-2402",
        system: str | None = None,
        tools: ToolsInput | None = None,
        tool_choice: str | None = None,
        **sampling: Unpack[Sampling],
    ) -> AsyncStream:
        """See :meth:`MistralBedrock.converse_stream`."""
        p = params(**sampling)
        return AsyncStream(self, self._core.converse_call(messages, model, p, system, tools, tool_choice, stream=True))

    def conversation(
        self, *, model: str = "mixtral-8x7b", system: str | None = None, **sampling: Unpack[Sampling]
    ) -> AsyncConversation:
        """See :meth:`MistralBedrock.conversation`."""
        return AsyncConversation(self, ConversationState(model, system, params(**sampling)))

    async def run_tools(
        self,
        messages: MessagesInput,
        *,
        tools: Sequence[Callable[..., Any]],
        model: str = "mistral-large-2402",
        max_steps: int = 8,
        tool_choice: str | None = None,
        api: str = "chat",
        max_tokens: int | None = None,
    ) -> ToolRun:
        """See :meth:`MistralBedrock.run_tools`; coroutine functions are awaited."""
        loop = ToolLoop(
            to_messages(messages), {f.__name__: f for f in tools}, model, api, tool_choice, max_tokens, max_steps
        )
        while True:
            result = await self._call(loop.prepare(self._core))
            calls = loop.observe(result)
            if not calls:
                return loop.run()
            for call in calls:
                function = loop.function_for(call)
                try:
                    output = function(**call.arguments) if function else None
                    if inspect.isawaitable(output):
                        output = await output
                    loop.record(call, output)
                except Exception as exc:  # the model hears about a failing tool; the loop goes on
                    loop.record(call, error=exc)

    @staticmethod
    def count_tokens(
        prompt_or_messages: MessagesInput, *, model: str = "mistral-7b", tools: ToolsInput | None = None
    ) -> int:
        """See :meth:`MistralBedrock.count_tokens`."""
        return _count_tokens(to_messages(prompt_or_messages), lookup(model), to_tools(tools) or None)
