"""Helpers shared by the engine tests: building requests, running engines, reading their events."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mistral_bedrock.catalog import Dialect, ModelSpec, lookup
from mistral_bedrock.conversation import Message, Params, Tool, ToolCall
from mistral_bedrock.engines import Engine, EngineEvent, Stop, TextDelta, ToolCallEvent
from mistral_bedrock.formats import ParsedRequest

RULES_DIR = Path(__file__).with_name("rules")

TOP_SONG = Tool(
    name="top_song",
    description="Get the most popular song played on a radio station.",
    parameters={
        "type": "object",
        "properties": {
            "sign": {
                "type": "string",
                "description": "The call sign for the radio station for which you want the most popular song. "
                "Example calls signs are WZPZ and WKRP.",
            }
        },
        "required": ["sign"],
    },
)

GET_WEATHER = Tool(
    name="get_weather",
    description="Weather forecast for a city.",
    parameters={
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city."},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "detail": {
                "type": "object",
                "properties": {"hourly": {"type": "boolean"}, "fields": {"type": "array", "items": {"type": "string"}}},
                "required": ["hourly", "fields"],
            },
        },
        "required": ["city", "unit", "days", "detail"],
    },
)


def spec(name: str) -> ModelSpec:
    return lookup(name)


def chat(
    *turns: str | Message,
    model: str = "mistral.mistral-large-2402-v1:0",
    dialect: Dialect = Dialect.CHAT,
    tools: Sequence[Tool] = (),
    tool_choice: str | None = None,
    forced_tool: str | None = None,
    params: Params | None = None,
) -> ParsedRequest:
    """A conversation request; strings alternate user / assistant turns, starting with the user."""
    messages = tuple(
        turn if isinstance(turn, Message) else Message("user" if i % 2 == 0 else "assistant", turn)
        for i, turn in enumerate(turns)
    )
    return ParsedRequest(
        spec=spec(model),
        dialect=dialect,
        messages=messages,
        params=params or Params(),
        tools=tuple(tools),
        tool_choice=tool_choice,
        forced_tool=forced_tool,
    )


def text_prompt(prompt: str, *, model: str = "mistral-7b", params: Params | None = None) -> ParsedRequest:
    """A text-completion request, built directly (no parsed messages)."""
    return ParsedRequest(spec=spec(model), dialect=Dialect.TEXT, prompt=prompt, params=params or Params())


def collect(engine: Engine, request: ParsedRequest) -> list[EngineEvent]:
    async def run() -> list[EngineEvent]:
        return [event async for event in engine.generate(request)]

    return asyncio.run(run())


def collect_until_error(engine: Engine, request: ParsedRequest) -> tuple[list[EngineEvent], BaseException | None]:
    """Events received before an exception, and the exception."""
    events: list[EngineEvent] = []

    async def run() -> None:
        async for event in engine.generate(request):
            events.append(event)

    try:
        asyncio.run(run())
    except Exception as exc:
        return events, exc
    return events, None


def text_of(events: Sequence[EngineEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


def calls_of(events: Sequence[EngineEvent]) -> list[ToolCall]:
    return [event.call for event in events if isinstance(event, ToolCallEvent)]


def stop_of(events: Sequence[EngineEvent]) -> Stop:
    last = events[-1]
    assert isinstance(last, Stop)
    return last


def as_data(events: Sequence[EngineEvent]) -> list[Any]:
    """Events as comparable plain data (tool-call arguments are mappings)."""
    out: list[Any] = []
    for event in events:
        if isinstance(event, ToolCallEvent):
            out.append(("call", event.call.id, event.call.name, event.call.arguments_json))
        else:
            out.append(event)
    return out
