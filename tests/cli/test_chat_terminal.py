"""The chat REPL on a pseudo-terminal: Ctrl-C cancels a streaming answer, clears the prompt; Ctrl-D leaves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.cli_support import LEAD_IN, Runtime, Terminal, clean_env

LONG = "please answer with a long sentence that repeats all of these many words back to me"


@pytest.fixture
def slow(slow_cli_runtime: Runtime) -> Runtime:
    slow_cli_runtime.clear()
    return slow_cli_runtime


@pytest.fixture
def terminal(slow: Runtime) -> Iterator[Terminal]:
    term = Terminal("chat", "--stream", "--endpoint-url", slow.url, env=clean_env(TERM="dumb", NO_COLOR="1"))
    try:
        yield term
    finally:
        term.close()


def test_ctrl_c_cancels_the_streaming_answer_and_keeps_the_conversation_consistent(
    terminal: Terminal, slow: Runtime, tmp_path: Path
) -> None:
    terminal.expect("[User]: ")
    terminal.send(f"{LONG}\r")
    terminal.expect("[Assistant]: ")
    terminal.expect("built-in")  # the answer is streaming, 50 ms a token, with many tokens still to come
    terminal.send("\x03")
    terminal.expect("(answer cancelled; this turn is not in the history)")

    terminal.expect("[User]: ")
    terminal.send("short\r")
    answer = terminal.expect("out tokens")
    # Not "(turn 2)": the cancelled turn did not join the history.
    assert f"{LEAD_IN} You said: short\n" in answer.replace("\r", "")

    saved = tmp_path / "history.json"
    terminal.expect("[User]: ")
    terminal.send(f"/save {saved}\r")
    terminal.expect("(saved 2 messages")
    messages = json.loads(saved.read_text())["messages"]
    assert [m["content"] for m in messages] == ["short", f"{LEAD_IN} You said: short"]

    # Ctrl-C at the prompt drops the line. Enter follows it at once: CPython's readline notices a Ctrl-C that lands
    # while it handles a keystroke only when the line ends, and drops the line then; either way, nothing is sent.
    terminal.expect("[User]: ")
    terminal.send("typed but never sent")
    terminal.expect("typed but never sent")
    terminal.send("\x03")
    terminal.send("\r")
    terminal.send("/history\r")
    terminal.expect(f"[Assistant]: {LEAD_IN} You said: short")
    # Ctrl-D at the prompt leaves, with exit status 0.
    terminal.expect("[User]: ")
    terminal.send("\x04")
    assert terminal.wait() == 0

    cancelled, second = slow.requests()
    assert cancelled["body"]["prompt"] == f"<s>[INST] {LONG} [/INST]"
    assert second["body"]["prompt"] == "<s>[INST] short [/INST]"  # nothing of the cancelled turn
