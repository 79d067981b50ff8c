"""The answer of a Converse call: its stop reasons, a whole response both ways, and the usage a stream ends with.

A response's required members are the service model's [BC]; :func:`completion_from_response` checks each one, so a
200 of the wrong shape raises :class:`~mistral_bedrock.errors.MalformedResponseError` rather than reading as an
empty answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..conversation import Completion, StopReason, ToolCall, Usage
from ..prompt.tool_ids import IdStyle
from .body_types import ConverseResponse
from .common import decode_arguments
from .fields import each_object, malformed, obj, text
from .format import Metrics, ParsedRequest, request_seed
from .stops import StopTable
from .token_usage import UsageSpelling
from .tool_id_rules import assign_ids

__all__ = [
    "STOPS",
    "USAGE",
    "completion_from_response",
    "converse_stop_reason",
    "response_for",
    "tool_use_block",
]

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


def converse_stop_reason(reason: StopReason, stop_sequence: str | None) -> str:
    """Converse's ``stopReason`` for a neutral reason (``stop_sequence`` when a requested one ended it)."""
    return STOPS.write(reason, stop_sequence)


def tool_use_block(call: ToolCall) -> dict[str, Any]:
    """A tool call as a ``toolUse`` content block: the model's answer, or an assistant turn of a history."""
    return {"toolUse": {"toolUseId": call.id, "name": call.name, "input": dict(call.arguments)}}


#: ``usage`` (TokenUsage) of a response or of a stream's ``metadata`` event: the three counts are required [BC]; the
#: total is checked for presence only.
USAGE = UsageSpelling("inputTokens", "outputTokens", "totalTokens", total_required=True)


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


def completion_from_response(body: Mapping[str, Any]) -> Completion:
    """A whole Converse response, every required member checked."""
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
    wire_usage = USAGE.read(data.get("usage"), "usage")
    obj(data.get("metrics"), "metrics")
    return Completion(text=answer, stop_reason=reason, tool_calls=calls, usage=wire_usage, raw_stop_reason=raw)


def response_for(request: ParsedRequest, completion: Completion, metrics: Metrics) -> ConverseResponse:
    """The whole Converse response for a completion."""
    content: list[dict[str, Any]] = [{"text": completion.text}]
    if completion.tool_calls:
        calls = assign_ids(completion.tool_calls, IdStyle.TOOLUSE, request_seed(request))
        content = [tool_use_block(c) for c in calls]
    usage = completion.usage or Usage(0, 0)
    reason = completion.stop_reason or "stop"
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": converse_stop_reason(reason, completion.stop_sequence),
        "usage": USAGE.write(usage),
        "metrics": {"latencyMs": metrics.invocation_latency},
    }
