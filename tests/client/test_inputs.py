"""The one reader of a caller's messages and tools (``client.inputs``), called directly."""

from __future__ import annotations

import pydantic
import pytest

from mistral_bedrock.client.inputs import read_message, to_messages, to_tools
from mistral_bedrock.conversation import Message, ToolCall
from mistral_bedrock.errors import ValidationException


class GetWeather(pydantic.BaseModel):
    """Weather for a city."""

    city: str


def test_a_pydantic_model_class_is_a_tool_from_its_schema() -> None:
    (tool,) = to_tools([GetWeather])
    assert tool.name == "GetWeather"
    assert tool.parameters["properties"]["city"]["type"] == "string"


def test_a_pydantic_instance_is_read_as_its_dict() -> None:
    class Function(pydantic.BaseModel):
        name: str
        description: str = ""

    (tool,) = to_tools([Function(name="top_song", description="d")])
    assert (tool.name, tool.description) == ("top_song", "d")


@pytest.mark.parametrize("role", ["user", "system"])
def test_only_an_assistant_turn_carries_tool_calls(role: str) -> None:
    call = {"id": "a", "function": {"name": "f", "arguments": "{}"}}
    assert read_message({"role": role, "content": "q", "tool_calls": [call]}, "m") == Message(role, "q")  # type: ignore[arg-type]


def test_an_assistant_turn_reads_its_calls_from_any_iterable() -> None:
    calls = ({"id": "a", "function": {"name": "f", "arguments": '{"x": 1}'}} for _ in range(1))
    message = read_message({"role": "assistant", "content": "", "tool_calls": calls}, "m")
    assert message.tool_calls == (ToolCall("a", "f", {"x": 1}),)


def test_a_tool_turn_without_an_id_has_an_empty_one() -> None:
    assert read_message({"role": "tool", "content": "x"}, "m") == Message.tool("", "x")


def test_arguments_that_are_not_an_object_name_their_place() -> None:
    with pytest.raises(ValidationException, match=r"messages\[0\].tool_calls\[0\].function.arguments"):
        to_messages([{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "[1]"}}]}])


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ({"content": "x"}, r"messages\[0\] has role None"),
        ({"role": "user", "content": 3}, r"messages\[0\].content is int"),
        ({"role": "assistant", "tool_calls": "f"}, r"messages\[0\].tool_calls must be a list"),
        ({"role": "assistant", "tool_calls": [{"function": {}}]}, r"messages\[0\].tool_calls\[0\].function.name"),
    ],
)
def test_a_malformed_dict_is_a_type_error_naming_its_place(message: dict[str, object], words: str) -> None:
    with pytest.raises(TypeError, match=words):
        to_messages([message])
