"""Every CLI command puts a Bedrock model id (or inference profile) on the wire, never one of its aliases."""

from __future__ import annotations

import pytest

from mistral_bedrock.catalog import resolve
from tests.cli.cli_support import Runtime, ok, run_cli

COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "basic": (("basic",), ""),
    "chat": (("chat",), "Hi\nAnd again\n"),
    "chat-stream-model": (("chat", "--stream", "--model", "mistral-large"), "Hi\n"),
    "chat-streaming": (("chat-streaming",), "Hi\n"),
    "tools-chat": (("tools", "What is the top song on WZPZ?", "--tool-choice", "any"), ""),
    "tools-converse": (("tools", "What is the top song on WZPZ?", "--api", "converse", "--tool-choice", "any"), ""),
    "converse": (("converse", "Hi"), ""),
    "converse-stream-pixtral": (("converse", "Hi", "--stream", "--model", "pixtral-large"), ""),
    "demo": (("demo",), ""),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_commands_send_bedrock_identifiers(command: str, cli_runtime: Runtime) -> None:
    args, stdin = COMMANDS[command]
    ok(run_cli(*args, "--endpoint-url", cli_runtime.url, stdin=stdin))
    entries = cli_runtime.requests()
    assert entries, "the command sent nothing"
    for entry in entries:
        assert resolve(entry["model"]).identifier == entry["model"]  # what Bedrock accepts, as sent
        assert entry["status"] == 200, entry


def test_the_footer_names_the_identifier_that_answered(cli_runtime: Runtime) -> None:
    completed = ok(run_cli("converse", "Hi", "--model", "pixtral-large", "--endpoint-url", cli_runtime.url))
    assert "us.mistral.pixtral-large-2502-v1:0" in completed.stdout + completed.stderr


def test_a_region_that_does_not_serve_the_alias_fails_before_any_request(cli_runtime: Runtime) -> None:
    completed = run_cli(
        "converse", "Hi", "--model", "mistral-large-2407", "--region", "us-east-1", "--endpoint-url", cli_runtime.url
    )
    assert completed.returncode != 0
    assert "not served in us-east-1" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert cli_runtime.requests() == []
