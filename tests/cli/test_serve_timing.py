"""``serve``'s timing and strictness options: their defaults, and what reaches the runtime's settings."""

from __future__ import annotations

from typing import Any

import pytest

import mistral_bedrock.runtime
from mistral_bedrock.cli import serve as serve_command
from mistral_bedrock.runtime import RuntimeConfig
from tests.cli.cli_support import invoke


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[RuntimeConfig]:
    """Instead of serving, record the settings ``serve`` would have served with."""
    configs: list[RuntimeConfig] = []

    def record(config: RuntimeConfig, **_: Any) -> None:
        configs.append(config)

    monkeypatch.setattr(mistral_bedrock.runtime, "serve", record)
    monkeypatch.setattr(mistral_bedrock.runtime.server, "check_port_free", lambda host, port: None)
    return configs


def test_the_cli_default_is_the_runtime_default() -> None:
    # Repeated in the CLI so that --help does not import the runtime: the two must not drift apart.
    assert RuntimeConfig().min_first_byte_ms == serve_command.MIN_FIRST_BYTE_MS


def test_defaults_keep_the_floor_and_do_not_pace(served: list[RuntimeConfig]) -> None:
    result = invoke("serve", "--port", "8787")
    assert result.exit_code == 0, result.output
    assert (served[0].min_first_byte_ms, served[0].pace) == (RuntimeConfig().min_first_byte_ms, "off")


def test_options_reach_the_settings(served: list[RuntimeConfig]) -> None:
    result = invoke("serve", "--port", "8787", "--min-first-byte-ms", "0", "--pace", "bedrock")
    assert result.exit_code == 0, result.output
    assert (served[0].min_first_byte_ms, served[0].pace) == (0.0, "bedrock")


@pytest.mark.parametrize("args", [("--pace", "fast"), ("--min-first-byte-ms", "-1")])
def test_bad_values_are_refused(served: list[RuntimeConfig], args: tuple[str, str]) -> None:
    result = invoke("serve", *args)
    assert result.exit_code == 2
    assert served == []


def test_strictness_defaults_and_options_reach_the_settings(served: list[RuntimeConfig]) -> None:
    assert invoke("serve", "--port", "8787").exit_code == 0
    assert (served[0].check_region, served[0].window_policy) == (True, "refuse")
    result = invoke("serve", "--port", "8787", "--no-region-check", "--window-policy", "cap")
    assert result.exit_code == 0, result.output
    assert (served[1].check_region, served[1].window_policy) == (False, "cap")
    assert invoke("serve", "--window-policy", "ignore").exit_code == 2
    assert invoke("serve", "--port", "8787", "--memo-bytes", "0").exit_code == 0
    assert served[-1].memo_bytes == 0
