"""Identifiers, Regions and the context window, answered as Bedrock answers them, through unmodified boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from mistral_bedrock.runtime import RuntimeConfig, ServerThread, create_app

INVALID = "The provided model identifier is invalid."
SEVEN_B = "mistral.mistral-7b-instruct-v0:2"


def _client_in(url: str, region: str) -> Any:
    """Unmodified boto3 signing for ``region``: the Region Bedrock would serve the call from."""
    return boto3.client(
        "bedrock-runtime",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def _converse(runtime_boto3: Any, model: str, text: str = "Hi", **extra: Any) -> Any:
    return runtime_boto3.converse(modelId=model, messages=[{"role": "user", "content": [{"text": text}]}], **extra)


@pytest.mark.parametrize(
    "model",
    [
        "mistral-7b",
        "mixtral",
        "mistral-large",
        "mistral-large-2407",
        "global.mistral.pixtral-large-2502-v1:0",
        "apac.mistral.pixtral-large-2502-v1:0",
        "us.mistral.mistral-7b-instruct-v0:2",
        "eu.mistral.mistral-large-3-675b-instruct",
        "global.mistral.ministral-3-3b-instruct",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.mistral.pixtral-large-2502-v1:0",
    ],
)
def test_aliases_and_profiles_that_do_not_exist_are_invalid(runtime_boto3: Any, model: str) -> None:
    body = json.dumps({"prompt": "<s>[INST] Hi [/INST]"})
    assert _error(lambda: runtime_boto3.invoke_model(modelId=model, body=body)) == ("ValidationException", INVALID)
    assert _error(lambda: _converse(runtime_boto3, model)) == ("ValidationException", INVALID)


@pytest.mark.parametrize(
    "arn",
    ["arn:aws:bedrock:us-east-1::foundation-model/mixtral", "arn:aws:bedrock:us-east-1::foundation-model/mistral-7b"],
)
def test_an_arn_naming_an_alias_fails_the_identifier_pattern(runtime_boto3: Any, arn: str) -> None:
    code, message = _error(lambda: _converse(runtime_boto3, arn))
    assert code == "ValidationException"
    assert message.startswith(f"1 validation error detected: Value '{arn}' at 'modelId' failed to satisfy constraint")


def test_pixtral_needs_a_profile_and_takes_us_and_eu(runtime: ServerThread, runtime_boto3: Any) -> None:
    code, message = _error(lambda: _converse(runtime_boto3, "mistral.pixtral-large-2502-v1:0"))
    assert code == "ValidationException" and "with on-demand throughput isn\u2019t supported" in message
    assert _converse(runtime_boto3, "us.mistral.pixtral-large-2502-v1:0")["stopReason"] == "end_turn"
    europe = _client_in(runtime.url, "eu-west-3")
    assert _converse(europe, "eu.mistral.pixtral-large-2502-v1:0")["stopReason"] == "end_turn"


@pytest.mark.parametrize(
    ("model", "served", "not_served"),
    [
        ("mistral.mistral-large-2407-v1:0", "us-west-2", "us-east-1"),
        ("mistral.mistral-small-2402-v1:0", "us-east-1", "eu-west-1"),
        ("mistral.mistral-large-3-675b-instruct", "ap-northeast-1", "eu-west-1"),
        ("mistral.mistral-7b-instruct-v0:2", "ca-central-1", "eu-central-1"),
        ("mistral.devstral-2-123b", "eu-north-1", "ca-central-1"),
        ("us.mistral.pixtral-large-2502-v1:0", "us-east-2", "eu-west-1"),
        ("eu.mistral.pixtral-large-2502-v1:0", "eu-north-1", "us-east-1"),
    ],
)
def test_models_answer_only_in_their_regions(runtime: ServerThread, model: str, served: str, not_served: str) -> None:
    assert _converse(_client_in(runtime.url, served), model)["stopReason"] == "end_turn"
    elsewhere = _client_in(runtime.url, not_served)
    assert _error(lambda: _converse(elsewhere, model)) == ("ValidationException", INVALID)


def test_an_arn_must_name_the_callers_region(runtime: ServerThread, runtime_boto3: Any) -> None:
    assert (
        _converse(runtime_boto3, f"arn:aws:bedrock:us-east-1::foundation-model/{SEVEN_B}")["stopReason"] == "end_turn"
    )
    other = f"arn:aws:bedrock:eu-west-1::foundation-model/{SEVEN_B}"
    assert _error(lambda: _converse(runtime_boto3, other)) == ("ValidationException", INVALID)
    profile = "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.mistral.pixtral-large-2502-v1:0"
    assert _error(lambda: _converse(runtime_boto3, profile)) == ("ValidationException", INVALID)
    assert _converse(_client_in(runtime.url, "us-west-2"), profile)["stopReason"] == "end_turn"


@pytest.fixture(scope="module")
def lax_runtime() -> Iterator[ServerThread]:
    """A runtime with the Region check and the window rule relaxed."""
    with ServerThread(create_app(RuntimeConfig(check_region=False, window_policy="cap"))) as server:
        yield server


def test_the_region_check_can_be_turned_off(lax_runtime: ServerThread) -> None:
    virginia = _client_in(lax_runtime.url, "us-east-1")
    assert _converse(virginia, "mistral.mistral-large-2407-v1:0")["stopReason"] == "end_turn"
    # Off means the Region is not checked; identifiers still are.
    assert _error(lambda: _converse(virginia, "mistral-large-2407")) == ("ValidationException", INVALID)


def _prompt(words: int) -> str:
    # " hello" is two tokens in Mistral 7B's vocabulary: the prompt has 2 * ``words`` + 8 tokens.
    return "<s>[INST]" + " hello" * words + " [/INST]"


def test_a_prompt_beyond_the_window_is_refused(runtime_boto3: Any) -> None:
    body = json.dumps({"prompt": _prompt(40_000), "max_tokens": 10})
    too_long = ("ValidationException", "Input is too long for requested model.")
    assert _error(lambda: runtime_boto3.invoke_model(modelId=SEVEN_B, body=body)) == too_long
    assert _error(lambda: _converse(runtime_boto3, SEVEN_B, " hello" * 40_000)) == too_long
    assert (
        _error(
            lambda: runtime_boto3.converse_stream(
                modelId=SEVEN_B, messages=[{"role": "user", "content": [{"text": " hello" * 40_000}]}]
            )
        )
        == too_long
    )


def test_a_streamed_prompt_beyond_the_window_fails_in_the_stream(runtime_boto3: Any) -> None:
    reply = runtime_boto3.invoke_model_with_response_stream(
        modelId=SEVEN_B, body=json.dumps({"prompt": _prompt(40_000), "max_tokens": 10})
    )
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(botocore.exceptions.EventStreamError) as info:
        list(reply["body"])
    assert info.value.response["Error"] == {
        "Code": "validationException",
        "Message": "Input is too long for requested model.",
    }


def test_max_tokens_past_the_window_is_refused_by_default(runtime_boto3: Any) -> None:
    # 30,008 prompt tokens leave 1,992 of Mistral 7B's 32,000: 4,000 more do not fit.
    over = json.dumps({"prompt": _prompt(15_000), "max_tokens": 4_000})
    assert _error(lambda: runtime_boto3.invoke_model(modelId=SEVEN_B, body=over)) == (
        "ValidationException",
        "The model returned the following errors: Validation Error",
    )
    fits = json.loads(
        runtime_boto3.invoke_model(modelId=SEVEN_B, body=json.dumps({"prompt": _prompt(15_000)}))["body"].read()
    )
    assert fits["outputs"][0]["stop_reason"] in ("stop", "length")  # unset max_tokens: capped, never refused


def test_max_tokens_past_the_window_is_capped_when_configured(lax_runtime: ServerThread) -> None:
    client = _client_in(lax_runtime.url, "us-east-1")
    body = json.dumps({"prompt": _prompt(15_000), "max_tokens": 4_000})
    reply = client.invoke_model(modelId=SEVEN_B, body=body)
    assert json.loads(reply["body"].read())["outputs"][0]["text"]
    assert _error(lambda: client.invoke_model(modelId=SEVEN_B, body=json.dumps({"prompt": _prompt(40_000)}))) == (
        "ValidationException",
        "Input is too long for requested model.",
    )


def _media(kind: str) -> dict[str, Any]:
    formats = {"image": "png", "audio": "wav"}
    return {kind: {"format": formats[kind], "source": {"bytes": b"\x00\x01\x02\x03"}}}


@pytest.mark.parametrize(
    ("model", "kind", "accepted"),
    [
        ("mistral.voxtral-mini-3b-2507", "audio", True),
        ("mistral.voxtral-small-24b-2507", "audio", True),
        ("mistral.mistral-large-3-675b-instruct", "audio", False),
        ("mistral.magistral-small-2509", "image", True),
        ("mistral.ministral-3-8b-instruct", "image", True),
        ("mistral.devstral-2-123b", "image", False),
        ("mistral.mistral-large-2402-v1:0", "image", False),
    ],
)
def test_media_blocks_follow_each_models_input_modalities(
    runtime_boto3: Any, model: str, kind: str, accepted: bool
) -> None:
    messages = [{"role": "user", "content": [_media(kind), {"text": "What is this?"}]}]
    if accepted:
        assert runtime_boto3.converse(modelId=model, messages=messages)["stopReason"] == "end_turn"
    else:
        code, message = _error(lambda: runtime_boto3.converse(modelId=model, messages=messages))
        assert (code, message) == ("ValidationException", f"This model doesn't support {kind} content blocks.")


def _document(name: str, size: int = 8) -> dict[str, Any]:
    return {"document": {"name": name, "format": "txt", "source": {"bytes": b"a" * size}}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            [_document("report.pdf"), {"text": "Summarise."}],
            "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, "
            "parentheses, and square brackets. The name can't contain more than one consecutive whitespace character. "
            "Check that the file name conforms to these restrictions and retry your request.",
        ),
        ([_document("a  b"), {"text": "Summarise."}], "The document file name can only contain"),
        ([_document("a"), _document("a"), {"text": "Compare."}], "Messages can't contain duplicate document names."),
        (
            [*(_document(f"d{i}") for i in range(6)), {"text": "Compare."}],
            "You can't include more than 5 documents in a request.",
        ),
        ([_document("Report (2024) [final]")], "A text block must be included when using documents."),
        ([_document("big", 4_718_593), {"text": "Summarise."}], "The document size must be no more than 4.5 MB."),
    ],
)
def test_documents_follow_bedrocks_rules(runtime_boto3: Any, content: list[dict[str, Any]], message: str) -> None:
    messages = [{"role": "user", "content": content}]
    code, said = _error(lambda: runtime_boto3.converse(modelId="mistral.mistral-large-2402-v1:0", messages=messages))
    assert code == "ValidationException" and said.startswith(message)


def test_media_only_in_user_turns_and_inside_tool_results_too(runtime_boto3: Any) -> None:
    large = "mistral.mistral-large-2402-v1:0"
    assistant_image = [
        {"role": "user", "content": [{"text": "Hi"}]},
        {"role": "assistant", "content": [_media("image")]},
        {"role": "user", "content": [{"text": "Go on"}]},
    ]
    code, said = _error(
        lambda: runtime_boto3.converse(modelId="us.mistral.pixtral-large-2502-v1:0", messages=assistant_image)
    )
    assert (code, said) == (
        "ValidationException",
        "messages.1.content: You can only include images and documents if the role is user.",
    )
    tool = {"toolSpec": {"name": "look", "inputSchema": {"json": {"type": "object"}}}}
    in_result = [
        {"role": "user", "content": [{"text": "Look"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tooluse_a", "name": "look", "input": {}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "tooluse_a", "content": [_media("image")]}}]},
    ]
    code, said = _error(lambda: runtime_boto3.converse(modelId=large, messages=in_result, toolConfig={"tools": [tool]}))
    assert (code, said) == ("ValidationException", "This model doesn't support image content blocks.")
    assert (
        runtime_boto3.converse(
            modelId=large,
            messages=[{"role": "user", "content": [_document("Q3 report (final)"), {"text": "Summarise."}]}],
        )["stopReason"]
        == "end_turn"
    )


@pytest.mark.parametrize(
    ("model", "part", "accepted"),
    [
        (
            "us.mistral.pixtral-large-2502-v1:0",
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
            True,
        ),
        ("mistral.devstral-2-123b", {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}, False),
        (
            "mistral.voxtral-mini-3b-2507",
            {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}},
            True,
        ),
        (
            "us.mistral.pixtral-large-2502-v1:0",
            {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}},
            False,
        ),
    ],
)
def test_native_media_parts_follow_each_models_input_modalities(
    runtime_boto3: Any, model: str, part: dict[str, Any], accepted: bool
) -> None:
    body = json.dumps({"messages": [{"role": "user", "content": [part, {"type": "text", "text": "What is this?"}]}]})
    if accepted:
        assert runtime_boto3.invoke_model(modelId=model, body=body)["ResponseMetadata"]["HTTPStatusCode"] == 200
    else:
        assert _error(lambda: runtime_boto3.invoke_model(modelId=model, body=body)) == (
            "ValidationException",
            "The model returned the following errors: Validation Error",
        )


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"prompt": "hi", "stop": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    ],
    ids=["deep-list", "deep-stop"],
)
def test_json_nested_beyond_any_parser_is_malformed_not_a_5xx(runtime_boto3: Any, body: bytes) -> None:
    assert _error(lambda: runtime_boto3.invoke_model(modelId=SEVEN_B, body=body)) == (
        "ValidationException",
        "Malformed input request, please reformat your input and try again.",
    )


def test_a_lone_surrogate_escape_is_read_as_the_replacement_character(runtime_boto3: Any) -> None:
    reply = runtime_boto3.invoke_model(modelId=SEVEN_B, body=b'{"prompt": "<s>[INST] hi \\ud800 [/INST]"}')
    assert "hi \ufffd" in json.loads(reply["body"].read())["outputs"][0]["text"]
