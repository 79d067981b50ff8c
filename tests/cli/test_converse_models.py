"""``converse`` (one Converse or ConverseStream call) and ``models`` (the catalog)."""

from __future__ import annotations

import json

import pytest

from mistral_bedrock.catalog import MODELS
from tests.cli.cli_support import LEAD_IN, Runtime, invoke


def test_converse_sends_message_system_and_parameters(cli_runtime: Runtime) -> None:
    args = ("converse", "Hi there", "--system", "Be brief.", "--max-tokens", "64", "--top-k", "20")
    completed = invoke(*args, "--endpoint-url", cli_runtime.url)
    assert completed.exit_code == 0, completed.output
    assert completed.stdout.splitlines()[0] == f"{LEAD_IN} You said: Hi there"
    [entry] = cli_runtime.requests()
    assert entry["operation"] == "Converse" and entry["model_id"] == "mistral.mistral-large-2402-v1:0"
    assert entry["body"]["system"] == [{"text": "Be brief."}]
    assert entry["body"]["messages"] == [{"role": "user", "content": [{"text": "Hi there"}]}]
    assert entry["body"]["inferenceConfig"] == {"maxTokens": 64}
    assert entry["body"]["additionalModelRequestFields"] == {"top_k": 20}


def test_converse_stream_json(cli_runtime: Runtime) -> None:
    result = invoke("converse", "Stream me", "--stream", "--json", "--endpoint-url", cli_runtime.url)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["text"] == f"{LEAD_IN} You said: Stream me"
    assert document["dialect"] == "converse" and document["time_to_first_token_ms"] is not None
    assert document["usage"]["input_tokens"] > 0
    assert [entry["operation"] for entry in cli_runtime.requests()] == ["ConverseStream"]


def test_models_table_lists_every_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # The width a pipe gets when COLUMNS is unset (a test runner's worker may set it narrower).
    monkeypatch.delenv("COLUMNS", raising=False)
    result = invoke("models")
    assert result.exit_code == 0
    for spec in MODELS:
        assert spec.model_id in result.stdout
        assert spec.aliases[0] in result.stdout
    line = next(line for line in result.stdout.splitlines() if "mistral.mistral-7b-instruct-v0:2" in line)
    for cell in ("mistral-7b", "text", "v1", "32,000", "8,192", "0.15", "0.20"):
        assert cell in line
    assert "\x1b[" not in result.stdout  # not a terminal: no colours


def test_models_json() -> None:
    result = invoke("models", "--json")
    assert result.exit_code == 0
    models = json.loads(result.stdout)
    assert [m["model_id"] for m in models] == [spec.model_id for spec in MODELS]
    large = next(m for m in models if m["model_id"] == "mistral.mistral-large-2407-v1:0")
    assert large["aliases"] == ["mistral-large-2407", "mistral-large-2"]
    assert large["dialects"] == ["chat", "text"] and large["tokenizer"] == "v3"
    assert large["context_window"] == 128_000 and large["max_output"] == 8_192
    assert large["price_input_per_1k"] == 0.002 and large["converse"]["tools"] is True
    assert large["regions"] == ["us-west-2"] and large["profiles"] == {}
    assert large["evidence"]["regions"].startswith("[D~]")
    pixtral = next(m for m in models if m["model_id"] == "mistral.pixtral-large-2502-v1:0")
    assert pixtral["requires_profile"] is True and pixtral["regions"] == []
    assert sorted(pixtral["profiles"]) == ["eu", "us"]
    assert "us-east-1" in pixtral["profiles"]["us"]
