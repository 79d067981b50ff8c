"""Strict auth over real sockets: requests signed by botocore pass; unsigned, wrong-key, tampered and expired
requests get Bedrock's 403 codes. And a runtime binds loopback unless told otherwise."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mistral_bedrock.runtime import InsecureBindError, ServerThread, check_bind, create_app
from mistral_bedrock.runtime.auth import StrictAuth

pytestmark = pytest.mark.reliability

KEY, SECRET = "AKIDRELIABLE", "reliable-secret"
PATH = "/model/mistral.mistral-7b-instruct-v0%3A2/invoke"
BODY = json.dumps({"prompt": "<s>[INST] Hi [/INST]"}).encode()


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def strict(clock: Clock) -> Iterator[ServerThread]:
    with ServerThread(create_app(auth=StrictAuth({KEY: SECRET}), clock=clock)) as server:
        yield server


def signed(url: str, key: str = KEY, secret: str = SECRET, body: bytes = BODY) -> dict[str, str]:
    request = AWSRequest(method="POST", url=url + PATH, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, secret), "bedrock", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def post(server: ServerThread, headers: dict[str, str], body: bytes = BODY) -> httpx.Response:
    return httpx.post(server.url + PATH, content=body, headers=headers)


def test_signed_request_passes(strict: ServerThread) -> None:
    assert post(strict, signed(strict.url)).status_code == 200


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("unsigned", "AccessDeniedException"),
        ("wrong-key", "UnrecognizedClientException"),
        ("wrong-secret", "InvalidSignatureException"),
        ("tampered-body", "InvalidSignatureException"),
        ("expired", "InvalidSignatureException"),
    ],
)
def test_rejections(strict: ServerThread, clock: Clock, case: str, code: str) -> None:
    headers = signed(strict.url)
    body = BODY
    if case == "unsigned":
        headers = {"Content-Type": "application/json"}
    elif case == "wrong-key":
        headers = signed(strict.url, key="AKIDUNKNOWN")
    elif case == "wrong-secret":
        headers = signed(strict.url, secret="nope")
    elif case == "tampered-body":
        body = BODY.replace(b"Hi", b"Yo")
    elif case == "expired":
        clock.offset = timedelta(minutes=20)
    try:
        reply = post(strict, headers, body)
    finally:
        clock.offset = timedelta(0)
    assert reply.status_code == 403
    assert reply.headers["x-amzn-errortype"].split(":")[0] == code
    if case == "expired":
        assert reply.json()["message"].startswith("Signature expired:")


def test_a_runtime_binds_loopback_by_default() -> None:
    with ServerThread() as server:
        assert server.host == "127.0.0.1"


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_loopback_may_be_bound_with_lenient_auth(host: str) -> None:
    check_bind(host, "lenient", allow_insecure=False)


def test_any_address_may_be_bound_with_strict_auth() -> None:
    check_bind("0.0.0.0", "strict:AKID:SECRET", allow_insecure=False)


def test_a_public_bind_with_lenient_auth_is_refused() -> None:
    with pytest.raises(InsecureBindError):
        check_bind("0.0.0.0", "lenient", allow_insecure=False)
