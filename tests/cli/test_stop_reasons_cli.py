"""The CLI says why an answer stopped and which model id answered; a flagged stop ends with exit status 3.

The runtime here is answered by an engine that stops with the reason the question names, so a guardrail or a
content filter can be provoked on demand through the real wire.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mistral_bedrock.cli.output import EXIT_FLAGGED, STOP_MEANINGS
from mistral_bedrock.conversation import StopReason, Usage
from mistral_bedrock.engines import EngineEvent, Stop, TextDelta
from mistral_bedrock.formats import ParsedRequest
from mistral_bedrock.formats.stops import STOP_REASONS
from mistral_bedrock.runtime import ServerThread, create_app
from tests.cli.cli_support import invoke

ANSWER = "Sorry, the model cannot answer this question."


class StopsWith:
    """Answers ``ANSWER`` and stops with the reason the last user turn names: ``reason:content_filtered``."""

    name = "stops-with"

    async def generate(self, request: ParsedRequest) -> AsyncIterator[EngineEvent]:
        question = [m.content for m in request.messages if m.role == "user"][-1]
        reason: StopReason = question.partition("reason:")[2].strip() or "stop"  # type: ignore[assignment]
        yield TextDelta(ANSWER)
        yield Stop(reason, Usage(5, 9))


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with ServerThread(create_app(engine=StopsWith())) as server:
        yield server.url


def _run(url: str, *args: str, stdin: str = "") -> Any:
    return invoke(*args, "--endpoint-url", url, "--region", "us-east-1", stdin=stdin)


def test_every_reason_has_a_meaning() -> None:
    assert set(STOP_MEANINGS) == set(STOP_REASONS)


def test_a_guardrail_stop_says_so_and_exits_3(url: str) -> None:
    result = _run(url, "converse", "reason:guardrail_intervened", "--model", "mistral-large-2402")
    assert result.exit_code == EXIT_FLAGGED
    lines = result.stdout.splitlines()
    assert lines[0] == ANSWER
    footer = lines[-1]
    assert footer.startswith("mistral.mistral-large-2402-v1:0 · blocked by a Bedrock guardrail")
    assert "(guardrail_intervened)" in footer and "in ·" in footer
    assert result.stderr.splitlines() == [
        "warning: the answer of mistral.mistral-large-2402-v1:0 was blocked by a Bedrock guardrail; the text is "
        "the guardrail's, not the model's (guardrail_intervened)"
    ]


def test_json_carries_the_reason_its_spelling_and_meaning(url: str) -> None:
    result = _run(url, "converse", "reason:content_filtered", "--stream", "--json")
    assert result.exit_code == EXIT_FLAGGED
    document = json.loads(result.stdout)
    assert (document["stop_reason"], document["raw_stop_reason"], document["stop_meaning"]) == (
        "content_filtered",
        "content_filtered",
        "withheld by a content filter",
    )


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("converse", "reason:stop"), "finished (end_turn)"),
        (("converse", "reason:length"), "cut at max_tokens (max_tokens)"),
        (("converse", "reason:model_context_window_exceeded"), "cut: the context window is full"),
        (("basic", "reason:length"), "cut at max_tokens (length)"),
        (("basic", "reason:model_context_window_exceeded"), "(model_length)"),
    ],
)
def test_ordinary_stops_are_shown_and_exit_0(url: str, args: tuple[str, ...], shown: str) -> None:
    result = _run(url, *args)
    assert result.exit_code == 0, result.output
    assert shown in result.stdout.splitlines()[-1]
    assert result.stderr == ""


def test_the_footer_names_the_identifier_that_answered(url: str) -> None:
    result = _run(url, "basic", "reason:stop", "--model", "pixtral-large")
    assert result.exit_code == 0, result.output
    footer = result.stdout.splitlines()[-1]
    assert footer.startswith("us.mistral.pixtral-large-2502-v1:0 · finished (stop) · ")


def test_a_piped_chat_with_a_filtered_turn_exits_3(url: str) -> None:
    result = _run(url, "chat", "--json", stdin="Hello\nreason:content_filtered\n")
    assert result.exit_code == EXIT_FLAGGED
    turns = json.loads(result.stdout)["turns"]
    assert [turn["stop_reason"] for turn in turns] == ["stop", "content_filtered"]
