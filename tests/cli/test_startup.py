"""The command line stays light: fast ``--help``, and ``import mistral_bedrock`` pulls in no CLI or server code."""

from __future__ import annotations

import subprocess
import sys

from mistral_bedrock.cli import COMMANDS
from tests.cli.cli_support import EXE, clean_env, ok, run_cli

HEAVY = ("click", "rich", "starlette", "uvicorn", "httpx", "botocore", "mistral_common")


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), timeout=60, check=True
    )
    return {name.split(".")[0] for name in completed.stdout.split()}


def test_help_lists_every_command() -> None:
    out = ok(run_cli("--help")).stdout
    for name in COMMANDS:
        assert name in out
    assert set(COMMANDS) >= {
        "basic",
        "chat",
        "chat-streaming",
        "tools",
        "converse",
        "models",
        "tokens",
        "serve",
        "demo",
    }


def test_import_mistral_bedrock_pulls_in_no_cli_or_server() -> None:
    loaded = imported_after("import mistral_bedrock")
    assert not loaded & {"click", "rich", "starlette", "uvicorn"}


def test_the_group_and_command_modules_stay_light() -> None:
    modules = " ".join(f"mistral_bedrock.cli.{module}" for module, _ in COMMANDS.values() if module != "serve")
    loaded = imported_after(f"import importlib; [importlib.import_module(m) for m in {modules.split()!r}]")
    assert not loaded & {"rich", "starlette", "uvicorn", "httpx", "botocore"}


def test_every_command_has_help() -> None:
    for name in COMMANDS:
        completed = subprocess.run(
            [str(EXE), name, "--help"], capture_output=True, text=True, env=clean_env(), timeout=60
        )
        assert completed.returncode == 0, completed.stderr
        assert "Usage: mistral-bedrock " + name in completed.stdout
