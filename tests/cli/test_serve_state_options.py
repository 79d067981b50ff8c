"""``serve``'s state options: their defaults match the runtime's, and they reach its settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mistral_bedrock.runtime
from mistral_bedrock.cli import serve as serve_command
from mistral_bedrock.runtime import RuntimeConfig
from mistral_bedrock.runtime.store import DATABASE_NAME
from tests.cli.cli_support import invoke


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[RuntimeConfig]:
    """Instead of serving, record the settings ``serve`` would have served with."""
    configs: list[RuntimeConfig] = []

    def record(config: RuntimeConfig, **_: Any) -> int:
        configs.append(config)
        return 0

    monkeypatch.setattr(mistral_bedrock.runtime, "serve", record)
    monkeypatch.setattr(mistral_bedrock.runtime.server, "check_port_free", lambda host, port: None)
    return configs


def test_the_cli_default_is_the_runtime_default() -> None:
    # Repeated in the CLI so that --help does not import the runtime: the two must not drift apart.
    assert RuntimeConfig().journal_bytes == serve_command.JOURNAL_BYTES
    assert RuntimeConfig().memo_bytes == serve_command.MEMO_BYTES


def test_defaults_keep_no_state_directory(served: list[RuntimeConfig]) -> None:
    result = invoke("serve", "--port", "8787")
    assert result.exit_code == 0, result.output
    assert (served[0].state_dir, served[0].journal_bytes) == (None, RuntimeConfig().journal_bytes)


def test_options_reach_the_settings(served: list[RuntimeConfig], tmp_path: Path) -> None:
    state = tmp_path / "new" / "state"
    result = invoke("serve", "--port", "8787", "--state-dir", str(state), "--journal-bytes", "4096")
    assert result.exit_code == 0, result.output
    assert (served[0].state_dir, served[0].journal_bytes) == (str(state), 4096)
    assert (state / DATABASE_NAME).exists()  # checked, and made, before serving


def test_an_unusable_state_directory_is_one_line_and_exit_2(served: list[RuntimeConfig], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = invoke("serve", "--port", "8787", "--state-dir", str(blocker / "state"))
    assert result.exit_code == 2
    assert served == []
    (line,) = result.output.splitlines()
    assert line.startswith("Error: ") and "Traceback" not in result.output
