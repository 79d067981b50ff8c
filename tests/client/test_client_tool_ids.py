"""Tool loops on every model: the client sends each model ids it takes, and hands back the ids it was given."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from mistral_bedrock import Message, ToolCall
from mistral_bedrock.client import MistralBedrock
from mistral_bedrock.prompt import is_mistral_tool_call_id
from tests.client.client_support import Control

MINISTRAL = "mistral.ministral-3-8b-instruct"
TOOLUSE = "tooluse_Ha-S_2c3TTeRv5Hb2xWwtg"  # an earlier Converse answer's id
CHAT_22 = "3NcHNntdRyaHu8zisKJAhQ"  # an earlier legacy-chat answer's id
FOREIGN = "call_PTLP8xhu3uwZk4l3nlnrrJha"  # another provider's id


def top_song(sign: str) -> dict[str, str]:
    """Get the most popular song played on a radio station.

    Args:
        sign: The call sign for the radio station, such as WZPZ and WKRP.
    """
    return {"song": "Elemental Hotel", "artist": "8 Storey Hike", "station": sign}


def wire_ids(body: dict[str, Any]) -> list[str]:
    """Every id in a chat or Converse body, in order: calls first within a turn, then results."""
    found: list[str] = []
    for message in body["messages"]:
        found += [c["id"] for c in message.get("tool_calls") or ()]
        if message.get("tool_call_id") is not None:
            found.append(message["tool_call_id"])
        for block in message["content"] if isinstance(message.get("content"), list) else ():
            for key in ("toolUse", "toolResult"):
                if key in block:
                    found.append(block[key]["toolUseId"])
    return found


def paired(ids: list[str]) -> bool:
    """Each id appears exactly twice (its call and its result), and all are ids the model takes."""
    return all(is_mistral_tool_call_id(i) and ids.count(i) == 2 for i in ids)


def earlier_history() -> list[Message]:
    """Three calls made with other models' ids, their results, and a new question."""
    stations = {TOOLUSE: "WZPZ", CHAT_22: "WKRP", FOREIGN: "KEXP"}
    calls = tuple(ToolCall(i, "top_song", {"sign": sign}) for i, sign in stations.items())
    return [
        Message.user("What are the most popular songs on WZPZ, WKRP and KEXP?"),
        Message.assistant("", calls),
        *(Message.tool(c.id, json.dumps(top_song(c.arguments["sign"])), name="top_song") for c in calls),
        Message.assistant("All three play Elemental Hotel."),
        Message.user("And on WZPZ now? Use top_song."),
    ]


@pytest.fixture
def oregon(client_in: Callable[[str], MistralBedrock]) -> MistralBedrock:
    """A client signing for us-west-2, the one Region that serves Mistral Large 24.07."""
    return client_in("us-west-2")


@pytest.mark.parametrize("api", ["chat", "converse"])
def test_run_tools_on_ministral_3(client: MistralBedrock, runtime_control: Control, api: str) -> None:
    run = client.run_tools(
        "What is the most popular song on WZPZ?", tools=[top_song], tool_choice="any", api=api, model=MINISTRAL
    )
    assert "Elemental Hotel" in run.text
    assert [m.role for m in run.history] == ["user", "assistant", "tool", "assistant"]
    issued = run.history[1].tool_calls[0].id
    assert run.history[2].tool_call_id == issued  # the history keeps the id the model issued
    assert issued.startswith("tooluse_") if api == "converse" else is_mistral_tool_call_id(issued)
    sent = wire_ids(runtime_control.requests()[-1]["body"])
    assert paired(sent)


@pytest.mark.parametrize("api", ["chat", "converse"])
def test_a_history_with_other_ids_goes_through_and_stays_as_given(
    client: MistralBedrock, runtime_control: Control, api: str
) -> None:
    history = earlier_history()
    kept = copy.deepcopy(history)
    ask = client.converse if api == "converse" else client.complete_chat
    called = ask(history, model=MINISTRAL, tools=[top_song], tool_choice="any")
    assert history == kept
    assert called.stop_reason == "tool_calls"
    sent = wire_ids(runtime_control.requests()[-1]["body"])
    assert len(sent) == 6
    assert paired(sent)
    # The answer's calls carry the model's own ids; the loop goes on with them and the earlier ones.
    call = called.tool_calls[0]
    assert call.id.startswith("tooluse_") if api == "converse" else is_mistral_tool_call_id(call.id)
    history += [called.message, Message.tool(call.id, json.dumps(top_song("WZPZ")), name="top_song")]
    answer = ask(history, model=MINISTRAL, tools=[top_song])
    assert answer.stop_reason == "stop"
    assert "Elemental Hotel" in answer.text
    assert paired(wire_ids(runtime_control.requests()[-1]["body"]))
    assert history[1].tool_calls[0].id == TOOLUSE
    assert history[-1].tool_call_id == call.id


def test_a_conversation_loaded_with_other_ids_goes_on(client: MistralBedrock, runtime_control: Control) -> None:
    chat = client.conversation(model=MINISTRAL)
    chat.load(earlier_history()[:-1])
    reply = chat.send("Thanks!")
    assert reply.stop_reason == "stop"
    assert paired(wire_ids(runtime_control.requests()[-1]["body"]))
    assert chat.history[1].tool_calls[0].id == TOOLUSE


def test_large_2407_chat_sends_its_22_character_ids_unchanged(oregon: MistralBedrock, runtime_control: Control) -> None:
    large = "mistral.mistral-large-2407-v1:0"
    run = oregon.run_tools("What is the most popular song on WZPZ?", tools=[top_song], tool_choice="any", model=large)
    issued = run.history[1].tool_calls[0].id
    assert len(issued) == 22
    assert wire_ids(runtime_control.requests()[-1]["body"]) == [issued, issued]
    again = oregon.complete_chat(
        [*run.history[:3], Message.user("And on WKRP?")], model=large, tools=[top_song], tool_choice="any"
    )
    assert len(again.tool_calls[0].id) == 22
    assert wire_ids(runtime_control.requests()[-1]["body"]) == [issued, issued]
