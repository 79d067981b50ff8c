"""The built-in engine: deterministic answers computed from the request, for tests and offline work.

Same request, same answer, byte for byte. The answer (see ``docs/ENGINES.md``):

* tool calls, when the request's tool choice calls for them (below);
* after tool results: ``Here is what NAME returned: KEY: VALUE, KEY: VALUE.`` (one sentence per result);
* otherwise: ``I am the built-in engine of mistral-bedrock. You said: LAST USER TURN``.

From the second user turn on, `` (turn N)`` is appended, N being the number of user turns, so that tests can see
the history arrived. Text-dialect answers start with a space, as Mistral's text completions do. The answer is
then cut and counted by :mod:`~mistral_bedrock.engines.shaping` with the model's tokenizer.

Tool calls: never for tool choice ``none``, and never when the conversation ends with tool results (those are
answered in text whatever the tool choice, so tool loops end). A forced tool is called. Otherwise the last user
turn picks the tools:

1. the tools it names — by name, case-insensitively, ``_`` and ``-`` read as spaces;
2. else the one tool that shares the most significant words with it (the first defined, on a tie). A tool's
   words are those of its description and of its parameters' descriptions; significant words are the words
   of three or more letters or digits, lower-cased, that are not in :data:`STOP_WORDS`;
3. else, for ``any`` only, the first tool.

Arguments are built from the tool's schema (:mod:`~mistral_bedrock.engines.arguments`).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from ..conversation import Message, Tool, ToolCall
from ..errors import ValidationException
from ..formats import ParsedRequest, format_for
from .arguments import arguments_for
from .counting import OFFLOAD_CHARS, request_chars
from .engine import EngineEvent
from .shaping import Answer, ShapedAnswer, shape, stream_events
from .view import conversation, last_user_text, tool_name_for, trailing_tool_results, user_turns

__all__ = ["LEAD_IN", "STOP_WORDS", "BuiltinEngine", "builtin_answer"]

#: How every plain answer of the built-in engine begins.
LEAD_IN = "I am the built-in engine of mistral-bedrock."

#: Words that say nothing about what a question asks for, so that sharing them does not pick a tool: English
#: function words, question words, and the words of asking itself ("please tell me", "can you get").
STOP_WORDS = frozenset(
    # One block of words reads better than a hundred list items.
    """
    about after again all also and any are because been before but can could did does doing done for from get
    give had has have her here hers him his how into its just know let like may might mine more most much must
    not now off once only other our ours out over own please same say says see she should show some such tell
    than that the their theirs them then there these they this those through too under until use using very
    want was were what when where which while who whom whose why will with would yes yet you your yours
    """.split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits: "top_song's" → "top", "song", "s"


def _spaced(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text.lower()).strip()


def _named_tools(tools: Sequence[Tool], text: str) -> list[Tool]:
    """The tools ``text`` mentions by name (case-insensitive, ``_``/``-`` as spaces), in definition order."""
    haystack = _spaced(text)
    return [tool for tool in tools if re.search(rf"(?<!\w){re.escape(_spaced(tool.name))}(?!\w)", haystack) is not None]


def _significant(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if len(word) >= 3 and word not in STOP_WORDS}


def _described_words(tool: Tool) -> set[str]:
    """The significant words of a tool's description and of its parameters' descriptions."""
    words = _significant(tool.description)
    properties = tool.parameters.get("properties")
    if isinstance(properties, Mapping):
        for schema in properties.values():
            described = schema.get("description") if isinstance(schema, Mapping) else None
            if isinstance(described, str):
                words |= _significant(described)
    return words


def _described_tool(tools: Sequence[Tool], text: str) -> list[Tool]:
    """The tool sharing the most significant words with ``text`` (the first on a tie); none when none shares one."""
    asked = _significant(text)
    shared = [len(asked & _described_words(tool)) for tool in tools]
    best = max(shared, default=0)
    return [tools[shared.index(best)]] if best else []


def _tools_to_call(request: ParsedRequest) -> list[Tool]:
    choice = request.effective_tool_choice
    if choice == "none":
        return []
    forced = [tool for tool in request.tools if tool.name == request.forced_tool]
    if request.forced_tool is not None and not forced:
        raise ValidationException(
            f"The tool choice names the tool {request.forced_tool!r}, which is not among the request's tools."
        )
    if trailing_tool_results(request):
        # Tool results are answered in text whatever the tool choice, so that a client's tool loop ends even when
        # it keeps sending "any" (a real model would call again, and the loop would never finish).
        return []
    if forced:
        return forced[:1]
    text = last_user_text(request)
    chosen = _named_tools(request.tools, text) or _described_tool(request.tools, text)
    if choice == "any":
        return chosen or [request.tools[0]]
    return chosen


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _summary(content: str) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        return content.strip() or "nothing"
    if isinstance(data, dict):
        return ", ".join(f"{key}: {_scalar(value)}" for key, value in data.items()) or "nothing"
    if isinstance(data, list):
        return ", ".join(_scalar(item) for item in data) or "nothing"
    return _scalar(data)


def _result_sentences(results: Sequence[Message], messages: Sequence[Message]) -> str:
    return " ".join(
        f"Here is what {tool_name_for(result, messages)} returned: {_summary(result.content)}." for result in results
    )


def _reply_text(request: ParsedRequest) -> str:
    results = trailing_tool_results(request)
    if results:
        text = _result_sentences(results, conversation(request))
    else:
        said = last_user_text(request)
        text = f"{LEAD_IN} You said: {said}" if said else LEAD_IN
    turns = user_turns(request)
    if turns > 1:
        text += f" (turn {turns})"
    return format_for(request.dialect).answer_lead + text


def builtin_answer(request: ParsedRequest) -> Answer:
    """The built-in engine's answer to a request, before ``max_tokens`` and stop sequences apply.

    Raises:
        ValidationException: When a forced tool is not among the request's tools.
    """
    tools = _tools_to_call(request)
    if tools:
        user_text = last_user_text(request)
        return Answer(
            tool_calls=tuple(ToolCall("", tool.name, arguments_for(tool.parameters, user_text)) for tool in tools)
        )
    return Answer(_reply_text(request))


class BuiltinEngine:
    """Deterministic answers from the request itself; the runtime's default engine.

    Attributes:
        name: ``builtin``.
    """

    name = "builtin"

    async def generate(self, request: ParsedRequest) -> AsyncIterator[EngineEvent]:
        """Yield the answer token by token, tool calls, then the :class:`~mistral_bedrock.engines.Stop`.

        Raises:
            ValidationException: Before any event, when a forced tool is not among the request's tools.
        """
        if request_chars(request) > OFFLOAD_CHARS:
            # Off the event loop: a long prompt's answer takes milliseconds to build, cut and tokenize, and other
            # connections must not wait for it (the tokenizers release the GIL while they encode).
            output = await asyncio.to_thread(_output, request)
        else:
            # Inline: for a short request the thread hop would cost more than the work (memoised, see .memo).
            output = _output(request)
        async for event in stream_events(output, whole=not request.stream):
            yield event


def _output(request: ParsedRequest) -> ShapedAnswer:
    return shape(request, builtin_answer(request), pieces=request.stream)
