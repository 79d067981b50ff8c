"""Unmodified boto3 against the runtime: every operation, the response headers, and every error class."""

from __future__ import annotations

import base64
import json
from typing import Any

import botocore.exceptions
import httpx
import pytest

from mistral_bedrock.protocol.error_codes import ERROR_CODES

SEVEN_B = "mistral.mistral-7b-instruct-v0:2"
LARGE_2402 = "mistral.mistral-large-2402-v1:0"
TOP_SONG = {
    "type": "function",
    "function": {
        "name": "top_song",
        "description": "Get the most popular song played on a radio station.",
        "parameters": {
            "type": "object",
            "properties": {
                "sign": {"type": "string", "description": "The call sign for the radio station, such as WZPZ and WKRP."}
            },
            "required": ["sign"],
        },
    },
}


def invoke(runtime_boto3: Any, model: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    reply = runtime_boto3.invoke_model(modelId=model, body=json.dumps(body))
    assert reply["contentType"] == "application/json"
    return json.loads(reply["body"].read()), reply["ResponseMetadata"]["HTTPHeaders"]


def test_basic_completion_and_usage_headers(runtime_boto3: Any) -> None:
    body, headers = invoke(runtime_boto3, SEVEN_B, {"prompt": "<s>[INST] Hello, what's your name? [/INST]"})
    assert set(body) == {"outputs"}
    assert body["outputs"][0]["stop_reason"] == "stop"
    assert body["outputs"][0]["text"].startswith(" ")
    assert int(headers["x-amzn-bedrock-input-token-count"]) == 16  # the v1 tokenizer's count for this prompt
    assert int(headers["x-amzn-bedrock-output-token-count"]) > 0
    assert int(headers["x-amzn-bedrock-invocation-latency"]) >= 1
    assert len(headers["x-amzn-requestid"]) == 36


def test_max_tokens_cuts_with_length(runtime_boto3: Any) -> None:
    body, headers = invoke(runtime_boto3, SEVEN_B, {"prompt": "<s>[INST] Tell me a story [/INST]", "max_tokens": 3})
    assert body["outputs"][0]["stop_reason"] == "length"
    assert headers["x-amzn-bedrock-output-token-count"] == "3"


@pytest.mark.parametrize(
    "model",
    [
        "mistral.mistral-7b-instruct-v0:2",
        "arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-7b-instruct-v0:2",
        "us.mistral.pixtral-large-2502-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.mistral.pixtral-large-2502-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-large-2402-v1:0",
    ],
)
def test_model_id_forms_route(runtime_boto3: Any, model: str) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}]} if "7b" not in model else {"prompt": "hi"}
    invoke(runtime_boto3, model, body)


def test_raw_colon_and_no_content_type(runtime: Any, control: httpx.Client) -> None:
    headers = {"Authorization": "Bearer t", "Content-Type": "application/octet-stream"}
    reply = httpx.post(f"{runtime.url}/model/{SEVEN_B}/invoke", content=b'{"prompt":"hi"}', headers=headers)
    assert reply.status_code == 200
    assert reply.json()["outputs"][0]["stop_reason"] == "stop"


def test_stream_final_chunk_has_text_stop_reason_and_metrics(runtime_boto3: Any) -> None:
    reply = runtime_boto3.invoke_model_with_response_stream(
        modelId=SEVEN_B, body=json.dumps({"prompt": "<s>[INST] Hello [/INST]"})
    )
    assert reply["contentType"] == "application/json"
    chunks = [json.loads(event["chunk"]["bytes"]) for event in reply["body"]]
    assert len(chunks) > 2
    assert all(c["outputs"][0]["stop_reason"] is None for c in chunks[:-1])
    final = chunks[-1]
    assert final["outputs"][0]["stop_reason"] == "stop"
    assert final["outputs"][0]["text"]  # the last text arrives with the stop reason
    metrics = final["amazon-bedrock-invocationMetrics"]
    assert metrics["inputTokenCount"] > 0
    assert metrics["outputTokenCount"] == len(chunks)  # one token per chunk
    whole, _ = invoke(runtime_boto3, SEVEN_B, {"prompt": "<s>[INST] Hello [/INST]"})
    assert "".join(c["outputs"][0]["text"] for c in chunks) == whole["outputs"][0]["text"]


def test_chat_tool_loop(runtime_boto3: Any) -> None:
    question = {"role": "user", "content": "What is the most popular song on WZPZ?"}
    body, _ = invoke(runtime_boto3, LARGE_2402, {"messages": [question], "tools": [TOP_SONG], "tool_choice": "any"})
    choice = body["choices"][0]
    assert choice["stop_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert len(call["id"]) == 22
    assert json.loads(call["function"]["arguments"]) == {"sign": "WZPZ"}
    result = {
        "role": "tool",
        "tool_call_id": call["id"],
        "content": json.dumps({"song": "Elemental Hotel", "artist": "8 Storey Hike"}),
    }
    body, _ = invoke(
        runtime_boto3, LARGE_2402, {"messages": [question, choice["message"], result], "tools": [TOP_SONG]}
    )
    assert body["choices"][0]["stop_reason"] == "stop"
    assert "Elemental Hotel" in body["choices"][0]["message"]["content"]
    none, _ = invoke(runtime_boto3, LARGE_2402, {"messages": [question], "tools": [TOP_SONG], "tool_choice": "none"})
    assert "tool_calls" not in none["choices"][0]["message"]


def test_chat_stream(runtime_boto3: Any) -> None:
    reply = runtime_boto3.invoke_model_with_response_stream(
        modelId=LARGE_2402, body=json.dumps({"messages": [{"role": "user", "content": "Hi"}]})
    )
    chunks = [json.loads(event["chunk"]["bytes"]) for event in reply["body"]]
    assert all("message" in c["choices"][0] for c in chunks)
    assert chunks[-1]["choices"][0]["stop_reason"] == "stop"
    assert "amazon-bedrock-invocationMetrics" in chunks[-1]


def test_converse_and_stream(runtime_boto3: Any) -> None:
    messages = [{"role": "user", "content": [{"text": "Hello"}]}]
    reply = runtime_boto3.converse(
        modelId=LARGE_2402, messages=messages, system=[{"text": "Be brief."}], inferenceConfig={"maxTokens": 50}
    )
    assert reply["stopReason"] == "end_turn"
    assert reply["usage"]["totalTokens"] == reply["usage"]["inputTokens"] + reply["usage"]["outputTokens"]
    text = reply["output"]["message"]["content"][0]["text"]
    stream = runtime_boto3.converse_stream(
        modelId=LARGE_2402, messages=messages, system=[{"text": "Be brief."}], inferenceConfig={"maxTokens": 50}
    )
    events = list(stream["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart"
    assert kinds[-2:] == ["messageStop", "metadata"]
    assert kinds[-3] == "contentBlockStop"
    assert "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e) == text
    assert events[-1]["metadata"]["usage"] == reply["usage"]


def test_converse_tool_use(runtime_boto3: Any) -> None:
    tools = {
        "tools": [
            {
                "toolSpec": {
                    "name": "top_song",
                    "description": "Most popular song",
                    "inputSchema": {"json": TOP_SONG["function"]["parameters"]},
                }
            }
        ],
        "toolChoice": {"any": {}},
    }
    question = {"role": "user", "content": [{"text": "What is the most popular song on WZPZ?"}]}
    reply = runtime_boto3.converse(modelId=LARGE_2402, messages=[question], toolConfig=tools)
    assert reply["stopReason"] == "tool_use"
    use = reply["output"]["message"]["content"][0]["toolUse"]
    assert use["toolUseId"].startswith("tooluse_")
    assert use["input"] == {"sign": "WZPZ"}
    result = {
        "role": "user",
        "content": [
            {"toolResult": {"toolUseId": use["toolUseId"], "content": [{"json": {"song": "Elemental Hotel"}}]}}
        ],
    }
    auto = {"tools": tools["tools"]}  # with toolChoice any the model would have to call a tool again
    final = runtime_boto3.converse(
        modelId=LARGE_2402, messages=[question, reply["output"]["message"], result], toolConfig=auto
    )
    assert "Elemental Hotel" in final["output"]["message"]["content"][0]["text"]


def test_count_tokens(runtime_boto3: Any) -> None:
    body = json.dumps({"prompt": "<s>[INST] Hello, what's your name? [/INST]"}).encode()
    reply = runtime_boto3.count_tokens(modelId=SEVEN_B, input={"invokeModel": {"body": body}})
    assert reply["inputTokens"] == 16
    converse = runtime_boto3.count_tokens(
        modelId=LARGE_2402, input={"converse": {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}}
    )
    assert converse["inputTokens"] > 0


@pytest.mark.parametrize(
    ("model", "body", "message"),
    [
        ("mistral.nope-v0:1", {"prompt": "x"}, "The provided model identifier is invalid."),
        (
            SEVEN_B,
            {"prompt": "x", "stop_sequences": ["\n"]},
            "Malformed input request: #: extraneous key [stop_sequences] is not permitted, please reformat your input and try again.",
        ),
        (
            SEVEN_B,
            {"prompt": "x", "temperature": 1.5},
            "Malformed input request: #/temperature: 1.5 is not less or equal to 1.0, please reformat your input and try again.",
        ),
    ],
)
def test_validation_errors(runtime_boto3: Any, model: str, body: dict[str, Any], message: str) -> None:
    with pytest.raises(runtime_boto3.exceptions.ValidationException) as info:
        runtime_boto3.invoke_model(modelId=model, body=json.dumps(body))
    assert info.value.response["Error"]["Message"] == message
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unparseable_body(runtime_boto3: Any) -> None:
    with pytest.raises(runtime_boto3.exceptions.ValidationException):
        runtime_boto3.invoke_model(modelId=SEVEN_B, body=b"{not json")


@pytest.mark.parametrize(
    "code",
    [
        "ThrottlingException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "ServiceUnavailableException",
        "InternalServerException",
        "AccessDeniedException",
        "ResourceNotFoundException",
        "ServiceQuotaExceededException",
        "ModelErrorException",
    ],
)
def test_every_error_class_reaches_boto3_typed(runtime_boto3: Any, control: httpx.Client, code: str) -> None:
    control.post("/faults", json={"kind": "error", "code": code, "count": 1}).raise_for_status()
    with pytest.raises(getattr(runtime_boto3.exceptions, code)) as info:
        runtime_boto3.invoke_model(modelId=SEVEN_B, body=json.dumps({"prompt": "x"}))
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == ERROR_CODES[code].status
    runtime_boto3.invoke_model(modelId=SEVEN_B, body=json.dumps({"prompt": "x"}))  # count=1: the next call succeeds


@pytest.mark.parametrize(
    ("operation", "member"),
    [
        ("invoke", "throttlingException"),
        ("invoke", "modelStreamErrorException"),
        ("converse", "serviceUnavailableException"),
    ],
)
def test_in_stream_errors(runtime_boto3: Any, control: httpx.Client, operation: str, member: str) -> None:
    code = member[0].upper() + member[1:]
    control.post("/faults", json={"kind": "stream-error", "code": code, "after_frames": 2}).raise_for_status()
    if operation == "invoke":
        stream = runtime_boto3.invoke_model_with_response_stream(
            modelId=SEVEN_B, body=json.dumps({"prompt": "Tell me"})
        )["body"]
    else:
        stream = runtime_boto3.converse_stream(
            modelId=LARGE_2402, messages=[{"role": "user", "content": [{"text": "Tell me"}]}]
        )["stream"]
    received: list[Any] = []
    with pytest.raises(botocore.exceptions.EventStreamError) as info:
        received.extend(stream)
    stream.close()
    assert len(received) == 2
    assert info.value.response["Error"]["Code"] == member


def test_missing_auth_is_403(runtime: Any, control: httpx.Client) -> None:
    reply = httpx.post(f"{runtime.url}/model/{SEVEN_B}/invoke", content=b'{"prompt":"hi"}')
    assert reply.status_code == 403
    assert reply.headers["x-amzn-errortype"].startswith("AccessDeniedException:")


def test_unknown_operation(runtime: Any, control: httpx.Client) -> None:
    reply = httpx.get(f"{runtime.url}/model/{SEVEN_B}/invoke", headers={"Authorization": "Bearer t"})
    assert reply.status_code == 404
    assert reply.headers["x-amzn-errortype"].startswith("UnknownOperationException:")


def test_journal_records_what_arrived(runtime_boto3: Any, control: httpx.Client) -> None:
    invoke(runtime_boto3, SEVEN_B, {"prompt": "<s>[INST] Q1 [/INST] A1</s> [INST] Q2 [/INST]"})
    entries = control.get("/requests").json()["requests"]
    assert entries[-1]["body"]["prompt"].endswith("[INST] Q2 [/INST]")
    assert entries[-1]["operation"] == "InvokeModel"
    assert entries[-1]["status"] == 200


def test_base64_count_tokens_body_must_be_base64(runtime: Any, control: httpx.Client) -> None:
    reply = httpx.post(
        f"{runtime.url}/model/{SEVEN_B}/count-tokens",
        json={"input": {"invokeModel": {"body": "***"}}},
        headers={"Authorization": "Bearer t"},
    )
    assert reply.status_code == 400
    ok = httpx.post(
        f"{runtime.url}/model/{SEVEN_B}/count-tokens",
        json={"input": {"invokeModel": {"body": base64.b64encode(b'{"prompt":"hi"}').decode()}}},
        headers={"Authorization": "Bearer t"},
    )
    assert ok.json()["inputTokens"] > 0


@pytest.mark.parametrize("model", ["mistral-7b", "mistral-large-2402", "pixtral-large"])
def test_formats_work_with_plain_boto3(runtime_boto3: Any, model: str) -> None:
    """The documented recipe: build a body with a format, send it with boto3, parse the reply with the format."""
    from mistral_bedrock import Message, Params, for_region
    from mistral_bedrock.formats import format_for

    resolved = for_region(model, "us-east-1")
    fmt = format_for(resolved.spec.native_dialect)
    body = fmt.build_body(resolved.spec, [Message.user("Hello, what's your name?")], Params(max_tokens=200))
    reply = runtime_boto3.invoke_model(modelId=resolved.identifier, body=json.dumps(body))
    completion = fmt.parse_response(json.loads(reply["body"].read()))
    assert completion.text.strip().endswith("You said: Hello, what's your name?")
    assert completion.stop_reason == "stop"
