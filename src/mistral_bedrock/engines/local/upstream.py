"""A model that another server runs: vLLM and llama.cpp's ``llama-server`` by token ids, Ollama by text.

Every Bedrock emulator that forwards to a local server sends it a chat, and the server applies its own Mistral
template, which is where Mistral prompts go wrong (ollama#9628, llama.cpp PR #14148, vllm#8301). This backend
never sends a chat. The engine renders the prompt with mistral-common, and:

* **vLLM** (``#vllm``, the default) gets the ids on ``POST /v1/completions`` (``prompt: [ids]``) and streams ids
  back (``return_token_ids``, vLLM 0.10.2 or later);
* **llama-server** (``#llama-server``) gets them on ``POST /completion`` and streams them back (``return_tokens``);
* **Ollama** (``#ollama=MODEL``) takes and returns text only (``POST /api/generate`` with ``raw: true``): the
  engine sends the rendered prompt's *text* through :meth:`UpstreamBackend.generate_text`, after
  :func:`~.text_guard.check_text_safe` has refused content that Ollama's tokenizer would read as control tokens.

Sampling is sent in full, with neutral values for what the request leaves open and for every sampler the server
would otherwise add from its own defaults (llama.cpp's ``min_p 0.05``, vLLM's generation-config penalties, an
Ollama Modelfile's ``repeat_penalty`` and ``stop``): the same request must sample the same way whichever server
runs the model.

Upstream failures become the Bedrock errors a client already handles: unreachable → ``ServiceUnavailableException``,
429 → ``ThrottlingException``, 503 (llama-server's "Loading model") → ``ModelNotReadyException``, a context
overflow → ``ValidationException``, silence past the read timeout → ``ModelTimeoutException``, anything else (and a
stream that ends without its end marker) → ``ModelErrorException``. A ``ModelErrorException`` keeps Bedrock's
status (424); the upstream's status is in its message.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from ...errors import (
    BedrockError,
    ModelErrorException,
    ModelNotReadyException,
    ModelTimeoutException,
    ServiceUnavailableException,
    ThrottlingException,
    ValidationException,
)
from .token_backend import GenerationSettings, Vocabulary
from .upstream_target import parse_upstream_url
from .upstream_wire import (
    CONTEXT_OVERFLOW,
    INPUT_TOO_LONG,
    error_detail,
    int_ending,
    int_or_none,
    llama_server_body,
    llama_server_ids,
    ollama_pieces,
    sampling,
    sse_data,
    vllm_ids,
)

__all__ = ["UpstreamBackend", "upstream_backend"]


# How often a generation's watcher looks at its ``cancelled`` flag. threading.Event cannot be waited on together
# with another one, so the watcher polls; 50 ms is far below a human's notice and costs nothing measurable.
_WATCH_INTERVAL_S = 0.05


def upstream_backend(url: str) -> UpstreamBackend:
    """The backend for ``upstream:URL`` (the engine registry's factory): :class:`UpstreamBackend` with its defaults.

    Raises:
        ValueError: For a URL :func:`parse_upstream_url` refuses.
    """
    return UpstreamBackend(url)


class _Cancelled(Exception):
    """The generation was cancelled while its stream was being read: end quietly."""


class UpstreamBackend:
    """A model served by vLLM, llama-server (token ids) or Ollama (text), over HTTP.

    A :class:`~.token_backend.TokenBackend` for ``#vllm`` and ``#llama-server``: :meth:`generate` sends ids and yields
    ids. For ``#ollama`` (:attr:`text_mode`), the engine calls :meth:`generate_text` with the prompt's text
    instead, which yields text pieces; :meth:`generate` refuses.

    Args:
        url: ``http(s)://HOST:PORT[/PATH][#vllm[=MODEL]|#llama-server|#ollama=MODEL]`` (see
            :func:`parse_upstream_url`).
        connect_timeout: Seconds to connect; past it the server counts as unreachable.
        read_timeout: Seconds the server may stay silent, before the first id (prefill of a long prompt included)
            and between two.
        api_key: Sent as ``Authorization: Bearer …`` (vLLM's and llama-server's ``--api-key``).
        transport: An httpx transport to use instead of the network (tests).
    """

    #: Servers batch requests themselves; the engine may have this many generations in flight.
    concurrency: int = 8

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 600.0,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.target = parse_upstream_url(url)
        self.name = f"upstream:{self.target}"
        #: The server's context length, once :meth:`vocabulary` has asked (None: unknown).
        self.context_length: int | None = None
        self._read_timeout = read_timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # trust_env off: an upstream is an address the user gave, never to be routed through HTTP_PROXY or to pick
        # up .netrc credentials.
        self._client = httpx.Client(
            base_url=self.target.base_url,
            headers=headers,
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=None),
            transport=transport,
            trust_env=False,
        )

    @property
    def text_mode(self) -> bool:
        """True for Ollama: call :meth:`generate_text` with the prompt's text, not :meth:`generate`."""
        return self.target.text_mode

    # -- the vocabulary --------------------------------------------------------------------------------------

    def vocabulary(self) -> Vocabulary:
        """What the server says of its model: the vocabulary size where it tells it (llama-server, Ollama), and
        its context length (:attr:`context_length`). No pieces: no server lists its control tokens by id.

        Also the first contact with the server, so an unreachable one fails here, naming its URL.

        Raises:
            ServiceUnavailableException: The server cannot be reached.
            ModelErrorException: It answered with an error, or does not serve the model the URL names (Ollama's
                ``#ollama=NAME``, vLLM's ``#vllm=NAME``).
        """
        if self.target.kind == "ollama":
            show = self._get_json("POST", "/api/show", {"model": self.target.model})
            info = show.get("model_info")
            info = info if isinstance(info, dict) else {}
            self.context_length = int_ending(info, ".context_length")
            return Vocabulary(int_ending(info, ".vocab_size"), {})
        models = self._get_json("GET", "/v1/models")
        data = models.get("data")
        entries = [entry for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []
        if self.target.model is not None:
            served = [str(entry.get("id")) for entry in entries]
            entries = [entry for entry in entries if entry.get("id") == self.target.model]
            if not entries:
                raise ModelErrorException(
                    f"The upstream model server {self.target} serves {', '.join(served) or 'no model'}, "
                    f"not {self.target.model}."
                )
        entry = entries[0] if entries else {}
        if self.target.kind == "vllm":
            self.context_length = int_or_none(entry.get("max_model_len"))
            return Vocabulary(None, {})
        meta = entry.get("meta")
        meta = meta if isinstance(meta, dict) else {}
        self.context_length = self._llama_server_context() or int_or_none(meta.get("n_ctx_train"))
        return Vocabulary(int_or_none(meta.get("n_vocab")), {})

    def _llama_server_context(self) -> int | None:
        """A request's context in llama-server (``/props``: its slots' ``n_ctx``, which ``-c`` and ``--parallel``
        set, often below the model's trained length); None when ``/props`` does not say."""
        try:
            props = self._get_json("GET", "/props")
        except BedrockError:
            return None
        settings = props.get("default_generation_settings")
        return int_or_none(settings.get("n_ctx")) if isinstance(settings, dict) else None

    # -- generation --------------------------------------------------------------------------------------------

    def generate(
        self, prompt_ids: Sequence[int], settings: GenerationSettings, cancelled: threading.Event
    ) -> Iterator[int]:
        """Stream the ids the server generates after ``prompt_ids``, until ``settings.max_tokens``, a stop id (the
        last one yielded), the server's own end, or ``cancelled``.

        ``max_tokens`` and the stop ids are also enforced here, so a server that ignores them (llama-server knows
        no stop ids but its model's end-of-generation ids) still ends where the request says; ending early closes
        the stream, which tells the server to stop.

        Raises:
            TypeError: For a text-only upstream (Ollama): use :meth:`generate_text`.
            BedrockError: As the module says.
        """
        if self.text_mode:
            raise TypeError(f"{self.name} takes text, not token ids: call generate_text(prompt_text, …)")
        if cancelled.is_set():
            return
        ids = [int(token_id) for token_id in prompt_ids]
        if self.target.kind == "vllm":
            path, body, read = "/v1/completions", self._vllm_body(ids, settings), vllm_ids
        else:
            path, body, read = "/completion", llama_server_body(ids, settings), llama_server_ids
        produced = 0
        try:
            with _Stream(self, path, body, cancelled) as stream:
                for chunk in read(sse_data(stream.lines())):
                    for token_id in chunk:
                        yield token_id
                        produced += 1
                        if token_id in settings.stop_ids or produced >= settings.max_tokens:
                            return
                    if cancelled.is_set():
                        return
        except _Cancelled:
            return

    def generate_text(
        self, prompt_text: str, settings: GenerationSettings, cancelled: threading.Event
    ) -> Iterator[int | str]:
        """Stream the text a text-only upstream (Ollama) generates after ``prompt_text``, in the pieces it sends.

        ``prompt_text`` is the rendered prompt's text (``Rendered.text``: control tokens spelled out), whose content
        :func:`~.text_guard.check_text_safe` has passed. A leading ``<s>`` is dropped: the server adds the BOS
        itself, and a
        second one changes the output. ``settings.max_tokens`` goes to the server (``num_predict``), which counts
        with the model's own tokenizer; the stop ids cannot be sent (the server stops at its model's end of
        sequence, and its text does not show it: an answer the model ended ends with the first stop id). The engine
        counts the pieces' tokens itself.

        Raises:
            TypeError: For an upstream that takes ids: use :meth:`generate`.
            BedrockError: As the module says.
        """
        if not self.text_mode:
            raise TypeError(f"{self.name} takes token ids: call generate(prompt_ids, …)")
        if cancelled.is_set():
            return
        prompt = prompt_text.removeprefix("<s>")
        try:
            with _Stream(self, "/api/generate", self._ollama_body(prompt, settings), cancelled) as stream:
                for piece in ollama_pieces(stream.lines(), settings.stop_ids):
                    if piece != "":
                        yield piece
                    if cancelled.is_set():
                        return
        except _Cancelled:
            return

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    # -- request bodies ----------------------------------------------------------------------------------------

    def _vllm_body(self, ids: list[int], settings: GenerationSettings) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": ids, "max_tokens": settings.max_tokens, **sampling(settings, no_top_k=-1)}
        if self.target.model is not None:
            body["model"] = self.target.model
        body.update(
            stream=True,
            return_token_ids=True,
            skip_special_tokens=False,
            add_special_tokens=False,  # the ids carry their own BOS
            stop_token_ids=sorted(settings.stop_ids),
            ignore_eos=False,
            # vLLM fills what a request leaves out from the model's generation_config.json: say them.
            repetition_penalty=1.0,
            min_p=0.0,
        )
        return body

    def _ollama_body(self, prompt: str, settings: GenerationSettings) -> dict[str, Any]:
        options = {**sampling(settings, no_top_k=0), "num_predict": settings.max_tokens}
        # A Modelfile's PARAMETERs apply to raw requests too (Ollama's Mistral models set stop "[INST]"…).
        options.update(repeat_penalty=1.0, min_p=0.0, stop=[])
        return {"model": self.target.model, "prompt": prompt, "raw": True, "stream": True, "options": options}

    # -- plumbing -------------------------------------------------------------------------------------------

    def _get_json(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        if response.status_code != 200:
            raise self._status_error(response.status_code, response.content)
        try:
            answer = response.json()
        except ValueError as exc:
            raise ModelErrorException(f"The upstream model server {self.target} sent no JSON for {path}") from exc
        return answer if isinstance(answer, dict) else {}

    def _transport_error(self, exc: httpx.HTTPError) -> BedrockError:
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            return ServiceUnavailableException(f"The upstream model server {self.target} cannot be reached: {exc}")
        if isinstance(exc, httpx.TimeoutException):
            return ModelTimeoutException(
                f"The upstream model server {self.target} sent nothing for {self._read_timeout:g} s."
            )
        return ModelErrorException(f"The connection to the upstream model server {self.target} broke: {exc!r}")

    def _status_error(self, status: int, body: bytes) -> BedrockError:
        detail = error_detail(body)
        if status == 429:
            return ThrottlingException(
                f"Too many requests, please wait before trying again. (The upstream model server answered 429: "
                f"{detail})"
            )
        if status == 503:
            return ModelNotReadyException(
                f"Model is not ready to serve inference requests. Try again later. (The upstream model server "
                f"answered 503: {detail})"
            )
        if CONTEXT_OVERFLOW.search(detail):
            return ValidationException(INPUT_TOO_LONG)
        return ModelErrorException(f"The upstream model server {self.target} answered {status}: {detail}")


class _Stream:
    """One streamed answer: opened on entry (HTTP errors raised as Bedrock errors), closed on exit, and cut from a
    watcher thread as soon as ``cancelled`` is set — also while the reader is blocked waiting for the server (a
    long prefill), which a check between chunks could not do."""

    def __init__(self, backend: UpstreamBackend, path: str, body: dict[str, Any], cancelled: threading.Event) -> None:
        self._backend = backend
        self._path = path
        self._body = body
        self._cancelled = cancelled
        self._finished = threading.Event()
        self._response: httpx.Response | None = None

    def __enter__(self) -> _Stream:
        client = self._backend._client
        try:
            response = client.send(client.build_request("POST", self._path, json=self._body), stream=True)
        except httpx.HTTPError as exc:
            raise self._backend._transport_error(exc) from exc
        if response.status_code != 200:
            try:
                body = response.read()
            except httpx.HTTPError:
                body = b""
            finally:
                response.close()
            raise self._backend._status_error(response.status_code, body)
        self._response = response
        threading.Thread(target=self._watch, name=f"{self._backend.name}-cancel", daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._finished.set()
        if self._response is not None:
            self._response.close()

    def lines(self) -> Iterator[str]:
        """The response's lines, as they arrive.

        Raises:
            _Cancelled: ``cancelled`` was set and the stream was cut (or ended).
            BedrockError: The connection broke or timed out.
        """
        assert self._response is not None
        try:
            yield from self._response.iter_lines()
        except httpx.HTTPError as exc:
            if self._cancelled.is_set():
                raise _Cancelled from exc
            raise self._backend._transport_error(exc) from exc
        if self._cancelled.is_set():
            raise _Cancelled
        raise ModelErrorException(
            f"The upstream model server {self._backend.target}'s stream ended before its end marker."
        )

    def _watch(self) -> None:
        while not self._cancelled.wait(_WATCH_INTERVAL_S):
            if self._finished.is_set():
                return
        if not self._finished.is_set() and self._response is not None:
            _cut(self._response)


def _cut(response: httpx.Response) -> None:
    """End a response from another thread: shut its socket down, which wakes a reader blocked in ``recv`` (closing
    the socket would not) and tells the server the client left, so it stops generating."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


# -- wire formats ------------------------------------------------------------------------------------------------
