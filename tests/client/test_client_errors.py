"""Two client errors made clear: an answer from a server that is not Bedrock, and text with lone surrogates.

* A status without an AWS error code (a ``501 Not Implemented`` page, an empty ``502``) is a
  :class:`~mistral_bedrock.errors.NonBedrockError` that names the status, its reason and the start of the body;
  it is retried only for the statuses botocore retries.
* A lone surrogate (``"\\ud800"``, or an undecodable byte of a command-line argument) has no UTF-8 form. The client
  sends it as the JSON escape boto3 sends, which Bedrock and the runtime read as U+FFFD, and renders prompts with
  U+FFFD in its place: every method answers, none raises ``UnicodeEncodeError``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from starlette.types import Receive, Scope, Send

from mistral_bedrock.catalog import lookup
from mistral_bedrock.client import AsyncMistralBedrock, MistralBedrock
from mistral_bedrock.conversation import Message
from mistral_bedrock.errors import BedrockError, NonBedrockError, ServiceUnavailableException
from mistral_bedrock.prompt import render
from mistral_bedrock.runtime import ServerThread
from tests.client.client_support import FAST_RETRY, Control

KEYS = {"region": "us-east-1", "aws_access_key_id": "AKID", "aws_secret_access_key": "s", "retry": FAST_RETRY}
PAGE = b"<html>\n<head><title>501 Not Implemented</title></head>\n<body><h1>Not Implemented</h1></body>\n</html>\n"
LEAD = "I am the built-in engine of mistral-bedrock. You said: "


class NotBedrock:
    """A plain web server at the endpoint: every request gets the same status, headers and body."""

    def __init__(self, status: int, body: bytes, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        self.status = status
        self.body = body
        self.headers = headers
        self.requests = 0
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self.lock:
            self.requests += 1
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": self.status, "headers": list(self.headers)})
        await send({"type": "http.response.body", "body": self.body})


@pytest.fixture
def not_implemented() -> Iterator[tuple[ServerThread, NotBedrock]]:
    app = NotBedrock(501, PAGE, ((b"content-type", b"text/html"),))
    with ServerThread(app) as server:
        yield server, app


def test_a_501_page_is_named_and_not_retried(not_implemented: tuple[ServerThread, NotBedrock]) -> None:
    server, app = not_implemented
    with MistralBedrock(endpoint_url=server.url, **KEYS) as client, pytest.raises(NonBedrockError) as caught:
        client.complete_text("hi")
    error = caught.value
    assert app.requests == 1
    assert isinstance(error, BedrockError)
    assert (error.status, error.error_code, error.retryable, error.body) == (501, "501", False, PAGE)
    assert str(error) == (
        "501: Not Implemented, with no AWS error code; the body begins '<html> <head><title>501 Not Implemented"
        "</title></head> <body><h1>Not Implemented</h1></body> </html>': the server that answered is not Bedrock "
        "(check the endpoint URL, and any proxy on the way)."
    )


def test_the_async_client_says_the_same(not_implemented: tuple[ServerThread, NotBedrock]) -> None:
    server, app = not_implemented

    async def call() -> None:
        async with (
            AsyncMistralBedrock(endpoint_url=server.url, **KEYS) as client,
            client.stream_text("hi", model="mistral-7b") as stream,
        ):
            await stream.result()

    with pytest.raises(NonBedrockError, match=r"^501: Not Implemented, with no AWS error code; the body begins"):
        asyncio.run(call())
    assert app.requests == 1


@pytest.mark.parametrize(("status", "attempts"), [(502, FAST_RETRY.max_attempts), (505, 1), (418, 1)])
def test_an_empty_answer_is_retried_only_where_botocore_would(status: int, attempts: int) -> None:
    app = NotBedrock(status, b"")
    with (
        ServerThread(app) as server,
        MistralBedrock(endpoint_url=server.url, **KEYS) as client,
        pytest.raises(NonBedrockError, match=rf"^{status}: \w[^,]*, with no AWS error code and an empty body: "),
    ):
        client.converse("hi")
    assert app.requests == attempts


def test_a_gateway_message_is_quoted() -> None:
    app = NotBedrock(504, b'{"message": "Endpoint request timed out"}')
    with (
        ServerThread(app) as server,
        MistralBedrock(endpoint_url=server.url, **KEYS) as client,
        pytest.raises(NonBedrockError, match=r"^504: Gateway Timeout, with no AWS error code; it says 'Endpoint"),
    ):
        client.complete_chat("hi")
    assert app.requests == FAST_RETRY.max_attempts


def test_an_aws_code_still_types_the_error() -> None:
    headers = ((b"x-amzn-ErrorType", b"ServiceUnavailableException:http://internal.amazon.com/coral/"),)
    app = NotBedrock(503, b'{"message":"Bedrock is unable to process your request."}', headers)
    with (
        ServerThread(app) as server,
        MistralBedrock(endpoint_url=server.url, **KEYS) as client,
        pytest.raises(ServiceUnavailableException, match="unable to process"),
    ):
        client.complete_text("hi")
    assert app.requests == FAST_RETRY.max_attempts


def test_lone_surrogates_reach_the_model_as_replacement_characters(
    client: MistralBedrock, runtime_control: Control
) -> None:
    said = "say \ud800 and \udcff then \ud83d\ude00"  # two lone surrogates, and a pair given as two halves
    seen = "say \ufffd and \ufffd then 😀"

    assert client.complete_text(said, model="mistral-7b").text == " " + LEAD + seen
    assert client.complete_text(f"<s>[INST] {said} [/INST]", raw=True).text == " " + LEAD + seen
    assert client.complete_chat(said, model="mistral-large-2402").text == LEAD + seen
    assert client.converse(said, system="Be \udc80 brief.").text == LEAD + seen
    with client.stream_text(said * 200, model="mistral-7b") as stream:  # past the stand-in threshold
        streamed = stream.result()
    assert streamed.text.endswith(seen)
    assert streamed.usage is not None
    assert streamed.usage.input_tokens == render([Message.user(seen * 200)], lookup("mistral-7b")).count
    prompts = [entry["body"].get("prompt") for entry in runtime_control.requests()]
    assert prompts.count(f"<s>[INST] {seen} [/INST]") == 2  # rendered, and raw


def test_the_async_client_sends_them_too(server: ServerThread, runtime_control: Control) -> None:
    async def call() -> str:
        async with AsyncMistralBedrock(endpoint_url=server.url, **KEYS) as client:
            return (await client.complete_text("odd \udfff byte")).text

    assert asyncio.run(call()) == " " + LEAD + "odd \ufffd byte"
