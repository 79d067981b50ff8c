"""A real model behind the Bedrock API: :class:`LocalEngine` drives a :class:`~.token_backend.TokenBackend`.

For every request, the same steps whatever the backend:

1. **Ids in.** The prompt is rendered with mistral-common for the Bedrock model's tokenizer — a text body's
   ``prompt`` as sent (control strings as control ids), a conversation with its tools (a final assistant turn
   continued) — exactly the ids :func:`~mistral_bedrock.prompt.input_tokens.render_input` counts. No backend
   template is ever used. A text-only upstream gets that prompt's text instead, behind a guard (see
   :mod:`.upstream`).
2. **Generation off the event loop.** The backend runs in the engine's own threads (as many as
   :attr:`~.token_backend.TokenBackend.concurrency`; further requests queue there, never in the event loop's default
   pool), and hands each id to the loop with ``call_soon_threadsafe``.
3. **Ids out.** Ids become text with the project's decoder (:class:`~.decoding.IncrementalDecoder`); ``</s>``
   stops (``stop``); ``max_tokens`` ids, or a model whose own context is full, stop (``length``); a stop sequence
   cuts the text before it and cancels the generation (``stop``, with the sequence); ``[TOOL_CALLS]`` switches
   to collecting the calls, which are parsed when the generation ends (``tool_calls``).
4. **Usage** from the ids: the prompt's ids in, the ids generated out (``</s>`` included, as the model produced
   it [I]).

A client that leaves mid-answer closes the engine's generator; the generation is cancelled and its thread freed.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass

from ...catalog import ModelSpec
from ...conversation import StopReason, Usage
from ...errors import BedrockError, ModelErrorException, ValidationException
from ...formats import ParsedRequest, format_for
from ...prompt import decode, encode_prompt, encode_text
from ...prompt.input_tokens import render_input
from ...prompt.rendered import Rendered
from ...prompt.tokenizers import tokenizer_info
from ..engine import EngineEvent, Stop, TextDelta, ToolCallEvent
from .decoding import IncrementalDecoder, StopScanner
from .text_guard import check_text_safe
from .token_backend import GenerationSettings, TokenBackend
from .tool_output import parse_tool_calls
from .vocabulary import VocabularyMismatch, check_vocabulary

__all__ = ["LocalEngine"]

_DONE = object()  # the worker's last item: the generation ended


@dataclass(frozen=True)
class _Failure:
    error: BaseException


class LocalEngine:
    """Answers every request with a real model (a :class:`~.token_backend.TokenBackend`)."""

    def __init__(self, backend: TokenBackend, *, seed: int | None = None) -> None:
        """Serve ``backend``; ``seed`` makes sampled answers repeat (greedy ones always do)."""
        self.backend = backend
        self.name = backend.name
        self._seed = seed
        # A text-only upstream (Ollama) takes the prompt's text, behind the guard; every other backend its ids.
        self._text_mode = bool(getattr(backend, "text_mode", False))
        self._pool = ThreadPoolExecutor(max(1, backend.concurrency), thread_name_prefix=f"engine-{backend.name}")
        self._checked: dict[str, str | None] = {}  # tokenizer → why this model cannot serve it (None: it can)
        self._check_lock = threading.Lock()

    def check(self, spec: ModelSpec) -> None:
        """Refuse, once per tokenizer, a Bedrock model whose tokenizer is not this model's vocabulary.

        Raises:
            VocabularyMismatch: Naming both.
        """
        with self._check_lock:
            if spec.tokenizer not in self._checked:
                try:
                    check_vocabulary(self.backend.vocabulary(), spec, self.backend.name)
                    self._checked[spec.tokenizer] = None
                except VocabularyMismatch as exc:
                    self._checked[spec.tokenizer] = str(exc)
            problem = self._checked[spec.tokenizer]
        if problem is not None:
            raise VocabularyMismatch(problem)

    def close(self) -> None:
        """Wait for running generations to end, then free the model."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.backend.close()

    async def generate(self, request: ParsedRequest) -> AsyncIterator[EngineEvent]:
        """Yield the model's answer: text deltas, or tool calls, then one :class:`Stop`.

        Raises:
            ValidationException: The model's vocabulary is not the request's tokenizer (before any event).
            BedrockError: What the backend raised; anything else it raised, as ``ModelErrorException``.
        """
        spec = request.spec
        try:
            await asyncio.to_thread(self.check, spec)
        except VocabularyMismatch as exc:
            raise ValidationException(str(exc)) from None
        prompt = await asyncio.to_thread(_prompt, request, text_mode=self._text_mode)
        info = tokenizer_info(spec)
        settings = GenerationSettings(
            max_tokens=request.max_tokens,
            temperature=_param(request, "temperature"),
            top_p=_param(request, "top_p"),
            top_k=_top_k(request),
            seed=self._seed,
            stop_ids=frozenset({info.eos_id}),
        )
        # tool_choice none: a [TOOL_CALLS] the model writes anyway is no call. any, or a forced tool: the answer
        # starts with [TOOL_CALLS] (and the forced tool's name), written into the prompt for the model to go on.
        calls_id = info.control.get("[TOOL_CALLS]") if request.effective_tool_choice != "none" else None
        forced = _forced_call(request) if calls_id is not None else None
        if forced is not None:
            assert calls_id is not None
            lead = encode_text(forced, spec) if forced else ()
            prompt = Rendered(prompt.text + "[TOOL_CALLS]" + forced, (*prompt.token_ids, calls_id, *lead))
        answer = _Answer(request, calls_id, info.eos_id, forced_call=forced)
        async with aclosing(self._run(prompt, settings)) as items:
            async for item in items:
                for event in answer.feed(item):
                    yield event
                if answer.stopped is not None:
                    break  # closing the items cancels the generation
        for event in answer.finish(prompt.count - answer.forced_ids):
            yield event

    async def _run(self, prompt: Rendered, settings: GenerationSettings) -> AsyncGenerator[int | str, None]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        cancelled = threading.Event()

        def work() -> None:
            put: Callable[[object], object] = queue.put_nowait
            try:
                if not cancelled.is_set():  # the client may have left while the request queued
                    generated = (
                        self.backend.generate_text(prompt.text, settings, cancelled)  # type: ignore[attr-defined]
                        if self._text_mode
                        else self.backend.generate(prompt.token_ids, settings, cancelled)
                    )
                    try:
                        for item in generated:
                            loop.call_soon_threadsafe(put, item)
                            if cancelled.is_set():
                                break
                    finally:
                        # A generator left mid-way is closed now, in this thread, so the backend frees what it
                        # holds (a generate thread to join, a connection) before the next request starts.
                        close = getattr(generated, "close", None)
                        if callable(close):
                            close()
                loop.call_soon_threadsafe(put, _DONE)
            except BaseException as exc:  # handed to the request's task, which raises it there
                loop.call_soon_threadsafe(put, _Failure(exc))

        future = loop.run_in_executor(self._pool, work)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failure):
                    if isinstance(item.error, BedrockError):
                        raise item.error
                    raise ModelErrorException(f"The local model failed: {item.error}") from item.error
                assert isinstance(item, (int, str))
                yield item
        finally:
            cancelled.set()
            if not future.done():
                # The worker sees the flag at its next id; the request does not wait for that.
                future.add_done_callback(lambda done: done.exception())


def _prompt(request: ParsedRequest, *, text_mode: bool) -> Rendered:
    if request.prompt is not None:  # as sent: its control strings are meant as control tokens, both ways
        return encode_prompt(request.prompt, request.spec)
    if text_mode:
        check_text_safe(_request_texts(request), request.spec)
    return render_input(request.messages, request.spec, request.tools)


def _forced_call(request: ParsedRequest) -> str | None:
    """What a forced answer starts with after ``[TOOL_CALLS]``: the forced tool's name, or nothing (any tool).

    None when the model may answer as it likes. Written into the prompt, it is a constraint every backend keeps,
    the way Mistral's own API forces a call; the model then writes the arguments.
    """
    if not request.tools:
        return None
    if request.forced_tool is not None:
        return '[{"name": ' + json.dumps(request.forced_tool) + ', "arguments": '
    return "" if request.effective_tool_choice == "any" else None


def _request_texts(request: ParsedRequest) -> Iterator[str]:
    """Every string of a conversation that goes into its prompt."""
    for message in request.messages:
        yield message.content
        for call in message.tool_calls:
            yield call.name
            yield call.arguments_json
    for tool in request.tools:
        yield json.dumps({"name": tool.name, "description": tool.description, "parameters": dict(tool.parameters)})


def _param(request: ParsedRequest, name: str) -> float | None:
    value = getattr(request.params, name)
    if value is None:
        value = request.spec.default(name)
    return None if value is None else float(value)


def _top_k(request: ParsedRequest) -> int | None:
    value = request.params.top_k if request.params.top_k is not None else request.spec.default("top_k")
    return None if value is None else int(value)


class _Answer:
    """One answer being read from the model's ids: text, then maybe tool calls, and why it stopped."""

    def __init__(
        self, request: ParsedRequest, tool_calls_id: int | None, eos_id: int, *, forced_call: str | None = None
    ) -> None:
        self._decoder = IncrementalDecoder(request.spec)
        self._stops = StopScanner(request.stop)
        self._tool_calls_id = tool_calls_id
        self._eos_id = eos_id
        self._max_tokens = request.max_tokens
        self._spec = request.spec
        # What a dialect's answer starts with: the text body keeps the space before the first word (Bedrock's
        # " Hello"); the chat bodies and Converse do not.
        self._lead = format_for(request.dialect).answer_lead
        self._started = False
        self._pieces = ""  # text a text-only upstream generated, counted at the end
        # Ids after [TOOL_CALLS], once it came (from the start when the call was forced, its lead already written).
        self._calls: list[int] | None = None if forced_call is None else []
        self._call_text = forced_call or ""
        # The ids written into the prompt for a forced call are the answer's, not the prompt's.
        self.forced_ids = (
            0 if forced_call is None else 1 + (len(encode_text(forced_call, request.spec)) if forced_call else 0)
        )
        self._generated = self.forced_ids
        self.stopped: tuple[StopReason, str | None] | None = None

    def feed(self, item: int | str) -> list[EngineEvent]:
        if isinstance(item, str):
            self._pieces += item
        else:
            self._generated += 1
        if isinstance(item, int) and item == self._eos_id:
            self.stopped = ("stop", None)
            return []
        if self._calls is not None:
            if isinstance(item, int):
                self._calls.append(item)
            else:
                self._call_text += item
            return self._at_limit([])
        if isinstance(item, int) and item == self._tool_calls_id:
            self._calls = []
            return self._at_limit(self._text(self._decoder.flush(), final=True))
        piece = self._decoder.feed(item) if isinstance(item, int) else item
        return self._at_limit(self._text(piece, final=False))

    def _at_limit(self, events: list[EngineEvent]) -> list[EngineEvent]:
        if self.stopped is None and self._generated >= self._max_tokens:
            self.stopped = ("length", None)
        return events

    def _text(self, piece: str, *, final: bool) -> list[EngineEvent]:
        if not self._started and piece:
            if not self._lead:
                piece = piece.lstrip(" ")
            self._started = bool(piece)
        released, stop = self._stops.feed(piece)
        if final and stop is None:
            released += self._stops.flush()
        if stop is not None:
            self.stopped = ("stop", stop)
        return [TextDelta(released)] if released else []

    def finish(self, input_tokens: int) -> list[EngineEvent]:
        # A model that ended without </s>, a stop sequence or max_tokens ran out of its own context: cut short.
        reason, stop_sequence = self.stopped or ("length", None)
        usage = Usage(
            input_tokens, self._generated + (len(encode_text(self._pieces, self._spec)) if self._pieces else 0)
        )
        events: list[EngineEvent] = []
        if self._calls is None:
            if stop_sequence is None:
                events += self._text(self._decoder.flush(), final=True)
                reason, stop_sequence = self.stopped or (reason, None)
            return [*events, Stop(reason, usage, stop_sequence)]
        text = self._call_text + decode(self._calls, self._spec)
        calls = parse_tool_calls(text) if reason == "stop" else None
        if calls is None:  # not a list of calls: the model's output, as text [I]
            events += self._text(text, final=True)
            return [*events, Stop(reason, usage, stop_sequence)]
        return [*events, *(ToolCallEvent(call) for call in calls), Stop("tool_calls", usage)]
