"""SigV4 as the client computes it: botocore's bytes exactly, and accepted by a runtime that checks every signature.

The path is signed as it goes on the wire, so the async transport (aiohttp under httpx) must send it as httpx wrote
it: a model id's ``%3A`` and an ARN's ``%2F`` included.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mistral_bedrock.client import AsyncMistralBedrock, MistralBedrock, RetryPolicy
from mistral_bedrock.client.signing import Signer
from mistral_bedrock.errors import InvalidSignatureException
from mistral_bedrock.runtime import ServerThread, create_app
from mistral_bedrock.runtime.auth import StrictAuth

AKID, SECRET = "AKIDSTRICT", "right-secret"
ARN = "arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-7b-instruct-v0:2"
URLS = (
    "https://bedrock-runtime.us-east-1.amazonaws.com/model/mistral.mistral-7b-instruct-v0%3A2/invoke",
    "https://bedrock-runtime.us-east-1.amazonaws.com:443/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A%3Afoundation-model"
    "%2Fmistral.mistral-7b-instruct-v0%3A2/invoke-with-response-stream",
    "http://127.0.0.1:8787/model/mistral.mistral-large-2402-v1:0/converse",
    "http://LOCALHOST:80/prefix/./model/../model//x/converse-stream?b=2&a=1",
    "http://[::1]:8080/model/x/invoke",
)
HEADERS = (
    {"Content-Type": "application/json", "Accept": "application/json"},
    {"Content-Type": "application/json", "X-Amzn-Bedrock-Accept": "  application/json ", "User-Agent": "not signed"},
    {"Content-Type": "application/json", "X-Amzn-Bedrock-Trace": "ENABLED   with\tspaces"},
)


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("headers", HEADERS)
@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEXAMPLE//session+token=="])
def test_signatures_are_botocores(
    url: str, headers: dict[str, str], token: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = b'{"prompt": "<s>[INST] hi [/INST]"}'
    ours = Signer(region="eu-west-3", access_key_id=AKID, secret_access_key=SECRET, session_token=token).sign(
        "POST", url, headers, body
    )
    # botocore, at the moment our signature says it was made.
    signed_at = dt.datetime.strptime(ours["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: signed_at)
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    SigV4Auth(Credentials(AKID, SECRET, token), "bedrock", "eu-west-3").add_auth(request)
    assert ours == dict(request.headers.items())


@pytest.fixture(scope="module")
def strict_server() -> Iterator[ServerThread]:
    with ServerThread(create_app(auth=StrictAuth({AKID: SECRET}))) as running:
        yield running


@pytest.mark.parametrize("model", ["mistral-7b", ARN])
def test_the_async_client_is_verified_by_a_strict_runtime(strict_server: ServerThread, model: str) -> None:
    async def scenario(secret: str) -> tuple[str, str]:
        async with AsyncMistralBedrock(
            endpoint_url=strict_server.url,
            region="us-east-1",
            aws_access_key_id=AKID,
            aws_secret_access_key=secret,
            retry=RetryPolicy(max_attempts=1),
        ) as client:
            whole = await client.complete_text("hi", model=model)
            async with client.stream_text("hi", model=model) as stream:
                streamed = await stream.result()
            return whole.text, streamed.text

    whole, streamed = asyncio.run(scenario(SECRET))
    assert whole == streamed
    assert whole.endswith("You said: hi")
    with pytest.raises(InvalidSignatureException):
        asyncio.run(scenario("wrong"))


def test_the_sync_client_is_verified_by_a_strict_runtime(strict_server: ServerThread) -> None:
    with MistralBedrock(
        endpoint_url=strict_server.url, region="us-east-1", aws_access_key_id=AKID, aws_secret_access_key=SECRET
    ) as client:
        assert client.converse("hi", model="mistral-large-2402").text.endswith("You said: hi")
        assert client.complete_text("hi", model=ARN).text.endswith("You said: hi")
