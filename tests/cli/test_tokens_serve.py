"""The two commands that existed before the examples: ``tokens`` and ``serve``, still working alongside them."""

from __future__ import annotations

import json
import select
import signal
import socket
import subprocess

from tests.cli.cli_support import EXE, LEAD_IN, clean_env, invoke, ok, run_cli


def test_tokens_counts_a_text_body() -> None:
    body = json.dumps({"prompt": "<s>[INST] Hello [/INST]"})
    result = invoke("tokens", "--model", "mistral-7b", stdin=body)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["model"] == "mistral.mistral-7b-instruct-v0:2" and document["tokenizer"] == "v1"
    assert document["count"] == len(document["token_ids"]) and document["token_ids"][0] == 1  # BOS


def test_tokens_reports_a_bad_body_in_one_line() -> None:
    result = invoke("tokens", "--model", "mistral-7b", stdin="{")
    assert result.exit_code == 2 and result.stderr.startswith("Error: the request body is not valid JSON")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_then_basic_against_it() -> None:
    port = free_port()
    command = [str(EXE), "serve", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=clean_env()) as server:
        try:
            assert server.stdout is not None
            ready, _, _ = select.select([server.stdout], [], [], 60)
            assert ready, "serve announced nothing"
            url = f"http://127.0.0.1:{port}"
            assert server.stdout.readline().decode().strip() == f"mistral-bedrock runtime listening on {url}"
            completed = ok(run_cli("basic", "--json", "--endpoint-url", url))
            assert json.loads(completed.stdout)["text"] == f" {LEAD_IN} You said: Hello, what's your name?"
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
