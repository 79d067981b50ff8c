"""The client and the CLI meet hostile input with a typed error or a working answer, never a raw exception.

* Text a Python ``str`` holds and UTF-8 cannot (a lone surrogate) goes out as a JSON escape, the bytes boto3 sends
  for it, and reads as U+FFFD on both sides: the runtime's body reader and the client's own tokenizer agree.
* A 200 answer or stream event nested past any parser (``'[' * 100000``) is a ``MalformedResponseError``.
* Input nested past the checks is refused before any I/O, as the runtime would refuse it.
* The CLI reports each of these in one line with a non-zero exit, or answers; never a traceback.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from mistral_bedrock.catalog import lookup
from mistral_bedrock.cli import cli
from mistral_bedrock.client import MistralBedrock
from mistral_bedrock.errors import MalformedResponseError, ValidationException
from mistral_bedrock.prompt import count_tokens, encode_prompt
from mistral_bedrock.protocol.eventstream import encode_event, encode_exception
from mistral_bedrock.runtime import CONTROL_PREFIX, ServerThread

pytestmark = pytest.mark.reliability

DEEP = "[" * 100_000
SURROGATE = "\ud800"
CREDENTIALS = {"region": "us-east-1", "aws_access_key_id": "AKID", "aws_secret_access_key": "s"}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> Iterator[MistralBedrock]:
    with MistralBedrock(endpoint_url=server.url, **CREDENTIALS) as made:  # type: ignore[arg-type]
        yield made


def journal(server: ServerThread) -> list[dict[str, Any]]:
    with httpx.Client(base_url=server.url + CONTROL_PREFIX, headers={"Authorization": "Bearer t"}) as http:
        entries: list[dict[str, Any]] = http.get("/requests").json()["requests"]
        http.delete("/requests")
        return entries


# -- lone surrogates: sent escaped, read as U+FFFD ------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.converse(SURROGATE, max_tokens=20), id="converse"),
        pytest.param(lambda c: c.complete_chat(SURROGATE, max_tokens=20), id="complete-chat"),
        pytest.param(lambda c: c.complete_text(SURROGATE, max_tokens=20), id="complete-text"),
        pytest.param(lambda c: c.complete_text(f"<s>[INST] {SURROGATE} [/INST]", raw=True, max_tokens=20), id="raw"),
        pytest.param(lambda c: c.stream_text(SURROGATE, max_tokens=20).result(), id="stream-text"),
        pytest.param(lambda c: c.stream_chat(SURROGATE, max_tokens=20).result(), id="stream-chat"),
        pytest.param(lambda c: c.converse_stream(SURROGATE, max_tokens=20).result(), id="converse-stream"),
    ],
)
def test_a_lone_surrogate_travels_escaped_and_reads_as_the_replacement_character(
    client: MistralBedrock, server: ServerThread, call: Callable[[MistralBedrock], Any]
) -> None:
    journal(server)
    result = call(client)
    assert result.text  # the built-in engine answered
    (entry,) = journal(server)
    assert entry["status"] == 200
    assert SURROGATE not in json.dumps(entry["body"], ensure_ascii=False)
    assert "\ufffd" in json.dumps(entry["body"], ensure_ascii=False)


def test_counting_a_lone_surrogate_counts_the_replacement_character() -> None:
    spec = lookup("mistral-7b")
    assert count_tokens(SURROGATE, spec) == count_tokens("\ufffd", spec)
    assert MistralBedrock.count_tokens(f"a{SURROGATE}b") == MistralBedrock.count_tokens("a\ufffdb")
    assert encode_prompt(f"<s>[INST] {SURROGATE} [/INST]", spec).text == "<s>[INST] \ufffd [/INST]"


# -- nesting past the parsers -------------------------------------------------------------------------------


def _mock(respond: Callable[[httpx.Request], httpx.Response]) -> MistralBedrock:
    return MistralBedrock(
        endpoint_url="http://bedrock.invalid",
        http_client=httpx.Client(transport=httpx.MockTransport(respond)),
        **CREDENTIALS,  # type: ignore[arg-type]
    )


COUNTS = {"x-amzn-bedrock-input-token-count": "1", "x-amzn-bedrock-output-token-count": "1"}


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.converse("hi"), id="converse"),
        pytest.param(lambda c: c.complete_chat("hi"), id="complete-chat"),
        pytest.param(lambda c: c.complete_text("hi"), id="complete-text"),
    ],
)
def test_a_200_body_nested_past_the_parser_is_malformed(call: Callable[[MistralBedrock], Any]) -> None:
    respond = _mock(lambda request: httpx.Response(200, content=DEEP.encode(), headers=COUNTS))
    with respond as client, pytest.raises(MalformedResponseError):
        call(client)


def test_an_error_body_nested_past_the_parser_keeps_its_code() -> None:
    refused = {"x-amzn-errortype": "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    respond = _mock(lambda request: httpx.Response(400, content=DEEP.encode(), headers=refused))
    with respond as client, pytest.raises(ValidationException):
        client.converse("hi")


def _stream_of(frame: bytes) -> Callable[[httpx.Request], httpx.Response]:
    headers = {"content-type": "application/vnd.amazon.eventstream"}
    return lambda request: httpx.Response(200, stream=httpx.ByteStream(frame), headers=headers)


@pytest.mark.parametrize(
    ("converse", "frame", "expected"),
    [
        pytest.param(True, encode_event("messageStart", DEEP.encode()), MalformedResponseError, id="converse-event"),
        pytest.param(
            False,
            encode_event("chunk", json.dumps({"bytes": base64.b64encode(DEEP.encode()).decode()}).encode()),
            MalformedResponseError,
            id="native-chunk",
        ),
        pytest.param(
            False, encode_exception("validationException", DEEP.encode()), ValidationException, id="exception"
        ),
    ],
)
def test_a_stream_event_nested_past_the_parser_is_a_typed_error(
    converse: bool, frame: bytes, expected: type[Exception]
) -> None:
    with _mock(_stream_of(frame)) as client:
        stream = client.converse_stream("hi") if converse else client.stream_chat("hi")
        with pytest.raises(expected):
            stream.result()


def test_input_nested_past_the_checks_is_refused_before_any_io() -> None:
    deep: dict[str, Any] = {}
    for _ in range(5_000):
        deep = {"a": deep}
    tool = {"name": "f", "description": "d", "parameters": {"type": "object", "properties": deep}}
    sent: list[httpx.Request] = []
    with _mock(lambda request: sent.append(request) or httpx.Response(500)) as client:  # type: ignore[func-returns-value]
        for call in (lambda: client.complete_chat("hi", tools=[tool]), lambda: client.converse("hi", tools=[tool])):
            with pytest.raises(ValidationException, match="Malformed input request"):
                call()
    assert not sent


@pytest.mark.parametrize("sampling", [{"temperature": 10**400}, {"top_p": -(10**400)}, {"max_tokens": 10**400}])
@pytest.mark.parametrize("method", ["converse", "complete_chat", "complete_text"])
def test_integers_beyond_a_double_are_refused_before_any_io(method: str, sampling: dict[str, int]) -> None:
    with _mock(lambda request: httpx.Response(500)) as client, pytest.raises(ValidationException):
        getattr(client, method)("hi", **sampling)


# -- the CLI ----------------------------------------------------------------------------------------------------


def _one_line_failure(exit_code: int, stderr: str) -> None:
    assert exit_code != 0
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


def test_cli_refuses_an_argument_that_is_not_text_in_one_line(server: ServerThread) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "mistral_bedrock.cli", "converse", b"\xff", "--endpoint-url", server.url],
        capture_output=True,
        timeout=60,
        check=False,
    )
    stderr = completed.stderr.decode()
    _one_line_failure(completed.returncode, stderr)
    assert stderr.startswith("Error: an argument is not valid utf-8 text: b'\\xff'")
    assert not journal(server)  # nothing was sent


def _tokens(body: bytes, model: str = "mistral-7b") -> Any:
    return CliRunner().invoke(cli, ["tokens", "--model", model], input=body)


def test_cli_tokens_reads_a_surrogate_escape_as_the_runtime_does() -> None:
    result = _tokens(b'{"prompt":"\\ud800"}')
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["prompt"] == "\ufffd"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(("[" * 5000 + "]" * 5000).encode(), id="5000-deep"),
        pytest.param(b'{"prompt":"\xff"}', id="invalid-utf8"),
        pytest.param(b'{"prompt":"\xed\xa0\x80"}', id="encoded-surrogate"),
        pytest.param(b'{"prompt":"hi","temperature":NaN}', id="nan"),
        pytest.param(
            b'{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f",'
            b'"parameters":' + b'{"a":' * 980 + b"1" + b"}" * 980 + b"}}]}",
            id="deep-tool-parameters",
        ),
    ],
)
def test_cli_tokens_refuses_hostile_bodies_in_one_line(body: bytes) -> None:
    result = _tokens(body, model="mistral-large-2402")
    _one_line_failure(result.exit_code, result.stderr)
    assert result.stderr.startswith("Error: ")
