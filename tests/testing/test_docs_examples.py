"""docs/TESTING.md's examples, run as the small pytest project they make: offline, then recorded against a
strict-auth stand-in for Bedrock, then replayed with no credentials and the stand-in gone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mistral_bedrock.runtime import RuntimeConfig, ServerThread

DOC = Path(__file__).resolve().parents[2] / "docs" / "TESTING.md"
KEY_ID, SECRET = "AKIAZZDOCSEXAMPLE001", "docsSecretKey/0123456789abcdefghijklmnop"


def examples() -> dict[str, str]:
    """The doc's Python blocks that open with ``# NAME.py``, by file name."""
    blocks = re.findall(r"```python\n# (\w+\.py)\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return dict(blocks)


def test_the_doc_has_its_examples() -> None:
    assert set(examples()) >= {
        "app.py",
        "test_summary.py",
        "test_unmodified.py",
        "test_scripted.py",
        "test_recorded.py",
    }


def test_the_examples_pass_offline_then_record_then_replay(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, body in examples().items():
        pytester.path.joinpath(name).write_text(body, encoding="utf-8")
    offline = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--deselect", "test_recorded.py")
    offline.assert_outcomes(passed=4, deselected=1)

    # Recording: the stand-in takes only the "real" key; the plugin reads it from the environment, once.
    config = RuntimeConfig(auth=f"strict:{KEY_ID}:{SECRET}", min_first_byte_ms=0)
    with ServerThread(config=config) as upstream:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        recorded = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "test_recorded.py", "--bedrock-record=once",
            f"--bedrock-upstream-url={upstream.url}", "--bedrock-region=us-east-1",
        )  # fmt: skip
        recorded.assert_outcomes(passed=1)
        assert len(upstream.app.state.journal.entries()) == 1
    cassette = pytester.path / "cassettes" / "test_recorded" / "test_summary_against_recorded_bedrock"
    (interaction,) = cassette.iterdir()
    assert KEY_ID not in interaction.read_text() and SECRET not in interaction.read_text()

    # Replaying: no credentials, nothing listening upstream.
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=5)
