"""``chat`` and ``chat-streaming`` through piped stdin: multi-turn history, /reset, /save, /load, --json."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.cli_support import LEAD_IN, Runtime, invoke, ok, run_cli


def assistant_lines(stdout: str) -> list[str]:
    return [line.split("[Assistant]: ", 1)[1] for line in stdout.splitlines() if "[Assistant]: " in line]


def prompts(cli_runtime: Runtime) -> list[str]:
    return [entry["body"]["prompt"] for entry in cli_runtime.requests()]


def test_chat_sends_the_whole_history_in_the_mixtral_prompt(cli_runtime: Runtime) -> None:
    stdin = "My name is Ada.\nWhat is my name?\nThanks!\n"
    completed = ok(run_cli("chat", "--verbose", "--endpoint-url", cli_runtime.url, stdin=stdin))
    first, second, third = prompts(cli_runtime)
    answer = f"{LEAD_IN} You said: My name is Ada."
    assert first == "<s>[INST] My name is Ada. [/INST]"
    # The second turn carries the first answer, closed with </s>, after the first turn; BOS only once.
    assert second == f"<s>[INST] My name is Ada. [/INST] {answer}</s>[INST] What is my name? [/INST]"
    assert third.startswith(second) and third.count("</s>") == 2 and third.count("<s>") == 1
    assert assistant_lines(completed.stdout) == [
        answer,
        f"{LEAD_IN} You said: What is my name? (turn 2)",
        f"{LEAD_IN} You said: Thanks! (turn 3)",
    ]
    # --verbose shows each request and response payload and the exact prompt.
    lines = completed.stdout.splitlines()
    assert lines.count("request payload:") == 3 and lines.count("response payload:") == 3
    assert second in lines[lines.index("prompt:", lines.index("prompt:") + 1) + 1]
    assert all(entry["model_id"] == "mistral.mixtral-8x7b-instruct-v0:1" for entry in cli_runtime.requests())


def test_reset_save_and_load(cli_runtime: Runtime, tmp_path: Path) -> None:
    saved = tmp_path / "history.json"
    stdin = f"one\ntwo\n/save {saved}\n/reset\nthree\n/load {saved}\nfour\n/exit\nnever sent\n"
    completed = invoke("chat", "--endpoint-url", cli_runtime.url, stdin=stdin)
    assert completed.exit_code == 0, completed.output
    assert f"(saved 4 messages to {saved})" in completed.stdout
    assert "(history cleared)" in completed.stdout
    assert f"(loaded 4 messages from {saved})" in completed.stdout
    assert completed.stderr == ""  # saved with the chat's own model: nothing to report
    one, two, three, four = prompts(cli_runtime)  # /exit ended the session: "never sent" was not
    assert one == "<s>[INST] one [/INST]"
    assert three == "<s>[INST] three [/INST]"  # after /reset: a fresh conversation
    assert four.startswith(two) and "three" not in four and four.endswith("[INST] four [/INST]")
    document = json.loads(saved.read_text())
    assert document["model"] == "mistral.mixtral-8x7b-instruct-v0:1"
    assert [m["role"] for m in document["messages"]] == ["user", "assistant", "user", "assistant"]
    assert document["messages"][0] == {"role": "user", "content": "one"}
    assert document["messages"][3]["content"] == f"{LEAD_IN} You said: two (turn 2)"


def test_load_reports_a_bad_file_in_one_line_and_goes_on(cli_runtime: Runtime, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    completed = invoke("chat", "--endpoint-url", cli_runtime.url, stdin=f"/load {bad}\nhello\n")
    assert completed.exit_code == 1  # piped input: a failed step makes the exit status non-zero
    assert "is not valid JSON" in completed.stderr and "Traceback" not in completed.stderr
    assert prompts(cli_runtime) == ["<s>[INST] hello [/INST]"]


def test_chat_json_is_one_document(cli_runtime: Runtime) -> None:
    completed = invoke("chat", "--json", "--system", "Be brief.", "--endpoint-url", cli_runtime.url, stdin="a\nb\n")
    assert completed.exit_code == 0, completed.output
    document = json.loads(completed.stdout)
    assert document["model"] == "mistral.mixtral-8x7b-instruct-v0:1"
    assert [turn["user"] for turn in document["turns"]] == ["a", "b"]
    assert document["turns"][1]["assistant"].endswith("(turn 2)")
    assert [m["role"] for m in document["history"]] == ["system", "user", "assistant", "user", "assistant"]
    assert "[Assistant]" not in completed.stdout


def test_chat_stream_with_parameters(cli_runtime: Runtime) -> None:
    args = ("chat", "--stream", "--max-tokens", "5", "--temperature", "0.2", "--stop", "###")
    completed = invoke(*args, "--endpoint-url", cli_runtime.url, stdin="hello\n")
    assert completed.exit_code == 0, completed.output
    [entry] = cli_runtime.requests()
    assert entry["operation"] == "InvokeModelWithResponseStream"
    assert entry["body"] == {"prompt": "<s>[INST] hello [/INST]", "max_tokens": 5, "temperature": 0.2, "stop": ["###"]}
    [answer] = assistant_lines(completed.stdout)
    assert LEAD_IN.startswith(answer) and answer  # cut at 5 tokens
    assert "first token" in completed.stdout  # the footer of a stream


def test_chat_streaming_is_the_classic_streaming_chat_with_mistral_large(cli_runtime: Runtime) -> None:
    completed = invoke("chat-streaming", "--verbose", "--endpoint-url", cli_runtime.url, stdin="Hi\nAgain\n")
    assert completed.exit_code == 0, completed.output
    first, second = cli_runtime.requests()
    assert {first["operation"], second["operation"]} == {"InvokeModelWithResponseStream"}
    assert first["model_id"] == "mistral.mistral-large-2402-v1:0"
    assert second["body"]["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": f"{LEAD_IN} You said: Hi"},
        {"role": "user", "content": "Again"},
    ]
    assert assistant_lines(completed.stdout) == [f"{LEAD_IN} You said: Hi", f"{LEAD_IN} You said: Again (turn 2)"]
    assert "invocation metrics:" in completed.stdout


def test_load_refuses_a_history_the_model_could_not_go_on_from(cli_runtime: Runtime, tmp_path: Path) -> None:
    assistant_first = tmp_path / "assistant-first.json"
    assistant_first.write_text(json.dumps([{"role": "assistant", "content": "Hi!"}, {"role": "user", "content": "a"}]))
    stdin = f"one\n/load {assistant_first}\ntwo\n"
    completed = invoke("chat", "--endpoint-url", cli_runtime.url, stdin=stdin)
    assert completed.exit_code == 1  # piped input with a failed step
    assert completed.stderr.splitlines() == [
        f"Error: {assistant_first} holds a history mistral.mixtral-8x7b-instruct-v0:1 cannot go on from: "
        "The conversation must start with a user turn (after any system prompts)."
    ]
    one, two = prompts(cli_runtime)
    assert two.startswith(one) and two.endswith("[INST] two [/INST]")  # the history stayed as it was


def test_load_refuses_a_lone_tool_result_in_the_chat_dialect(cli_runtime: Runtime, tmp_path: Path) -> None:
    lone_tool = tmp_path / "lone-tool.json"
    lone_tool.write_text(json.dumps({"messages": [{"role": "tool", "tool_call_id": "abcdefghi", "content": "{}"}]}))
    stdin = f"/load {lone_tool}\nhello\n"
    completed = invoke("chat", "-m", "mistral-large-2402", "--endpoint-url", cli_runtime.url, stdin=stdin)
    assert completed.exit_code == 1
    [error] = completed.stderr.splitlines()
    assert error.startswith(f"Error: {lone_tool} holds a history mistral.mistral-large-2402-v1:0 cannot go on from: ")
    [entry] = cli_runtime.requests()
    assert entry["body"]["messages"] == [{"role": "user", "content": "hello"}]


def test_load_reports_a_history_saved_with_another_model(cli_runtime: Runtime, tmp_path: Path) -> None:
    saved = tmp_path / "mixtral.json"
    ok(run_cli("chat", "--endpoint-url", cli_runtime.url, stdin=f"one\n/save {saved}\n"))
    cli_runtime.clear()
    completed = invoke(
        "chat", "-m", "mistral-large-2402", "--endpoint-url", cli_runtime.url, stdin=f"/load {saved}\ntwo\n"
    )
    assert completed.exit_code == 0, completed.output
    assert completed.stderr.splitlines() == [
        f"mistral-bedrock: {saved} was saved with mistral.mixtral-8x7b-instruct-v0:1; "
        "this chat goes on with mistral.mistral-large-2402-v1:0"
    ]
    [entry] = cli_runtime.requests()  # the chat's own model, with the loaded history
    assert entry["model_id"] == "mistral.mistral-large-2402-v1:0"
    assert [m["content"] for m in entry["body"]["messages"]] == ["one", f"{LEAD_IN} You said: one", "two"]
