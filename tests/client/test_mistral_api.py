"""Mistral's chat API (``chat.complete``/``stream``/``complete_async``/``stream_async``) on the embedded runtime.

Every answer is checked against ``mistralai``'s own pydantic models, and every refused parameter against the
runtime's request journal: a refusal must come before any request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from mistralai.client import models as mm

from mistral_bedrock.catalog import Dialect, all_models, lookup
from mistral_bedrock.client import AsyncMistralBedrock, MistralBedrock
from mistral_bedrock.client.mistral_api import (
    Chat,
    ChatCompletionResponse,
    CompletionEvent,
    UnsupportedParameterError,
    finish_reason,
)
from mistral_bedrock.client.settings import LOCAL_CREDENTIALS, ClientSettings
from mistral_bedrock.conversation import Message, Params
from mistral_bedrock.errors import StreamError, ValidationException
from mistral_bedrock.runtime import CONTROL_PREFIX

T = TypeVar("T")
CHAT_MODEL = "mistral-large-2402"
TEXT_MODEL = "mistral-7b"
ENGINE = "I am the built-in engine of mistral-bedrock. You said: "
# What each model answers "Hi": the text dialect's answer starts with a space, as Mistral's text completions do.
ANSWERS = {CHAT_MODEL: ENGINE + "Hi", TEXT_MODEL: " " + ENGINE + "Hi"}
TOP_SONG: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "top_song",
        "description": "The most popular song on a radio station.",
        "parameters": {
            "type": "object",
            "properties": {"sign": {"type": "string", "description": "The call sign of the station."}},
            "required": ["sign"],
        },
    },
}
WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
SONG_QUESTION = "What is the most popular song on WZPZ? Ask top_song."


@pytest.fixture(scope="module")
def client() -> Iterator[MistralBedrock]:
    with MistralBedrock.local() as local:
        yield local


class Journal:
    """The runtime's record of the requests it received."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.http.get("/requests").json()["requests"]
        return entries

    def bodies(self) -> list[dict[str, Any]]:
        return [entry["body"] for entry in self.entries()]


@pytest.fixture
def journal(client: MistralBedrock) -> Iterator[Journal]:
    """The journal, emptied for the test."""
    with httpx.Client(base_url=client.endpoint_url + CONTROL_PREFIX, headers={"Authorization": "Bearer t"}) as http:
        http.delete("/requests").raise_for_status()
        yield Journal(http)


@pytest.fixture
def chat(client: MistralBedrock) -> Chat:
    return client.chat


def run_async(client: MistralBedrock, body: Callable[[Chat], Awaitable[T]]) -> T:
    """Run ``body`` with the ``chat`` of an async client wired to the same runtime, closed afterwards."""

    async def main() -> T:
        async with AsyncMistralBedrock(
            endpoint_url=client.endpoint_url, region=client.region, **LOCAL_CREDENTIALS
        ) as aclient:
            return await body(aclient.chat)

    return asyncio.run(main())


def test_each_client_has_both_kinds_of_chat_call(client: MistralBedrock, journal: Journal) -> None:
    # As on mistralai's one client: the sync client's async methods (on a client made for the call, on the
    # caller's loop) and the async client's sync methods (on a client made once, closed with it).
    async def from_sync_client() -> tuple[str, list[str]]:
        whole = await client.chat.complete_async(model="mistral-large-2402", messages=hi())
        events = await client.chat.stream_async(model="mistral-large-2402", messages=hi())
        async with events:
            pieces = [e.data.choices[0].delta.content or "" async for e in events]
        return whole.choices[0].message.content or "", pieces

    whole, pieces = asyncio.run(from_sync_client())
    assert whole == "".join(pieces) and whole.startswith("I am the built-in engine")

    async def from_async_client() -> str:
        async with AsyncMistralBedrock(
            endpoint_url=client.endpoint_url, region=client.region, **LOCAL_CREDENTIALS
        ) as aclient:
            answer = aclient.chat.complete(model="mistral-large-2402", messages=hi())
            with aclient.chat.stream(model="mistral-large-2402", messages=hi()) as events:
                assert "".join(e.data.choices[0].delta.content or "" for e in events) == whole
            twin = aclient.chat._sync_twin
        assert twin is not None and twin._closed  # closed with the async client
        return answer.choices[0].message.content or ""

    assert asyncio.run(from_async_client()) == whole
    assert len(journal.entries()) == 4


def hi() -> list[dict[str, str]]:
    return [{"role": "user", "content": "Hi"}]


def check_response(response: ChatCompletionResponse) -> mm.ChatCompletionResponse:
    """Validate with mistralai's model, and check that it read back what was sent."""
    theirs = mm.ChatCompletionResponse.model_validate(response.model_dump())
    assert theirs.id == response.id and theirs.model == response.model and theirs.created == response.created
    assert theirs.object == "chat.completion"
    assert theirs.choices[0].message is not None
    assert theirs.choices[0].message.content == response.choices[0].message.content
    assert theirs.choices[0].finish_reason == response.choices[0].finish_reason
    assert theirs.usage.total_tokens == response.usage.total_tokens
    return theirs


def check_events(events: list[CompletionEvent]) -> str:
    """Validate every event with mistralai's models and Mistral's stream rules; return the joined text."""
    for event in events:
        theirs = mm.CompletionEvent.model_validate(event.model_dump())
        assert mm.CompletionChunk.model_validate(event.data.model_dump()) == theirs.data
        assert theirs.data.object == "chat.completion.chunk"
        assert theirs.data.choices[0].delta.content == event.data.choices[0].delta.content
    first, *middle, last = events
    assert first.data.choices[0].delta.role == "assistant"
    assert all(e.data.choices[0].delta.role is None for e in events[1:])
    assert all(e.data.choices[0].finish_reason is None and e.data.usage is None for e in [first, *middle])
    assert last.data.choices[0].finish_reason is not None and last.data.usage is not None
    assert len({e.data.id for e in events}) == 1 and len({e.data.created for e in events}) == 1
    return "".join(e.data.choices[0].delta.content or "" for e in events)


# -- complete / stream / complete_async / stream_async --------------------------------------------------------
@pytest.mark.parametrize("model", [CHAT_MODEL, TEXT_MODEL])
def test_complete_answers_in_mistral_shape(chat: Chat, journal: Journal, model: str) -> None:
    response = chat.complete(model=model, messages=hi(), max_tokens=100, temperature=0.2)

    theirs = check_response(response)
    assert theirs.choices[0].message is not None and theirs.choices[0].message.content == ANSWERS[model]
    assert response.choices[0].message.role == "assistant" and response.choices[0].message.tool_calls is None
    assert response.choices[0].finish_reason == "stop"
    assert response.model == lookup(model).model_id
    usage = response.usage
    assert usage.prompt_tokens and usage.completion_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    [body] = journal.bodies()
    # The chat model gets the chat body, the text-only one its rendered prompt.
    if model == CHAT_MODEL:
        assert body == {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 100, "temperature": 0.2}
    else:
        assert body == {"prompt": "<s>[INST] Hi [/INST]", "max_tokens": 100, "temperature": 0.2}


def test_complete_id_is_bedrocks_request_id(chat: Chat, journal: Journal) -> None:
    first, second = (chat.complete(model=CHAT_MODEL, messages=hi()) for _ in range(2))
    assert [first.id, second.id] == [entry["request_id"] for entry in journal.entries()]
    assert first.id != second.id


@pytest.mark.parametrize("model", [CHAT_MODEL, TEXT_MODEL])
def test_stream_events_join_to_the_complete_answer(chat: Chat, model: str) -> None:
    whole = chat.complete(model=model, messages=hi())
    with chat.stream(model=model, messages=hi()) as stream:
        events = list(stream)

    assert check_events(events) == ANSWERS[model]
    assert len(events) > 3  # the role, token deltas, the end
    assert events[-1].data.choices[0].finish_reason == "stop"
    assert events[-1].data.usage == whole.usage
    assert events[0].data.model == whole.model


@pytest.mark.parametrize("model", [CHAT_MODEL, TEXT_MODEL])
def test_async_methods_match_the_sync_ones(client: MistralBedrock, chat: Chat, model: str) -> None:
    whole = chat.complete(model=model, messages=hi())

    async def both(achat: Chat) -> tuple[ChatCompletionResponse, list[CompletionEvent]]:
        response = await achat.complete_async(model=model, messages=hi())
        # As in mistralai, stream_async is awaited (it sends the request), then iterated.
        events = [event async for event in await achat.stream_async(model=model, messages=hi())]
        return response, events

    response, events = run_async(client, both)

    check_response(response)
    assert response.choices[0].message.content == ANSWERS[model] and response.usage == whole.usage
    assert check_events(events) == ANSWERS[model]
    assert events[-1].data.usage == whole.usage


def test_stream_async_context_manager_and_early_close(client: MistralBedrock) -> None:
    async def read_two(achat: Chat) -> list[str]:
        async with await achat.stream_async(model=CHAT_MODEL, messages=hi()) as events:
            seen = [(await events.__anext__()).data.choices[0].delta.content or "" for _ in range(2)]
        with pytest.raises(StreamError):
            [event async for event in events]  # closed before its end: an error, never a quiet partial answer
        return seen

    assert run_async(client, read_two) == ["", "I"]


def test_stream_closed_early_raises_rather_than_ending_quietly(chat: Chat) -> None:
    stream = chat.stream(model=CHAT_MODEL, messages=hi())
    assert next(stream).data.choices[0].delta.role == "assistant"
    stream.close()
    with pytest.raises(StreamError):
        list(stream)


def test_length_stop_and_stop_sequences_reach_the_text_model(chat: Chat, journal: Journal) -> None:
    cut = chat.complete(model=TEXT_MODEL, messages=hi(), max_tokens=3)
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 3
    check_response(cut)

    stopped = chat.complete(model=TEXT_MODEL, messages=hi(), stop="engine", top_k=5)
    assert stopped.choices[0].message.content == " I am the built-in "
    assert journal.bodies()[-1] == {"prompt": "<s>[INST] Hi [/INST]", "stop": ["engine"], "top_k": 5}


# -- tools --------------------------------------------------------------------------------------------------
def test_tool_round_trip_in_mistralai_objects(chat: Chat, journal: Journal) -> None:
    tools = [mm.Tool.model_validate(TOP_SONG), mm.Tool.model_validate(WEATHER)]
    messages: list[Any] = [mm.UserMessage(content=SONG_QUESTION)]

    asked = chat.complete(model=CHAT_MODEL, messages=messages, tools=tools, tool_choice="auto")

    theirs = check_response(asked)
    assert asked.choices[0].finish_reason == "tool_calls"
    [call] = asked.choices[0].message.tool_calls or []
    assert call.type == "function" and call.id and call.function.name == "top_song"
    assert call.function.arguments == '{"sign": "WZPZ"}'
    assert theirs.choices[0].message is not None and isinstance(theirs.choices[0].message.tool_calls, list)
    assert theirs.choices[0].message.tool_calls[0].id == call.id
    # The answer goes back as it came, followed by mistralai's ToolMessage.
    messages += [
        asked.choices[0].message,
        mm.ToolMessage(content='{"song": "Elemental Hotel"}', tool_call_id=call.id, name=call.function.name),
    ]

    answered = chat.complete(model=CHAT_MODEL, messages=messages, tools=tools)

    assert answered.choices[0].message.content == "Here is what top_song returned: song: Elemental Hotel."
    assert answered.choices[0].finish_reason == "stop"
    sent = journal.bodies()[-1]["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"id": call.id, "function": {"name": "top_song", "arguments": '{"sign": "WZPZ"}'}}],
    }
    assert sent[2] == {"role": "tool", "content": '{"song": "Elemental Hotel"}', "tool_call_id": call.id}


def test_streamed_tool_calls(chat: Chat) -> None:
    events = list(
        chat.stream(model=CHAT_MODEL, messages=[{"role": "user", "content": SONG_QUESTION}], tools=[TOP_SONG])
    )

    check_events(events)
    calls = [c for e in events for c in e.data.choices[0].delta.tool_calls or []]
    assert [(c.function.name, c.function.arguments, c.index) for c in calls] == [("top_song", '{"sign": "WZPZ"}', 0)]
    assert events[-1].data.choices[0].finish_reason == "tool_calls"


def test_required_is_sent_as_any(chat: Chat, journal: Journal) -> None:
    response = chat.complete(model=CHAT_MODEL, messages=hi(), tools=[TOP_SONG], tool_choice="required")
    assert response.choices[0].finish_reason == "tool_calls"
    assert journal.bodies()[-1]["tool_choice"] == "any"


@pytest.mark.parametrize("choice", [{"type": "function", "function": {"name": "weather"}}, "object"])
def test_forced_function_offers_that_tool_alone(chat: Chat, journal: Journal, choice: object) -> None:
    forced = mm.ToolChoice(function=mm.FunctionName(name="weather")) if choice == "object" else choice
    question = [{"role": "user", "content": "Ask top_song, or tell me the weather in New York."}]

    response = chat.complete(model=CHAT_MODEL, messages=question, tools=[TOP_SONG, WEATHER], tool_choice=forced)

    [call] = response.choices[0].message.tool_calls or []
    assert call.function.name == "weather" and call.function.arguments == '{"city": "New York"}'
    body = journal.bodies()[-1]
    assert body["tool_choice"] == "any" and [t["function"]["name"] for t in body["tools"]] == ["weather"]


# -- messages -----------------------------------------------------------------------------------------------
def test_messages_as_mistralai_objects(chat: Chat, journal: Journal) -> None:
    messages = [
        mm.SystemMessage(content="Be brief."),
        mm.UserMessage(content=[mm.TextChunk(text="Hello, "), mm.TextChunk(text="there")]),
        mm.AssistantMessage(content="Hi."),
        mm.UserMessage(content="Bye"),
    ]

    response = chat.complete(model=CHAT_MODEL, messages=messages)

    assert response.choices[0].message.content == ENGINE + "Bye (turn 2)"
    assert journal.bodies()[-1]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello, there"},
        {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": "Bye"},
    ]


def test_defaults_are_accepted_and_nothing_extra_is_sent(chat: Chat, journal: Journal) -> None:
    chat.complete(
        model=CHAT_MODEL,
        messages=hi(),
        n=1,
        safe_prompt=False,
        presence_penalty=0.0,
        frequency_penalty=0,
        parallel_tool_calls=True,
        response_format=mm.ResponseFormat(type="text"),
        random_seed=None,
        stream=False,
    )
    assert journal.bodies() == [{"messages": [{"role": "user", "content": "Hi"}]}]


# -- what Bedrock cannot carry ------------------------------------------------------------------------------
REFUSED: list[tuple[str, dict[str, Any], str]] = [
    (CHAT_MODEL, {"random_seed": 7}, "random_seed"),
    (CHAT_MODEL, {"n": 2}, "n"),
    (CHAT_MODEL, {"presence_penalty": 0.5}, "presence_penalty"),
    (CHAT_MODEL, {"frequency_penalty": 0.5}, "frequency_penalty"),
    (CHAT_MODEL, {"safe_prompt": True}, "safe_prompt"),
    (CHAT_MODEL, {"parallel_tool_calls": False, "tools": [TOP_SONG]}, "parallel_tool_calls"),
    (CHAT_MODEL, {"response_format": {"type": "json_object"}}, "response_format"),
    (CHAT_MODEL, {"prediction": {"type": "content", "content": "x"}}, "prediction"),
    (CHAT_MODEL, {"prompt_mode": "reasoning"}, "prompt_mode"),
    (CHAT_MODEL, {"metadata": {"k": "v"}}, "metadata"),
    (CHAT_MODEL, {"logprobs": True}, "logprobs"),
    (CHAT_MODEL, {"server_url": "https://api.mistral.ai"}, "server_url"),
    (CHAT_MODEL, {"stop": ["x"]}, "stop"),  # the legacy chat body has no stop
    (CHAT_MODEL, {"top_k": 5}, "top_k"),
    (CHAT_MODEL, {"stream": True}, "stream"),
    (CHAT_MODEL, {"tool_choice": "sometimes"}, "tool_choice"),
    (CHAT_MODEL, {"tools": [TOP_SONG], "tool_choice": {"function": {"name": "nope"}}}, "tool_choice"),
    (CHAT_MODEL, {"tools": [{"type": "web_search"}]}, "tools[0]"),
    (
        CHAT_MODEL,
        {"tools": [{**TOP_SONG, "function": {**TOP_SONG["function"], "strict": True}}]},
        "tools[0].function.strict",
    ),
    (TEXT_MODEL, {"tools": [TOP_SONG]}, "tools"),  # the text body carries no structured tools
    (TEXT_MODEL, {"tool_choice": "none"}, "tool_choice"),
]


@pytest.mark.parametrize(("model", "options", "parameter"), REFUSED)
def test_uncarried_parameter_is_refused_before_any_request(
    chat: Chat, journal: Journal, model: str, options: dict[str, Any], parameter: str
) -> None:
    spec = lookup(model)
    with pytest.raises(UnsupportedParameterError) as caught:
        chat.complete(model=model, messages=hi(), **options)

    assert caught.value.parameter == parameter and caught.value.model == spec.model_id
    assert parameter in str(caught.value) and spec.model_id in str(caught.value)
    assert isinstance(caught.value, ValidationException)
    assert journal.bodies() == []


@pytest.mark.parametrize(
    ("message", "parameter"),
    [
        (mm.UserMessage(content=[mm.ImageURLChunk(image_url="https://example.com/a.png")]), "messages[0].content[0]"),
        ({"role": "assistant", "content": "Once upon", "prefix": True}, "messages[1].prefix"),
    ],
)
def test_message_parts_that_cannot_be_sent_are_refused(
    chat: Chat, journal: Journal, message: object, parameter: str
) -> None:
    messages = [message] if parameter.startswith("messages[0]") else [*hi(), message]
    with pytest.raises(UnsupportedParameterError) as caught:
        chat.complete(model=CHAT_MODEL, messages=messages)
    assert caught.value.parameter == parameter
    assert journal.bodies() == []


def test_stream_methods_refuse_before_any_request(client: MistralBedrock, chat: Chat, journal: Journal) -> None:
    with pytest.raises(UnsupportedParameterError, match="stream=False"):
        chat.stream(model=CHAT_MODEL, messages=hi(), stream=False)

    async def refused(achat: Chat) -> list[str]:
        names = []
        for call in (achat.complete_async, achat.stream_async):
            with pytest.raises(UnsupportedParameterError) as caught:
                await call(model=CHAT_MODEL, messages=hi(), random_seed=1)
            names.append(caught.value.parameter)
        return names

    assert run_async(client, refused) == ["random_seed", "random_seed"]
    assert journal.bodies() == []


def test_unknown_keyword_is_a_type_error(chat: Chat, journal: Journal) -> None:
    with pytest.raises(TypeError, match="temprature"):
        chat.complete(model=CHAT_MODEL, messages=hi(), temprature=0.2)  # type: ignore[call-arg]
    assert journal.bodies() == []


# -- pieces -------------------------------------------------------------------------------------------------
def test_a_chat_call_sends_the_chat_body_where_there_is_one_else_a_text_prompt() -> None:
    for spec in all_models():
        expected = next(d for d in (Dialect.CHAT, Dialect.CHAT_OPENAI, Dialect.TEXT) if d in spec.dialects)
        # A Region that serves it (by profile where it has no plain-id Region); building a call needs no I/O.
        region = min(spec.regions or next(iter(spec.profiles.values())))
        core = ClientSettings(region=region, endpoint_url="http://127.0.0.1:9", **LOCAL_CREDENTIALS).core()
        prepared = core.chat_call([Message.user("Hi")], spec.aliases[0], Params(), None, None)
        assert prepared.fmt.dialect is expected, spec.name


@pytest.mark.parametrize(
    ("reason", "raw", "written"),
    [
        ("stop", "stop", "stop"),
        ("length", "length", "length"),
        ("tool_calls", "tool_calls", "tool_calls"),
        ("error", "error", "error"),
        ("model_context_window_exceeded", "model_context_window_exceeded", "model_length"),
        ("guardrail_intervened", "guardrail_intervened", "guardrail_intervened"),
        ("unknown", "brand_new_reason", "brand_new_reason"),
    ],
)
def test_finish_reasons_in_mistral_spelling(reason: Any, raw: str, written: str) -> None:
    assert finish_reason(reason, raw) == written
    choice = {"index": 0, "finish_reason": written, "message": {"role": "assistant", "content": ""}}
    assert mm.ChatCompletionChoice.model_validate(choice).finish_reason == written


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"messages": None}, "messages must be a list"),
        ({"messages": "Hi"}, "messages must be a list"),
        ({"messages": {"role": "user", "content": "Hi"}}, "messages must be a list"),
        ({"tools": {"type": "function", "function": {"name": "f"}}}, "tools must be a list"),
        ({"tools": [{"type": "function", "function": {"description": "no name"}}]}, r"tools\[0\]\.function\.name"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": "nope"}}]}, "parameters must be"),
    ],
)
def test_misshapen_arguments_are_named_before_any_request(
    chat: Chat, journal: Journal, kwargs: dict[str, Any], named: str
) -> None:
    call = {"model": "mistral-large-2402", "messages": hi(), **kwargs}
    with pytest.raises(TypeError, match=named):
        chat.complete(**call)
    assert journal.entries() == []


def test_a_callers_bad_tool_arguments_are_a_validation_error_naming_them(chat: Chat, journal: Journal) -> None:
    call = {"id": "abc123XYZ", "type": "function", "function": {"name": "top_song", "arguments": "{not json"}}
    messages = [*hi(), {"role": "assistant", "content": "", "tool_calls": [call]}]
    with pytest.raises(ValidationException, match=r"messages\[1\]\.tool_calls\[0\]\.function\.arguments"):
        chat.complete(model="mistral-large-2402", messages=messages)
    assert journal.entries() == []


def test_answers_dump_as_pydantic_does(chat: Chat) -> None:
    res = chat.complete(model="mistral-large-2402", messages=hi())
    lean = res.model_dump(exclude_none=True)
    assert "tool_calls" not in lean["choices"][0]["message"]
    validated = mm.ChatCompletionResponse.model_validate(lean)
    assert validated.choices[0].message.content == res.choices[0].message.content
    assert validated.usage.total_tokens == res.usage.total_tokens
    assert mm.ChatCompletionResponse.model_validate_json(res.model_dump_json()).id == res.id
