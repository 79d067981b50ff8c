"""Mistral's chat-completion dialect (Mistral Large 24.02/24.07, Small 24.02).

``{"messages": […], "tools": […], "tool_choice": "auto"|"any"|"none", "max_tokens", "temperature", "top_p"}`` →
``{"choices": [{"index": 0, "message": {…}, "stop_reason": "stop"|"length"|"tool_calls"}]}``.

The key is ``stop_reason``, not ``finish_reason``; streams carry whole-message-shaped increments under
``choices[].message`` (not ``delta``); there is no ``stop`` parameter in this schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ..catalog import Dialect, ModelSpec
from ..conversation import Completion, Delta, Message, Params, StopReason, Tool, ToolCall, Usage
from ..errors import ValidationException
from ..prompt.tool_ids import IdStyle
from . import schema as s
from .body_types import ChatMessage, ChatRequest, ChatResponse, ChatTool, ChatToolCall
from .common import decode_arguments, param_schema, params_from_body, require_object, validate
from .fields import each_object, first_object, obj, optional_text, text
from .format import REQUEST_FIELDS, Event, Format, Metrics, ParsedRequest, StreamReader, StreamWriter, request_seed
from .invocation_metrics import METRICS_KEY, metrics_payload, usage_from_metrics
from .messages import CONTAINER_VALIDATION_ERROR
from .stops import MISTRAL_STOPS, StopTable
from .tool_id_rules import assign_ids

__all__ = [
    "STOPS",
    "ChatFormat",
    "add_sampling",
    "answer_from_wire",
    "check_turns",
    "tool_call_to_wire",
    "tool_choice_to_wire",
    "tools_to_wire",
]

TOOL_CHOICES = ("auto", "any", "none")
STOPS = StopTable("choices[0].stop_reason", MISTRAL_STOPS)

_TOOL_CALL = s.obj(
    {
        "id": s.string(),
        "type": s.string(enum=("function",)),
        "function": s.obj({"name": s.string(), "arguments": s.string()}, ("name", "arguments")),
    },
    ("function",),
)
_MESSAGE = s.obj(
    {
        "role": s.string(enum=("system", "user", "assistant", "tool")),
        "content": s.string(nullable=True),
        "tool_calls": s.array(_TOOL_CALL, nullable=True),
        "tool_call_id": s.string(nullable=True),
        "name": s.string(nullable=True),
    },
    ("role",),
)
_TOOL = s.obj(
    {
        "type": s.string(enum=("function",)),
        "function": s.obj(
            {
                "name": s.string(),
                "description": s.string(),
                "parameters": s.obj({}, additional=True),
            },
            ("name",),
        ),
    },
    ("function",),
)


def tool_call_to_wire(call: ToolCall) -> ChatToolCall:
    return {"id": call.id, "function": {"name": call.name, "arguments": call.arguments_json}}


def tools_to_wire(tools: Sequence[Tool]) -> list[ChatTool]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": dict(tool.parameters),
            },
        }
        for tool in tools
    ]


def message_to_wire(message: Message) -> ChatMessage:
    wire: ChatMessage = {"role": message.role, "content": message.content}
    if message.tool_calls:
        wire["tool_calls"] = [tool_call_to_wire(call) for call in message.tool_calls]
    if message.role == "tool":
        wire["tool_call_id"] = message.tool_call_id or ""
    return wire


def message_from_wire(wire: Mapping[str, Any]) -> Message:
    calls = tuple(
        decode_arguments(str(call.get("id") or ""), call["function"]["name"], call["function"]["arguments"])
        for call in wire.get("tool_calls") or ()
    )
    return Message(
        role=wire["role"],
        content=str(wire.get("content") or ""),
        tool_calls=calls,
        tool_call_id=wire.get("tool_call_id"),
        name=wire.get("name"),
    )


def answer_from_wire(message: Mapping[str, Any], where: str) -> Message:
    """The assistant's answer in a response's ``message`` (both chat dialects), every field checked.

    ``content`` may be null (a tool-call answer); each tool call needs ``function.name``.

    Raises:
        MalformedResponseError: A field of the wrong type, or a tool call without its function's name.
        ModelErrorException: Tool-call arguments that are not a JSON object (the model's fault, not the wire's).
    """
    content = optional_text(message.get("content"), f"{where}.content") or ""
    calls: list[ToolCall] = []
    for index, call in enumerate(each_object(message.get("tool_calls"), f"{where}.tool_calls")):
        at = f"{where}.tool_calls[{index}]"
        function = obj(call.get("function"), f"{at}.function")
        call_id = optional_text(call.get("id"), f"{at}.id") or ""
        name = text(function.get("name"), f"{at}.function.name")
        calls.append(decode_arguments(call_id, name, function.get("arguments")))
    return Message.assistant(content, calls)


def check_turns(messages: Sequence[Message]) -> None:
    """The rules Mistral's serving container enforces on a conversation.

    It answers violations with a terse ``Validation Error``; the conditions are the ones mistral-common checks:
    the conversation ends with a user or tool turn, and every tool result answers an earlier tool call.
    """
    calls: set[str] = set()
    for message in messages:
        calls.update(call.id for call in message.tool_calls)
        if message.role == "tool" and message.tool_call_id not in calls:
            raise ValidationException(CONTAINER_VALIDATION_ERROR)
    if not messages or messages[-1].role not in ("user", "tool"):
        raise ValidationException(CONTAINER_VALIDATION_ERROR)


def tools_from_wire(wire: Sequence[Mapping[str, Any]]) -> tuple[Tool, ...]:
    return tuple(
        Tool(
            name=tool["function"]["name"],
            description=str(tool["function"].get("description") or ""),
            parameters=tool["function"].get("parameters") or {"type": "object", "properties": {}},
        )
        for tool in wire
    )


class _Writer(StreamWriter):
    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._calls: list[ChatToolCall] = []

    def text(self, text: str) -> list[Event]:
        return [_chunk({"role": "assistant", "content": text}, None)]

    def tool_calls(self, calls: Sequence[Any]) -> list[Event]:
        # Bedrock sends all tool calls in the final chunk together with stop_reason "tool_calls".
        self._calls.extend(tool_call_to_wire(c) for c in assign_ids(calls, IdStyle.BASE64URL_22, self._seed))
        return []

    def finish(
        self,
        stop_reason: StopReason,
        usage: Usage,
        metrics: Metrics,
        stop_sequence: str | None = None,
    ) -> list[Event]:
        message: dict[str, Any] = {"role": "assistant", "content": ""}
        if self._calls:
            message["tool_calls"] = self._calls
        event = _chunk(message, stop_reason)
        event[1][METRICS_KEY] = metrics_payload(usage, metrics)
        return [event]


def _chunk(message: dict[str, Any], reason: StopReason | None) -> Event:
    spelled = STOPS.write(reason) if reason is not None else None
    return "chunk", {"choices": [{"index": 0, "message": message, "stop_reason": spelled}]}


class _Reader(StreamReader):
    def feed(self, event_type: str, payload: Mapping[str, Any]) -> list[Delta]:
        if event_type != "chunk":
            return []
        # Every chunk of this dialect is a whole-message-shaped increment under choices[0].message [R][S].
        choice = first_object(payload.get("choices"), "choices")
        answer = answer_from_wire(obj(choice.get("message"), "choices[0].message"), "choices[0].message")
        usage, metrics = usage_from_metrics(payload)
        raw = choice.get("stop_reason")
        return [
            Delta(
                text=answer.content,
                tool_calls=answer.tool_calls,
                stop_reason=STOPS.read(raw),
                usage=usage,
                metrics=metrics,
                raw_stop_reason=raw,
            )
        ]


def tool_choice_to_wire(value: str) -> Literal["auto", "any", "none", "required"]:
    choices: dict[str, Literal["auto", "any", "none", "required"]] = {
        "auto": "auto",
        "any": "any",
        "none": "none",
        "required": "required",
    }
    if value in choices:
        return choices[value]
    raise ValidationException(f"tool_choice must be auto, any or none, not {value!r}")


def add_sampling(body: ChatRequest, params: Params) -> None:
    """The sampling parameters both chat dialects share; unset ones are left out."""
    if params.max_tokens is not None:
        body["max_tokens"] = params.max_tokens
    if params.temperature is not None:
        body["temperature"] = params.temperature
    if params.top_p is not None:
        body["top_p"] = params.top_p


class ChatFormat(Format):
    """Mistral's own chat-completion body."""

    dialect = Dialect.CHAT

    def build_body(
        self,
        spec: ModelSpec,
        messages: Sequence[Message],
        params: Params,
        tools: Sequence[Tool] = (),
        tool_choice: str | None = None,
    ) -> ChatRequest:
        if params.stop or params.top_k is not None:
            raise ValidationException(
                "Mistral's chat-completion body has no stop or top_k parameter (Bedrock would refuse it); use the "
                "text-completion dialect or Converse for them."
            )
        body: ChatRequest = {"messages": [message_to_wire(m) for m in messages]}
        if tools:
            body["tools"] = tools_to_wire(tools)
        if tool_choice is not None:
            body["tool_choice"] = tool_choice_to_wire(tool_choice)
        add_sampling(body, params)
        return body

    def parse_response(self, body: Mapping[str, Any], usage: Usage | None = None) -> Completion:
        choice = first_object(obj(body, "the response body").get("choices"), "choices")
        message = answer_from_wire(obj(choice.get("message"), "choices[0].message"), "choices[0].message")
        raw = choice.get("stop_reason")
        return Completion(
            text=message.content,
            stop_reason=STOPS.read(raw, required=True),
            tool_calls=message.tool_calls,
            usage=usage,
            raw_stop_reason=raw,
        )

    def stream_reader(self) -> StreamReader:
        return _Reader()

    def carries(self, spec: ModelSpec) -> frozenset[str]:
        return REQUEST_FIELDS & frozenset(self.schema(spec)["properties"])

    def schema(self, spec: ModelSpec) -> s.Schema:
        props: dict[str, s.Schema] = {
            "messages": s.array(_MESSAGE),
            "tools": s.array(_TOOL),
            "tool_choice": s.string(enum=TOOL_CHOICES),
        }
        for key in ("max_tokens", "temperature", "top_p"):
            props[key] = param_schema(spec, key)
        return s.obj(props, required=("messages",))

    def parse_request(self, spec: ModelSpec, body: object, *, stream: bool) -> ParsedRequest:
        data = require_object(body)
        if "stop" in data:
            # The schema lets it through; Mistral's serving container then refuses it.
            raise ValidationException(CONTAINER_VALIDATION_ERROR)
        validate(data, self.schema(spec))
        messages = tuple(message_from_wire(m) for m in data["messages"])
        check_turns(messages)
        return ParsedRequest(
            spec=spec,
            dialect=self.dialect,
            messages=messages,
            params=params_from_body(data, stop_key=None),
            tools=tools_from_wire(data.get("tools") or ()),
            tool_choice=data.get("tool_choice"),
            stream=stream,
        )

    def build_response(self, request: ParsedRequest, completion: Completion, metrics: Metrics) -> ChatResponse:
        message: ChatMessage = {"role": "assistant", "content": completion.text}
        if completion.tool_calls:
            calls = assign_ids(completion.tool_calls, IdStyle.BASE64URL_22, request_seed(request))
            message["tool_calls"] = [tool_call_to_wire(call) for call in calls]
        reason = STOPS.write(completion.stop_reason or "stop")
        return {"choices": [{"index": 0, "message": message, "stop_reason": reason}]}

    def stream_writer(self, request: ParsedRequest) -> StreamWriter:
        return _Writer(request_seed(request))
