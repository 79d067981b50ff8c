"""Tool calling: JSON schemas from Python functions, and the I/O-free state of a tool loop.

The loop feeds the model's tool calls to your functions and their results back to the model until it answers
in text, or ``max_steps`` is reached. A tool that raises is reported to the model as an error result rather
than ending the loop. Tool-call ids follow each model's rules: the history keeps the ids the model issued, and
each request carries them as that model takes them (the OpenAI-style models take only 9 alphanumerics, so
Converse's ``tooluse_…`` ids are rewritten, call and result alike, as the body is built).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from ..conversation import Message, Params, Tool, ToolCall
from ..errors import MistralBedrockError
from .core import ClientCore
from .prepared import Prepared
from .result import Result

__all__ = ["ToolLoop", "ToolLoopLimitError", "ToolRun", "atool_output", "tool_from_function", "tool_output"]

_ARG_LINE = re.compile(r"^\s{2,}(\w+)(?:\s*\([^)]*\))?:\s*(.+)$")


def _doc_parts(func: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    """The summary and the ``Args:`` descriptions of a Google-style docstring."""
    doc = inspect.getdoc(func) or ""
    summary = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    described: dict[str, str] = {}
    in_args = False
    for line in doc.splitlines():
        if line.strip() in ("Args:", "Arguments:", "Parameters:"):
            in_args = True
            continue
        if in_args:
            if line and not line.startswith(" "):
                break
            match = _ARG_LINE.match("  " + line.strip()) if line.startswith("    ") else None
            if match:
                described[match[1]] = match[2].strip()
    return summary, described


def tool_from_function(func: Callable[..., Any]) -> Tool:
    """A :class:`Tool` whose JSON schema comes from the function's type hints and docstring.

    Parameters without a default are required; ``Optional``/defaulted ones are not. Any type pydantic can
    describe works (str, int, float, bool, lists, dicts, Literal, Enum, pydantic models, TypedDicts…).
    """
    hints = typing.get_type_hints(func)
    summary, described = _doc_parts(func)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, parameter in inspect.signature(func).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        schema = dict(TypeAdapter(hints.get(name, Any)).json_schema())
        schema.pop("title", None)
        if name in described:
            schema["description"] = described[name]
        properties[name] = schema
        if parameter.default is parameter.empty:
            required.append(name)
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    return Tool(func.__name__, summary or func.__name__, parameters)


class ToolLoopLimitError(MistralBedrockError):
    """The model was still calling tools after ``max_steps`` requests. ``history`` holds the whole exchange."""

    def __init__(self, max_steps: int, history: Sequence[Message]) -> None:
        self.history = list(history)
        super().__init__(f"the model still called tools after {max_steps} steps")


@dataclass(frozen=True)
class ToolRun:
    """A finished tool loop: the final answer, the full history, and every intermediate result."""

    result: Result
    history: list[Message]
    steps: list[Result]

    @property
    def text(self) -> str:
        return self.result.text


def _encode(output: Any) -> str:
    if isinstance(output, str):
        return output
    try:
        return json.dumps(output, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(output)


@dataclass
class ToolLoop:
    """The state of one tool loop; the shells call the model and run the functions, this decides the rest.

    Attributes:
        history: The conversation so far; grows with every answer and tool result.
        functions: The callables, by name.
        model: Model id or alias.
        api: ``chat`` (the model's native chat dialect) or ``converse``.
        tool_choice: As asked; ``any`` applies to the first request only, or the model could never stop.
        max_tokens: Per request, or None for the model's default.
        max_steps: Requests allowed before :class:`ToolLoopLimitError`.
    """

    history: list[Message]
    functions: Mapping[str, Callable[..., Any]]
    model: str
    api: str = "chat"
    tool_choice: str | None = None
    max_tokens: int | None = None
    max_steps: int = 8
    steps: list[Result] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.api not in ("chat", "converse"):
            raise ValueError(f"api must be 'chat' or 'converse', not {self.api!r}")
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < 1:
            raise ValueError(f"max_steps must be a whole number of requests, at least 1, not {self.max_steps!r}")
        self.definitions = [tool_from_function(f) for f in self.functions.values()]

    def prepare(self, core: ClientCore) -> Prepared:
        """The next request."""
        choice = None if self.steps and self.tool_choice == "any" else self.tool_choice
        options = Params(max_tokens=self.max_tokens)
        if self.api == "converse":
            return core.converse_call(self.history, self.model, options, None, self.definitions, choice)
        return core.chat_call(self.history, self.model, options, self.definitions, choice)

    def observe(self, result: Result) -> list[ToolCall]:
        """Record an answer; return the calls to run now (empty: the loop is done)."""
        self.steps.append(result)
        self.history.append(result.message)
        if result.stop_reason != "tool_calls" or not result.tool_calls:
            return []
        if len(self.steps) >= self.max_steps:
            raise ToolLoopLimitError(self.max_steps, self.history)
        return list(result.tool_calls)

    def function_for(self, call: ToolCall) -> Callable[..., Any] | None:
        return self.functions.get(call.name)

    def record(self, call: ToolCall, output: Any = None, error: BaseException | None = None) -> None:
        """Feed one tool's result (or its failure, reported to the model as an error object) back."""
        if error is not None:
            content = json.dumps({"error": f"{type(error).__name__}: {error}"}, ensure_ascii=False)
        elif self.function_for(call) is None:
            content = json.dumps({"error": f"unknown tool {call.name!r}"})
        else:
            content = _encode(output)
        self.history.append(Message.tool(call.id, content, name=call.name))

    def run(self) -> ToolRun:
        return ToolRun(self.steps[-1], self.history, self.steps)


async def atool_output(value: Any) -> Any:
    """What a tool returned, awaited when it is awaitable (a coroutine function's call)."""
    return await value if inspect.isawaitable(value) else value


def tool_output(value: Any) -> Any:
    """What a tool returned, an awaitable run to its end on an event loop of its own.

    Inside a running event loop (a notebook's) ``asyncio.run`` refuses to start another in the same thread, so
    the awaitable runs in a worker thread instead; the caller waits for it either way.
    """
    if not inspect.isawaitable(value):
        return value
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_awaited(value))
    with ThreadPoolExecutor(1, thread_name_prefix="mistral-bedrock-tool") as pool:
        return pool.submit(asyncio.run, _awaited(value)).result()


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
