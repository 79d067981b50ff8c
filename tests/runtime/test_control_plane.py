"""The control endpoints: the same auth as model requests, rules checked on the way in, and a journal that says
what each request got — through a real runtime on a real socket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import boto3
import botocore.exceptions
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mistral_bedrock.runtime import CONTROL_PREFIX, RuntimeConfig, ServerThread, create_app
from mistral_bedrock.runtime.auth import StrictAuth
from tests.raw_http import stream_exchange

SEVEN_B = "mistral.mistral-7b-instruct-v0:2"
AKID = "AKIDCONTROL"
SECRET = "control-secret"
API_KEY = "ABSKY29udHJvbC1rZXk="
PROTECTED = [("GET", "faults"), ("POST", "faults"), ("DELETE", "faults"), ("GET", "requests"), ("DELETE", "requests")]
RULE = json.dumps({"kind": "error", "code": "ThrottlingException", "count": 1}).encode()


def sigv4(
    method: str, url: str, body: bytes = b"", *, key_id: str = AKID, secret: str = SECRET, region: str
) -> dict[str, str]:
    """Headers botocore's signer puts on a request (service ``bedrock``)."""
    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(Credentials(key_id, secret), "bedrock", region).add_auth(request)
    return dict(request.headers.items())


def body_for(method: str, name: str) -> bytes:
    return RULE if (method, name) == ("POST", "faults") else b""


def assert_bedrock_error(reply: httpx.Response, status: int, code: str) -> None:
    assert reply.status_code == status, reply.text
    assert reply.headers["x-amzn-errortype"].split(":", 1)[0] == code
    assert reply.headers["x-amzn-requestid"]
    assert set(reply.json()) == {"message"}


@pytest.fixture(scope="module")
def strict_runtime() -> Iterator[ServerThread]:
    with ServerThread(create_app(auth=StrictAuth({AKID: SECRET}, [API_KEY]))) as server:
        yield server


def test_health_needs_no_credentials(strict_runtime: ServerThread) -> None:
    reply = httpx.get(f"{strict_runtime.url}{CONTROL_PREFIX}/health")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok", "engine": "builtin"}


@pytest.mark.parametrize(("method", "name"), PROTECTED)
@pytest.mark.parametrize(
    ("credentials", "status", "code"),
    [
        ("none", 403, "AccessDeniedException"),
        ("bogus bearer", 403, "AccessDeniedException"),
        ("bearer with the key prefix", 403, "AccessDeniedException"),
        ("wrong secret", 403, "InvalidSignatureException"),
        ("unknown key", 403, "UnrecognizedClientException"),
        ("other service", 403, "InvalidSignatureException"),
    ],
)
def test_strict_refuses_the_control_plane_without_the_configured_credentials(
    strict_runtime: ServerThread, method: str, name: str, credentials: str, status: int, code: str
) -> None:
    url = f"{strict_runtime.url}{CONTROL_PREFIX}/{name}"
    body = body_for(method, name)
    headers: dict[str, str] = {}
    if credentials == "bogus bearer":
        headers = {"Authorization": "Bearer letmein"}
    elif credentials == "bearer with the key prefix":
        headers = {"Authorization": "Bearer ABSKbm90LXRoZS1rZXk="}
    elif credentials == "wrong secret":
        headers = sigv4(method, url, body, secret="guess", region="us-east-1")
    elif credentials == "unknown key":
        headers = sigv4(method, url, body, key_id="AKIDSTRANGER", region="us-east-1")
    elif credentials == "other service":
        request = AWSRequest(method=method, url=url, data=body)
        SigV4Auth(Credentials(AKID, SECRET), "s3", "us-east-1").add_auth(request)
        headers = dict(request.headers.items())
    assert_bedrock_error(httpx.request(method, url, content=body, headers=headers), status, code)


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "ap-southeast-2"])
def test_strict_accepts_sigv4_by_a_configured_key_in_any_region(strict_runtime: ServerThread, region: str) -> None:
    base = f"{strict_runtime.url}{CONTROL_PREFIX}"
    for method, name in PROTECTED:
        body = body_for(method, name)
        url = f"{base}/{name}"
        reply = httpx.request(method, url, content=body, headers=sigv4(method, url, body, region=region))
        assert reply.status_code == 200, reply.text


def test_refused_control_requests_change_nothing(strict_runtime: ServerThread) -> None:
    base = f"{strict_runtime.url}{CONTROL_PREFIX}"
    key = {"Authorization": f"Bearer {API_KEY}"}
    httpx.delete(f"{base}/faults", headers=key).raise_for_status()
    httpx.delete(f"{base}/requests", headers=key).raise_for_status()
    invoked = httpx.post(f"{strict_runtime.url}/model/{SEVEN_B}/invoke", content=b'{"prompt":"hi"}', headers=key)
    assert invoked.status_code == 200
    for headers in ({}, {"Authorization": "Bearer letmein"}):
        assert httpx.post(f"{base}/faults", content=RULE, headers=headers).status_code == 403
        assert httpx.delete(f"{base}/requests", headers=headers).status_code == 403
        assert httpx.get(f"{base}/requests", headers=headers).status_code == 403
    assert httpx.get(f"{base}/faults", headers=key).json() == {"faults": []}
    (entry,) = httpx.get(f"{base}/requests", headers=key).json()["requests"]
    assert entry["body"] == {"prompt": "hi"}


def test_lenient_still_wants_well_formed_credentials(runtime: ServerThread, control: httpx.Client) -> None:
    base = f"{runtime.url}{CONTROL_PREFIX}"
    assert_bedrock_error(httpx.get(f"{base}/requests"), 403, "AccessDeniedException")
    assert_bedrock_error(httpx.post(f"{base}/faults", content=RULE), 403, "AccessDeniedException")
    incomplete = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/bedrock/aws4_request"}
    assert_bedrock_error(httpx.get(f"{base}/faults", headers=incomplete), 400, "IncompleteSignature")
    assert httpx.get(f"{base}/faults", headers={"Authorization": "Bearer anything"}).json() == {"faults": []}


@pytest.mark.parametrize(
    ("method", "name"), [("GET", "nope"), ("PUT", "faults"), ("POST", "requests"), ("POST", "health")]
)
def test_unknown_control_operations_get_bedrocks_error(runtime: ServerThread, method: str, name: str) -> None:
    reply = httpx.request(method, f"{runtime.url}{CONTROL_PREFIX}/{name}", headers={"Authorization": "Bearer t"})
    assert_bedrock_error(reply, 404, "UnknownOperationException")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            {"kind": "error", "code": "ThrottlingException", "count": "2"},
            'count must be a non-negative integer, got "2"',
        ),
        ({"kind": "error", "code": "Throttle"}, 'code must be an AWS error code of the error table, got "Throttle"'),
        ({"kind": "drop", "after_frames": -3}, "after_frames must be a non-negative integer, got -3"),
        ({"kind": "drop", "operation": "ConverseStreams"}, "operation must be one of InvokeModel"),
        ({"kind": "error", "code": "ThrottlingException", "when": "now"}, "unknown field when"),
        (
            [{"kind": "drop"}, {"kind": "latency", "per_token_ms": "fast"}],
            'rule 1: per_token_ms must be a non-negative integer, got "fast"',
        ),
        ("throttle", 'a fault rule must be a JSON object, got "throttle"'),
        ({"kind": None}, "kind is required"),
        ({"kind": "error", "code": "ThrottlingException", "count": 10**20}, "count must be at most 2147483647"),
    ],
)
def test_bad_rules_are_400_naming_the_field_and_add_nothing(control: httpx.Client, body: Any, words: str) -> None:
    reply = control.post("/faults", json=body)
    assert_bedrock_error(reply, 400, "ValidationException")
    assert reply.json()["message"].startswith(f"invalid fault rule: {words}")
    assert control.get("/faults").json() == {"faults": []}


def test_a_body_that_is_not_json_is_400(control: httpx.Client) -> None:
    reply = control.post("/faults", content=b"{kind: drop")
    assert_bedrock_error(reply, 400, "ValidationException")
    assert reply.json()["message"] == "invalid fault rule: the body is not JSON"


def test_listing_says_what_fired_and_what_is_left(runtime_boto3: Any, control: httpx.Client) -> None:
    listed = control.post(
        "/faults", json=[{"kind": "error", "code": "throttle", "count": 2}, {"kind": "drop", "after_frames": 1}]
    )
    (throttle, drop) = listed.json()["faults"]
    assert {k: throttle[k] for k in ("kind", "code", "count", "fired", "remaining", "active")} == {
        "kind": "error",
        "code": "ThrottlingException",
        "count": 2,
        "fired": 0,
        "remaining": 2,
        "active": True,
    }
    outcomes = []
    for _ in range(3):
        try:
            runtime_boto3.invoke_model(modelId=SEVEN_B, body=json.dumps({"prompt": "x"}))
            outcomes.append("answered")
        except botocore.exceptions.ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
    assert outcomes == ["ThrottlingException", "ThrottlingException", "answered"]
    (throttle, drop) = control.get("/faults").json()["faults"]
    assert (throttle["fired"], throttle["remaining"], throttle["active"]) == (2, 0, False)
    assert (drop["fired"], drop["remaining"], drop["active"]) == (0, None, True)  # InvokeModel does not stream


def journal(control: httpx.Client) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = control.get("/requests").json()["requests"]
    return entries


def test_the_journal_records_an_injected_error(runtime_boto3: Any, control: httpx.Client) -> None:
    control.post("/faults", json={"kind": "error", "code": "ThrottlingException", "count": 1}).raise_for_status()
    with pytest.raises(botocore.exceptions.ClientError):
        runtime_boto3.invoke_model(modelId=SEVEN_B, body=json.dumps({"prompt": "x"}))
    runtime_boto3.invoke_model(modelId=SEVEN_B, body=json.dumps({"prompt": "x"}))
    first, second = journal(control)
    assert (first["status"], first["error_code"], first["faults"]) == (
        429,
        "ThrottlingException",
        [{"kind": "error", "code": "ThrottlingException"}],
    )
    assert (second["status"], second["error_code"], second["faults"]) == (200, None, [])
    assert (first["body_size"], first["body_truncated"]) == (len(json.dumps({"prompt": "x"})), False)


def test_the_journal_records_an_in_stream_error_as_delivered(runtime_boto3: Any, control: httpx.Client) -> None:
    control.post(
        "/faults", json={"kind": "stream-error", "code": "ThrottlingException", "after_frames": 2}
    ).raise_for_status()
    control.post("/faults", json={"kind": "latency", "first_byte_ms": 1}).raise_for_status()
    stream = runtime_boto3.invoke_model_with_response_stream(modelId=SEVEN_B, body=json.dumps({"prompt": "Tell me"}))[
        "body"
    ]
    with pytest.raises(botocore.exceptions.EventStreamError):
        list(stream)
    stream.close()
    (entry,) = journal(control)
    assert (entry["operation"], entry["status"], entry["error_code"]) == (
        "InvokeModelWithResponseStream",
        200,
        "ThrottlingException",
    )
    assert entry["faults"] == [
        {"kind": "latency", "first_byte_ms": 1, "per_token_ms": 0},
        {"kind": "stream-error", "after_frames": 2, "code": "ThrottlingException"},
    ]


def test_a_stream_fault_past_the_end_of_the_stream_is_not_listed(runtime_boto3: Any, control: httpx.Client) -> None:
    control.post("/faults", json={"kind": "drop", "after_frames": 10_000}).raise_for_status()
    stream = runtime_boto3.invoke_model_with_response_stream(modelId=SEVEN_B, body=json.dumps({"prompt": "Hi"}))["body"]
    assert list(stream)
    (entry,) = journal(control)
    assert (entry["status"], entry["error_code"], entry["faults"]) == (200, None, [])


def exchange(url: str, path: str, body: bytes) -> tuple[int, bool, int]:
    """One HTTP/1.1 request on its own connection, read until the server closes it (see :mod:`raw_http`)."""
    return stream_exchange(url, path, body, {"Authorization": "Bearer t"})


@pytest.mark.parametrize("after_frames", [0, 2])
def test_drop_cuts_the_connection_under_uvicorn(
    runtime: ServerThread, control: httpx.Client, after_frames: int
) -> None:
    control.post("/faults", json={"kind": "drop", "after_frames": after_frames, "count": 1}).raise_for_status()
    path = f"/model/{SEVEN_B}/invoke-with-response-stream"
    body = json.dumps({"prompt": "<s>[INST] Tell me [/INST]"}).encode()
    assert exchange(runtime.url, path, body) == (
        200,
        False,
        after_frames,
    )  # the headers, `after_frames` event frames, then nothing
    (entry,) = journal(control)
    assert (entry["status"], entry["error_code"], entry["faults"]) == (
        200,
        None,
        [{"kind": "drop", "after_frames": after_frames}],
    )
    status, complete, events = exchange(runtime.url, path, body)  # count=1: the next stream is whole
    assert (status, complete) == (200, True) and events > after_frames


def test_the_journal_keeps_the_newest_within_its_byte_budget() -> None:
    bodies = [json.dumps({"prompt": word}) for word in ("one", "two", "three", "four")]
    long = json.dumps({"prompt": "x" * 300})
    budget = sum(len(body) for body in bodies[1:]) + 2  # room for the last three, not for all four
    with ServerThread(config=RuntimeConfig(journal_bytes=budget)) as server:
        client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
        )
        http = httpx.Client(base_url=server.url + CONTROL_PREFIX, headers={"Authorization": "Bearer t"})
        with http, closing(client):
            for body in bodies:
                client.invoke_model(modelId=SEVEN_B, body=body)
            kept = http.get("/requests").json()["requests"]
            assert [(e["body"], e["body_size"], e["body_truncated"]) for e in kept] == [
                (json.loads(body), len(body), False) for body in bodies[1:]
            ]
            client.invoke_model(modelId=SEVEN_B, body=long)
            (entry,) = http.get("/requests").json()["requests"]  # alone it fills the budget
    assert (entry["body"], entry["body_size"], entry["body_truncated"]) == (long[:budget], len(long), True)
