"""Only Bedrock's own identifiers on the wire: every method, sync and async, as the runtime's journal saw it.

Aliases are the client's convenience. With default settings every request path carries a Bedrock model id or,
for a model served only through inference profiles, the profile of the client's Region.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from mistral_bedrock.catalog import MODELS, lookup, resolve
from mistral_bedrock.client import AsyncMistralBedrock, MistralBedrock, Stream
from mistral_bedrock.errors import ModelNotServedError
from mistral_bedrock.runtime import ServerThread
from tests.client.client_support import Control


def top_song(sign: str) -> dict[str, str]:
    """Get the most popular song played on a radio station.

    Args:
        sign: The call sign for the radio station.
    """
    return {"song": "Elemental Hotel", "station": sign}


def _drain(stream: Stream) -> None:
    with stream:
        list(stream)


def _conversation(client: MistralBedrock, **kw: Any) -> None:
    chat = client.conversation(**kw)
    chat.send("One")
    with chat.stream("Two") as stream:
        list(stream)


# Each public method that reaches the wire, called with its default model.
SYNC_CALLS: dict[str, Callable[..., object]] = {
    "complete_text": lambda c, **kw: c.complete_text("Hi", **kw),
    "stream_text": lambda c, **kw: _drain(c.stream_text("Hi", **kw)),
    "complete_chat": lambda c, **kw: c.complete_chat("Hi", **kw),
    "stream_chat": lambda c, **kw: _drain(c.stream_chat("Hi", **kw)),
    "converse": lambda c, **kw: c.converse("Hi", **kw),
    "converse_stream": lambda c, **kw: _drain(c.converse_stream("Hi", **kw)),
    "conversation": _conversation,
    "run_tools": lambda c, **kw: c.run_tools("Top song on WZPZ?", tools=[top_song], tool_choice="any", **kw),
    "run_tools_converse": lambda c, **kw: c.run_tools(
        "Top song on WZPZ?", tools=[top_song], tool_choice="any", api="converse", **kw
    ),
}


def _paths(runtime_control: Control) -> list[str]:
    labels = [entry["model"] for entry in runtime_control.requests()]
    assert labels, "the call sent nothing"
    return labels


def _assert_bedrock_ids(labels: list[str]) -> None:
    for label in labels:
        resolved = resolve(label)  # raises for anything Bedrock would call invalid
        assert resolved.identifier == label
        assert label not in resolved.spec.aliases


@pytest.mark.parametrize("method", sorted(SYNC_CALLS))
def test_default_models_go_out_as_bedrock_ids(
    method: str, client_in: Callable[[str], MistralBedrock], runtime_control: Control
) -> None:
    SYNC_CALLS[method](client_in("us-east-1"))
    labels = _paths(runtime_control)
    _assert_bedrock_ids(labels)
    assert all(entry["status"] == 200 for entry in runtime_control.requests())


@pytest.mark.parametrize("spec", MODELS, ids=lambda m: m.model_id)
def test_every_alias_goes_out_as_what_the_region_serves(
    spec: Any, client_in: Callable[[str], MistralBedrock], runtime_control: Control
) -> None:
    region = sorted(spec.regions)[0] if spec.regions else sorted(next(iter(spec.profiles.values())))[0]
    client = client_in(region)
    for alias in spec.aliases:
        result = client.converse("Hi", model=alias, max_tokens=20)
        expected = spec.model_id if spec.regions else f"{spec.profile_for(region)}.{spec.model_id}"
        assert result.model_id == expected
    labels = _paths(runtime_control)
    _assert_bedrock_ids(labels)
    assert {entry["status"] for entry in runtime_control.requests()} == {200}


def test_pixtral_takes_the_profile_of_the_region_geography(
    client_in: Callable[[str], MistralBedrock], runtime_control: Control
) -> None:
    assert (
        client_in("us-west-2").complete_chat("Hi", model="pixtral-large").model_id
        == "us.mistral.pixtral-large-2502-v1:0"
    )
    assert (
        client_in("eu-west-3").complete_chat("Hi", model="pixtral-large").model_id
        == "eu.mistral.pixtral-large-2502-v1:0"
    )
    assert _paths(runtime_control) == ["us.mistral.pixtral-large-2502-v1:0", "eu.mistral.pixtral-large-2502-v1:0"]


def test_a_region_without_the_model_fails_before_any_io(
    client_in: Callable[[str], MistralBedrock], runtime_control: Control
) -> None:
    with pytest.raises(ModelNotServedError, match="ap-northeast-1"):
        client_in("ap-northeast-1").complete_chat("Hi", model="pixtral-large")
    with pytest.raises(ModelNotServedError, match="us-west-2"):
        client_in("us-east-1").complete_chat("Hi", model="mistral-large-2407")
    assert runtime_control.requests() == []


def test_given_ids_go_out_unchanged_and_the_runtime_answers_as_bedrock(
    client_in: Callable[[str], MistralBedrock], runtime_control: Control
) -> None:
    from mistral_bedrock.errors import ValidationException

    client = client_in("us-east-1")
    arn = "arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-large-2402-v1:0"
    assert client.complete_chat("Hi", model=arn).model_id == arn
    # A full id is the caller's word: it goes out, and the runtime refuses it as Bedrock does in us-east-1.
    with pytest.raises(ValidationException, match="provided model identifier is invalid"):
        client.complete_chat("Hi", model="mistral.mistral-large-2407-v1:0")
    assert _paths(runtime_control) == [arn, "mistral.mistral-large-2407-v1:0"]


@pytest.mark.parametrize(
    "method", ["complete_text", "stream_text", "complete_chat", "stream_chat", "converse", "conversation", "run_tools"]
)
def test_async_methods_send_bedrock_ids(method: str, server: ServerThread, runtime_control: Control) -> None:
    async def main() -> None:
        async with AsyncMistralBedrock(
            endpoint_url=server.url, region="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
        ) as client:
            model = "mistral-7b" if method.endswith("_text") else "pixtral-large"  # pixtral takes no text body
            if method.startswith("stream_"):
                async with getattr(client, method)("Hi", model=model) as stream:
                    async for _ in stream:
                        pass
            elif method == "conversation":
                chat = client.conversation(model="mixtral")
                await chat.send("One")
                await chat.send("Two")
            elif method == "run_tools":
                await client.run_tools("Top song on WZPZ?", tools=[top_song], tool_choice="any", model="pixtral-large")
            else:
                await getattr(client, method)("Hi", model=model)

    asyncio.run(main())
    labels = _paths(runtime_control)
    _assert_bedrock_ids(labels)
    expected = {"eu.mistral.pixtral-large-2502-v1:0", lookup("mixtral").model_id, lookup("mistral-7b").model_id}
    assert set(labels) <= expected


def test_a_forced_tool_is_refused_not_dropped(
    client_in: Callable[[str], MistralBedrock], runtime_control: Control
) -> None:
    from mistral_bedrock.errors import ValidationException

    client = client_in("us-east-1")
    with pytest.raises(ValidationException, match=r"doesn't support the toolConfig\.toolChoice\.tool field"):
        client.converse("Top song on WZPZ?", tools=[top_song], tool_choice="top_song")
    with pytest.raises(ValidationException, match="the name of one of the tools"):
        client.converse("Top song on WZPZ?", tools=[top_song], tool_choice="other")
    assert runtime_control.requests() == []
