"""The OpenAI-style chat dialect of the newer Mistral models on Bedrock (Pixtral Large 25.02 and later).

Responses carry ``id``, ``object``, ``created``, ``model``, ``choices[].message`` with ``finish_reason`` (not
``stop_reason``) and ``usage``; streams carry ``choices[].delta`` increments. Content may be a string or a list
of parts (``text``, ``image_url``, ``input_audio``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ..catalog import Dialect, ModelSpec
from ..conversation import Completion, Delta, Message, Params, StopReason, Tool, ToolCall, Usage
from ..errors import ValidationException
from ..prompt.tool_ids import IdStyle
from . import schema as s
from .body_types import ChatMessage, ChatRequest, ChatToolCall
from .chat import (
    add_sampling,
    answer_from_wire,
    check_turns,
    tool_call_to_wire,
    tool_choice_to_wire,
    tools_from_wire,
    tools_to_wire,
)
from .common import decode_arguments, param_schema, params_from_body, require_object, validate
from .fields import count, each_object, first_object, malformed, obj, optional_text
from .format import REQUEST_FIELDS, Event, Format, Metrics, ParsedRequest, StreamReader, StreamWriter, request_seed
from .invocation_metrics import METRICS_KEY, metrics_payload, usage_from_metrics
from .messages import CONTAINER_VALIDATION_ERROR, SchemaViolation, schema_error
from .stops import MISTRAL_STOPS, StopTable
from .tool_id_rules import assign_ids, check_tool_call_ids, wire_tool_call_ids

__all__ = ["STOPS", "ChatOpenAIFormat"]

TOOL_CHOICES = ("auto", "any", "none", "required")
_PART_TYPES = ("text", "image_url", "input_audio")
# Media parts → the catalog flag of the models whose input modalities include them.
_PART_MODALITY = {"image_url": "images", "input_audio": "audio"}
# finish_reason: ``stop`` [R] (a captured Pixtral body), ``length``/``tool_calls`` [S]; a content filter in
# OpenAI's spelling, ``content_filter`` [I]; the rest as in Mistral's own API and Bedrock's names (see .stops).
STOPS = StopTable("choices[0].finish_reason", (("content_filter", "content_filtered"), *MISTRAL_STOPS))

_MESSAGE = s.obj(
    {
        "role": s.string(enum=("system", "user", "assistant", "tool")),
        "content": s.anything(),
        "tool_calls": s.array(
            s.obj(
                {
                    "id": s.string(nullable=True),
                    "type": s.string(),
                    "index": s.anything(),
                    "function": s.obj({"name": s.string(), "arguments": s.string()}, ("name",)),
                },
                ("function",),
            ),
            nullable=True,
        ),
        "tool_call_id": s.string(nullable=True),
        "name": s.string(nullable=True),
        "prefix": s.obj({}, additional=True, nullable=True),
    },
    ("role",),
)


def _content_text(content: object, path: str, problems: list[SchemaViolation]) -> str:
    """Flatten string-or-parts content to text; non-text parts become short placeholders."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        problems.append(SchemaViolation(path, "expected type: JSONArray, found: JSONObject"))
        return ""
    pieces: list[str] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in _PART_TYPES:
            problems.append(SchemaViolation(f"{path}/{index}/type", f"{kind} is not a valid enum value"))
        elif kind == "text":
            pieces.append(str(part.get("text") or ""))
        else:
            pieces.append(f"[{kind}]")
    return "".join(pieces)


def _tool_choice(value: object, problems: list[SchemaViolation]) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, str):
        if value not in TOOL_CHOICES:
            problems.append(SchemaViolation("#/tool_choice", f"{value} is not a valid enum value"))
            return None, None
        return ("any" if value == "required" else value), None
    if isinstance(value, dict) and isinstance(value.get("function"), dict):
        return "any", str(value["function"].get("name") or "")
    problems.append(SchemaViolation("#/tool_choice", "expected type: String, found: JSONObject"))
    return None, None


def _completion_usage(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }


def _openai_call(call: ToolCall) -> ChatToolCall:
    return {"type": "function", "id": call.id, "function": tool_call_to_wire(call)["function"]}


class _Writer(StreamWriter):
    def __init__(self, request: ParsedRequest) -> None:
        self._seed = request_seed(request)
        self._head = {
            "id": str(uuid.uuid4()),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": request.spec.model_id.removeprefix("mistral.").split("-v1:")[0],
        }
        self._first = True

    def _chunk(self, delta: dict[str, Any], reason: StopReason | None) -> Event:
        if self._first:
            delta = {"role": "assistant", **delta}
            self._first = False
        choice = {"index": 0, "delta": delta, "finish_reason": STOPS.write(reason) if reason is not None else None}
        return "chunk", {**self._head, "choices": [choice]}

    def text(self, text: str) -> list[Event]:
        return [self._chunk({"content": text}, None)]

    def tool_calls(self, calls: Sequence[Any]) -> list[Event]:
        wired = [{"index": i, **_openai_call(c)} for i, c in enumerate(assign_ids(calls, IdStyle.ALNUM_9, self._seed))]
        return [self._chunk({"tool_calls": wired}, None)]

    def finish(
        self,
        stop_reason: StopReason,
        usage: Usage,
        metrics: Metrics,
        stop_sequence: str | None = None,
    ) -> list[Event]:
        event = self._chunk({"content": ""}, stop_reason)
        event[1]["usage"] = _completion_usage(usage)
        event[1][METRICS_KEY] = metrics_payload(usage, metrics)
        return [event]


class _Reader(StreamReader):
    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def feed(self, event_type: str, payload: Mapping[str, Any]) -> list[Delta]:
        if event_type != "chunk":
            return []
        usage, metrics = usage_from_metrics(payload)
        if usage is None and payload.get("usage") is not None:
            usage = _usage(payload["usage"], "usage")
        choices = payload.get("choices")
        if choices == [] and usage is not None:
            return [Delta(usage=usage, metrics=metrics)]  # a usage-only chunk, as OpenAI-style servers end [I]
        choice = first_object(choices, "choices")
        # Deltas [S]; a whole message is taken too (a server that sends the non-streaming shape) [I].
        where = "choices[0].delta" if "delta" in choice else "choices[0].message"
        delta = obj(choice.get("delta", choice.get("message")), where)
        self._gather(delta, where)
        raw = choice.get("finish_reason")
        reason = STOPS.read(raw)
        calls: tuple[ToolCall, ...] = ()
        if reason is not None and self._calls:
            calls = tuple(self._call(position, slot) for position, slot in sorted(self._calls.items()))
            self._calls.clear()
        return [
            Delta(
                text=optional_text(delta.get("content"), f"{where}.content") or "",
                tool_calls=calls,
                stop_reason=reason,
                usage=usage,
                metrics=metrics,
                raw_stop_reason=raw,
            )
        ]

    def _gather(self, delta: Mapping[str, Any], where: str) -> None:
        """Add one chunk's tool-call fragments: an id and name first, then pieces of the arguments' JSON."""
        for index, call in enumerate(each_object(delta.get("tool_calls"), f"{where}.tool_calls")):
            at = f"{where}.tool_calls[{index}]"
            position = index if call.get("index") is None else count(call["index"], f"{at}.index")
            slot = self._calls.setdefault(position, {"id": "", "name": "", "args": ""})
            function = obj(call.get("function") or {}, f"{at}.function")
            slot["id"] = optional_text(call.get("id"), f"{at}.id") or slot["id"]
            slot["name"] = optional_text(function.get("name"), f"{at}.function.name") or slot["name"]
            slot["args"] += optional_text(function.get("arguments"), f"{at}.function.arguments") or ""

    @staticmethod
    def _call(position: int, slot: Mapping[str, str]) -> ToolCall:
        if not slot["name"]:
            raise malformed(f"tool call {position}", "never got its function name")
        return decode_arguments(slot["id"], slot["name"], slot["args"])


def _usage(value: object, where: str) -> Usage:
    usage = obj(value, where)
    return Usage(
        count(usage.get("prompt_tokens"), f"{where}.prompt_tokens"),
        count(usage.get("completion_tokens"), f"{where}.completion_tokens"),
    )


class ChatOpenAIFormat(Format):
    """The OpenAI-style chat-completion body."""

    dialect = Dialect.CHAT_OPENAI

    def build_body(
        self,
        spec: ModelSpec,
        messages: Sequence[Message],
        params: Params,
        tools: Sequence[Tool] = (),
        tool_choice: str | None = None,
    ) -> ChatRequest:
        if params.top_k is not None:
            raise ValidationException("This chat-completion body has no top_k parameter; use Converse for it.")
        wire: list[ChatMessage] = []
        for m in wire_tool_call_ids(spec, messages):
            item: ChatMessage = {"role": m.role, "content": m.content}
            if m.tool_calls:
                item["tool_calls"] = [_openai_call(c) for c in m.tool_calls]
            if m.role == "tool":
                item["tool_call_id"] = m.tool_call_id or ""
            wire.append(item)
        body: ChatRequest = {"messages": wire}
        if tools:
            body["tools"] = tools_to_wire(tools)
        if tool_choice is not None:
            body["tool_choice"] = tool_choice_to_wire(tool_choice)
        add_sampling(body, params)
        if params.stop:
            body["stop"] = list(params.stop)
        return body

    def parse_response(self, body: Mapping[str, Any], usage: Usage | None = None) -> Completion:
        data = obj(body, "the response body")
        choice = first_object(data.get("choices"), "choices")
        message = answer_from_wire(obj(choice.get("message"), "choices[0].message"), "choices[0].message")
        if usage is None and data.get("usage") is not None:
            usage = _usage(data["usage"], "usage")
        raw = choice.get("finish_reason")
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
            "tools": s.array(
                s.obj(
                    {
                        "type": s.string(enum=("function",)),
                        "function": s.obj(
                            {
                                "name": s.string(),
                                "description": s.string(),
                                "parameters": s.obj({}, additional=True),
                                "strict": s.anything(),
                            },
                            ("name",),
                        ),
                    },
                    ("function",),
                )
            ),
            "tool_choice": s.anything(),
            "stop": s.anything(),
            "stream": s.anything(),
            "response_format": s.obj({}, additional=True),
        }
        for key in ("max_tokens", "temperature", "top_p"):
            props[key] = param_schema(spec, key)
        return s.obj(props, required=("messages",))

    def parse_request(self, spec: ModelSpec, body: object, *, stream: bool) -> ParsedRequest:
        data = require_object(body)
        validate(data, self.schema(spec))
        problems: list[SchemaViolation] = []
        messages: list[Message] = []
        for index, wire in enumerate(data["messages"]):
            text = _content_text(wire.get("content"), f"#/messages/{index}/content", problems)
            calls = tuple(
                decode_arguments(
                    str(c.get("id") or ""),
                    str((c.get("function") or {}).get("name") or ""),
                    (c.get("function") or {}).get("arguments") or "{}",
                )
                for c in wire.get("tool_calls") or ()
            )
            messages.append(Message(wire["role"], text, calls, wire.get("tool_call_id"), wire.get("name")))
        choice, forced = _tool_choice(data.get("tool_choice"), problems)
        stop = data.get("stop")
        if stop is not None and not (
            isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(x, str) for x in stop))
        ):
            problems.append(SchemaViolation("#/stop", "expected type: JSONArray, found: JSONObject"))
        if problems:
            raise schema_error(problems)
        for wire in data["messages"]:
            content = wire.get("content")
            for part in content if isinstance(content, list) else ():
                flag = _PART_MODALITY.get(part.get("type"))
                if flag is not None and not getattr(spec.converse, flag):
                    # The body is well formed; the model behind it takes no such input [I].
                    raise ValidationException(CONTAINER_VALIDATION_ERROR)
        check_turns(messages)
        check_tool_call_ids(spec, messages)
        return ParsedRequest(
            spec=spec,
            dialect=self.dialect,
            messages=tuple(messages),
            params=params_from_body(data),
            tools=tools_from_wire(data.get("tools") or ()),
            tool_choice=choice,
            forced_tool=forced or None,
            stream=stream,
        )

    def build_response(self, request: ParsedRequest, completion: Completion, metrics: Metrics) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": completion.text}
        if completion.tool_calls:
            calls = assign_ids(completion.tool_calls, IdStyle.ALNUM_9, request_seed(request))
            message["tool_calls"] = [_openai_call(c) for c in calls]
        usage = completion.usage or Usage(0, 0)
        reason = STOPS.write(completion.stop_reason or "stop")
        return {
            "id": str(uuid.uuid4()),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.spec.model_id.removeprefix("mistral.").split("-v1:")[0],
            "choices": [{"index": 0, "message": message, "finish_reason": reason}],
            "usage": _completion_usage(usage),
        }

    def stream_writer(self, request: ParsedRequest) -> StreamWriter:
        return _Writer(request)
