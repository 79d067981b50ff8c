"""The AWS CLI against ``mistral-bedrock serve``: ``bedrock-runtime invoke-model`` writes Bedrock's raw body."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.interop.interop_support import aws_client_env

TEXT_MODEL = "mistral.mistral-7b-instruct-v0:2"
EXTRANEOUS_KEY = "Malformed input request: #: extraneous key [stop_sequences] is not permitted, please reformat your input and try again."


def find_aws() -> Path:
    """The venv's ``aws`` (the ``test`` extra installs awscli), else the first on PATH."""
    beside = Path(sys.executable).parent / "aws"
    if beside.exists():
        return beside
    found = shutil.which("aws")
    if found is None:
        pytest.fail(f"no AWS CLI: neither {beside} nor `aws` on PATH. Install the test extra: pip install -e '.[test]'")
    return Path(found)


@pytest.fixture(scope="module")
def aws() -> tuple[Path, int]:
    """The AWS CLI and its major version (v2 needs --cli-binary-format raw-in-base64-out for a raw --body)."""
    exe = find_aws()
    result = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=aws_client_env(), timeout=120)
    match = re.search(r"aws-cli/(\d+)\.", result.stdout + result.stderr)
    assert result.returncode == 0 and match, f"`{exe} --version` said: {result.stdout!r} {result.stderr!r}"
    return exe, int(match.group(1))


def invoke_model(aws: tuple[Path, int], url: str, body: str, outfile: Path) -> subprocess.CompletedProcess[str]:
    exe, major = aws
    binary_format = ["--cli-binary-format", "raw-in-base64-out"] if major >= 2 else []
    command = [
        str(exe),
        "bedrock-runtime",
        "invoke-model",
        "--model-id",
        TEXT_MODEL,
        "--body",
        body,
        *binary_format,
        "--content-type",
        "application/json",
        "--accept",
        "application/json",
        "--endpoint-url",
        url,
        "--cli-connect-timeout",
        "5",
        "--cli-read-timeout",
        "20",
        str(outfile),
    ]
    return subprocess.run(
        command, capture_output=True, text=True, env=aws_client_env(home=outfile.parent), timeout=120, check=False
    )


def test_invoke_model_writes_the_raw_body(aws: tuple[Path, int], runtime_url: str, tmp_path: Path) -> None:
    outfile = tmp_path / "out.json"
    result = invoke_model(aws, runtime_url, '{"prompt":"<s>[INST] Hello [/INST]"}', outfile)
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert json.loads(result.stdout) == {"contentType": "application/json"}
    body = json.loads(outfile.read_bytes())
    assert set(body) == {"outputs"}
    assert len(body["outputs"]) == 1
    assert body["outputs"][0]["stop_reason"] == "stop"
    assert isinstance(body["outputs"][0]["text"], str) and body["outputs"][0]["text"].strip()


def test_stop_sequences_is_a_validation_exception(aws: tuple[Path, int], runtime_url: str, tmp_path: Path) -> None:
    outfile = tmp_path / "out.json"
    result = invoke_model(aws, runtime_url, '{"prompt":"x","stop_sequences":["a"]}', outfile)
    assert result.returncode != 0
    assert "ValidationException" in result.stderr, result.stderr
    assert EXTRANEOUS_KEY in result.stderr, result.stderr
    assert "InvokeModel operation" in result.stderr
    assert not outfile.exists()
