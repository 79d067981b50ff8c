"""Real models from the command line: ``--engine`` on the examples, ``serve --model ID=SOURCE``, ``bench engine``."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

from mistral_bedrock.engines import build_engine, close_engine
from mistral_bedrock.engines.local import LocalEngine
from mistral_bedrock.runtime import RuntimeConfig, ServerThread
from tests.cli.cli_support import LEAD_IN, run_cli
from tests.interop.interop_support import make_boto3, start_serve

V1_MODEL = "mistral.mistral-7b-instruct-v0:2"
V3_MODEL = "mistral.mistral-large-2407-v1:0"


def test_basic_answers_with_a_real_model(tiny_gguf_v1: Path) -> None:
    done = run_cli("basic", "--engine", f"llamacpp:{tiny_gguf_v1}", "--json", "--max-tokens", "8")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["backend"] == "local"
    assert LEAD_IN not in document["text"] and document["text"]
    assert document["usage"]["output_tokens"] <= 8


def test_chat_runs_the_classic_prompt_on_a_real_model(tiny_gguf_v1: Path) -> None:
    done = run_cli(
        "chat", "--engine", f"llamacpp:{tiny_gguf_v1}", "--model", "mistral-7b", "--max-tokens", "4", stdin="Hi\n"
    )
    assert done.returncode == 0, done.stderr
    assert LEAD_IN not in done.stdout


def test_an_engine_that_does_not_load_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_cli("basic", "--engine", f"llamacpp:{tmp_path / 'missing.gguf'}")
    assert done.returncode == 2
    assert "no such GGUF model file" in done.stderr and "Traceback" not in done.stderr


def test_engine_and_endpoint_url_exclude_each_other() -> None:
    done = run_cli("basic", "--engine", "builtin", "--endpoint-url", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert "--engine" in done.stderr


def test_serve_routes_a_bedrock_id_to_a_real_model_and_the_rest_to_the_engine(tiny_gguf_v1: Path) -> None:
    server = start_serve("--model", f"{V1_MODEL}=llamacpp:{tiny_gguf_v1}")
    try:
        with closing(make_boto3(server.url)) as client:
            body = json.dumps({"prompt": "<s>[INST] Hi [/INST]", "max_tokens": 40, "temperature": 0})
            routed = json.loads(client.invoke_model(modelId=V1_MODEL, body=body)["body"].read())
            other = json.loads(
                client.invoke_model(modelId="mistral.mixtral-8x7b-instruct-v0:1", body=body)["body"].read()
            )
    finally:
        server.stop_cleanly()
    assert LEAD_IN not in routed["outputs"][0]["text"]
    assert LEAD_IN in other["outputs"][0]["text"]


def test_serve_refuses_a_model_whose_vocabulary_is_not_the_ids(tiny_gguf_v1: Path) -> None:
    done = run_cli("serve", "--model", f"{V3_MODEL}=llamacpp:{tiny_gguf_v1}")  # refused before it binds
    assert done.returncode == 2
    assert "cannot answer as mistral.mistral-large-2407-v1:0 (tokenizer v3, 32,768 tokens)" in done.stderr
    assert "32,000 tokens" in done.stderr


def test_a_runtime_closes_the_models_it_loaded(tiny_gguf_v1: Path) -> None:
    server = ServerThread(config=RuntimeConfig(engine=f"llamacpp:{tiny_gguf_v1}")).start()
    engine = server.app.state.engine  # type: ignore[attr-defined]
    assert isinstance(engine, LocalEngine)
    server.stop()
    assert engine.backend.closed  # type: ignore[attr-defined]


def test_routes_and_fallback_are_all_closed(tiny_gguf_v1: Path, tiny_gguf_v3: Path) -> None:
    routed = build_engine(f"llamacpp:{tiny_gguf_v3}", [f"{V1_MODEL}=llamacpp:{tiny_gguf_v1}"])
    engines = [*routed.routes.values(), routed.fallback]  # type: ignore[attr-defined]
    close_engine(routed)
    assert all(engine.backend.closed for engine in engines)


def test_bench_engine_reports_both_paths_and_identical_greedy_answers(tiny_gguf_v1: Path) -> None:
    done = run_cli("bench", "engine", f"llamacpp:{tiny_gguf_v1}", "--tokens", "8", "--streams", "2", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [row["streams"] for row in report] == [1, 2]
    for row in report:
        assert row["identical"] is True
        assert row["direct"]["tokens"] == row["runtime"]["tokens"] > 0
        assert row["ratio"] > 0


def test_serve_refuses_an_unreachable_model_server_in_one_line() -> None:
    done = run_cli("serve", "--model", f"{V1_MODEL}=upstream:http://127.0.0.1:1#llama-server")
    assert done.returncode == 2
    assert "cannot be reached" in done.stderr and "Traceback" not in done.stderr


def test_serve_refuses_an_upstream_port_out_of_range() -> None:
    done = run_cli("serve", "--model", f"{V1_MODEL}=upstream:http://127.0.0.1:99999")
    assert done.returncode == 2
    assert "the port must be a number from 1 to 65535" in done.stderr


def test_bench_engine_refuses_an_unknown_model_id_in_one_line(tiny_gguf_v1: Path) -> None:
    done = run_cli("bench", "engine", f"llamacpp:{tiny_gguf_v1}", "--model-id", "bogus")
    assert done.returncode == 2
    assert "The provided model identifier is invalid." in done.stderr and "Traceback" not in done.stderr


def test_bench_engine_refuses_a_text_only_upstream() -> None:
    done = run_cli("bench", "engine", "upstream:http://127.0.0.1:1#ollama=mistral")
    assert done.returncode == 2
    assert "takes text, not token ids" in done.stderr
