"""Failures: one readable line with the AWS error code, a non-zero exit status, never a traceback."""

from __future__ import annotations

import pytest

from tests.cli.cli_support import Runtime, invoke, run_cli


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    [line] = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    return line


def test_throttling_until_retries_are_exhausted(throttling_cli_runtime: Runtime) -> None:
    throttling_cli_runtime.clear()
    completed = run_cli("basic", "--endpoint-url", throttling_cli_runtime.url, "--max-attempts", "2")
    assert completed.returncode == 1
    assert one_error_line(completed.stderr).startswith("Error: ThrottlingException: ")
    assert completed.stderr.count("\n") == 1 and completed.stdout == ""
    assert [entry["error_code"] for entry in throttling_cli_runtime.requests()] == ["ThrottlingException"] * 2


def test_throttling_in_the_repl_fails_the_turn_not_the_session(throttling_cli_runtime: Runtime) -> None:
    completed = invoke(
        "chat", "--stream", "--endpoint-url", throttling_cli_runtime.url, "--max-attempts", "1", stdin="a\nb\n"
    )
    assert completed.exit_code == 1  # piped input with failed turns
    errors = [line for line in completed.stderr.splitlines() if line.startswith("Error: ThrottlingException: ")]
    assert len(errors) == 2 and "Traceback" not in completed.stderr


@pytest.mark.parametrize("command", ["basic", "chat", "chat-streaming", "converse", "tools"])
def test_unknown_model(cli_runtime: Runtime, command: str) -> None:
    result = invoke(command, "--model", "mistral.no-such-model-v9:9", "--endpoint-url", cli_runtime.url, stdin="hi\n")
    assert result.exit_code == 1
    assert one_error_line(result.stderr) == "Error: ValidationException: The provided model identifier is invalid."


def test_unknown_model_through_the_entry_point() -> None:
    completed = run_cli("basic", "--model", "nope")
    assert completed.returncode != 0
    assert "ValidationException" in one_error_line(completed.stderr)


def test_an_invalid_parameter_gets_bedrocks_message(cli_runtime: Runtime) -> None:
    result = invoke("basic", "--temperature", "7", "--endpoint-url", cli_runtime.url)
    assert result.exit_code == 1
    assert one_error_line(result.stderr).startswith("Error: ValidationException: ")
    assert cli_runtime.requests() == []  # refused before any I/O


def test_unreachable_endpoint() -> None:
    result = invoke("converse", "--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1")
    assert result.exit_code == 1
    assert one_error_line(result.stderr).startswith("Error: TransportError: ")


def test_local_and_endpoint_exclude_each_other() -> None:
    result = invoke("basic", "--local", "--endpoint-url", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "exclude each other" in result.stderr
