"""Input tokens of a conversation: the one counting path of the client, the CLI and the runtime.

``MistralBedrock.count_tokens``, ``mistral-bedrock tokens``, the runtime's usage and its CountTokens all count a
conversation here, so they agree on every conversation, including those mistral-common will not render:

* A conversation that ends with an assistant turn is rendered as a prefix for the model to continue (what
  Bedrock does with a prefilled answer), not refused.
* One mistral-common still cannot render (tools on a model without tool support, a tool result that answers no
  call…) is counted by :func:`approximate_input_tokens`: a body that Bedrock's format accepts always has a count,
  and a count never turns such a body into an error.

A raw text-completion prompt is not a conversation: it is tokenized as sent (:func:`~.raw.encode_prompt`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..catalog import ModelSpec
from ..conversation import Message, Tool, as_messages
from .generated_text import encode_text
from .render import render
from .rendered import Rendered

__all__ = ["approximate_input_tokens", "count_input_tokens", "count_tokens", "render_input"]

# Control tokens around each turn in the approximation: a pair per turn in every template
# (``[INST]``/``[/INST]``, ``[TOOL_RESULTS]``/``[/TOOL_RESULTS]``, or an answer's ``</s>``).
_TURN_OVERHEAD = 2


def render_input(messages: Sequence[Message], spec: ModelSpec, tools: Sequence[Tool] = ()) -> Rendered:
    """The prompt a model reads for ``messages``: a final assistant turn is a prefix the model continues.

    Raises:
        ValidationException: mistral-common cannot render the conversation (the message says why).
    """
    continue_final = bool(messages) and messages[-1].role == "assistant"
    return render(messages, spec, tools or None, continue_final=continue_final)


def approximate_input_tokens(messages: Sequence[Message], spec: ModelSpec, tools: Sequence[Tool] = ()) -> int:
    """A count for conversations mistral-common cannot render.

    BOS, plus for every turn the tokens of its text and of its tool calls' JSON arguments and two control
    tokens, plus the tokens of the tools' JSON definitions. Within a few tokens of a real render.
    """

    def tokens(text: str) -> int:
        return len(encode_text(text, spec)) if text else 0

    total = 1
    for message in messages:
        total += _TURN_OVERHEAD + tokens(message.content)
        total += sum(tokens(call.arguments_json) for call in message.tool_calls)
    if tools:
        definitions = [{"name": t.name, "description": t.description, "parameters": dict(t.parameters)} for t in tools]
        total += _TURN_OVERHEAD + tokens(json.dumps(definitions, ensure_ascii=False))
    return total


def count_input_tokens(messages: Sequence[Message], spec: ModelSpec, tools: Sequence[Tool] = ()) -> int:
    """The input tokens of ``messages`` (and ``tools``) for ``spec``: exact where mistral-common renders them."""
    if not messages:
        return 1  # just BOS: formats refuse empty conversations, but a hand-built request may have none
    try:
        return render_input(messages, spec, tools).count
    # render() reports everything it rejects as ValidationException, but a count must not turn a conversation
    # that a format accepted into an error, whatever mistral-common raises.
    except Exception:
        return approximate_input_tokens(messages, spec, tools)


def count_tokens(conversation: str | Sequence[Message], spec: ModelSpec, tools: Sequence[Tool] | None = None) -> int:
    """:func:`count_input_tokens` of a conversation, where a string is one user turn.

    For a raw text-completion prompt use ``encode_prompt(prompt, spec).count``; for generated text,
    ``len(encode_text(text, spec))``.
    """
    return count_input_tokens(as_messages(conversation), spec, tools or ())
