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
from collections.abc import Mapping, Sequence
from typing import Any

from ..catalog import Dialect, ModelSpec
from ..conversation import Completion, Delta, Message, Params, StopReason, Tool, ToolCall, Usage
from ..errors import ModelErrorException, SerializationException, StreamError, ValidationException
from .base import Event, Format, Metrics, ParsedRequest, StreamReader, StreamWriter, request_seed
from .common import decode_arguments
from .converse_rules import check_constraints, check_model_support, check_structure, check_turns
from .tool_ids import IdStyle, assign_ids
from .wire import ConverseRequest, ConverseResponse

__all__ = ["STOP_REASONS", "ConverseFormat", "converse_stop_reason"]

# Converse stopReason → Mistral's stop reason.
STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "stop",
    "content_filtered": "stop",
    "model_context_window_exceeded": "length",
}
_TO_CONVERSE: dict[str, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
}
_TEXT_DOCUMENTS = ("txt", "md", "csv", "html")


def converse_stop_reason(reason: StopReason, stop_sequence: str | None) -> str:
    if reason == "stop" and stop_sequence:
        return "stop_sequence"
    return _TO_CONVERSE[reason]


def _mistral_stop(raw: object) -> StopReason | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ModelErrorException(f"Unexpected stopReason: {raw!r}")
    return STOP_REASONS.get(raw, "stop")


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
    def __init__(self) -> None:
        self._tools: dict[int, dict[str, str]] = {}

    def feed(self, event_type: str, payload: Mapping[str, Any]) -> list[Delta]:
        if event_type == "contentBlockStart":
            use = (payload.get("start") or {}).get("toolUse")
            if use:
                index = int(payload.get("contentBlockIndex", 0))
                self._tools[index] = {"id": use["toolUseId"], "name": use["name"], "input": ""}
            return []
        if event_type == "contentBlockDelta":
            delta = payload.get("delta") or {}
            if delta.get("text") is not None:
                return [Delta(text=str(delta["text"]))]
            if delta.get("toolUse") is not None:
                slot = self._tools.get(int(payload.get("contentBlockIndex", 0)))
                if slot is None:
                    raise StreamError("A toolUse delta arrived for a block that was never started.")
                slot["input"] += str(delta["toolUse"].get("input") or "")
            return []
        if event_type == "contentBlockStop":
            slot = self._tools.pop(int(payload.get("contentBlockIndex", 0)), None)
            if slot is None:
                return []
            return [Delta(tool_calls=(decode_arguments(slot["id"], slot["name"], slot["input"]),))]
        if event_type == "messageStop":
            raw = payload.get("stopReason")
            return [Delta(stop_reason=_mistral_stop(raw), raw_stop_reason=raw)]
        if event_type == "metadata":
            usage = payload.get("usage") or {}
            metrics = payload.get("metrics") or {}
            return [
                Delta(
                    usage=Usage(int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0))),
                    metrics={"latencyMs": int(metrics.get("latencyMs", 0))},
                )
            ]
        return []


class ConverseFormat(Format):
    """Bedrock's Converse request and response."""

    dialect = Dialect.CONVERSE

    def build_body(
        self,
        spec: ModelSpec,
        messages: Sequence[Message],
        params: Params,
        tools: Sequence[Tool] = (),
        tool_choice: str | None = None,
    ) -> ConverseRequest:
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
            body["toolConfig"] = tool_config
        return body

    def parse_response(self, body: Mapping[str, Any], usage: Usage | None = None) -> Completion:
        message = ((body.get("output") or {}).get("message")) or {}
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in message.get("content") or ():
            if block.get("text") is not None:
                texts.append(str(block["text"]))
            elif block.get("toolUse") is not None:
                use = block["toolUse"]
                calls.append(decode_arguments(use["toolUseId"], use["name"], use.get("input") or {}))
        wire_usage = body.get("usage") or {}
        if wire_usage:
            usage = Usage(int(wire_usage.get("inputTokens", 0)), int(wire_usage.get("outputTokens", 0)))
        raw = body.get("stopReason")
        return Completion(
            text="".join(texts),
            stop_reason=_mistral_stop(raw),
            tool_calls=tuple(calls),
            usage=usage,
            raw_stop_reason=raw,
        )

    def stream_reader(self) -> StreamReader:
        return _Reader()

    def parse_request(self, spec: ModelSpec, body: object, *, stream: bool) -> ParsedRequest:
        if isinstance(body, (bytes, bytearray, str)):
            try:
                body = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise SerializationException("Could not parse the request body as JSON.") from None
        if not isinstance(body, dict):
            raise SerializationException("Start of list found where not expected")
        check_structure(body)
        check_constraints(body)
        check_model_support(spec, body, stream=stream)
        check_turns(body)
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
            messages=tuple(messages_from_wire(body)),
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
