"""The Converse API (Converse / ConverseStream) for Mistral models.

Requests are Bedrock's own JSON; the service renders them into the model's prompt template. Mistral's rules
for Converse are enforced on the runtime side (see :mod:`.converse_rules`) and *applied* on the client side
when building a body: system prompts folded into the first user turn for models without system support, tool
results alone in their turn as JSON, no text beside a tool use in one assistant turn.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from ..catalog import Dialect, ModelSpec
from ..conversation import Completion, Delta, Message, Params, StopReason, Tool, ToolCall, Usage
from ..errors import SerializationException, ValidationException
from ..prompt.tool_ids import IdStyle
from ..protocol.operations import OperationName
from .body_types import ConverseRequest, ConverseResponse
from .common import decode_arguments
from .converse_rules import check_model_support, check_request, check_turns
from .fields import count, each_object, malformed, obj, text
from .format import Event, Format, Metrics, ParsedRequest, StreamReader, StreamWriter, request_seed
from .json_body import load_json
from .stops import StopTable
from .tool_id_rules import assign_ids, check_tool_call_ids, wire_tool_call_ids

__all__ = ["STOPS", "ConverseFormat", "converse_stop_reason"]

# stopReason's enum is the service model's [BC]; Bedrock's own reasons keep their names. How Mistral's native
# reasons map onto it is [I] (stop → end_turn, or stop_sequence when a requested sequence matched; length →
# max_tokens; tool_calls → tool_use). Converse has no word for a model that ended with an error: Bedrock's
# nearest, malformed_model_output, is written for it [I] (and reads back as itself).
STOPS = StopTable(
    "stopReason",
    (
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "guardrail_intervened"),
        ("content_filtered", "content_filtered"),
        ("malformed_model_output", "malformed_model_output"),
        ("malformed_tool_use", "malformed_tool_use"),
        ("model_context_window_exceeded", "model_context_window_exceeded"),
        ("stop_sequence", "stop"),
        ("malformed_model_output", "error"),
    ),
    stop_sequence="stop_sequence",
)
_TEXT_DOCUMENTS = ("txt", "md", "csv", "html")


def converse_stop_reason(reason: StopReason, stop_sequence: str | None) -> str:
    """Converse's ``stopReason`` for a neutral reason (``stop_sequence`` when a requested one ended it)."""
    return STOPS.write(reason, stop_sequence)


def _usage(value: object, where: str) -> Usage:
    """``usage`` (TokenUsage): the three counts are required [BC]; the total is checked for presence only."""
    usage = obj(value, where)
    count(usage.get("totalTokens"), f"{where}.totalTokens")
    return Usage(
        count(usage.get("inputTokens"), f"{where}.inputTokens"),
        count(usage.get("outputTokens"), f"{where}.outputTokens"),
    )


def _answer(content: object, where: str) -> tuple[str, tuple[ToolCall, ...]]:
    """Text and tool uses of a response's content blocks; other block types (images, reasoning) are skipped."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    for index, block in enumerate(each_object(content, where)):
        at = f"{where}[{index}]"
        if block.get("text") is not None:
            texts.append(text(block["text"], f"{at}.text"))
        elif block.get("toolUse") is not None:
            use = obj(block["toolUse"], f"{at}.toolUse")
            if "input" not in use:
                raise malformed(f"{at}.toolUse.input", "is missing")
            calls.append(
                decode_arguments(
                    text(use.get("toolUseId"), f"{at}.toolUse.toolUseId"),
                    text(use.get("name"), f"{at}.toolUse.name"),
                    use["input"],
                )
            )
    return "".join(texts), tuple(calls)


def _document_text(document: Mapping[str, Any]) -> str:
    name = str(document.get("name") or "document")
    fmt = str(document.get("format") or "txt")
    source = document.get("source") or {}
    text = source.get("text")
    if text is None and fmt in _TEXT_DOCUMENTS and isinstance(source.get("bytes"), str):
        try:
            text = base64.b64decode(source["bytes"], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise SerializationException(f"The document {name} is not valid base64-encoded UTF-8 text.") from None
    return f'<document name="{name}" format="{fmt}">\n{text if text is not None else ""}\n</document>'


def _result_text(result: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for item in result.get("content") or ():
        if item.get("json") is not None:
            parts.append(json.dumps(item["json"], ensure_ascii=False))
        elif item.get("text") is not None:
            parts.append(str(item["text"]))
    return "".join(parts)


def messages_from_wire(body: Mapping[str, Any]) -> list[Message]:
    """Neutral messages from a (validated) Converse body: system, turns, tool uses and results."""
    out: list[Message] = []
    system = "\n\n".join(str(b.get("text") or "") for b in body.get("system") or () if "text" in b)
    if system:
        out.append(Message.system(system))
    for message in body.get("messages") or ():
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in message.get("content") or ():
            if block.get("text") is not None:
                texts.append(str(block["text"]))
            elif block.get("document") is not None:
                texts.append(_document_text(block["document"]))
            elif block.get("image") is not None:
                texts.append("[image]")
            elif block.get("audio") is not None:
                texts.append("[audio]")
            elif block.get("toolUse") is not None:
                use = block["toolUse"]
                calls.append(decode_arguments(use["toolUseId"], use["name"], use.get("input") or {}))
            elif block.get("toolResult") is not None:
                result = block["toolResult"]
                out.append(Message.tool(result["toolUseId"], _result_text(result)))
        if message["role"] == "assistant":
            out.append(Message.assistant("".join(texts), calls))
        elif texts:
            out.append(Message.user("\n".join(texts)))
    return out


def _tool_result_content(content: str) -> list[dict[str, Any]]:
    """Mistral on Converse wants JSON tool results: objects pass as they are, anything else is wrapped."""
    try:
        parsed = json.loads(content)
    except ValueError:
        parsed = None
    return [{"json": parsed if isinstance(parsed, dict) else {"content": content}}]


class _Writer(StreamWriter):
    """Events in the order clients assemble them: messageStart, blocks (each closed), messageStop, metadata."""

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._index = 0
        self._text_open = False
        self._started = False

    def _start(self) -> list[Event]:
        if self._started:
            return []
        self._started = True
        return [("messageStart", {"role": "assistant"})]

    def _close_text(self) -> list[Event]:
        if not self._text_open:
            return []
        self._text_open = False
        self._index += 1
        return [("contentBlockStop", {"contentBlockIndex": self._index - 1})]

    def text(self, text: str) -> list[Event]:
        events = self._start()
        self._text_open = True
        events.append(("contentBlockDelta", {"contentBlockIndex": self._index, "delta": {"text": text}}))
        return events

    def tool_calls(self, calls: Sequence[Any]) -> list[Event]:
        events = self._start() + self._close_text()
        for call in assign_ids(calls, IdStyle.TOOLUSE, self._seed):
            index = self._index
            events += [
                (
                    "contentBlockStart",
                    {
                        "contentBlockIndex": index,
                        "start": {"toolUse": {"toolUseId": call.id, "name": call.name}},
                    },
                ),
                (
                    "contentBlockDelta",
                    {
                        "contentBlockIndex": index,
                        "delta": {"toolUse": {"input": call.arguments_json}},
                    },
                ),
                ("contentBlockStop", {"contentBlockIndex": index}),
            ]
            self._index += 1
        return events

    def finish(
        self,
        stop_reason: StopReason,
        usage: Usage,
        metrics: Metrics,
        stop_sequence: str | None = None,
    ) -> list[Event]:
        return [
            *self._start(),
            *self._close_text(),
            ("messageStop", {"stopReason": converse_stop_reason(stop_reason, stop_sequence)}),
            (
                "metadata",
                {
                    "usage": {
                        "inputTokens": usage.input_tokens,
                        "outputTokens": usage.output_tokens,
                        "totalTokens": usage.total_tokens,
                    },
                    "metrics": {"latencyMs": metrics.invocation_latency},
                },
            ),
        ]


class _Reader(StreamReader):
    """Assembles ConverseStream events; each event's required members are the service model's [BC]."""

    def __init__(self) -> None:
        self._tools: dict[int, dict[str, str]] = {}

    def feed(self, event_type: str, payload: Mapping[str, Any]) -> list[Delta]:
        read = self._EVENTS.get(event_type)
        return read(self, payload) if read is not None else []  # messageStart and unknown events carry nothing

    def _block_start(self, payload: Mapping[str, Any]) -> list[Delta]:
        index = count(payload.get("contentBlockIndex"), "contentBlockStart.contentBlockIndex")
        start = obj(payload.get("start"), "contentBlockStart.start")
        if start.get("toolUse") is not None:
            use = obj(start["toolUse"], "contentBlockStart.start.toolUse")
            self._tools[index] = {
                "id": text(use.get("toolUseId"), "contentBlockStart.start.toolUse.toolUseId"),
                "name": text(use.get("name"), "contentBlockStart.start.toolUse.name"),
                "input": "",
            }
        return []

    def _block_delta(self, payload: Mapping[str, Any]) -> list[Delta]:
        index = count(payload.get("contentBlockIndex"), "contentBlockDelta.contentBlockIndex")
        delta = obj(payload.get("delta"), "contentBlockDelta.delta")
        if delta.get("text") is not None:
            return [Delta(text=text(delta["text"], "contentBlockDelta.delta.text"))]
        if delta.get("toolUse") is not None:
            slot = self._tools.get(index)
            if slot is None:
                raise malformed(f"the toolUse delta of block {index}", "arrived before its contentBlockStart")
            use = obj(delta["toolUse"], "contentBlockDelta.delta.toolUse")
            slot["input"] += text(use.get("input"), "contentBlockDelta.delta.toolUse.input")
        return []

    def _block_stop(self, payload: Mapping[str, Any]) -> list[Delta]:
        slot = self._tools.pop(count(payload.get("contentBlockIndex"), "contentBlockStop.contentBlockIndex"), None)
        if slot is None:
            return []
        return [Delta(tool_calls=(decode_arguments(slot["id"], slot["name"], slot["input"]),))]

    def _message_stop(self, payload: Mapping[str, Any]) -> list[Delta]:
        raw = payload.get("stopReason")
        return [Delta(stop_reason=STOPS.read(raw, required=True), raw_stop_reason=raw)]

    def _metadata(self, payload: Mapping[str, Any]) -> list[Delta]:
        metrics = obj(payload.get("metrics"), "metadata.metrics")
        return [
            Delta(
                usage=_usage(payload.get("usage"), "metadata.usage"),
                metrics={"latencyMs": count(metrics.get("latencyMs"), "metadata.metrics.latencyMs")},
            )
        ]

    _EVENTS: ClassVar[dict[str, Callable[[_Reader, Mapping[str, Any]], list[Delta]]]] = {
        "contentBlockStart": _block_start,
        "contentBlockDelta": _block_delta,
        "contentBlockStop": _block_stop,
        "messageStop": _message_stop,
        "metadata": _metadata,
    }


class ConverseFormat(Format):
    """Bedrock's Converse request and response."""

    dialect = Dialect.CONVERSE
    operations = (OperationName.CONVERSE, OperationName.CONVERSE_STREAM)

    def build_body(
        self,
        spec: ModelSpec,
        messages: Sequence[Message],
        params: Params,
        tools: Sequence[Tool] = (),
        tool_choice: str | None = None,
    ) -> ConverseRequest:
        messages = wire_tool_call_ids(spec, messages)
        system = [m.content for m in messages if m.role == "system"]
        turns: list[dict[str, Any]] = []
        for message in messages:
            if message.role == "system":
                continue
            if message.role == "tool":
                block = {
                    "toolResult": {
                        "toolUseId": message.tool_call_id,
                        "content": _tool_result_content(message.content),
                        "status": "success",
                    }
                }
                if turns and turns[-1]["role"] == "user" and all("toolResult" in b for b in turns[-1]["content"]):
                    turns[-1]["content"].append(block)
                else:
                    turns.append({"role": "user", "content": [block]})
            elif message.role == "assistant" and message.tool_calls:
                # Mistral rejects text beside a tool use in one turn; the calls are what the history needs.
                turns.append(
                    {
                        "role": "assistant",
                        "content": [
                            {
                                "toolUse": {
                                    "toolUseId": c.id,
                                    "name": c.name,
                                    "input": dict(c.arguments),
                                }
                            }
                            for c in message.tool_calls
                        ],
                    }
                )
            else:
                turns.append({"role": message.role, "content": [{"text": message.content}]})
        if system and not spec.converse.system:
            first_user = next((t for t in turns if t["role"] == "user" and "text" in t["content"][0]), None)
            if first_user is None:
                raise ValidationException(
                    f"{spec.name} takes no system prompt through Converse and there is no user turn to fold it into."
                )
            first_user["content"][0]["text"] = "\n\n".join([*system, first_user["content"][0]["text"]])
            system = []
        body: ConverseRequest = {"messages": turns}
        if system:
            body["system"] = [{"text": text} for text in system]
        config: dict[str, Any] = {}
        for key, wire in (
            ("max_tokens", "maxTokens"),
            ("temperature", "temperature"),
            ("top_p", "topP"),
        ):
            value = getattr(params, key)
            if value is not None:
                config[wire] = value
        if params.stop:
            config["stopSequences"] = list(params.stop)
        if config:
            body["inferenceConfig"] = config
        if params.top_k is not None:
            body["additionalModelRequestFields"] = {"top_k": params.top_k}
        history_has_tools = any(m.tool_calls or m.role == "tool" for m in messages)
        if tool_choice == "none" and history_has_tools:
            raise ValidationException(
                "Converse cannot express tool_choice 'none' once the history holds tool calls; use the "
                "chat dialect, or leave tool_choice unset."
            )
        if tools and tool_choice != "none":
            tool_config: dict[str, Any] = {
                "tools": [
                    {
                        "toolSpec": {
                            "name": t.name,
                            "description": t.description or t.name,
                            "inputSchema": {"json": dict(t.parameters)},
                        }
                    }
                    for t in tools
                ]
            }
            if tool_choice in ("auto", "any"):
                tool_config["toolChoice"] = {tool_choice: {}}
            elif tool_choice is not None:
                # A tool's name forces that tool; no Mistral model takes it, and validation says so in Bedrock's
                # words rather than the choice being dropped.
                if tool_choice not in {t.name for t in tools}:
                    raise ValidationException(
                        f"tool_choice must be auto, any, none or the name of one of the tools, not {tool_choice!r}"
                    )
                tool_config["toolChoice"] = {"tool": {"name": tool_choice}}
            body["toolConfig"] = tool_config
        return body

    def parse_response(self, body: Mapping[str, Any], usage: Usage | None = None) -> Completion:
        # output.message, stopReason, usage and metrics are required, and so are a message's role and content
        # and usage's three counts [BC]: a body without them is not an answer, however politely it says 200.
        data = obj(body, "the response body")
        message = obj(obj(data.get("output"), "output").get("message"), "output.message")
        text(message.get("role"), "output.message.role")
        if message.get("content") is None:
            raise malformed("output.message.content", "is missing")
        answer, calls = _answer(message["content"], "output.message.content")
        raw = data.get("stopReason")
        reason = STOPS.read(raw, required=True)
        wire_usage = _usage(data.get("usage"), "usage")
        obj(data.get("metrics"), "metrics")
        return Completion(text=answer, stop_reason=reason, tool_calls=calls, usage=wire_usage, raw_stop_reason=raw)

    def stream_reader(self) -> StreamReader:
        return _Reader()

    def parse_request(self, spec: ModelSpec, body: object, *, stream: bool) -> ParsedRequest:
        if isinstance(body, (bytes, bytearray, str)):
            try:
                body = load_json(body)
            except (ValueError, UnicodeDecodeError):
                raise SerializationException("Could not parse the request body as JSON.") from None
        if not isinstance(body, dict):
            raise SerializationException("Start of list found where not expected")
        check_request(body, stream=stream)
        check_model_support(spec, body, stream=stream)
        check_turns(body)
        messages = messages_from_wire(body)
        check_tool_call_ids(spec, messages)
        config = body.get("inferenceConfig") or {}
        extra = body.get("additionalModelRequestFields") or {}
        tool_config = body.get("toolConfig") or {}
        choice = tool_config.get("toolChoice") or {}
        forced = (choice.get("tool") or {}).get("name")
        tools = tuple(
            Tool(
                name=t["toolSpec"]["name"],
                description=str(t["toolSpec"].get("description") or ""),
                parameters=t["toolSpec"]["inputSchema"]["json"],
            )
            for t in tool_config.get("tools") or ()
        )
        return ParsedRequest(
            spec=spec,
            dialect=self.dialect,
            messages=tuple(messages),
            params=Params(
                max_tokens=config.get("maxTokens"),
                temperature=config.get("temperature"),
                top_p=config.get("topP"),
                top_k=extra.get("top_k"),
                stop=tuple(config["stopSequences"]) if config.get("stopSequences") else None,
            ),
            tools=tools,
            tool_choice=("any" if forced else next((k for k in ("auto", "any") if k in choice), None)),
            forced_tool=forced,
            stream=stream,
        )

    def build_response(self, request: ParsedRequest, completion: Completion, metrics: Metrics) -> ConverseResponse:
        content: list[dict[str, Any]] = [{"text": completion.text}]
        if completion.tool_calls:
            calls = assign_ids(completion.tool_calls, IdStyle.TOOLUSE, request_seed(request))
            content = [{"toolUse": {"toolUseId": c.id, "name": c.name, "input": dict(c.arguments)}} for c in calls]
        usage = completion.usage or Usage(0, 0)
        reason = completion.stop_reason or "stop"
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": converse_stop_reason(reason, completion.stop_sequence),
            "usage": {
                "inputTokens": usage.input_tokens,
                "outputTokens": usage.output_tokens,
                "totalTokens": usage.total_tokens,
            },
            "metrics": {"latencyMs": metrics.invocation_latency},
        }

    def stream_writer(self, request: ParsedRequest) -> StreamWriter:
        return _Writer(request_seed(request))
