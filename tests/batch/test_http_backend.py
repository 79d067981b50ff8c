"""HttpBackend: records sent through the async client to the real runtime, failures made into outcomes."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.outcome import RecordError, RecordOutcome
from mistral_bedrock.client import AsyncMistralBedrock
from mistral_bedrock.client.batch_backend import HttpBackend
from mistral_bedrock.runtime import RuntimeConfig, ServerThread

TEXT_MODEL = "mistral.mistral-7b-instruct-v0:2"
OPENAI_MODEL = "mistral.ministral-3-8b-instruct"
CONVERSE_MODEL = "mistral.mistral-large-2402-v1:0"


@pytest.fixture(scope="module")
def runtime() -> Iterator[ServerThread]:
    with ServerThread(config=RuntimeConfig(min_first_byte_ms=0)) as server:
        yield server


@pytest.fixture(scope="module")
def boto(runtime: ServerThread) -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=runtime.url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def invoke(url: str, model: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
    async def call() -> RecordOutcome:
        async with AsyncMistralBedrock(
            endpoint_url=url, region="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x"
        ) as client:
            return await HttpBackend(client).invoke(model, invocation, model_input)

    return asyncio.run(call())


def invoke_many(url: str, bodies: list[dict[str, Any]]) -> list[RecordOutcome]:
    """One client, one call after another (so a fault rule's count meets them in order)."""

    async def calls() -> list[RecordOutcome]:
        async with AsyncMistralBedrock(
            endpoint_url=url, region="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x"
        ) as client:
            backend = HttpBackend(client)
            return [await backend.invoke(TEXT_MODEL, InvocationType.INVOKE_MODEL, body) for body in bodies]

    return asyncio.run(calls())


def without_call_ids(body: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI-style body less what differs on every call (``id``, ``created``)."""
    return {key: value for key, value in body.items() if key not in ("id", "created")}


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (TEXT_MODEL, {"prompt": "<s>[INST] Where is Lisbon? [/INST]", "max_tokens": 30}),
        (OPENAI_MODEL, {"messages": [{"role": "user", "content": "Where is Porto?"}], "max_tokens": 30}),
    ],
)
def test_an_invoke_model_record_gets_the_body_and_counts_boto3_gets(
    runtime: ServerThread, boto: Any, model: str, body: dict[str, Any]
) -> None:
    outcome = invoke(runtime.url, model, InvocationType.INVOKE_MODEL, body)
    response = boto.invoke_model(modelId=model, body=json.dumps(body))
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    expected = json.loads(response["body"].read())
    assert outcome.output is not None and without_call_ids(outcome.output) == without_call_ids(expected)
    assert (outcome.input_tokens, outcome.output_tokens) == (
        int(headers["x-amzn-bedrock-input-token-count"]),
        int(headers["x-amzn-bedrock-output-token-count"]),
    )
    assert outcome.ok and not outcome.retryable
    assert outcome.input_tokens > 0 and outcome.output_tokens > 0


def test_a_converse_record_gets_the_response_and_its_usage(runtime: ServerThread, boto: Any) -> None:
    request = {
        "messages": [{"role": "user", "content": [{"text": "Where is Faro?"}]}],
        "inferenceConfig": {"maxTokens": 20},
    }
    outcome = invoke(runtime.url, CONVERSE_MODEL, InvocationType.CONVERSE, request)
    response = boto.converse(modelId=CONVERSE_MODEL, **request)
    assert outcome.ok and outcome.output is not None
    assert outcome.output["output"] == response["output"] and outcome.output["stopReason"] == response["stopReason"]
    assert (outcome.input_tokens, outcome.output_tokens) == (
        response["usage"]["inputTokens"],
        response["usage"]["outputTokens"],
    )


@pytest.fixture
def closed_port() -> str:
    """A loopback URL where nothing listens: any request that reaches the network fails to connect."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_record_bedrock_would_refuse_gets_its_400_before_any_io(closed_port: str, boto: Any) -> None:
    body = {"prompt": "<s>[INST] Hi [/INST]", "top_p": 7}
    outcome = invoke(closed_port, TEXT_MODEL, InvocationType.INVOKE_MODEL, body)
    with pytest.raises(ClientError) as refused:
        boto.invoke_model(modelId=TEXT_MODEL, body=json.dumps(body))
    assert outcome == RecordOutcome(
        error=RecordError(400, refused.value.response["Error"]["Message"]),
        error_code="ValidationException",
        retryable=False,
    )


def test_a_lost_connection_is_a_retryable_503(closed_port: str) -> None:
    outcome = invoke(closed_port, TEXT_MODEL, InvocationType.INVOKE_MODEL, {"prompt": "<s>[INST] Hi [/INST]"})
    assert outcome.error is not None and outcome.error.code == 503
    assert outcome.error_code == "TransportError" and outcome.retryable
    assert "ConnectError" in outcome.error.message


def test_an_unknown_model_is_refused_with_bedrocks_message(runtime: ServerThread) -> None:
    outcome = invoke(runtime.url, "mistral.nothing-v9", InvocationType.INVOKE_MODEL, {"prompt": "x"})
    assert outcome.error == RecordError(400, "The provided model identifier is invalid.")
    assert not outcome.retryable


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("throttle:count=1", 429, "ThrottlingException"),
        ("internal:count=1", 500, "InternalServerException"),
        ("unavailable:count=1", 503, "ServiceUnavailableException"),
    ],
)
def test_a_retryable_failure_is_returned_after_one_attempt(fault: str, status: int, code: str) -> None:
    body = {"prompt": "<s>[INST] Hi [/INST]", "max_tokens": 5}
    with ServerThread(config=RuntimeConfig(min_first_byte_ms=0, faults=(fault,))) as server:
        first, second = invoke_many(server.url, [body, body])
    # Had the client retried, the one injected failure would not have surfaced.
    assert first.error is not None and first.error.code == status
    assert first.error_code == code and first.retryable
    assert second.ok
