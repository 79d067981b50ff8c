"""The upstream engine against a REAL server: llama.cpp's ``llama-server``, built by ``scripts/build-llama-server``.

The same tiny GGUF answers in process through llama-cpp-python and over HTTP through llama-server: both are
llama.cpp, so the greedy ids must be the same, id for id, and so must the engines' answers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mistral_bedrock.catalog import lookup
from mistral_bedrock.conversation import Params
from mistral_bedrock.engines.local import GenerationSettings, LocalEngine
from mistral_bedrock.engines.local.llamacpp import LlamaCppBackend
from mistral_bedrock.engines.local.upstream import UpstreamBackend
from mistral_bedrock.prompt.input_tokens import render_input
from tests.engines.engines_support import chat, collect

ROOT = Path(__file__).resolve().parents[3]
V3_MODEL = "mistral.mistral-large-2407-v1:0"
GREEDY = GenerationSettings(max_tokens=24, temperature=0.0, stop_ids=frozenset({2}))


def _binary() -> Path:
    configured = os.environ.get("MISTRAL_BEDROCK_LLAMA_SERVER")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mistral-bedrock"
    found = [Path(configured)] if configured else sorted(cache.glob("llama-server-*/llama-server"))
    if not found or not found[-1].is_file():
        pytest.fail("llama-server is not built: run scripts/build-llama-server (scripts/test does it)")
    return found[-1]


@pytest.fixture(scope="module")
def llama_server(tiny_gguf_v3: Path) -> Iterator[str]:
    """A llama-server serving the tiny v3 GGUF on a free loopback port; its URL, once it listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(_binary()), "-m", str(tiny_gguf_v3), "--host", "127.0.0.1", "--port", str(port), "-t", "1", "-c", "2048"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    ready = threading.Event()
    lines: list[str] = []

    def watch() -> None:  # the server says when it listens; reading its log is the readiness signal
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "listening on http" in line or "server is listening" in line:
                ready.set()
        ready.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    if not ready.wait(timeout=60) or process.poll() is not None:
        process.kill()
        process.wait(timeout=30)
        process.stderr.close()
        pytest.fail("llama-server did not start:\n" + "".join(lines[-20:]))
    yield f"http://127.0.0.1:{port}#llama-server"
    process.terminate()
    process.wait(timeout=30)
    watcher.join(timeout=30)  # the log ends with the process
    process.stderr.close()


def test_llama_server_gives_the_ids_llama_cpp_gives_in_process(llama_server: str, tiny_gguf_v3: Path) -> None:
    ids = render_input(chat("Hi", model=V3_MODEL).messages, lookup(V3_MODEL)).token_ids
    upstream = UpstreamBackend(llama_server)
    local = LlamaCppBackend(str(tiny_gguf_v3), threads=1)
    try:
        assert list(upstream.generate(ids, GREEDY, threading.Event())) == list(
            local.generate(ids, GREEDY, threading.Event())
        )
    finally:
        upstream.close()
        local.close()


def test_the_upstream_engine_answers_as_the_in_process_engine(llama_server: str, tiny_gguf_v3: Path) -> None:
    request = chat("Tell me a story", model=V3_MODEL, params=Params(temperature=0.0, max_tokens=16))
    upstream, local = LocalEngine(UpstreamBackend(llama_server)), LocalEngine(LlamaCppBackend(str(tiny_gguf_v3)))
    try:
        assert collect(upstream, request) == collect(local, request)
    finally:
        upstream.close()
        local.close()


def test_the_servers_vocabulary_size_is_checked(llama_server: str) -> None:
    backend = UpstreamBackend(llama_server)
    try:
        assert backend.vocabulary().size == 32_768
    finally:
        backend.close()
