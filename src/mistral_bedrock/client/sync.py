"""The synchronous client, :class:`MistralBedrock`: generated from ``aio.py`` by
``scripts/unasync.py``.

Do not edit: change ``aio.py`` and run ``python scripts/unasync.py``. Both clients drive the same I/O-free core
(:class:`~.core.ClientCore`), so they differ only in how they wait for bytes.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
from typing_extensions import Unpack

from ..catalog import lookup
from ..conversation import Delta, Message
from ..errors import MistralBedrockError, StreamError, TransportError
from ..prompt import count_tokens as _count_tokens
from .core import ClientCore
from .defaults import DEFAULT_MODEL
from .inputs import MessagesInput, ToolsInput, to_messages, to_tools
from .mistral_api import Chat
from .multi_turn import ConversationState, PendingTurn
from .prepared import Prepared
from .result import Result
from .retry import RetryPolicy
from .settings import LOCAL_CREDENTIALS, ClientSettings, Sampling, params
from .stream_state import StreamState
from .tools import ToolLoop, ToolRun, tool_output
from .usage_errors import ClientClosedError

if TYPE_CHECKING:
    from ..runtime import RuntimeConfig, ServerThread

__all__ = ["Conversation", "MistralBedrock", "Stream"]


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
                reason = "the stream was closed before its end" if closed_by_us else _broke(exc)
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


def _broke(exc: httpx.HTTPError) -> str:
    return f"the connection broke mid-stream: {str(exc) or type(exc).__name__}"


class Conversation:
    """A multi-turn chat that keeps its history (see :class:`~.conversation.ConversationState`)."""

    def __init__(self, client: MistralBedrock, state: ConversationState) -> None:
        self._client = client
        self.state = state

    @property
    def history(self) -> list[Message]:
        return self.state.history

    @property
    def last_prompt(self) -> str | None:
        """For text models, the exact prompt (with ``<s>``/``</s>``) sent last."""
        return self.state.last_prompt

    def send(self, text: str) -> Result:
        """Send the next user turn and add it, with its answer, to the history."""
        pending = self.state.prepare(self._client._core, text, stream=False)
        result = self._client._call(pending.prepared)
        self.state.commit(pending, result)
        return result

    def stream(self, text: str) -> Stream:
        """Stream the next answer; the turn joins the history only when the stream completes."""
        pending = self.state.prepare(self._client._core, text, stream=True)
        return Stream(self._client, pending.prepared, lambda result: self._commit(pending, result))

    def _commit(self, pending: PendingTurn, result: Result) -> None:
        self.state.commit(pending, result)

    def load(self, history: list[Message]) -> None:
        """Replace the history, e.g. with a saved conversation."""
        self.state.load(history)

    def reset(self) -> None:
        self.state.reset()


class MistralBedrock:
    """Mistral models on Bedrock, synchronously.

    With no arguments it uses the standard AWS chain for credentials and region, and honours
    ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` and ``AWS_BEARER_TOKEN_BEDROCK``. :meth:`local` starts the embedded
    runtime instead. Every method that takes a ``model`` defaults to :data:`~.defaults.DEFAULT_MODEL`. Text with a
    lone UTF-16 surrogate (``"\\ud800"``) is sent with U+FFFD in its place, as the runtime reads it; the HTTP clients
    built here keep no cookies (Bedrock sets none).

    Args:
        region: AWS region; from the chain when omitted.
        profile: Shared-config profile.
        endpoint_url: Another endpoint (a local runtime, a proxy, a VPC endpoint).
        aws_access_key_id: Explicit credentials (with ``aws_secret_access_key``, ``aws_session_token``).
        api_key: A Bedrock API key, sent as ``Authorization: Bearer``.
        timeout: Read timeout in seconds; ``connect_timeout`` for connecting.
        retry: Retry policy (5 attempts with jittered backoff by default).
        http_client: An ``httpx.Client`` to use (the client will not close one it did not create).
    """

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
        http_client: httpx.Client | None = None,
    ) -> None:
        settings = ClientSettings(
            region, profile, endpoint_url, aws_access_key_id, aws_secret_access_key, aws_session_token, api_key,
            timeout, connect_timeout,
        )  # fmt: skip
        self._settings = settings
        self._core = settings.core()
        self.retry = retry or RetryPolicy()
        self._owns_http = http_client is None
        self._http = http_client or settings.sync_http()
        self._server: ServerThread | None = None
        self._closed = False
        #: Mistral's chat API, as ``mistralai`` spells it: ``chat.complete``, ``chat.stream``, their ``_async``
        #: forms (see :class:`~.mistral_api.Chat`).
        self.chat = Chat(self)

    @classmethod
    def like(cls, other: Any) -> MistralBedrock:
        """A client with the settings, endpoint and retry policy of ``other`` (of either kind), sharing nothing
        else: its own connections, and no embedded runtime to stop."""
        return cls(**dataclasses.asdict(other._settings), retry=other.retry)

    @classmethod
    def local(cls, config: RuntimeConfig | None = None, **kwargs: Any) -> MistralBedrock:
        """A client wired to an embedded runtime started now in a background thread (closed with the client)."""
        from ..runtime import ServerThread

        server = ServerThread(config=config).start()
        client = cls(endpoint_url=server.url, **{"region": "us-east-1", **LOCAL_CREDENTIALS, **kwargs})
        client._server = server
        return client

    @property
    def endpoint_url(self) -> str:
        return self._core.endpoint_url

    @property
    def region(self) -> str:
        return self._core.region

    def close(self) -> None:
        """Close the connections (and an embedded runtime); later calls raise :class:`ClientClosedError`."""
        self._closed = True
        self.chat.close()
        if self._owns_http:
            self._http.close()
        if self._server is not None:
            server, self._server = self._server, None
            server.stop()

    def __enter__(self) -> MistralBedrock:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- transport --------------------------------------------------------------------------------------
    def _send(self, prepared: Prepared) -> httpx.Response:
        """POST with retries until a 200 arrives (for streams: until its headers do)."""
        if self._closed:
            raise ClientClosedError
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            error: MistralBedrockError
            try:
                request = self._http.build_request(
                    "POST", self._core.url(prepared), headers=self._core.headers(prepared), content=prepared.payload
                )
                response = self._http.send(request, stream=prepared.streaming)
                if response.status_code == 200:
                    return response
                body = response.read()
                response.close()
                error = self._core.error(response.status_code, response.headers, body)
            except httpx.TransportError as exc:
                if self._closed:  # closed by another task while this call waited
                    raise ClientClosedError from exc
                error = TransportError(f"{type(exc).__name__}: {exc}")
            delay = self.retry.next_delay(attempt, error, time.monotonic() - started)
            if delay is None:
                raise error
            time.sleep(delay)

    def _call(self, prepared: Prepared) -> Result:
        started = time.perf_counter()
        response = self._send(prepared)
        try:
            return self._core.result(prepared, response.headers, response.content, started)
        except httpx.HTTPError as exc:
            raise StreamError(f"the connection broke while reading the response: {_broke(exc)}") from exc

    # -- the API --------------------------------------------------------------------------------------
    def complete_text(
        self, prompt: MessagesInput, *, model: str = DEFAULT_MODEL, raw: bool = False, **sampling: Unpack[Sampling]
    ) -> Result:
        """A completion in the text dialect (``prompt`` → ``outputs``). A string is one user turn; messages are
        rendered tokenizer-exactly; ``raw=True`` sends the string as the prompt verbatim."""
        return self._call(self._core.complete_call(prompt, model, params(**sampling), raw=raw))

    def stream_text(
        self, prompt: MessagesInput, *, model: str = DEFAULT_MODEL, raw: bool = False, **sampling: Unpack[Sampling]
    ) -> Stream:
        """:meth:`complete_text`, streamed (InvokeModelWithResponseStream)."""
        return Stream(self, self._core.complete_call(prompt, model, params(**sampling), raw=raw, stream=True))

    def complete_chat(
        self,
        messages: MessagesInput,
        *,
        model: str = DEFAULT_MODEL,
        tools: ToolsInput | None = None,
        tool_choice: str | None = None,
        **sampling: Unpack[Sampling],
    ) -> Result:
        """A completion in Mistral's chat dialect (``messages``, ``tools``, ``tool_choice`` auto/any/none →
        ``choices``), for the models that take it."""
        p = params(**sampling)
        return self._call(self._core.chat_call(messages, model, p, tools, tool_choice))

    def stream_chat(
        self,
        messages: MessagesInput,
        *,
        model: str = DEFAULT_MODEL,
        tools: ToolsInput | None = None,
        tool_choice: str | None = None,
        **sampling: Unpack[Sampling],
    ) -> Stream:
        """:meth:`complete_chat`, streamed (InvokeModelWithResponseStream)."""
        p = params(**sampling)
        return Stream(self, self._core.chat_call(messages, model, p, tools, tool_choice, stream=True))

    def converse(
        self,
        messages: MessagesInput,
        *,
        model: str = DEFAULT_MODEL,
        system: str | None = None,
        tools: ToolsInput | None = None,
        tool_choice: str | None = None,
        **sampling: Unpack[Sampling],
    ) -> Result:
        """The Converse API, with Mistral's rules applied to the history before it is sent."""
        p = params(**sampling)
        return self._call(self._core.converse_call(messages, model, p, system, tools, tool_choice))

    def converse_stream(
        self,
        messages: MessagesInput,
        *,
        model: str = DEFAULT_MODEL,
        system: str | None = None,
        tools: ToolsInput | None = None,
        tool_choice: str | None = None,
        **sampling: Unpack[Sampling],
    ) -> Stream:
        """ConverseStream (Mistral models do not stream tool use; Bedrock rejects tools here)."""
        p = params(**sampling)
        return Stream(self, self._core.converse_call(messages, model, p, system, tools, tool_choice, stream=True))

    def conversation(
        self, *, model: str = DEFAULT_MODEL, system: str | None = None, **sampling: Unpack[Sampling]
    ) -> Conversation:
        """A multi-turn conversation in the model's native dialect; ``sampling`` parameters apply to every turn."""
        return Conversation(self, ConversationState(model, system, params(**sampling)))

    def run_tools(
        self,
        messages: MessagesInput,
        *,
        tools: Sequence[Callable[..., Any]],
        model: str = DEFAULT_MODEL,
        max_steps: int = 8,
        tool_choice: str | None = None,
        api: str = "chat",
        max_tokens: int | None = None,
    ) -> ToolRun:
        """Let the model call Python functions until it answers in text (see :mod:`.tools`); what a coroutine
        function returns is run to its end."""
        loop = ToolLoop(
            to_messages(messages), {f.__name__: f for f in tools}, model, api, tool_choice, max_tokens, max_steps
        )
        while True:
            result = self._call(loop.prepare(self._core))
            calls = loop.observe(result)
            if not calls:
                return loop.run()
            for call in calls:
                function = loop.function_for(call)
                try:
                    output = tool_output(function(**call.arguments)) if function else None
                    loop.record(call, output)
                except Exception as exc:  # the model hears about a failing tool; the loop goes on
                    loop.record(call, error=exc)

    @staticmethod
    def count_tokens(
        prompt_or_messages: MessagesInput, *, model: str = DEFAULT_MODEL, tools: ToolsInput | None = None
    ) -> int:
        """Input tokens for a conversation, counted offline with the model's real tokenizer."""
        return _count_tokens(to_messages(prompt_or_messages), lookup(model), to_tools(tools) or None)
