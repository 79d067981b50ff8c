"""The AWS SDK for JavaScript v3 against ``mistral-bedrock serve``, over HTTP/2 (its default) and HTTP/1.1.

``js/bedrock.mjs`` makes every call and prints one JSON document; these tests judge it. The SDK's default request
handler for bedrock-runtime is NodeHttp2Handler, which speaks cleartext HTTP/2 to an ``http://`` endpoint: every
event stream must arrive whole over it, three times in a row (FIELD.md item 15).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.interop.interop_support import aws_client_env, base_env

pytestmark = pytest.mark.timeout(300)  # npm ci, then one node run per handler, 120 s each at most

JS_DIR = Path(__file__).parent / "js"
STAMP = JS_DIR / "node_modules" / ".mistral-bedrock-interop.sha256"
REPEATS = 3
INVALID_MODEL = "The provided model identifier is invalid."
METRIC_KEYS = {"inputTokenCount", "outputTokenCount", "invocationLatency", "firstByteLatency"}


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not on PATH: the JS SDK interop tests need Node.js 18+ and npm")
    return found


@pytest.fixture(scope="session")
def node_exe() -> str:
    """`node`, once ``js/node_modules`` matches package.json and package-lock.json (npm ci only when they changed)."""
    node, npm = tool("node"), tool("npm")
    lock = JS_DIR / "package-lock.json"
    digest = hashlib.sha256(
        (JS_DIR / "package.json").read_bytes() + (lock.read_bytes() if lock.exists() else b"")
    ).hexdigest()
    if not (STAMP.exists() and STAMP.read_text() == digest):
        command = [npm, "ci" if lock.exists() else "install", "--no-audit", "--no-fund", "--ignore-scripts"]
        try:
            result = subprocess.run(command, cwd=JS_DIR, capture_output=True, text=True, env=base_env(), timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`{' '.join(command)}` in {JS_DIR} took more than 120 s")
        if result.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        STAMP.write_text(digest)
    return node


@pytest.fixture(scope="module", params=["default", "http1"])
def js(
    request: pytest.FixtureRequest, node_exe: str, runtime_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """What ``bedrock.mjs`` saw with one request handler."""
    mode: str = request.param
    home = tmp_path_factory.mktemp(f"js-{mode}")
    command = [node_exe, str(JS_DIR / "bedrock.mjs"), runtime_url, mode]
    try:
        result = subprocess.run(
            command, cwd=JS_DIR, capture_output=True, text=True, env=aws_client_env(home), timeout=120
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"bedrock.mjs ({mode}) ran for more than 120 s; stdout: {exc.stdout!r}; stderr: {exc.stderr!r}")
    assert result.returncode == 0, f"bedrock.mjs ({mode}) exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    try:
        results: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"bedrock.mjs ({mode}) printed no JSON document:\n{result.stdout}\n{result.stderr}")
    return results


def succeeded(call: dict[str, Any], what: str) -> dict[str, Any]:
    assert "error" not in call, f"{what} failed: {json.dumps(call['error'], indent=2)}\nreceived before: {call}"
    return call


def test_the_intended_request_handler_is_used(js: dict[str, Any]) -> None:
    expected = {"default": "NodeHttp2Handler", "http1": "NodeHttpHandler"}[js["mode"]]
    assert js["handler"] == expected


def check_native_stream(
    run: dict[str, Any], text_of: Any, stop_of: Any, expected_text: str, expected_stop: str
) -> None:
    chunks = run["chunks"]
    assert run["contentType"] == "application/json"
    assert run["otherEvents"] == []
    assert len(chunks) > 2, chunks
    assert "".join(text_of(chunk) for chunk in chunks) == expected_text, "the stream's text differs from InvokeModel's"
    assert [stop_of(chunk) for chunk in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert stop_of(chunks[-1]) == expected_stop
    assert all("amazon-bedrock-invocationMetrics" not in chunk for chunk in chunks[:-1])
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    assert set(metrics) == METRIC_KEYS
    assert all(isinstance(value, int) and value >= 0 for value in metrics.values())
    assert metrics["outputTokenCount"] > 0 and metrics["inputTokenCount"] > 0


def test_invoke_model_text(js: dict[str, Any]) -> None:
    call = succeeded(js["invokeText"], "InvokeModel (text)")
    assert call["contentType"] == "application/json"
    assert set(call["body"]) == {"outputs"}
    assert call["body"]["outputs"][0]["stop_reason"] == "stop"
    assert call["body"]["outputs"][0]["text"].strip()


def test_text_stream_arrives_whole_three_times(js: dict[str, Any]) -> None:
    expected = succeeded(js["invokeText"], "InvokeModel (text)")["body"]["outputs"][0]
    assert len(js["streamText"]) == REPEATS
    for attempt, run in enumerate(js["streamText"], 1):
        check_native_stream(
            succeeded(run, f"InvokeModelWithResponseStream (text) #{attempt}"),
            lambda chunk: chunk["outputs"][0]["text"],
            lambda chunk: chunk["outputs"][0]["stop_reason"],
            expected["text"],
            expected["stop_reason"],
        )


def test_chat_stream_arrives_whole_three_times(js: dict[str, Any]) -> None:
    expected = succeeded(js["invokeChat"], "InvokeModel (chat)")["body"]["choices"][0]
    assert expected["stop_reason"] == "stop"
    assert len(js["streamChat"]) == REPEATS
    for attempt, run in enumerate(js["streamChat"], 1):
        check_native_stream(
            succeeded(run, f"InvokeModelWithResponseStream (chat) #{attempt}"),
            lambda chunk: chunk["choices"][0]["message"]["content"],
            lambda chunk: chunk["choices"][0]["stop_reason"],
            expected["message"]["content"],
            expected["stop_reason"],
        )


def test_converse(js: dict[str, Any]) -> None:
    call = succeeded(js["converse"], "Converse")
    assert call["output"]["message"]["role"] == "assistant"
    assert call["output"]["message"]["content"][0]["text"].strip()
    assert call["stopReason"] == "end_turn"
    usage = call["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] > 0


def test_converse_stream_events_in_order_three_times(js: dict[str, Any]) -> None:
    converse = succeeded(js["converse"], "Converse")
    expected_text = "".join(block["text"] for block in converse["output"]["message"]["content"])
    assert len(js["converseStream"]) == REPEATS
    for attempt, run in enumerate(js["converseStream"], 1):
        events = succeeded(run, f"ConverseStream #{attempt}")["events"]
        types = [event["type"] for event in events]
        assert types[0] == "messageStart" and events[0]["value"] == {"role": "assistant"}, types
        assert types[-2:] == ["messageStop", "metadata"], types
        body = types[1:-2]
        assert body and body[-1] == "contentBlockStop", types
        assert set(body) == {"contentBlockDelta", "contentBlockStop"}, types  # text only: no contentBlockStart
        assert body.count("contentBlockStop") == 1, types
        deltas = [event["value"] for event in events if event["type"] == "contentBlockDelta"]
        assert {delta["contentBlockIndex"] for delta in deltas} == {0}
        assert "".join(delta["delta"]["text"] for delta in deltas) == expected_text
        assert events[-2]["value"]["stopReason"] == converse["stopReason"]
        metadata = events[-1]["value"]
        assert metadata["usage"] == converse["usage"]
        assert isinstance(metadata["metrics"]["latencyMs"], int)


def test_unknown_model_is_a_typed_validation_exception(js: dict[str, Any]) -> None:
    call = js["unknownModel"]
    assert "body" not in call, call
    error = call["error"]
    assert error["name"] == "ValidationException"
    assert error["isValidationException"] is True, "the SDK did not deserialize the error into its modelled class"
    assert error["message"] == INVALID_MODEL
    assert error["fault"] == "client"
    assert error["status"] == 400
    assert error["requestId"], "x-amzn-requestid missing: the SDK found no request id"
