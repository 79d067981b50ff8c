"""Bedrock's words for bad requests that the service model alone does not give: how values are shown, the
content rules of Converse, and NaN / Infinity, which are not JSON."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mistral_bedrock.catalog import resolve
from mistral_bedrock.client.core import ClientCore
from mistral_bedrock.conversation import Message, Params, Tool
from mistral_bedrock.errors import AccessDeniedException, BedrockError, SerializationException, ValidationException
from mistral_bedrock.formats import ConverseFormat, TextFormat, format_for
from mistral_bedrock.formats.json_body import BareToken, load_json
from mistral_bedrock.formats.service_constraints import check_members

LARGE = resolve("mistral.mistral-large-2402-v1:0").spec
SEVEN_B = resolve("mistral.mistral-7b-instruct-v0:2").spec
CONVERSE = ConverseFormat()


def user(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks) or [{"text": "hi"}]}


def refusal(spec: Any, body: object, *, stream: bool = False) -> BedrockError:
    with pytest.raises(BedrockError) as info:
        format_for(CONVERSE.dialect).parse_request(spec, body, stream=stream)
    return info.value


def native_refusal(body: object) -> str:
    with pytest.raises(ValidationException) as info:
        TextFormat().parse_request(SEVEN_B, body, stream=False)
    return info.value.message


# -- the front end's messages, as real captures show them --------------------------------------------------


def test_values_under_messages_are_not_shown_and_length_comes_before_pattern() -> None:
    """openclaw/openclaw#12892 [R]: both violations of one member, no value, length first."""
    use = {"toolUse": {"toolUseId": "t1", "name": "x." * 40, "input": {}}}
    error = refusal(LARGE, {"messages": [user(use)]})
    assert error.message == (
        "2 validation errors detected: Value at 'messages.1.member.content.1.member.toolUse.name' failed to satisfy "
        "constraint: Member must have length less than or equal to 64; Value at "
        "'messages.1.member.content.1.member.toolUse.name' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: [a-zA-Z0-9_-]+"
    )


def test_values_under_tool_config_are_shown() -> None:
    """aws-samples/remote-swe-agents#457 [R]."""
    tools = [{"toolSpec": {"name": "Complete Session", "inputSchema": {"json": {}}}}]
    error = refusal(LARGE, {"messages": [user()], "toolConfig": {"tools": tools}})
    assert error.message == (
        "1 validation error detected: Value 'Complete Session' at 'toolConfig.tools.1.member.toolSpec.name' failed "
        "to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1.5, "1.5"), (32424, "32424.0"), (99.0, "99.0"), (1.1, "1.1"), (12345678.0, "1.2345678E7"), (-2, "-2.0")],
)
def test_float_members_print_as_java_floats(value: float, shown: str) -> None:
    error = refusal(LARGE, {"messages": [user()], "inferenceConfig": {"temperature": value}})
    assert f"Value '{shown}' at 'inferenceConfig.temperature'" in error.message


def test_lists_and_sensitive_maps() -> None:
    with pytest.raises(ValidationException) as info:
        check_members("Converse", {"additionalModelResponseFieldPaths": [f"/f{i}" for i in range(11)]})
    assert info.value.message.startswith(
        "1 validation error detected: Value '[/f0, /f1, /f2, /f3, /f4, /f5, /f6, /f7, /f8, /f9, /f10]' at "
        "'additionalModelResponseFieldPaths' failed to satisfy constraint: Member must have length less than or "
        "equal to 10"
    )
    with pytest.raises(ValidationException) as info:
        check_members("Converse", {"requestMetadata": {"bad key!": "v"}})
    assert info.value.message == (
        "1 validation error detected: Value at 'requestMetadata' failed to satisfy constraint: Map keys must "
        "satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater "
        r"than or equal to 1, Member must satisfy regular expression pattern: [a-zA-Z0-9\s:_@$#=/+,-.]{1,256}]"
    )


# -- Converse content rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {
                "messages": [
                    user(),
                    {"role": "assistant", "content": [{"text": "a"}]},
                    user(),
                    {"role": "assistant", "content": []},
                ]
            },
            "The content field in the Message object at messages.3 is empty. Add a ContentBlock object to the "
            "content field and try again.",
        ),
        (
            {"messages": [user(), {"role": "assistant", "content": [{"text": ""}]}]},
            "The text field in the ContentBlock object at messages.1.content.0 is blank. Add text to the text "
            "field, and try again.",
        ),
        (
            {"messages": [user({"text": "a"}, {"text": " \n\t"})]},
            "The text field in the ContentBlock object at messages.0.content.1 is blank. Add text to the text "
            "field, and try again.",
        ),
        (
            {"messages": [user()], "system": [{"text": "Be brief."}, {"text": "   "}]},
            "The text field in the SystemContentBlock object at system.1 is blank. Add text to the text field, and "
            "try again.",
        ),
        (
            {"messages": [user()], "additionalModelResponseFieldPaths": ["/ok", "stop_sequence"]},
            "The format of the value at additionalModelResponseFieldPaths.1 is invalid. Provide a JSON Pointer for "
            "the field and try again.",
        ),
        (
            {"messages": [user()], "additionalModelResponseFieldPaths": ["/a~2b"]},
            "The format of the value at additionalModelResponseFieldPaths.0 is invalid. Provide a JSON Pointer for "
            "the field and try again.",
        ),
        (
            {"messages": [user()], "additionalModelResponseFieldPaths": [""]},
            "1 validation error detected: Value '' at 'additionalModelResponseFieldPaths.1.member' failed to "
            "satisfy constraint: Member must have length greater than or equal to 1",
        ),
        (
            {"messages": [user()], "system": [{"text": ""}]},
            "1 validation error detected: Value at 'system.1.member.text' failed to satisfy constraint: Member "
            "must have length greater than or equal to 1",
        ),
        (
            {"messages": [user()], "toolConfig": {"tools": [{"systemTool": {"name": "nova_grounding"}}]}},
            "This model doesn't support the toolConfig.tools.0.systemTool field. Remove "
            "toolConfig.tools.0.systemTool and try again.",
        ),
    ],
)
def test_content_rules(body: dict[str, Any], expected: str) -> None:
    error = refusal(LARGE, body)
    assert isinstance(error, ValidationException)
    assert error.message == expected


def test_what_the_content_rules_let_through() -> None:
    paths = ["/stop_sequence", "/a~0b/~1c", "/"]
    text = "\u00a0"  # Java's isBlank keeps the no-break space
    request = CONVERSE.parse_request(
        LARGE, {"messages": [user({"text": text})], "additionalModelResponseFieldPaths": paths}, stream=False
    )
    assert request.messages[0].content == text


@pytest.mark.parametrize(
    "body",
    [
        {"messages": [user({"text": "a"}, {"cachePoint": {"type": "default"}})]},
        {"messages": [user()], "system": [{"text": "s"}, {"cachePoint": {"type": "default"}}]},
        {
            "messages": [user()],
            "toolConfig": {
                "tools": [
                    {"toolSpec": {"name": "f", "inputSchema": {"json": {}}}},
                    {"cachePoint": {"type": "default"}},
                ]
            },
        },
    ],
)
def test_prompt_caching_is_refused_as_bedrock_does(body: dict[str, Any]) -> None:
    error = refusal(LARGE, body)
    assert isinstance(error, AccessDeniedException)
    assert error.message == "You invoked an unsupported model or your request did not allow prompt caching."


# -- NaN and Infinity ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_native_number_members_refuse_non_numbers(token: str) -> None:
    body = f'{{"prompt": "hi", "temperature": {token}}}'.encode()
    assert native_refusal(body) == (
        "Malformed input request: #/temperature: expected type: Number, found: String, please reformat your "
        "input and try again."
    )


def test_native_bodies_refuse_them_anywhere_else() -> None:
    malformed = "Malformed input request, please reformat your input and try again."
    assert native_refusal(b'{"prompt": NaN}') == malformed
    chat = format_for(resolve("mistral.mistral-large-2402-v1:0").spec.native_dialect)
    with pytest.raises(ValidationException) as info:
        chat.parse_request(LARGE, b'{"messages": [{"role": "user", "content": Infinity}]}', stream=False)
    assert info.value.message == malformed
    assert native_refusal({"prompt": "hi", "top_p": math.nan}).endswith(
        "#/top_p: expected type: Number, found: String, please reformat your input and try again."
    )


def test_converse_refuses_them_as_it_refuses_a_non_number() -> None:
    error = refusal(
        LARGE, b'{"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"temperature": NaN}}'
    )
    assert isinstance(error, SerializationException)
    assert error.message == (
        "Value at 'inferenceConfig.temperature' could not be read: expected type: Number, found: String"
    )
    same = refusal(LARGE, {"messages": [user()], "inferenceConfig": {"topP": -math.inf}})
    assert same.message == "Value at 'inferenceConfig.topP' could not be read: expected type: Number, found: String"
    for raw in (
        b'{"messages": [{"role": "user", "content": [{"text": NaN}]}]}',
        b'{"messages": [{"role": "user", "content": [{"text": "hi"}]}], "additionalModelRequestFields": '
        b'{"top_k": Infinity}}',
    ):
        error = refusal(LARGE, raw)
        assert isinstance(error, SerializationException)
        assert error.message == "Could not parse the request body as JSON."


def test_the_reader_never_yields_a_float_that_is_not_finite() -> None:
    data = load_json(b"[NaN, Infinity, -Infinity, 1e400, -1e400, 1.5]")
    assert all(isinstance(v, BareToken) for v in data[:5])
    assert data[5] == 1.5


def test_the_client_never_sends_them() -> None:
    core = ClientCore(region="us-east-1", endpoint_url="http://127.0.0.1:9", signer=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationException, match="#/temperature: expected type: Number"):
        core.complete_call("hi", "mistral-7b", Params(temperature=math.nan), raw=False)
    tool = Tool("f", "d", {"type": "object", "properties": {"x": {"type": "number", "default": math.inf}}})
    with pytest.raises(ValidationException, match="NaN or Infinity"):
        core.converse_call([Message.user("hi")], "mistral-large-2402", Params(), None, [tool], None)


def test_roles_and_blocks_the_model_admits_but_mistral_cannot_take() -> None:
    assistant = {"role": "assistant", "content": [{"text": "a"}]}
    system_turn = {"role": "system", "content": [{"text": "s"}]}
    error = refusal(LARGE, {"messages": [user(), assistant, system_turn]})
    assert error.message.startswith("A conversation must alternate between user and assistant roles.")
    video = {"video": {"format": "mp4", "source": {"bytes": "aGk="}}}
    assert refusal(LARGE, {"messages": [user({"text": "a"}, video)]}).message == (
        "This model doesn't support video content blocks."
    )
