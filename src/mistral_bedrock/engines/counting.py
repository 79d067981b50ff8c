"""Token counts with the model's real tokenizer, for the usage every engine reports.

* Input: a raw ``prompt`` (text dialect) is tokenized as sent (:func:`~mistral_bedrock.prompt.encode_prompt`);
  a conversation (chat, chat-openai, Converse) is counted as the client and the CLI count it
  (:func:`~mistral_bedrock.prompt.input_tokens.count_input_tokens`).
* Output: generated text is counted with :func:`~mistral_bedrock.prompt.encode_text` (no BOS/EOS); a tool call
  counts as the tokens of its JSON arguments (the ``[TOOL_CALLS]`` marker and the tool's name are not counted).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass

from ..catalog import ModelSpec
from ..conversation import Message, Tool, ToolCall
from ..formats import ParsedRequest
from ..prompt import count_prompt_tokens, encode_text
from ..prompt.input_tokens import count_input_tokens
from ..prompt.pieces import WORDS_MAX_CHARS
from .memo import LRU, too_large

__all__ = [
    "OFFLOAD_CHARS",
    "carry_input_tokens",
    "input_tokens",
    "request_chars",
    "text_tokens",
    "tool_call_tokens",
]

#: Requests with more characters of text than this are tokenized in a worker thread, not on the event loop:
#: above it the work (about 0.1 µs per character) outweighs the thread hop (~50 µs) many times over, and
#: below it a request holds the loop for well under a millisecond.
OFFLOAD_CHARS = WORDS_MAX_CHARS  # the prompt layer encodes longer text without its word table, GIL free


# Counts are memoised per tokenizer: engines count the same prompts and answers over and over (see .memo).
_TEXT_COUNTS: LRU[int] = LRU("text counts")
_INPUT_COUNTS: LRU[int] = LRU("input counts")


@dataclass(frozen=True)
class _Carried:
    """The input count of one request, taken by the runtime before the engine runs."""

    tokenizer: str
    prompt: str | None
    messages: tuple[Message, ...]
    tools: tuple[Tool, ...]
    count: int

    def matches(self, request: ParsedRequest) -> bool:
        # Identity, not equality: comparing a 4 MB prompt would cost what the carried count saves. A request the
        # runtime rewrites (``max_tokens`` capped to the window) keeps these very objects.
        return (
            request.prompt is self.prompt
            and request.messages is self.messages
            and request.tools is self.tools
            and request.spec.tokenizer == self.tokenizer
        )


# Per request: set in the task that handles it, and copied into any thread it hands work to.
_CARRIED: ContextVar[_Carried | None] = ContextVar("mistral_bedrock_input_tokens", default=None)


def carry_input_tokens(request: ParsedRequest, count: int) -> None:
    """Record ``request``'s input count for the rest of the current context (the request's task).

    The runtime counts a prompt to check it against the context window; the engine then reports the same count
    as usage. A long prompt is too big for the memo (see :mod:`.memo`), so without this it would be tokenized a
    second time. :func:`input_tokens` returns the carried count for this request (the same prompt, messages and
    tools objects), in this context and in threads started from it with ``asyncio.to_thread``.
    """
    _CARRIED.set(_Carried(request.spec.tokenizer, request.prompt, request.messages, request.tools, count))


def request_chars(request: ParsedRequest) -> int:
    """The characters of a request's text (prompt, or every message's content): a measure of its tokenizing cost."""
    if request.prompt is not None:
        return len(request.prompt)
    return sum(len(message.content) for message in request.messages)


def text_tokens(text: str, spec: ModelSpec) -> int:
    """Tokens of generated text."""
    if not text:
        return 0
    return _TEXT_COUNTS.get((spec.tokenizer, text), lambda: len(encode_text(text, spec)))


def tool_call_tokens(calls: Iterable[ToolCall], spec: ModelSpec) -> int:
    """Output tokens of tool calls: the tokens of each call's JSON arguments, summed."""
    return sum(text_tokens(call.arguments_json, spec) for call in calls)


def input_tokens(request: ParsedRequest, *, limit: int | None = None) -> int:
    """The prompt's token count with the model's tokenizer.

    A raw prompt is tokenized as sent, control-token strings as control ids. A conversation is rendered with
    :func:`~mistral_bedrock.prompt.input_tokens.count_input_tokens`, the one counting path of the package:
    counting never fails a request that its format has already accepted.

    A count carried for this request (:func:`carry_input_tokens`) is returned as is, and counts are memoised.

    Args:
        request: The parsed request.
        limit: Counting a raw prompt may stop once the count reaches ``limit``, returning a number at least
            ``limit`` (what a context-window check needs); below ``limit`` the count is exact.

    Returns:
        The number of input tokens.
    """
    carried = _CARRIED.get()
    if carried is not None and carried.matches(request):
        return carried.count
    spec = request.spec
    prompt = request.prompt
    if prompt is not None:
        key = (spec.tokenizer, prompt)
        known = None if too_large(len(prompt)) else _INPUT_COUNTS.lookup(key)
        if known is not None:
            return known
        count = count_prompt_tokens(prompt, spec, limit)
        if limit is None or count < limit:  # only exact counts are kept
            _INPUT_COUNTS.keep(key, count)
        return count
    if too_large(request_chars(request)):
        return _conversation_tokens(request)  # a key would copy the whole conversation, and not be kept
    # Neutral messages and tools are frozen values whose repr is complete and stable: a sound cache key.
    conversation = (spec.tokenizer, repr(request.messages), repr(request.tools))
    return _INPUT_COUNTS.get(conversation, lambda: _conversation_tokens(request))


def _conversation_tokens(request: ParsedRequest) -> int:
    return count_input_tokens(request.messages, request.spec, request.tools)
