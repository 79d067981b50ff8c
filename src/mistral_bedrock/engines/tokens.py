"""Token counts with the model's real tokenizer, for the usage every engine reports.

* Input: a raw ``prompt`` (text dialect) is tokenized as sent (:func:`~mistral_bedrock.prompt.encode_prompt`);
  a conversation (chat, chat-openai, Converse) is rendered with mistral-common, tools included
  (:func:`~mistral_bedrock.prompt.render`).
* Output: generated text is counted with :func:`~mistral_bedrock.prompt.encode_text` (no BOS/EOS); a tool call
  counts as the tokens of its JSON arguments (the ``[TOOL_CALLS]`` marker and the tool's name are not counted).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from ..catalog import ModelSpec
from ..conversation import Message, Tool, ToolCall
from ..formats import ParsedRequest
from ..prompt import encode_prompt, encode_text, render
from .memo import LRU

__all__ = ["approximate_input_tokens", "input_tokens", "text_tokens", "tool_call_tokens"]

# Per-turn overhead of the approximate count: Mistral's templates spend about two control tokens on a turn
# (``[INST]``/``[/INST]``, ``[TOOL_RESULTS]``/``[/TOOL_RESULTS]``, or an answer's ``</s>``).
_TURN_OVERHEAD = 2


# Counts are memoised per tokenizer: engines count the same prompts and answers over and over.
_TEXT_COUNTS: LRU[int] = LRU(4096)
_INPUT_COUNTS: LRU[int] = LRU(4096)


def text_tokens(text: str, spec: ModelSpec) -> int:
    """Tokens of generated text."""
    if not text:
        return 0
    return _TEXT_COUNTS.get((spec.tokenizer, text), lambda: len(encode_text(text, spec)))


def tool_call_tokens(calls: Iterable[ToolCall], spec: ModelSpec) -> int:
    """Output tokens of tool calls: the tokens of each call's JSON arguments, summed."""
    return sum(text_tokens(call.arguments_json, spec) for call in calls)


def approximate_input_tokens(messages: Sequence[Message], spec: ModelSpec, tools: Sequence[Tool] = ()) -> int:
    """A count for conversations mistral-common cannot render (e.g. one that ends with a non-empty prefix).

    BOS, plus for every turn the tokens of its text and of its tool calls' JSON arguments and two control
    tokens, plus the tokens of the tools' JSON definitions. Within a few tokens of a real render.
    """
    total = 1
    for message in messages:
        total += _TURN_OVERHEAD + text_tokens(message.content, spec) + tool_call_tokens(message.tool_calls, spec)
    if tools:
        definitions = [{"name": t.name, "description": t.description, "parameters": dict(t.parameters)} for t in tools]
        total += _TURN_OVERHEAD + text_tokens(json.dumps(definitions, ensure_ascii=False), spec)
    return total


def input_tokens(request: ParsedRequest) -> int:
    """The prompt's token count with the model's tokenizer.

    A raw prompt is tokenized as sent, control-token strings as control ids. A conversation is rendered with
    mistral-common; one that ends with an assistant turn is rendered as a prefix for the model to continue
    (what Bedrock does with a prefilled answer). If mistral-common still cannot render it (tools on a model
    without tool support, a tool result that answers no call…), :func:`approximate_input_tokens` gives the
    count instead: counting never fails a request that its format has already accepted.

    Args:
        request: The parsed request.

    Returns:
        The number of input tokens.
    """
    spec = request.spec
    prompt = request.prompt
    if prompt is not None:
        return _INPUT_COUNTS.get((spec.tokenizer, prompt), lambda: encode_prompt(prompt, spec).count)
    # Neutral messages and tools are frozen values whose repr is complete and stable: a sound cache key.
    key = (spec.tokenizer, repr(request.messages), repr(request.tools))
    return _INPUT_COUNTS.get(key, lambda: _conversation_tokens(request))


def _conversation_tokens(request: ParsedRequest) -> int:
    spec = request.spec
    messages = request.messages
    if not messages:
        return 1  # just BOS: formats reject empty conversations, but a hand-built request may have none
    tools = request.tools or None
    continue_final = messages[-1].role == "assistant"
    try:
        return render(messages, spec, tools, continue_final=continue_final).count
    # render() reports everything it rejects as ValidationException, but a usage count must not turn a valid
    # request into an error, whatever mistral-common raises.
    except Exception:
        return approximate_input_tokens(messages, spec, request.tools)
