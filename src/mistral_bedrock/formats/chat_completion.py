"""The chat-completion format: one translator for both of Mistral's chat bodies, driven by a row of
:mod:`.chat_variant`.

``{"messages": […], "tools": […], "tool_choice", "max_tokens", "temperature", "top_p"}`` →
``{"choices": [{"index": 0, "message": {…}, <stop key>: …}]}``, with what each dialect adds or leaves out read
from its row. A subclass names its row (:class:`~.chat.ChatFormat`, :class:`~.chat_openai.ChatOpenAIFormat`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, cast

from ..catalog import ModelSpec
from ..conversation import Completion, Messages, Params, Tools, Usage
from ..errors import ValidationException
from . import schema as s
from .body_types import ChatChoice, ChatMessage, ChatRequest, ChatResponse
from .chat_variant import ChatVariant
from .chat_wire import (
    answer_from_wire,
    check_modalities,
    check_turns,
    message_to_wire,
    read_message,
    read_tool_choice,
    tool_choice_to_wire,
    tools_from_wire,
    tools_to_wire,
)
from .common import add_sampling, param_schema, params_from_body, require_object, validate
from .fields import first_object, obj
from .format import REQUEST_FIELDS, Format, Metrics, ParsedRequest, StreamReader, StreamWriter, request_seed
from .messages import CONTAINER_VALIDATION_ERROR, SchemaViolation, schema_error
from .tool_id_rules import assign_ids

__all__ = ["ChatCompletionFormat"]


def _sent(value: object) -> bool:
    """Whether a parameter is set: a number (0 included), or a non-empty list of stop sequences."""
    return bool(value) if isinstance(value, (tuple, list)) else value is not None


class ChatCompletionFormat(Format):
    """A chat-completion body; a subclass names its row in :attr:`variant`, and speaks that row's dialect."""

    variant: ClassVar[ChatVariant]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.dialect = cls.variant.dialect

    def build_body(
        self, spec: ModelSpec, messages: Messages, params: Params, tools: Tools = (), tool_choice: str | None = None
    ) -> ChatRequest:
        row = self.variant
        if any(_sent(getattr(params, key)) for key in row.unsupported):
            raise ValidationException(row.unsupported_message)
        body: ChatRequest = {
            "messages": [message_to_wire(m, row.call_to_wire) for m in row.ids.history(spec, messages)]
        }
        if tools:
            body["tools"] = tools_to_wire(tools)
        if tool_choice is not None:
            body["tool_choice"] = tool_choice_to_wire(tool_choice)
        add_sampling(body, params)
        if params.stop:  # refused above where the body has no key for it
            body["stop"] = list(params.stop)
        return body

    def parse_response(self, body: Mapping[str, Any], usage: Usage | None = None) -> Completion:
        row = self.variant
        data = obj(body, "the response body")
        choice = first_object(data.get("choices"), "choices")
        message = answer_from_wire(obj(choice.get("message"), "choices[0].message"), "choices[0].message")
        if usage is None and row.usage is not None and data.get("usage") is not None:
            usage = row.usage.read(data["usage"], "usage")
        raw = choice.get(row.stop_key)
        return Completion(
            text=message.content,
            stop_reason=row.stops.read(raw, required=True),
            tool_calls=message.tool_calls,
            usage=usage,
            raw_stop_reason=raw,
        )

    def stream_reader(self) -> StreamReader:
        return self.variant.stream.reader(self.variant)

    def carries(self, spec: ModelSpec) -> frozenset[str]:
        return REQUEST_FIELDS & frozenset(self.schema(spec)["properties"])

    def schema(self, spec: ModelSpec) -> s.Schema:
        props = dict(self.variant.properties)
        for key in ("max_tokens", "temperature", "top_p"):
            props[key] = param_schema(spec, key)
        return s.obj(props, required=("messages",))

    def parse_request(self, spec: ModelSpec, body: object, *, stream: bool) -> ParsedRequest:
        row = self.variant
        data = require_object(body)
        if any(key in data for key in row.container_refused):
            # The schema lets it through; Mistral's serving container then refuses it.
            raise ValidationException(CONTAINER_VALIDATION_ERROR)
        validate(data, self.schema(spec))
        problems: list[SchemaViolation] = []
        messages = tuple(
            read_message(wire, f"#/messages/{index}", row.content_parts, problems)
            for index, wire in enumerate(data["messages"])
        )
        choice, forced = read_tool_choice(data.get("tool_choice"), row.tool_choices, problems)
        stop = data.get("stop")  # a body without the key is refused above when it sends one
        if stop is not None and not (
            isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(x, str) for x in stop))
        ):
            problems.append(SchemaViolation("#/stop", "expected type: JSONArray, found: JSONObject"))
        if problems:
            raise schema_error(problems)
        check_modalities(spec, data["messages"], row.content_parts)
        check_turns(messages)
        row.ids.check(spec, messages)
        return ParsedRequest(
            spec=spec,
            dialect=self.dialect,
            messages=messages,
            params=params_from_body(data),
            tools=tools_from_wire(data.get("tools") or ()),
            tool_choice=choice,
            forced_tool=forced or None,
            stream=stream,
        )

    def build_response(self, request: ParsedRequest, completion: Completion, metrics: Metrics) -> ChatResponse:
        row = self.variant
        message: ChatMessage = {"role": "assistant", "content": completion.text}
        if completion.tool_calls:
            calls = assign_ids(completion.tool_calls, row.ids.style, request_seed(request))
            message["tool_calls"] = [row.call_to_wire(call) for call in calls]
        choice: ChatChoice = {"index": 0, "message": message}
        choice[row.stop_key] = row.stops.write(completion.stop_reason or "stop")
        # The envelope's keys are ChatResponse's optional ones, and come first, as in Bedrock's answers.
        response = cast("ChatResponse", {**row.envelope(request, "chat.completion"), "choices": [choice]})
        if row.usage is not None:
            response["usage"] = row.usage.write(completion.usage or Usage(0, 0))
        return response

    def stream_writer(self, request: ParsedRequest) -> StreamWriter:
        return self.variant.stream.writer(self.variant, request)
