"""``basic``: the classic first example — request payload, response payload, response string."""

from __future__ import annotations

import json

from tests.cli.cli_support import FALLBACK, LEAD_IN, Runtime, invoke, ok, run_cli


def section(lines: list[str], title: str) -> str:
    return lines[lines.index(title) + 1]


def test_basic_prints_payloads_and_answer_on_the_embedded_runtime() -> None:
    completed = ok(run_cli("basic"))
    lines = completed.stdout.splitlines()
    assert json.loads(section(lines, "request payload:")) == {"prompt": "<s>[INST] Hello, what's your name? [/INST]"}
    response = json.loads(section(lines, "response payload:"))
    assert response["outputs"][0]["stop_reason"] == "stop"
    assert response["outputs"][0]["text"] == f" {LEAD_IN} You said: Hello, what's your name?"
    assert section(lines, "response string:") == f"{LEAD_IN} You said: Hello, what's your name?"
    footer = lines[-1]
    assert "in ·" in footer and "out tokens" in footer and "ms" in footer and "$" in footer
    # No credentials anywhere: the embedded runtime answered, and stderr said so in exactly one line.
    assert completed.stderr.splitlines() == [f"mistral-bedrock: {FALLBACK}"]


def test_basic_json_is_one_document_without_decoration(cli_runtime: Runtime) -> None:
    completed = ok(run_cli("basic", "Bonjour !", "--max-tokens", "50", "--json", "--endpoint-url", cli_runtime.url))
    document = json.loads(completed.stdout)  # the whole of stdout is one JSON document
    assert document["backend"] == "endpoint"
    assert document["model_id"] == "mistral.mistral-7b-instruct-v0:2"
    assert document["request"] == {"prompt": "<s>[INST] Bonjour ! [/INST]", "max_tokens": 50}
    assert document["text"] == f" {LEAD_IN} You said: Bonjour !"
    assert document["usage"]["output_tokens"] > 0 and document["cost_usd"] > 0
    assert "request payload:" not in completed.stdout and completed.stderr == ""
    [entry] = cli_runtime.requests()
    assert entry["operation"] == "InvokeModel" and entry["body"] == document["request"]


def test_basic_sends_the_chat_body_to_models_without_the_text_dialect(cli_runtime: Runtime) -> None:
    completed = invoke("basic", "Hi", "-m", "mistral-large-3", "--json", "--endpoint-url", cli_runtime.url)
    assert completed.exit_code == 0, completed.output
    document = json.loads(completed.stdout)
    assert document["request"]["messages"] == [{"role": "user", "content": "Hi"}]
    assert document["text"] == f"{LEAD_IN} You said: Hi"
