"""The synchronous client, :class:`MistralBedrock`, generated from ``aio.py``.

Do not edit: change ``aio.py`` and run ``python scripts/unasync.py``. Both shells drive the same I/O-free
core, so they differ only in how they wait for bytes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from typing_extensions import Unpack

from ..catalog import lookup
from ..conversation import Message
from ..errors import MistralBedrockError, StreamError, TransportError
from ..prompt import count_tokens as _count_tokens
from .closing import Closing
from .defaults import DEFAULT_MODEL
from .inputs import MessagesInput, ToolsInput, to_messages, to_tools
from .mistral_api import Chat
from .multi_turn import ConversationState, PendingTurn
from .prepared import Prepared
from .result import Result
from .retry import RetryPolicy
from .settings import LOCAL_CREDENTIALS, ClientSettings, Sampling, params
from .sync_stream import Stream, connection_broke
from .tools import ToolLoop, ToolRun, tool_output
from .usage_errors import ClientClosedError

if TYPE_CHECKING:
    from ..runtime import RuntimeConfig, ServerThread

__all__ = ["Conversation", "MistralBedrock", "Stream"]


class Conversation:
    """A multi-turn chat that keeps its history (see :class:`~.multi_turn.ConversationState`)."""

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


class MistralBedrock(Closing):
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

    # -- transport --------------------------------------------------------------------------------------
    def _send(self, prepared: Prepared, retry: RetryPolicy | None = None) -> httpx.Response:
        """POST with retries (``retry``, else the client's policy) until a 200 arrives (for streams: until its
        headers do)."""
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
            delay = (retry or self.retry).next_delay(attempt, error, time.monotonic() - started)
            if delay is None:
                raise error
            time.sleep(delay)

    def _call(self, prepared: Prepared, retry: RetryPolicy | None = None) -> Result:
        started = time.perf_counter()
        response = self._send(prepared, retry)
        try:
            return self._core.result(prepared, response.headers, response.content, started)
        except httpx.HTTPError as exc:
            raise StreamError(f"the connection broke while reading the response: {connection_broke(exc)}") from exc

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

    def invoke_body(
        self, model: str, body: Mapping[str, Any], *, converse: bool = False, retry: RetryPolicy | None = None
    ) -> Result:
        """Send a request body as written: an InvokeModel body in any dialect the model takes, or, with
        ``converse``, a Converse request without ``modelId`` (a batch record's ``modelInput``). The body is checked
        first, so one Bedrock would refuse raises its ``ValidationException`` before any I/O; ``retry`` replaces the
        client's retry policy for this call (``RetryPolicy(max_attempts=1)``: no retries)."""
        return self._call(self._core.body_call(model, body, converse=converse), retry)

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
