"""Every constraint of botocore's bedrock-runtime model is enforced, by the validator and over the wire.

The cases come from the test's own walk of the model (:mod:`service_model_cases`): for each constrained member
reachable from InvokeModel, InvokeModelWithResponseStream, Converse, ConverseStream and CountTokens, a request
just outside the constraint must be refused with the front end's ValidationException naming the member, and one
just inside must get past it. Over the wire, unmodified boto3 sends them with its own checks turned off
(``parameter_validation=False``), as a client that skips them would.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import httpx
import pytest
from botocore.config import Config

from mistral_bedrock.errors import BedrockError
from mistral_bedrock.formats.service_constraints import envelope_violations, member_violations
from mistral_bedrock.runtime import ServerThread
from tests.runtime.service_model_cases import (
    JSON_OPERATIONS,
    MODEL,
    OPERATIONS,
    SHAPES,
    Case,
    cases,
    check_samples,
    expected_fragment,
    headers,
    json_body,
)

CASES = list(cases())
COUNT = re.compile(r"^[1-9][0-9]* validation errors? detected: ")
# An empty model id cannot travel: a path with an empty label is not an operation's path at all.
ON_THE_WIRE = [c for c in CASES if not (c.location == "uri" and c.rule == "min")]


def _violations(case: Case, params: dict[str, Any]) -> list[str]:
    if case.location == "body":
        return member_violations(case.operation, json_body(case.operation, params))
    body = params.get("body", b"") if case.operation not in JSON_OPERATIONS else b""
    return envelope_violations(case.operation, params["modelId"], headers(case.operation, params), body)


def test_the_walk_covers_every_operation_and_kind_of_constraint() -> None:
    check_samples()
    assert {c.operation for c in CASES} == set(OPERATIONS)
    assert set(Counter(c.rule for c in CASES)) == {"min", "max", "pattern", "enum", "union", "required"}
    assert {c.location for c in CASES} == {"uri", "header", "payload", "body"}
    assert len(CASES) > 500  # a patterned shape without a sample would have stopped the walk (KeyError)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_validator_enforces_it(case: Case) -> None:
    outside = _violations(case, case.outside)
    assert any(expected_fragment(case) in v for v in outside), outside
    assert _violations(case, case.inside) == []


@pytest.fixture(scope="module")
def unchecked(runtime: ServerThread) -> Iterator[Any]:
    """Unmodified boto3 that sends what it is given: its own parameter validation is off."""
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=runtime.url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, parameter_validation=False),
    )
    yield client
    client.close()


def _method(client: Any, operation: str) -> Any:
    return getattr(client, re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower())


def _call(client: Any, operation: str, params: dict[str, Any]) -> tuple[int, str]:
    """The HTTP status and error message (empty on success) of one call; a stream is read to its end."""
    try:
        reply = _method(client, operation)(**params)
        stream = reply.get("stream") or (reply.get("body") if operation == "InvokeModelWithResponseStream" else None)
        if stream is not None:
            try:
                for _ in stream:
                    pass
            finally:
                stream.close()
    except botocore.exceptions.ClientError as error:  # EventStreamError is one too
        return error.response["ResponseMetadata"].get("HTTPStatusCode", 400), error.response["Error"]["Message"]
    return 200, ""


@pytest.mark.parametrize("case", ON_THE_WIRE, ids=[c.id for c in ON_THE_WIRE])
def test_the_runtime_enforces_it(unchecked: Any, case: Case) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        _method(unchecked, case.operation)(**case.outside)  # refused before any stream opens
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    assert COUNT.match(error["Message"]), error["Message"]
    assert expected_fragment(case) in error["Message"]
    status, message = _call(unchecked, case.operation, case.inside)
    if case.location == "header":  # on a request that works, a header within its constraints changes nothing
        assert (status, message) == (200, "")
    # The model's own rules may still refuse the request, but never this way, and never as a server error.
    assert "failed to satisfy constraint" not in message
    assert status < 500


def test_the_body_limit_is_counted_not_parsed() -> None:
    """25,000,001 bytes of anything are refused by their length alone, with the message seen on Bedrock [R]."""
    problems = envelope_violations("InvokeModel", "mistral.mistral-7b-instruct-v0:2", {}, b"\0" * 25_000_001)
    assert problems == [
        "Value at 'body' failed to satisfy constraint: Member must have length less than or equal to 25000000"
    ]
    assert envelope_violations("InvokeModel", "mistral.mistral-7b-instruct-v0:2", {}, b"\0" * 25_000_000) == []


def test_count_tokens_has_its_own_model_id_shape() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.mistral.pixtral-large-2502-v1:0"
    assert envelope_violations("Converse", arn, {}, b"") == []
    assert envelope_violations("CountTokens", arn, {}, b"") == []  # within 256 and its pattern
    long_id = "a" * 257
    assert envelope_violations("CountTokens", long_id, {}, b"") == [
        f"Value '{long_id}' at 'modelId' failed to satisfy constraint: Member must have length less than or equal "
        "to 256"
    ]
    pattern = SHAPES["FoundationModelVersionIdentifier"]["pattern"]
    assert envelope_violations("CountTokens", "a b", {}, b"") == [
        f"Value 'a b' at 'modelId' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        f"{pattern}"
    ]


def test_wrong_json_types_are_serialization_errors() -> None:
    top = MODEL["operations"]["Converse"]["input"]["shape"]
    assert top == "ConverseRequest"
    with pytest.raises(BedrockError) as info:
        member_violations("Converse", {"inferenceConfig": {"maxTokens": "9"}})
    assert info.value.error_code == "SerializationException"
    assert "inferenceConfig.maxTokens" in info.value.message


def test_nan_and_infinity_over_the_wire(runtime: ServerThread, control: httpx.Client, unchecked: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        unchecked.invoke_model(modelId="mistral.mistral-7b-instruct-v0:2", body=b'{"prompt": "hi", "temperature": NaN}')
    assert info.value.response["Error"]["Message"] == (
        "Malformed input request: #/temperature: expected type: Number, found: String, please reformat your input "
        "and try again."
    )
    auth = {"Authorization": "Bearer t", "Content-Type": "application/json"}
    converse = b'{"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"topP": Infinity}}'
    reply = httpx.post(f"{runtime.url}/model/mistral.mistral-large-2402-v1:0/converse", content=converse, headers=auth)
    assert reply.status_code == 400
    assert reply.headers["x-amzn-errortype"].startswith("SerializationException:")
    assert reply.json() == {
        "message": "Value at 'inferenceConfig.topP' could not be read: expected type: Number, found: String"
    }
    journal = control.get("/requests")  # the journal shows such bodies too: NaN stays text there
    assert journal.status_code == 200
    assert journal.json()["requests"][-1]["body"]["inferenceConfig"]["topP"] == "Infinity"


def test_the_model_id_pattern_over_the_wire(runtime: ServerThread, control: httpx.Client) -> None:
    auth = {"Authorization": "Bearer t"}
    reply = httpx.post(f"{runtime.url}/model/bad%20model%20id/invoke", content=b'{"prompt": "hi"}', headers=auth)
    assert reply.status_code == 400
    message = reply.json()["message"]
    assert message.startswith(
        "1 validation error detected: Value 'bad model id' at 'modelId' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: (arn:aws"
    )
    unknown = httpx.post(f"{runtime.url}/model/mistral.nope-v0:1/invoke", content=b'{"prompt": "hi"}', headers=auth)
    assert unknown.json() == {"message": "The provided model identifier is invalid."}  # within the pattern
