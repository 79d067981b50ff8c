"""A STAND-IN upstream server for the upstream backend's tests — not vLLM, not llama-server, not Ollama.

It speaks just enough of each one's streaming wire format to test the client side (what the real servers send was
read from their documentation and source: vLLM's ``/v1/completions`` with ``return_token_ids``, llama.cpp's
``tools/server/README.md``, Ollama's ``docs/api.md``):

* ``POST /v1/completions`` — vLLM: server-sent events, ids in ``choices[0].token_ids``, ends with ``data: [DONE]``;
* ``POST /completion`` — llama-server: server-sent events (after a ``: ping`` comment), ids in ``tokens``, ends
  with a chunk whose ``stop`` is true;
* ``POST /api/generate`` — Ollama: one JSON object per line, text in ``response``, ends with ``done: true``;
* ``GET /v1/models`` and ``POST /api/show`` — what the servers say of their model.

It generates no language: the ids are :attr:`StandInUpstream.reply`, or by default :func:`derived_reply` of the
prompt ids (deterministic), and the text is :attr:`StandInUpstream.text_reply`. Like the real servers it honours
``max_tokens``/``n_predict``/``num_predict``, vLLM's ``stop_token_ids``, and ``</s>`` (id 2) as the end of
generation, unless :attr:`StandInUpstream.honour_limits` is off.

It records every request it receives (:attr:`StandInUpstream.requests`) and can fail on purpose: an error status
with a body, a stream cut after some chunks, an error chunk, chunks without ids, or a stream held open until the
client leaves (:attr:`StandInUpstream.disconnected` is set when it does). uvicorn serves it from a thread on an
ephemeral loopback port, as ``mistral_bedrock.runtime.server_thread`` serves the runtime.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

__all__ = [
    "EOS",
    "LLAMA_SERVER_MODELS",
    "LLAMA_SERVER_PROPS",
    "OLLAMA_SHOW",
    "VLLM_MODELS",
    "StandInUpstream",
    "derived_reply",
]

#: ``</s>`` in every Mistral tokenizer: the stand-in's end of generation.
EOS = 2

VLLM_MODELS: dict[str, Any] = {
    "object": "list",
    "data": [{"id": "stand-in", "object": "model", "owned_by": "vllm", "max_model_len": 4096}],
}
LLAMA_SERVER_MODELS: dict[str, Any] = {
    "object": "list",
    "data": [
        {
            "id": "stand-in.gguf",
            "object": "model",
            "owned_by": "llamacpp",
            "meta": {"vocab_type": 1, "n_vocab": 32768, "n_ctx_train": 32768, "n_embd": 64},
        }
    ],
}
LLAMA_SERVER_PROPS: dict[str, Any] = {"default_generation_settings": {"n_ctx": 2048}, "total_slots": 4}
OLLAMA_SHOW: dict[str, Any] = {
    "model_info": {"general.architecture": "llama", "llama.vocab_size": 32768, "llama.context_length": 32768}
}


def derived_reply(prompt_ids: list[int]) -> list[int]:
    """The stand-in model's answer to ``prompt_ids``: six ids that depend on the prompt, then ``</s>``."""
    base = sum(prompt_ids)
    return [100 + (base + 7 * i) % 900 for i in range(6)] + [EOS]


@dataclass
class StandInUpstream:
    """The STAND-IN server's script and record. Set the attributes before a request; read the record after.

    Attributes:
        reply: The ids to generate (None: :func:`derived_reply` of the prompt).
        text_reply: Ollama's text pieces.
        per_chunk: Ids per streamed chunk (vLLM may batch several).
        honour_limits: Stop at max_tokens, stop ids and ``</s>`` as the real servers do; off, send the whole reply.
        status: Answer this status with ``error_body`` instead of streaming.
        error_body: The error answer's JSON.
        done_reason: Ollama's last line's ``done_reason``: ``stop`` (the model ended) or ``length`` (num_predict).
        cut_after: End the stream cleanly after this many chunks, without the end marker.
        hold_after: After this many chunks, send nothing more and wait for the client to leave.
        error_after: After this many chunks, send an in-stream error chunk (then the end marker).
        without_ids: Send text chunks without ids (a server that ignored ``return_token_ids``).
        models: What ``GET /v1/models`` answers.
        props: What llama-server's ``GET /props`` answers (None: 404, as vLLM would).
        requests: ``(method, path, JSON body)`` of every request received.
        holding: Set once a held stream has sent its chunks (its headers included).
        disconnected: Set when the client leaves a held stream.
    """

    reply: list[int] | None = None
    text_reply: list[str] = field(default_factory=lambda: ["Hello", ",", " world", "!"])
    per_chunk: int = 1
    honour_limits: bool = True
    status: int = 200
    error_body: dict[str, Any] = field(default_factory=dict)
    done_reason: str = "stop"
    cut_after: int | None = None
    hold_after: int | None = None
    error_after: int | None = None
    without_ids: bool = False
    models: dict[str, Any] = field(default_factory=lambda: dict(VLLM_MODELS))
    props: dict[str, Any] | None = None
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    holding: threading.Event = field(default_factory=threading.Event)
    disconnected: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/v1/completions", self._vllm, methods=["POST"]),
                Route("/completion", self._llama_server, methods=["POST"]),
                Route("/api/generate", self._ollama, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/api/show", self._show, methods=["POST"]),
                Route("/props", self._props, methods=["GET"]),
            ]
        )
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._ready = threading.Event()
        self._server = _Server(
            uvicorn.Config(
                self.app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
            ),
            self._ready,
        )
        self._thread = threading.Thread(target=self._run, name="stand-in-upstream", daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, without a server kind."""
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def __enter__(self) -> StandInUpstream:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("the stand-in upstream did not start")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    # -- endpoints ---------------------------------------------------------------------------------------

    async def _record(self, request: Request) -> Any:
        body = await request.json() if request.method == "POST" else None
        self.requests.append((request.method, request.url.path, body))
        return body

    async def _models(self, request: Request) -> Response:
        await self._record(request)
        return JSONResponse(self.models)

    async def _props(self, request: Request) -> Response:
        await self._record(request)
        if self.props is None:
            return JSONResponse({"error": {"code": 404, "message": "File Not Found"}}, status_code=404)
        return JSONResponse(self.props)

    async def _show(self, request: Request) -> Response:
        await self._record(request)
        if self.status != 200:
            return JSONResponse(self.error_body, status_code=self.status)
        return JSONResponse(OLLAMA_SHOW)

    def _ids(self, prompt: list[int], limit: int, stop_ids: set[int]) -> list[int]:
        reply = list(self.reply) if self.reply is not None else derived_reply(prompt)
        if not self.honour_limits:
            return reply
        out: list[int] = []
        for token_id in reply[:limit]:
            out.append(token_id)
            if token_id in stop_ids or token_id == EOS:
                break
        return out

    def _batches(self, ids: list[int]) -> list[list[int]]:
        return [ids[i : i + self.per_chunk] for i in range(0, len(ids), self.per_chunk)]

    async def _vllm(self, request: Request) -> Response:
        body = await self._record(request)
        if self.status != 200:
            return JSONResponse(self.error_body, status_code=self.status)
        ids = self._ids(body["prompt"], body["max_tokens"], set(body.get("stop_token_ids") or ()))
        batches = self._batches(ids)
        chunks = []
        for n, batch in enumerate(batches):
            last = n == len(batches) - 1
            finish = None if not last else ("stop" if batch[-1] == EOS or len(ids) < body["max_tokens"] else "length")
            choice: dict[str, Any] = {
                "index": 0,
                "text": "".join(f"<{token_id}>" for token_id in batch),
                "logprobs": None,
                "finish_reason": finish,
                "stop_reason": None,
            }
            if not self.without_ids:
                choice["token_ids"] = batch
            if n == 0:
                choice["prompt_token_ids"] = body["prompt"]
            chunk = {"id": "cmpl-stand-in", "object": "text_completion", "created": 0, "model": "stand-in"}
            chunks.append(_sse({**chunk, "choices": [choice], "usage": None}))
        error = _sse({"error": {"message": "stand-in engine failure", "type": "InternalServerError", "code": 500}})
        return _Script(self, chunks, b"data: [DONE]\n\n", "text/event-stream", error)

    async def _llama_server(self, request: Request) -> Response:
        body = await self._record(request)
        if self.status != 200:
            return JSONResponse(self.error_body, status_code=self.status)
        ids = self._ids(body["prompt"], body["n_predict"], set())
        chunks = []
        for batch in self._batches(ids):
            chunk: dict[str, Any] = {"index": 0, "content": "".join(f"<{i}>" for i in batch), "stop": False}
            if not self.without_ids:
                chunk["tokens"] = batch
            chunks.append(_sse(chunk))
        stop_type = "eos" if ids and ids[-1] == EOS else "limit"
        final = {"index": 0, "content": "", "tokens": [], "stop": True, "stop_type": stop_type}
        final.update(tokens_predicted=len(ids), tokens_evaluated=len(body["prompt"]))
        error = _sse({"error": {"code": 500, "message": "stand-in failure", "type": "server_error"}})
        return _Script(self, chunks, _sse(final), "text/event-stream", error, prelude=b": ping\n\n")

    async def _ollama(self, request: Request) -> Response:
        body = await self._record(request)
        if self.status != 200:
            return JSONResponse(self.error_body, status_code=self.status)
        limit = body.get("options", {}).get("num_predict", len(self.text_reply))
        pieces = self.text_reply if not self.honour_limits else self.text_reply[:limit]
        line = {"model": body["model"], "created_at": "2025-01-01T00:00:00Z", "done": False}
        chunks = [_ndjson({**line, "response": piece}) for piece in pieces]
        last = {**line, "response": "", "done": True, "done_reason": self.done_reason, "eval_count": len(pieces)}
        return _Script(self, chunks, _ndjson(last), "application/x-ndjson", _ndjson({"error": "stand-in failure"}))


class _Script(Response):
    """A streamed answer played from the stand-in's script: chunks, then the end marker, or one of the failures."""

    def __init__(
        self,
        stand_in: StandInUpstream,
        chunks: list[bytes],
        end: bytes,
        media_type: str,
        error: bytes,
        *,
        prelude: bytes = b"",
    ) -> None:
        super().__init__(media_type=media_type)
        # Streamed in chunks (no Content-Length, which Response would set to the empty body's 0).
        self.raw_headers = [(b"content-type", media_type.encode())]
        self.prelude = prelude
        self.stand_in = stand_in
        self.chunks = chunks
        self.end = end
        self.error = error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stand_in = self.stand_in
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        if self.prelude:
            await send({"type": "http.response.body", "body": self.prelude, "more_body": True})
        for n, chunk in enumerate([*self.chunks, None]):
            if n == stand_in.hold_after:
                await send({"type": "http.response.body", "body": b"", "more_body": True})
                stand_in.holding.set()
                while (await receive())["type"] != "http.disconnect":
                    pass
                stand_in.disconnected.set()
                return
            if n == stand_in.cut_after:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            if n == stand_in.error_after:
                await send({"type": "http.response.body", "body": self.error + self.end, "more_body": False})
                return
            if chunk is not None:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": self.end, "more_body": False})


class _Server(uvicorn.Server):
    """uvicorn, telling the starting thread when it accepts connections."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    def install_signal_handlers(self) -> None:
        """Signals belong to the test run, not to an embedded server."""


def _sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode()


def _ndjson(data: dict[str, Any]) -> bytes:
    return (json.dumps(data) + "\n").encode()
