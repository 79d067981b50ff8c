"""A model's ``[TOOL_CALLS]`` output → tool calls.

Mistral's v2 and later tokenizers have a ``[TOOL_CALLS]`` control token. A model that calls tools emits it, then a
JSON list of ``{"name": …, "arguments": {…}}`` objects (v3 and later add an ``"id"``), then ``</s>`` — the very
form mistral-common renders for an assistant's tool calls in a history. The ids a model writes are dropped: the
format assigns ids in its dialect's style, as for every engine.

Output that is not such a list (a model cut off by ``max_tokens``, or a small model's noise) is not a tool call.
What Bedrock then returns for Mistral models is not documented; this engine returns the text after
``[TOOL_CALLS]`` as the answer's text, with the stop reason the generation ended with [I].
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ...conversation import ToolCall

__all__ = ["parse_tool_calls"]


def parse_tool_calls(text: str) -> tuple[ToolCall, ...] | None:
    """The calls in the JSON after ``[TOOL_CALLS]``, or None when it is not a list of calls."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, Mapping):  # one call written without its list
        value = [value]
    if not isinstance(value, list) or not value:
        return None
    calls: list[ToolCall] = []
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) or not item["name"]:
            return None
        arguments = item.get("arguments", {})
        if isinstance(arguments, str):  # some fine-tunes write the arguments as a JSON string
            try:
                arguments = json.loads(arguments)
            except ValueError:
                return None
        if not isinstance(arguments, Mapping):
            return None
        calls.append(ToolCall("", item["name"], dict(arguments)))
    return tuple(calls)
