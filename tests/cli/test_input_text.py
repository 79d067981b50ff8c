"""Input: the question piped on stdin, and input bytes that are not text refused in one line with exit status 2."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.cli.cli_support import EXE, LEAD_IN, Runtime, clean_env, invoke, ok, run_cli, run_cli_bytes

QUESTION = "What is the top song on WKRP?"


def asked(entry: dict[str, object]) -> str:
    """The user's question in a journal entry's body, whatever the dialect."""
    body = entry["body"]
    assert isinstance(body, dict)
    if "prompt" in body:
        return str(body["prompt"]).removeprefix("<s>[INST] ").removesuffix(" [/INST]")
    content = body["messages"][0]["content"]
    return str(content if isinstance(content, str) else content[0]["text"])


def one_usage_error(completed: subprocess.CompletedProcess[str]) -> str:
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    [line] = completed.stderr.splitlines()
    assert line.startswith("Error: ")
    return line


# -- the question on stdin ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["basic", "converse", "tools"])
def test_text_piped_on_stdin_is_the_question(cli_runtime: Runtime, command: str) -> None:
    result = invoke(command, "--json", "--endpoint-url", cli_runtime.url, stdin=f"  {QUESTION}\n")
    assert result.exit_code == 0, result.output
    first = cli_runtime.requests()[0]
    assert asked(first) == QUESTION  # stripped
    if command == "tools":  # the question reached the model: it asked top_song about the station it names
        assert json.loads(result.stdout)["calls"][0]["arguments"] == {"sign": "WKRP"}


def test_basic_reads_the_whole_of_stdin_through_the_entry_point(cli_runtime: Runtime) -> None:
    completed = ok(run_cli("basic", "--endpoint-url", cli_runtime.url, stdin="First line.\nSecond line.\n"))
    [entry] = cli_runtime.requests()
    assert asked(entry) == "First line.\nSecond line."
    assert f"{LEAD_IN} You said: First line." in completed.stdout


@pytest.mark.parametrize("command", ["basic", "converse", "tools"])
def test_message_wins_over_stdin(cli_runtime: Runtime, command: str) -> None:
    result = invoke(command, "Hi there", "--endpoint-url", cli_runtime.url, stdin=f"{QUESTION}\n")
    assert result.exit_code == 0, result.output
    assert asked(cli_runtime.requests()[0]) == "Hi there"


@pytest.mark.parametrize(
    ("command", "default"),
    [
        ("basic", "Hello, what's your name?"),
        ("converse", "Hello, what's your name?"),
        ("tools", "What is the top song on WZPZ?"),
    ],
)
def test_blank_stdin_leaves_the_examples_question(cli_runtime: Runtime, command: str, default: str) -> None:
    result = invoke(command, "--endpoint-url", cli_runtime.url, stdin=" \n\n")
    assert result.exit_code == 0, result.output
    assert asked(cli_runtime.requests()[0]) == default


# -- bytes that are not text ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["basic", "converse", "tools"])
def test_stdin_that_is_not_text_is_refused_before_anything_is_sent(cli_runtime: Runtime, command: str) -> None:
    completed = run_cli_bytes(command, "--endpoint-url", cli_runtime.url, stdin=b"caf\xe9 au lait\n")
    assert one_usage_error(completed) == "Error: stdin is not valid utf-8 text: b'caf\\xe9 au lait\\n'"
    assert completed.stdout == ""
    assert cli_runtime.requests() == []


@pytest.mark.parametrize("command", ["basic", "chat", "tools", "tokens"])
def test_an_argument_that_is_not_text_is_refused(command: str) -> None:
    completed = run_cli_bytes(command, "--model", "mistral-7b\udcff", stdin=b"")
    assert one_usage_error(completed) == "Error: an argument is not valid utf-8 text: b'mistral-7b\\xff'"


def test_a_piped_chat_line_that_is_not_text_ends_the_chat(cli_runtime: Runtime) -> None:
    completed = run_cli_bytes("chat", "--endpoint-url", cli_runtime.url, stdin=b"hello\nhi \xff there\nnever sent\n")
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stderr.splitlines() == ["Error: line 2 of stdin is not valid utf-8 text: b'hi \\xff there\\n'"]
    assert [asked(entry) for entry in cli_runtime.requests()] == ["hello"]  # the turn before it went; none after


@pytest.mark.parametrize("strict", [True, False], ids=["strict-stdin", "surrogateescape-stdin"])
def test_a_typed_line_that_is_not_text_is_refused_and_the_chat_goes_on(cli_runtime: Runtime, strict: bool) -> None:
    """On a terminal the line is dropped with one error line, and the next one is read (a person can retype it).

    stdout goes to a file, so ``input()`` reads stdin itself rather than through readline (which would drop the
    byte): stdin's decoding then either fails (PYTHONIOENCODING=utf-8) or escapes the byte (a UTF-8 locale).
    """
    env = clean_env(TERM="dumb", NO_COLOR="1")
    if not strict:
        del env["PYTHONIOENCODING"]
        env["LC_ALL"] = "C.UTF-8"
    master, slave = pty.openpty()
    try:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            chat = subprocess.Popen(
                [str(EXE), "chat", "--endpoint-url", cli_runtime.url], stdin=slave, stdout=out, stderr=err, env=env
            )
            os.close(slave)
            slave = -1
            os.write(master, b"caf\xe9\nhello\n/exit\n")  # a terminal hands over one line per read
            assert chat.wait(timeout=60) == 0
            err.seek(0)
            stderr = err.read().decode()
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    shown = "b'caf\\xe9\\n'" if strict else "b'caf\\xe9'"  # the escaped form has lost the newline to input()
    assert stderr.splitlines() == [f"Error: that line is not valid utf-8 text: {shown}"]
    assert [asked(entry) for entry in cli_runtime.requests()] == ["hello"]


@pytest.mark.parametrize(
    "body",
    [b'{"prompt":"caf\xe9"}', b'\xff\xfe{"prompt":"a"}', b'{"prompt":"\xed\xa0\x80"}'],
    ids=["latin-1", "broken-bom", "encoded-surrogate"],
)
def test_tokens_refuses_a_body_that_is_not_text(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "body.json"
    path.write_bytes(body)
    from_file = run_cli_bytes("tokens", "--model", "mistral-7b", str(path), stdin=b"")
    from_stdin = run_cli_bytes("tokens", "--model", "mistral-7b", stdin=body)
    for completed in (from_file, from_stdin):
        assert one_usage_error(completed).startswith("Error: the request body is not valid JSON: ")
        assert completed.stdout == ""
