"""``batch build`` checks what it writes as ``batch validate`` would, through the real entry point: a record Bedrock
would refuse stops the build with Bedrock's message, and a refused build leaves no file behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.cli_support import run_cli

MODEL = "mistral.ministral-3-8b-instruct"


def _prompts(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--temperature", "7"), "#/temperature: 7.0 is not less or equal to 1.0"),
        (("--max-tokens", "0"), "#/max_tokens: 0 is not greater or equal to 1"),
        (("--max-tokens", "100000"), "#/max_tokens: 100000 is not less or equal to 8192"),
    ],
)
def test_a_value_bedrock_refuses_stops_the_build_and_writes_nothing(
    tmp_path: Path, flags: tuple[str, ...], message: str
) -> None:
    prompts = _prompts(tmp_path / "prompts.txt", "hello", "world")
    refused = run_cli("batch", "build", str(prompts), "-m", MODEL, *flags)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"{prompts}: conversation 1: the record's body would be refused: " in refused.stderr
    assert f"Malformed input request: {message}" in refused.stderr
    assert "nothing was written" in refused.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["prompts.txt"]


def test_no_conversations_a_name_bedrock_cannot_read_and_an_unwritable_out_are_refused(tmp_path: Path) -> None:
    empty = _prompts(tmp_path / "empty.txt")
    refused = run_cli("batch", "build", str(empty), "-m", MODEL)
    assert refused.returncode == 2 and f"no conversations in {empty}" in refused.stderr
    prompts = _prompts(tmp_path / "prompts.txt", "hello")
    named = run_cli("batch", "build", str(prompts), "-m", MODEL, "--out", str(tmp_path / "x.txt"))
    assert named.returncode == 2 and "a batch input's name must end in .jsonl" in named.stderr
    unwritable = run_cli("batch", "build", str(prompts), "-m", MODEL, "--out", "/proc/zz.jsonl")
    assert unwritable.returncode == 2 and "Traceback" not in unwritable.stderr
    assert "cannot write /proc/zz.jsonl" in unwritable.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["empty.txt", "prompts.txt"]
