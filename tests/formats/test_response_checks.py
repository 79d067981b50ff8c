"""The response side of every format: stop reasons keep their meaning both ways, malformed bodies are typed errors.

Writing and reading go through one table per dialect, so every neutral reason the runtime writes reads back as
itself (Converse's one lossy row, ``error``, is checked as such). A body or stream chunk without what its
dialect requires raises :class:`MalformedResponseError` naming the field — never ``KeyError``,
``AttributeError`` or ``TypeError``, and never an empty success.
"""

from __future__ import annotations

import contextlib
import copy
import typing
from collections.abc import Iterator
from typing import Any

import pytest

from mistral_bedrock.catalog import lookup
from mistral_bedrock.conversation import Completion, StopReason, ToolCall, Usage
from mistral_bedrock.errors import MalformedResponseError, ModelErrorException
from mistral_bedrock.formats import (
    ChatFormat,
    ChatOpenAIFormat,
    ConverseFormat,
    Format,
    Metrics,
    TextFormat,
    chat,
    chat_openai,
    converse,
    text,
)
from mistral_bedrock.formats.body_types import MistralStopReason
from mistral_bedrock.formats.stops import MISTRAL_STOPS, STOP_REASONS, StopTable

TEXT, CHAT, OPENAI, CONVERSE = TextFormat(), ChatFormat(), ChatOpenAIFormat(), ConverseFormat()
SPECS = {
    TEXT: lookup("mistral-7b"),
    CHAT: lookup("mistral-large-2402"),
    OPENAI: lookup("pixtral-large"),
    CONVERSE: lookup("mistral-large-2402"),
}
BODIES = {
    TEXT: {"prompt": "<s>[INST] Hi [/INST]"},
    CHAT: {"messages": [{"role": "user", "content": "Hi"}]},
    OPENAI: {"messages": [{"role": "user", "content": "Hi"}]},
    CONVERSE: {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]},
}
FORMATS = pytest.mark.parametrize("fmt", [TEXT, CHAT, OPENAI, CONVERSE], ids=["text", "chat", "openai", "converse"])
WRITTEN = [reason for reason in STOP_REASONS if reason != "unknown"]
# What a dialect's table cannot say reads back as Bedrock's nearest reason.
LOSSY: dict[tuple[Format, StopReason], StopReason] = {(CONVERSE, "error"): "malformed_model_output"}


def _request(fmt: Format, *, stream: bool) -> Any:
    return fmt.parse_request(SPECS[fmt], BODIES[fmt], stream=stream)


def _read_back(fmt: Format, reason: StopReason) -> StopReason:
    return LOSSY.get((fmt, reason), reason)


# -- stop reasons ----------------------------------------------------------------------------------------------
@FORMATS
@pytest.mark.parametrize("reason", WRITTEN)
def test_every_reason_survives_a_whole_response(fmt: Format, reason: StopReason) -> None:
    completion = Completion("blocked" if reason != "tool_calls" else "", reason, usage=Usage(3, 1))
    body = fmt.build_response(_request(fmt, stream=False), completion, Metrics(5, 2))
    parsed = fmt.parse_response(body, Usage(3, 1))
    assert parsed.stop_reason == _read_back(fmt, reason)
    assert isinstance(parsed.raw_stop_reason, str) and parsed.raw_stop_reason


@FORMATS
@pytest.mark.parametrize("reason", WRITTEN)
def test_every_reason_survives_a_stream(fmt: Format, reason: StopReason) -> None:
    writer = fmt.stream_writer(_request(fmt, stream=True))
    events = writer.text("some text") + writer.finish(reason, Usage(3, 2), Metrics(5, 2))
    reader = fmt.stream_reader()
    stops = [d for event in events for d in reader.feed(*event) if d.stop_reason is not None]
    assert [d.stop_reason for d in stops] == [_read_back(fmt, reason)]


@pytest.mark.parametrize(
    ("table", "raw", "reason"),
    [
        (converse.STOPS, "end_turn", "stop"),
        (converse.STOPS, "stop_sequence", "stop"),
        (converse.STOPS, "max_tokens", "length"),
        (converse.STOPS, "tool_use", "tool_calls"),
        (converse.STOPS, "guardrail_intervened", "guardrail_intervened"),
        (converse.STOPS, "content_filtered", "content_filtered"),
        (converse.STOPS, "malformed_model_output", "malformed_model_output"),
        (converse.STOPS, "malformed_tool_use", "malformed_tool_use"),
        (converse.STOPS, "model_context_window_exceeded", "model_context_window_exceeded"),
        (converse.STOPS, "stop", "unknown"),  # a native spelling is not a Converse one
        (converse.STOPS, "refusal", "unknown"),
        (text.STOPS, "stop", "stop"),
        (text.STOPS, "length", "length"),
        (text.STOPS, "model_length", "model_context_window_exceeded"),
        (text.STOPS, "guardrail_intervened", "guardrail_intervened"),
        (text.STOPS, "end_turn", "unknown"),
        (chat.STOPS, "tool_calls", "tool_calls"),
        (chat.STOPS, "error", "error"),
        (chat_openai.STOPS, "content_filter", "content_filtered"),
        (chat_openai.STOPS, "content_filtered", "content_filtered"),
        (chat_openai.STOPS, "model_length", "model_context_window_exceeded"),
        (chat_openai.STOPS, "error", "error"),
        (chat_openai.STOPS, "", "unknown"),
    ],
)
def test_spellings_read(table: StopTable[str], raw: str, reason: StopReason) -> None:
    assert table.read(raw) == reason


@pytest.mark.parametrize(
    ("table", "reason", "stop_sequence", "raw"),
    [
        (converse.STOPS, "stop", None, "end_turn"),
        (converse.STOPS, "stop", "\n", "stop_sequence"),
        (converse.STOPS, "length", None, "max_tokens"),
        (converse.STOPS, "model_context_window_exceeded", None, "model_context_window_exceeded"),
        (converse.STOPS, "error", None, "malformed_model_output"),
        (text.STOPS, "stop", "\n", "stop"),  # the native dialects do not say a stop sequence matched
        (text.STOPS, "model_context_window_exceeded", None, "model_length"),
        (chat.STOPS, "guardrail_intervened", None, "guardrail_intervened"),
        (chat_openai.STOPS, "content_filtered", None, "content_filter"),
    ],
)
def test_spellings_written(table: StopTable[str], reason: StopReason, stop_sequence: str | None, raw: str) -> None:
    assert table.write(reason, stop_sequence) == raw


def test_converse_stop_reason_is_the_table() -> None:
    assert converse.converse_stop_reason("guardrail_intervened", None) == "guardrail_intervened"
    assert converse.converse_stop_reason("stop", "END") == "stop_sequence"


def test_unknown_is_read_never_written() -> None:
    with pytest.raises(ValueError, match="'unknown'"):
        text.STOPS.write("unknown")
    with pytest.raises(ValueError, match="must write every reason"):
        StopTable("x", MISTRAL_STOPS[:3])
    with pytest.raises(ValueError, match="must write every reason"):
        StopTable("x", (*MISTRAL_STOPS, ("?", "unknown")))


def test_stop_reasons_that_are_not_strings_are_malformed() -> None:
    for raw in (1, True, ["stop"], {"reason": "stop"}):
        with pytest.raises(MalformedResponseError, match=r"stopReason is an? (number|boolean|array|object)"):
            converse.STOPS.read(raw)
    assert converse.STOPS.read(None) is None
    with pytest.raises(MalformedResponseError, match="stopReason is missing"):
        converse.STOPS.read(None, required=True)


def test_the_wire_type_lists_every_native_spelling() -> None:
    native = {raw for table in (text.STOPS, chat.STOPS, chat_openai.STOPS) for raw, _ in table.rows}
    assert native == set(typing.get_args(MistralStopReason))


# -- captured bodies still parse ----------------------------------------------------------------------------------
def test_real_pixtral_body_parses() -> None:
    # A verbatim Pixtral InvokeModel body (spec §5.5, BerriAI/litellm#10360), nulls and all.
    body = {
        "id": "e1027982-0ee5-4e0d-9eaf-88d3a3e7fe1f",
        "object": "chat.completion",
        "created": 1745747260,
        "model": "pixtral-large-2502",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "tool_calls": None,
                    "index": None,
                    "tool_call_id": None,
                    "content": "\nHi!",
                    "audio": None,
                },
                "finish_reason": "stop",
                "logprobs": None,
                "context_logits": None,
                "generation_logits": None,
            }
        ],
        "usage": {"prompt_tokens": 13, "total_tokens": 193, "completion_tokens": 180, "request_count": None},
    }
    parsed = OPENAI.parse_response(body)
    assert (parsed.text, parsed.stop_reason, parsed.usage) == ("\nHi!", "stop", Usage(13, 180))


def test_real_chat_tool_chunk_parses() -> None:
    # A captured legacy-chat final chunk (spec §5.4, lobe-chat), tool call and metrics together.
    chunk = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "3NcHNntdRyaHu8zisKJAhQ",
                            "function": {"name": "w", "arguments": '{"city": "Singapore"}'},
                        }
                    ],
                },
                "stop_reason": "tool_calls",
            }
        ],
        "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": 63,
            "outputTokenCount": 263,
            "invocationLatency": 5330,
            "firstByteLatency": 122,
        },
    }
    (delta,) = CHAT.stream_reader().feed("chunk", chunk)
    assert delta.stop_reason == "tool_calls" and delta.tool_calls[0].arguments == {"city": "Singapore"}
    assert delta.usage == Usage(63, 263)


# -- malformed whole responses ---------------------------------------------------------------------------------
GOOD_TEXT = {"outputs": [{"text": " Hi", "stop_reason": "stop"}]}
GOOD_CHAT = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "stop_reason": "stop"}]}
GOOD_OPENAI = {
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
GOOD_CONVERSE = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
    "metrics": {"latencyMs": 3},
}
GOOD = {TEXT: GOOD_TEXT, CHAT: GOOD_CHAT, OPENAI: GOOD_OPENAI, CONVERSE: GOOD_CONVERSE}
NOT_OBJECTS: list[object] = [[], [GOOD_TEXT], "text", 42, 1.5, True, None]


@FORMATS
@pytest.mark.parametrize("body", NOT_OBJECTS, ids=repr)
def test_a_body_that_is_not_an_object_is_malformed(fmt: Format, body: object) -> None:
    with pytest.raises(MalformedResponseError, match="the response body is"):
        fmt.parse_response(body)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fmt", "body", "names"),
    [
        (TEXT, {}, "outputs is missing"),
        (TEXT, {"outputs": []}, "outputs is empty"),
        (TEXT, {"outputs": {"text": "x"}}, "outputs is an object, not an array"),
        (TEXT, {"outputs": ["x"]}, r"outputs\[0\] is a string, not an object"),
        (TEXT, {"outputs": [{"stop_reason": "stop"}]}, r"outputs\[0\].text is missing"),
        (TEXT, {"outputs": [{"text": 3, "stop_reason": "stop"}]}, r"outputs\[0\].text is a number"),
        (TEXT, {"outputs": [{"text": "x"}]}, r"outputs\[0\].stop_reason is missing"),
        (TEXT, {"outputs": [{"text": "x", "stop_reason": 0}]}, r"outputs\[0\].stop_reason is a number"),
        (CHAT, {}, "choices is missing"),
        (CHAT, {"choices": []}, "choices is empty"),
        (CHAT, {"choices": [{"stop_reason": "stop"}]}, r"choices\[0\].message is missing"),
        (CHAT, {"choices": [{"message": "Hi", "stop_reason": "stop"}]}, r"choices\[0\].message is a string"),
        (CHAT, {"choices": [{"message": {"content": "Hi"}}]}, r"choices\[0\].stop_reason is missing"),
        (CHAT, {"choices": [{"message": {"content": ["Hi"]}, "stop_reason": "stop"}]}, r"message.content is an array"),
        (
            CHAT,
            {"choices": [{"message": {"tool_calls": {"id": "a"}}, "stop_reason": "tool_calls"}]},
            r"message.tool_calls is an object, not an array",
        ),
        (
            CHAT,
            {"choices": [{"message": {"tool_calls": [{"id": "a"}]}, "stop_reason": "tool_calls"}]},
            r"tool_calls\[0\].function is missing",
        ),
        (
            CHAT,
            {
                "choices": [
                    {"message": {"tool_calls": [{"function": {"arguments": "{}"}}]}, "stop_reason": "tool_calls"}
                ]
            },
            r"tool_calls\[0\].function.name is missing",
        ),
        (OPENAI, {"usage": GOOD_OPENAI["usage"]}, "choices is missing"),
        (OPENAI, {"choices": [{"finish_reason": "stop"}]}, r"choices\[0\].message is missing"),
        (OPENAI, {"choices": [{"message": {"content": "Hi"}}]}, r"choices\[0\].finish_reason is missing"),
        (OPENAI, {"choices": [{"message": {"content": "Hi"}, "finish_reason": None}]}, "finish_reason is missing"),
        (OPENAI, {**GOOD_OPENAI, "usage": {"prompt_tokens": 1}}, "usage.completion_tokens is missing"),
        (OPENAI, {**GOOD_OPENAI, "usage": [1, 2]}, "usage is an array"),
        (CONVERSE, {}, "output is missing"),
        (CONVERSE, {**GOOD_CONVERSE, "output": {}}, "output.message is missing"),
        (CONVERSE, {**GOOD_CONVERSE, "output": {"message": {"role": "assistant"}}}, "message.content is missing"),
        (CONVERSE, {**GOOD_CONVERSE, "output": {"message": {"content": []}}}, "message.role is missing"),
        (
            CONVERSE,
            {**GOOD_CONVERSE, "output": {"message": {"role": "assistant", "content": {"text": "x"}}}},
            "content is an object, not an array",
        ),
        (
            CONVERSE,
            {**GOOD_CONVERSE, "output": {"message": {"role": "assistant", "content": [{"toolUse": {"name": "f"}}]}}},
            r"content\[0\].toolUse.input is missing",
        ),
        (CONVERSE, {k: v for k, v in GOOD_CONVERSE.items() if k != "stopReason"}, "stopReason is missing"),
        (CONVERSE, {k: v for k, v in GOOD_CONVERSE.items() if k != "usage"}, "usage is missing"),
        (CONVERSE, {k: v for k, v in GOOD_CONVERSE.items() if k != "metrics"}, "metrics is missing"),
        (CONVERSE, {**GOOD_CONVERSE, "usage": {"inputTokens": 1, "outputTokens": 1}}, "usage.totalTokens is missing"),
        (
            CONVERSE,
            {**GOOD_CONVERSE, "usage": {**GOOD_CONVERSE["usage"], "inputTokens": "1"}},
            "inputTokens is a string",
        ),
    ],
)
def test_malformed_bodies_name_the_field(fmt: Format, body: dict[str, Any], names: str) -> None:
    with pytest.raises(MalformedResponseError, match=names):
        fmt.parse_response(body)


def _paths(value: object, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _mutations(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every field of a good body replaced by every JSON type, and removed."""
    for path in list(_paths(body))[1:]:
        for replacement in (None, 0, 1.5, "x", True, [], [1], {}, {"x": 1}, "__delete__"):
            mutated = copy.deepcopy(body)
            parent: Any = mutated
            for step in path[:-1]:
                parent = parent[step]
            if replacement == "__delete__":
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
            yield mutated


@FORMATS
def test_no_mutation_of_a_good_body_escapes_as_an_untyped_error(fmt: Format) -> None:
    for body in _mutations(GOOD[fmt]):
        with contextlib.suppress(MalformedResponseError, ModelErrorException):
            fmt.parse_response(body)


# -- malformed stream chunks -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "event", "names"),
    [
        (TEXT, ("chunk", {}), "outputs is missing"),
        (TEXT, ("chunk", {"outputs": "x"}), "outputs is a string"),
        (TEXT, ("chunk", {"outputs": [{"text": 1, "stop_reason": None}]}), r"outputs\[0\].text is a number"),
        (TEXT, ("chunk", {"outputs": [{"text": "a", "stop_reason": 7}]}), "stop_reason is a number"),
        (
            TEXT,
            ("chunk", {"outputs": [{"text": "a", "stop_reason": "stop"}], "amazon-bedrock-invocationMetrics": 5}),
            "amazon-bedrock-invocationMetrics is a number",
        ),
        (
            TEXT,
            ("chunk", {"outputs": [{"text": "a"}], "amazon-bedrock-invocationMetrics": {"inputTokenCount": 1}}),
            "invocationMetrics.outputTokenCount is missing",
        ),
        (CHAT, ("chunk", {"choices": []}), "choices is empty"),
        (CHAT, ("chunk", {"choices": [{"delta": {"content": "a"}}]}), r"choices\[0\].message is missing"),
        (OPENAI, ("chunk", {"choices": [{"finish_reason": None}]}), r"choices\[0\].message is missing"),
        (OPENAI, ("chunk", {"choices": [{"delta": "a"}]}), r"choices\[0\].delta is a string"),
        (OPENAI, ("chunk", {"choices": [{"delta": {"tool_calls": [{"index": "0"}]}}]}), r"\.index is a string"),
        (
            OPENAI,
            (
                "chunk",
                {"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "a"}]}, "finish_reason": "tool_calls"}]},
            ),
            "tool call 0 never got its function name",
        ),
        (CONVERSE, ("messageStop", {}), "stopReason is missing"),
        (CONVERSE, ("messageStop", {"stopReason": 3}), "stopReason is a number"),
        (
            CONVERSE,
            ("metadata", {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}}),
            "metrics is missing",
        ),
        (CONVERSE, ("metadata", {"metrics": {"latencyMs": 1}}), "metadata.usage is missing"),
        (CONVERSE, ("contentBlockDelta", {"delta": {"text": "a"}}), "contentBlockIndex is missing"),
        (CONVERSE, ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": 5}}), "delta.text is a number"),
        (CONVERSE, ("contentBlockDelta", {"contentBlockIndex": 0, "delta": "a"}), "delta is a string"),
        (
            CONVERSE,
            ("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{}"}}}),
            "block 2 arrived before its contentBlockStart",
        ),
        (CONVERSE, ("contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {"name": "f"}}}), "toolUseId"),
    ],
)
def test_malformed_stream_events_name_the_field(fmt: Format, event: tuple[str, dict[str, Any]], names: str) -> None:
    with pytest.raises(MalformedResponseError, match=names):
        fmt.stream_reader().feed(*event)


def test_openai_usage_only_chunk_is_taken() -> None:
    usage = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    (delta,) = OPENAI.stream_reader().feed("chunk", {"choices": [], "usage": usage})
    assert delta.usage == Usage(4, 2) and delta.stop_reason is None


def test_converse_events_without_a_payload_of_their_own_are_ignored() -> None:
    reader = CONVERSE.stream_reader()
    assert reader.feed("messageStart", {"role": "assistant"}) == []
    assert reader.feed("somethingNew", {"x": 1}) == []
    assert reader.feed("contentBlockStart", {"contentBlockIndex": 0, "start": {"image": {}}}) == []
    reader.feed("contentBlockStart", {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t", "name": "f"}}})
    reader.feed("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{}"}}})
    (delta,) = reader.feed("contentBlockStop", {"contentBlockIndex": 1})
    assert delta.tool_calls == (ToolCall("t", "f", {}),)
