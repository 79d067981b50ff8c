"""``tools``: the top_song tool loop, for each tool choice and both APIs (in-process, through click's runner)."""

from __future__ import annotations

import json

import pytest

from tests.cli.cli_support import LEAD_IN, Runtime, invoke, ok, run_cli

SONG = {"song": "Elemental Hotel", "artist": "8 Storey Hike"}


@pytest.mark.parametrize(
    ("api", "choice"), [("chat", "auto"), ("chat", "any"), ("converse", "auto"), ("converse", "any")]
)
def test_the_model_calls_top_song_and_answers_with_its_result(cli_runtime: Runtime, api: str, choice: str) -> None:
    result = invoke("tools", "--api", api, "--tool-choice", choice, "--json", "--endpoint-url", cli_runtime.url)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    [call] = document["calls"]
    assert call["name"] == "top_song" and call["arguments"] == {"sign": "WZPZ"}
    assert json.loads(call["result"]) == SONG
    assert document["answer"] == "Here is what top_song returned: song: Elemental Hotel, artist: 8 Storey Hike."
    assert document["totals"]["requests"] == 2 and document["totals"]["input_tokens"] > 0
    first, second = cli_runtime.requests()
    if api == "chat":
        assert first["operation"] == "InvokeModel" and first["body"]["tool_choice"] == choice
        assert first["body"]["tools"][0]["function"]["name"] == "top_song"
        assert second["body"]["messages"][-1]["role"] == "tool"
    else:
        assert first["operation"] == "Converse" and first["body"]["toolConfig"]["toolChoice"] == {choice: {}}
        assert "toolResult" in second["body"]["messages"][-1]["content"][0]


@pytest.mark.parametrize("api", ["chat", "converse"])
def test_tool_choice_none_answers_without_calling(cli_runtime: Runtime, api: str) -> None:
    result = invoke("tools", "--api", api, "--tool-choice", "none", "--endpoint-url", cli_runtime.url)
    assert result.exit_code == 0, result.output
    assert "[Tool call]" not in result.stdout
    assert f"[Assistant]: {LEAD_IN} You said: What is the top song on WZPZ?" in result.stdout
    assert "(the model answered without calling top_song)" in result.stdout
    [request] = cli_runtime.requests()
    if api == "chat":
        assert request["body"]["tool_choice"] == "none"
    else:
        assert "toolConfig" not in request["body"]  # Converse cannot say "none": no tools are sent


def test_tools_shows_each_step_as_text(cli_runtime: Runtime) -> None:
    completed = ok(run_cli("tools", "What is the top song on WKRP?", "--endpoint-url", cli_runtime.url))
    lines = completed.stdout.splitlines()
    assert lines[0] == "[User]: What is the top song on WKRP?"
    assert lines[1].startswith('[Tool call]: top_song({"sign": "WKRP"})  id=')
    assert lines[2] == '[Tool result]: {"song": "Turkeys Away", "artist": "Les Nessman"}'
    assert lines[3] == "[Assistant]: Here is what top_song returned: song: Turkeys Away, artist: Les Nessman."
    assert lines[4].startswith("mistral.mistral-large-2402-v1:0 · finished (stop) · 2 requests · ")


def test_a_failing_tool_is_reported_to_the_model(cli_runtime: Runtime) -> None:
    result = invoke("tools", "What is the top song on ABCD?", "--endpoint-url", cli_runtime.url)
    assert result.exit_code == 0, result.output
    assert '[Tool result]: {"error": "LookupError: Station ABCD not found."}' in result.stdout
