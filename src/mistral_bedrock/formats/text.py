"""The text-completion dialect: ``{"prompt": "<s>[INST] … [/INST]", …}`` → ``{"outputs": [{text, stop_reason}]}``.

The stop key is ``stop`` — sending ``stop_sequences`` is the classic client bug, and Bedrock rejects it as an
extraneous key. ``stop_reason`` lives inside ``outputs[0]``, never at the top level. In a stream, the final
chunk carries the last piece of text *and* the stop reason *and* the invocation metrics together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..catalog import Dialect, ModelSpec
from ..conversation import Completion, Delta, Message, Messages, Params, StopReason, Tools, Usage
from . import schema as s
from .body_types import MistralStopReason, TextRequest, TextResponse
from .common import add_sampling, param_schema, params_from_body, require_object, validate
from .fields import first_object, obj, optional_text, text
from .format import REQUEST_FIELDS, Event, Format, Metrics, ParsedRequest, StreamReader, StreamWriter
from .invocation_metrics import LastChunkWriter, usage_from_metrics
from .stops import MISTRAL_STOPS, StopTable

__all__ = ["STOPS", "TextFormat", "messages_from_prompt"]

STOPS = StopTable("outputs[0].stop_reason", MISTRAL_STOPS)


def messages_from_prompt(prompt: str) -> tuple[Message, ...]:
    """Recover the turns of a Mistral instruct prompt (best effort; engines use it to find the last question).

    ``<s>[INST] Q1 [/INST] A1</s> [INST] Q2 [/INST]`` → user Q1, assistant A1, user Q2: each ``[INST]`` block is a
    user turn, and the text after its ``[/INST]`` up to the next ``[`` an answer. Text outside any ``[INST]``
    block is taken as a single user turn. Plain ``str.find`` scans: a lazy regex over a megabytes-long prompt
    holds the GIL for a quarter of a second.
    """
    cleaned = prompt.replace("<s>", "").replace("</s>", "")
    turns: list[Message] = []
    position = 0
    while (start := cleaned.find("[INST]", position)) >= 0:
        end = cleaned.find("[/INST]", start + len("[INST]"))
        if end < 0:
            break
        turns.append(Message.user(cleaned[start + len("[INST]") : end].strip()))
        after = end + len("[/INST]")
        following = cleaned.find("[", after)
        position = len(cleaned) if following < 0 else following
        answer = cleaned[after:position].strip()
        if answer:
            turns.append(Message.assistant(answer))
    if not turns and cleaned.strip():
        turns.append(Message.user(cleaned.strip()))
    return tuple(turns)


class _Writer(LastChunkWriter):
    """Holds back the latest text so the final chunk carries text, stop reason and metrics together."""

    def __init__(self) -> None:
        self._held: str | None = None

    def text(self, text: str) -> list[Event]:
        out = [] if self._held is None else [self._chunk(self._held, None)]
        self._held = text
        return out

    def tool_calls(self, calls: Sequence[Any]) -> list[Event]:
        return []  # the text dialect has no structured tool calls; tools come back as text

    def last_chunk(self, stop_reason: StopReason, usage: Usage) -> Event:
        event = self._chunk(self._held or "", stop_reason)
        self._held = None
        return event

    @staticmethod
    def _chunk(text: str, reason: StopReason | None) -> Event:
        spelled = STOPS.write(reason) if reason is not None else None
        return "chunk", {"outputs": [{"text": text, "stop_reason": spelled}]}


class _Reader(StreamReader):
    def feed(self, event_type: str, payload: Mapping[str, Any]) -> list[Delta]:
        if event_type != "chunk":
            return []
        first = first_object(payload.get("outputs"), "outputs")
        usage, metrics = usage_from_metrics(payload)
        raw = first.get("stop_reason")
        return [
            Delta(
                text=optional_text(first.get("text"), "outputs[0].text") or "",
                stop_reason=STOPS.read(raw),
                usage=usage,
                metrics=metrics,
                raw_stop_reason=raw,
            )
        ]


class TextFormat(Format):
    """Mistral's text-completion body."""

    dialect = Dialect.TEXT
    answer_lead = " "

    def build_body(
        self, spec: ModelSpec, messages: Messages, params: Params, tools: Tools = (), tool_choice: str | None = None
    ) -> TextRequest:
        from ..prompt.prompt_text import prompt_text  # mistral-common loads only when a prompt is rendered

        return self.body_for_prompt(prompt_text(messages, spec, tools), params)

    @staticmethod
    def body_for_prompt(prompt: str, params: Params) -> TextRequest:
        """A body for an already rendered (or verbatim) prompt. Unset parameters are left out."""
        body: TextRequest = {"prompt": prompt}
        add_sampling(body, params)
        if params.top_k is not None:
            body["top_k"] = params.top_k
        if params.stop:
            body["stop"] = list(params.stop)
        return body

    def parse_response(self, body: Mapping[str, Any], usage: Usage | None = None) -> Completion:
        # outputs[0].text and .stop_reason are what AWS's own sample reads [D]; without them there is no answer.
        first = first_object(obj(body, "the response body").get("outputs"), "outputs")
        raw = first.get("stop_reason")
        return Completion(
            text=text(first.get("text"), "outputs[0].text"),
            stop_reason=STOPS.read(raw, required=True),
            usage=usage,
            raw_stop_reason=raw,
        )

    def stream_reader(self) -> StreamReader:
        return _Reader()

    def carries(self, spec: ModelSpec) -> frozenset[str]:
        return REQUEST_FIELDS & frozenset(self.schema(spec)["properties"])

    def schema(self, spec: ModelSpec) -> s.Schema:
        props: dict[str, s.Schema] = {
            "prompt": s.string(),
            "stop": s.array(s.string(), max_items=spec.max_stop),
        }
        for key in ("max_tokens", "temperature", "top_p", "top_k"):
            if key in spec.params:
                props[key] = param_schema(spec, key)
        return s.obj(props, required=("prompt",))

    def parse_request(self, spec: ModelSpec, body: object, *, stream: bool) -> ParsedRequest:
        data = require_object(body)
        validate(data, self.schema(spec))
        prompt = str(data["prompt"])
        return ParsedRequest(
            spec=spec,
            dialect=self.dialect,
            prompt=prompt,  # its turns are recovered by with_turns, once the prompt is known to fit
            params=params_from_body(data),
            stream=stream,
        )

    def with_turns(self, request: ParsedRequest) -> ParsedRequest:
        if request.messages or request.prompt is None:
            return request
        return replace(request, messages=messages_from_prompt(request.prompt))

    def build_response(self, request: ParsedRequest, completion: Completion, metrics: Metrics) -> TextResponse:
        reason: MistralStopReason = STOPS.write(completion.stop_reason or "stop")
        return {"outputs": [{"text": completion.text, "stop_reason": reason}]}

    def stream_writer(self, request: ParsedRequest) -> StreamWriter:
        return _Writer()
