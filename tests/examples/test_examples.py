"""The example programs, run as a user runs them: ``python examples/X.py --local``, output checked.

Each runs in a subprocess with no ``AWS_*`` variables, so it starts its own embedded runtime and answers with the
built-in engine, whose answers are deterministic (`` (turn N)`` from the second user turn on).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TIMEOUT = 60  # seconds per program: interpreter start, runtime start, a few requests

LEAD_IN = "I am the built-in engine of mistral-bedrock."


def clean_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def run_example(
    name: str, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
        env=env if env is not None else clean_env(),
        check=False,
    )
    assert completed.returncode == 0, f"{name} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed


def tagged(output: str, tag: str) -> list[str]:
    """The rest of every line (or line part, after a prompt) that holds ``[Tag]: ``."""
    marker = f"[{tag}]: "
    return [line.split(marker, 1)[1] for line in output.splitlines() if marker in line]


def section(lines: list[str], title: str) -> str:
    return lines[lines.index(title) + 1]


# -- basic ---------------------------------------------------------------------------------------------
def test_basic_prints_request_and_response_payloads_and_the_answer() -> None:
    out = run_example("basic.py", "--local").stdout
    assert '"prompt": "<s>[INST] Hello, what\'s your name? [/INST]"' in out
    lines = out.splitlines()
    assert json.loads(section(lines, "request payload:")) == {"prompt": "<s>[INST] Hello, what's your name? [/INST]"}
    response = json.loads(section(lines, "response payload:"))
    assert response["outputs"][0]["stop_reason"] == "stop"
    assert response["outputs"][0]["text"].startswith(" " + LEAD_IN)
    assert section(lines, "response string:") == response["outputs"][0]["text"].strip()
    assert "You said: Hello, what's your name?" in section(lines, "response string:")


def test_examples_fall_back_to_the_local_runtime_when_aws_is_not_configured() -> None:
    completed = run_example("basic.py")
    assert "embedded local runtime" in completed.stderr
    assert "response string:" in completed.stdout


def test_examples_use_the_configured_endpoint_when_there_is_one() -> None:
    from mistral_bedrock.runtime import ServerThread

    with ServerThread() as server:
        env = clean_env(
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=server.url,
            AWS_ACCESS_KEY_ID="example",
            AWS_SECRET_ACCESS_KEY="example",
            AWS_REGION="us-east-1",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
        )
        completed = run_example("basic.py", env=env)
    assert "embedded local runtime" not in completed.stderr
    assert LEAD_IN in completed.stdout


# -- chat ----------------------------------------------------------------------------------------------
def test_chat_keeps_the_history_across_turns() -> None:
    completed = run_example("chat.py", "--local", stdin="Hi!\nWhat did I just say?\n")
    assert completed.stdout.count("Enter your message: ") == 3  # two turns, then end of input
    answers = tagged(completed.stdout, "Assistant")
    assert answers == [f"{LEAD_IN} You said: Hi!", f"{LEAD_IN} You said: What did I just say? (turn 2)"]
    assert "[Prompt]" not in completed.stdout


def test_chat_verbose_shows_each_exact_prompt() -> None:
    completed = run_example("chat.py", "--verbose", "--local", stdin="Hi!\nWhat did I just say?\n")
    prompts = tagged(completed.stdout, "Prompt")
    answers = tagged(completed.stdout, "Assistant")
    assert len(prompts) == len(answers) == 2
    assert prompts[0] == "<s>[INST] Hi! [/INST]"
    assert prompts[1].startswith(prompts[0])
    assert f"{answers[0]}</s>" in prompts[1]
    assert prompts[1].endswith("[INST] What did I just say? [/INST]")
    assert prompts[1].count("<s>") == 1


def test_chat_ends_quietly_on_empty_input() -> None:
    completed = run_example("chat.py", "--local", stdin="")
    assert tagged(completed.stdout, "Assistant") == []


# -- streaming chat ------------------------------------------------------------------------------------
def test_chat_streaming_prints_each_answer_and_keeps_the_history() -> None:
    completed = run_example("chat_streaming.py", "--local", stdin="Hi!\n\nAnd again?\n")
    answers = tagged(completed.stdout, "Assistant")
    assert answers == [f"{LEAD_IN} You said: Hi!", f"{LEAD_IN} You said: And again? (turn 2)"]


# -- tools ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("api", ["chat", "converse"])
def test_tools_shows_the_call_its_result_and_the_answer(api: str) -> None:
    out = run_example("tools.py", "--api", api, "--local").stdout
    calls = tagged(out, "Tool call")
    assert len(calls) == 1
    name, rest = calls[0].split(" ", 1)
    assert name == "top_song"
    assert json.loads(rest.split(" (id ", 1)[0]) == {"sign": "WZPZ"}
    assert [json.loads(r) for r in tagged(out, "Tool result")] == [
        {"song": "Elemental Hotel", "artist": "8 Storey Hike"}
    ]
    answer = tagged(out, "Assistant")
    assert len(answer) == 1
    assert "Elemental Hotel" in answer[0]
    assert "8 Storey Hike" in answer[0]


@pytest.mark.parametrize("api", ["chat", "converse"])
def test_tools_with_tool_choice_none_answers_in_text(api: str) -> None:
    out = run_example("tools.py", "--api", api, "--tool-choice", "none", "--local").stdout
    assert tagged(out, "Tool call") == []
    assert tagged(out, "Assistant") == [f"{LEAD_IN} You said: What is the most popular song on WZPZ?"]


def test_tools_with_tool_choice_auto_calls_a_tool_the_message_names() -> None:
    out = run_example(
        "tools.py", "--tool-choice", "auto", "--message", "What is the top song on WZPZ?", "--verbose", "--local"
    ).stdout
    assert tagged(out, "Tool call")[0].startswith('top_song {"sign": "WZPZ"}')
    requests = [json.loads(body) for body in tagged(out, "Request body")]
    assert [r["tool_choice"] for r in requests] == ["auto", "auto"]
    assert requests[0]["tools"][0]["function"]["name"] == "top_song"
    assert requests[1]["messages"][-1]["role"] == "tool"
    assert "Elemental Hotel" in tagged(out, "Assistant")[0]
