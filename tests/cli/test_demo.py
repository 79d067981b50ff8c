"""``demo``: the whole walkthrough end to end, ending with which backend answered."""

from __future__ import annotations

import json

from tests.cli.cli_support import FALLBACK, LEAD_IN, Runtime, ok, run_cli


def test_demo_runs_everything_on_the_embedded_runtime_when_aws_is_not_set_up() -> None:
    completed = ok(run_cli("demo"))
    out = completed.stdout
    for title in ("basic · mistral-7b", "chat · mixtral-8x7b", "chat-streaming · mistral-large-2402", "tools"):
        assert title in out
    assert "request payload:" in out and "response string:" in out
    assert f"[Assistant]: {LEAD_IN} You said: What is my name? (turn 2)" in out
    assert "</s>[INST] What is my name? [/INST]" in out  # the second turn's prompt carries the history
    assert '[Tool call]: top_song({"sign": "WZPZ"})' in out
    assert out.splitlines()[-1].startswith("Answered by the embedded local runtime at http://127.0.0.1:")
    assert completed.stderr.splitlines() == [f"mistral-bedrock: {FALLBACK}"]


def test_demo_json_names_the_endpoint_and_its_engine(cli_runtime: Runtime) -> None:
    document = json.loads(ok(run_cli("demo", "--json", "--endpoint-url", cli_runtime.url)).stdout)
    assert document["backend"] == "endpoint"
    assert document["answered_by"] == f"the endpoint {cli_runtime.url} (a mistral-bedrock runtime, engine: builtin)"
    assert document["basic"]["model_id"] == "mistral.mistral-7b-instruct-v0:2"
    assert [turn["user"] for turn in document["chat"]["turns"]] == [
        "Hi! My name is Ada. Please remember it.",
        "What is my name?",
    ]
    assert document["chat_streaming"]["turns"][0]["time_to_first_token_ms"] is not None
    assert document["tools"]["calls"][0]["arguments"] == {"sign": "WZPZ"}
    operations = [entry["operation"] for entry in cli_runtime.requests()]
    assert operations == ["InvokeModel"] * 3 + ["InvokeModelWithResponseStream"] + ["InvokeModel"] * 2
