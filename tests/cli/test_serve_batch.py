"""``serve``'s batch options: they reach the runtime's settings, and a bad one is one line and exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mistral_bedrock.runtime
from mistral_bedrock.runtime import RuntimeConfig
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


def test_defaults_are_the_runtimes(served: list[RuntimeConfig]) -> None:
    result = invoke("serve", "--port", "8787")
    assert result.exit_code == 0, result.output
    config, default = served[0], RuntimeConfig()
    assert (config.batch, config.batch_store, config.batch_timing, config.batch_order) == (
        default.batch,
        default.batch_store,
        default.batch_timing,
        default.batch_order,
    )
    assert config.batch_allow_unverified is default.batch_allow_unverified is False


def test_options_reach_the_settings(served: list[RuntimeConfig], tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = invoke(
        "serve",
        "--port",
        "8787",
        "--batch-store",
        str(store),
        "--batch-timing",
        "1,2,3",
        "--batch-order",
        "input",
        "--batch-allow-unverified",
    )
    assert result.exit_code == 0, result.output
    config = served[0]
    assert (config.batch_store, config.batch_timing, config.batch_order) == (str(store), "1,2,3", "input")
    assert config.batch_allow_unverified is True
    assert store.is_dir()  # made before serving, so a bad one is refused at once


def test_an_s3_endpoint_is_the_store(served: list[RuntimeConfig]) -> None:
    result = invoke("serve", "--port", "8787", "--s3-endpoint-url", "http://127.0.0.1:5000")
    assert result.exit_code == 0, result.output
    assert served[0].batch_store == "http://127.0.0.1:5000"


def test_several_workers_turn_batch_off(served: list[RuntimeConfig]) -> None:
    result = invoke("serve", "--port", "8787", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert served[0].batch is False


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--batch-timing", "slow"], "batch timing must be one of"),
        (["--batch-timing", "1,-2,3"], "batch timing must be one of"),
        (["--batch-order", "random"], "Invalid value for '--batch-order'"),
        (["--s3-endpoint-url", "ftp://host"], "must be an http:// or https:// URL"),
        (["--s3-endpoint-url", "localhost:9000"], "must be an http:// or https:// URL"),
        (["--batch-store", "/tmp/x", "--s3-endpoint-url", "http://h"], "give one"),
        (["--workers", "2", "--batch-timing", "fast"], "need --workers 1"),
    ],
)
def test_a_bad_batch_option_is_one_line_and_exit_2(
    served: list[RuntimeConfig], options: list[str], fragment: str
) -> None:
    result = invoke("serve", "--port", "8787", *options)
    assert result.exit_code == 2, result.output
    assert served == []
    assert fragment in result.output and "Traceback" not in result.output


def test_an_unusable_store_directory_is_refused(served: list[RuntimeConfig], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = invoke("serve", "--port", "8787", "--batch-store", str(blocker / "store"))
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith("Error: ")
