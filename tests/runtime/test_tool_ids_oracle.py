"""Unmodified boto3 against the runtime: tool-call ids in a history, per model, as Bedrock takes or refuses them."""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from mistral_bedrock.runtime import ServerThread

MINISTRAL = "mistral.ministral-3-8b-instruct"
LARGE_2407 = "mistral.mistral-large-2407-v1:0"  # served in us-west-2 only
CHAT_22 = "3NcHNntdRyaHu8zisKJAhQ"
REFUSED = "The model returned the following errors: Tool call id was {} but must be a-z, A-Z, 0-9, with a length of 9."
TOOL = {
    "type": "function",
    "function": {
        "name": "top_song",
        "description": "Get the most popular song played on a radio station.",
        "parameters": {"type": "object", "properties": {"sign": {"type": "string"}}, "required": ["sign"]},
    },
}
TOOL_CONFIG = {
    "tools": [
        {
            "toolSpec": {
                "name": "top_song",
                "description": "Get the most popular song played on a radio station.",
                "inputSchema": {"json": TOOL["function"]["parameters"]},  # type: ignore[index]
            }
        }
    ]
}


def chat_history(call_id: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "user", "content": "What is the most popular song on WZPZ?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": call_id, "function": {"name": "top_song", "arguments": '{"sign": "WZPZ"}'}}],
            },
            {"role": "tool", "tool_call_id": call_id, "content": '{"song": "Elemental Hotel"}'},
        ],
        "tools": [TOOL],
    }


def converse_history(asked: str, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The first request's turn, Converse's answer as it came, and the tool results for its calls."""
    results = [
        {"toolResult": {"toolUseId": block["toolUse"]["toolUseId"], "content": [{"json": {"song": "Elemental Hotel"}}]}}
        for block in answer["content"]
        if "toolUse" in block
    ]
    return [{"role": "user", "content": [{"text": asked}]}, answer, {"role": "user", "content": results}]


def refusal(call: Any) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    return info.value


def test_invoke_model_refuses_other_ids_on_the_openai_style_models(runtime_boto3: Any) -> None:
    for bad in ("tooluse_Ha-S_2c3TTeRv5Hb2xWwtg", CHAT_22, "call_1"):
        error = refusal(
            lambda bad=bad: runtime_boto3.invoke_model(modelId=MINISTRAL, body=json.dumps(chat_history(bad)))
        )
        assert error.response["Error"]["Code"] == "ValidationException"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error.response["Error"]["Message"] == REFUSED.format(bad)
    reply = runtime_boto3.invoke_model(modelId=MINISTRAL, body=json.dumps(chat_history("abcDEF123")))
    assert json.loads(reply["body"].read())["choices"][0]["finish_reason"] == "stop"


def test_large_2407_takes_its_own_22_character_ids(runtime: ServerThread, control: Any) -> None:
    oregon = boto3.client(
        "bedrock-runtime",
        region_name="us-west-2",
        endpoint_url=runtime.url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    first = json.loads(
        oregon.invoke_model(
            modelId=LARGE_2407,
            body=json.dumps({"messages": chat_history(CHAT_22)["messages"][:1], "tools": [TOOL], "tool_choice": "any"}),
        )["body"].read()
    )
    own = first["choices"][0]["message"]["tool_calls"][0]["id"]
    assert len(own) == 22
    reply = oregon.invoke_model(modelId=LARGE_2407, body=json.dumps(chat_history(own)))
    assert json.loads(reply["body"].read())["choices"][0]["stop_reason"] == "stop"
    oregon.close()


def test_converse_answers_tooluse_ids_that_the_next_turn_refuses(runtime_boto3: Any) -> None:
    asked = "What is the most popular song on WZPZ?"
    first = runtime_boto3.converse(
        modelId=MINISTRAL,
        messages=[{"role": "user", "content": [{"text": asked}]}],
        toolConfig={**TOOL_CONFIG, "toolChoice": {"any": {}}},
    )
    answer = first["output"]["message"]
    call_id = answer["content"][0]["toolUse"]["toolUseId"]
    assert call_id.startswith("tooluse_")
    # Sent back as Bedrock gave it, the id fails the second request: the multi-turn bug users hit.
    error = refusal(
        lambda: runtime_boto3.converse(
            modelId=MINISTRAL, messages=converse_history(asked, answer), toolConfig=TOOL_CONFIG
        )
    )
    assert error.response["Error"]["Code"] == "ValidationException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Error"]["Message"] == REFUSED.format(call_id)
    # The same history with the ids a 9-alphanumeric form goes through.
    answer["content"][0]["toolUse"]["toolUseId"] = "abcDEF123"
    history = converse_history(asked, answer)
    second = runtime_boto3.converse(modelId=MINISTRAL, messages=history, toolConfig=TOOL_CONFIG)
    assert second["stopReason"] == "end_turn"


def test_converse_on_the_legacy_models_takes_tooluse_ids_back(runtime_boto3: Any) -> None:
    asked = "What is the most popular song on WZPZ?"
    large = "mistral.mistral-large-2402-v1:0"
    first = runtime_boto3.converse(
        modelId=large,
        messages=[{"role": "user", "content": [{"text": asked}]}],
        toolConfig={**TOOL_CONFIG, "toolChoice": {"any": {}}},
    )
    history = converse_history(asked, first["output"]["message"])
    assert runtime_boto3.converse(modelId=large, messages=history, toolConfig=TOOL_CONFIG)["stopReason"] == "end_turn"
