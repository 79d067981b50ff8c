"""MistralBedrock against the real runtime: every method, faults, retries, signing, and the environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mistral_bedrock import Message, Usage
from mistral_bedrock.catalog import lookup
from mistral_bedrock.client import MistralBedrock, NoCredentialsError, RetryPolicy, ToolLoopLimitError
from mistral_bedrock.errors import (
    AccessDeniedException,
    InvalidSignatureException,
    ModelStreamErrorException,
    StreamError,
    ThrottlingException,
    ValidationException,
)
from mistral_bedrock.prompt import render
from mistral_bedrock.runtime import ServerThread, create_app
from mistral_bedrock.runtime.auth import StrictAuth
from tests.client.client_support import FAST_RETRY, Control

LEAD = "I am the built-in engine of mistral-bedrock. You said: "


def top_song(sign: str) -> dict[str, str]:
    """Get the most popular song played on a radio station.

    Args:
        sign: The call sign for the radio station, such as WZPZ and WKRP.
    """
    return {"song": "Elemental Hotel", "artist": "8 Storey Hike", "station": sign}


def test_complete_basic(client: MistralBedrock, runtime_control: Control) -> None:
    result = client.complete_text("Hello, what's your name?", model="mistral-7b")
    assert result.text == " " + LEAD + "Hello, what's your name?"
    assert result.stop_reason == "stop"
    assert result.request_body == {"prompt": "<s>[INST] Hello, what's your name? [/INST]"}
    assert result.response_body == {"outputs": [{"text": result.text, "stop_reason": "stop"}]}
    assert result.usage is not None
    assert result.usage.input_tokens == 16
    assert result.cost == pytest.approx(lookup("mistral-7b").cost(16, result.usage.output_tokens))
    sent = runtime_control.requests()[-1]
    assert sent["request_id"] == result.request_id
    assert sent["body"] == result.request_body


def test_complete_raw_messages_and_limits(client: MistralBedrock, runtime_control: Control) -> None:
    client.complete_text("<s>[INST] Hi [/INST]", model="mistral-7b", raw=True)
    assert runtime_control.requests()[-1]["body"] == {"prompt": "<s>[INST] Hi [/INST]"}
    history = [Message.system("Be brief."), Message.user("Q1"), Message.assistant("A1"), Message.user("Q2")]
    client.complete_text(history, model="mixtral-8x7b")
    assert runtime_control.requests()[-1]["body"]["prompt"] == render(history, lookup("mixtral-8x7b")).text
    cut = client.complete_text("Tell me everything", model="mistral-7b", max_tokens=3)
    assert cut.stop_reason == "length"
    assert cut.usage is not None
    assert cut.usage.output_tokens == 3
    stopped = client.complete_text("Hello", model="mistral-7b", stop=["engine"])
    assert stopped.text == " I am the built-in "  # cut right before the stop sequence
    assert stopped.stop_reason == "stop"
    assert runtime_control.requests()[-1]["body"]["stop"] == ["engine"]


def test_client_side_validation_uses_bedrocks_words_before_io(client: MistralBedrock, runtime_control: Control) -> None:
    with pytest.raises(ValidationException) as info:
        client.complete_text("x", temperature=1.5)
    assert info.value.message == (
        "Malformed input request: #/temperature: 1.5 is not less or equal to 1.0, please reformat your input and try again."
    )
    with pytest.raises(ValidationException, match="model identifier is invalid"):
        client.complete_chat("x", model="mistral.nope")
    with pytest.raises(ValidationException, match="does not accept the text body"):
        client.complete_text("x", model="us.mistral.pixtral-large-2502-v1:0")
    assert runtime_control.requests() == []


def test_chat_tools_and_tool_choice(client: MistralBedrock) -> None:
    asked = "What is the most popular song on WZPZ?"
    called = client.complete_chat(asked, tools=[top_song], tool_choice="any")
    assert called.stop_reason == "tool_calls"
    assert [(c.name, dict(c.arguments)) for c in called.tool_calls] == [("top_song", {"sign": "WZPZ"})]
    assert client.complete_chat(asked, tools=[top_song], tool_choice="none").tool_calls == ()
    assert client.complete_chat("Please use top_song for WKRP", tools=[top_song], tool_choice="auto").tool_calls
    assert client.complete_chat("Just say hi", tools=[top_song], tool_choice="auto").tool_calls == ()
    answer = client.complete_chat(
        [Message.user(asked), called.message, Message.tool(called.tool_calls[0].id, json.dumps(top_song("WZPZ")))],
        tools=[top_song],
    )
    assert "Elemental Hotel" in answer.text
    assert answer.dialect.value == "chat"


def test_converse_with_system_and_tools(client: MistralBedrock, runtime_control: Control) -> None:
    result = client.converse("Hello", system="Be brief.", max_tokens=40, top_k=5, model="mistral-large-2402")
    assert result.text == LEAD + "Hello"
    assert result.usage is not None
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens
    body = runtime_control.requests()[-1]["body"]
    assert body["system"] == [{"text": "Be brief."}]
    assert body["additionalModelRequestFields"] == {"top_k": 5}
    folded = client.converse("Hello", system="Be brief.", model="mistral-7b")  # no system prompts on 7B
    assert folded.stop_reason == "stop"
    assert "system" not in runtime_control.requests()[-1]["body"]
    called = client.converse("Song on WZPZ?", tools=[top_song], tool_choice="any", model="mistral-large-2402")
    assert called.tool_calls[0].id.startswith("tooluse_")


def test_streams_keep_the_final_chunk(client: MistralBedrock) -> None:
    whole = client.complete_text("Hello, what's your name?", model="mistral-7b")
    with client.stream_text("Hello, what's your name?", model="mistral-7b") as stream:
        pieces = [delta.text for delta in stream]
    result = stream.result()
    assert "".join(pieces) == result.text == whole.text
    assert pieces[-1]  # the last piece came in the same chunk as the stop reason
    assert result.stop_reason == "stop"
    assert result.usage == Usage(whole.usage.input_tokens, whole.usage.output_tokens)  # type: ignore[union-attr]
    assert result.metrics is not None
    assert result.metrics["outputTokenCount"] == len(pieces)
    assert result.time_to_first_token_ms is not None


def test_chat_and_converse_streams(client: MistralBedrock) -> None:
    with client.stream_chat("Song on WZPZ?", tools=[top_song], tool_choice="any") as stream:
        events = list(stream)
    assert stream.result().stop_reason == "tool_calls"
    assert [c.name for e in events for c in e.tool_calls] == ["top_song"]
    with client.converse_stream("Hello", system="Be brief.") as stream:
        text = "".join(stream.text_stream())
    assert text == stream.result().text == LEAD + "Hello"
    assert stream.result().usage is not None
    assert stream.result().raw_stop_reason == "end_turn"


def test_conversation_keeps_history_in_the_native_dialect(client: MistralBedrock, runtime_control: Control) -> None:
    chat = client.conversation(model="mixtral-8x7b")
    chat.send("What is the capital of France?")
    second = chat.send("And of Italy?")
    assert second.text.endswith("(turn 2)")
    prompt = runtime_control.requests()[-1]["body"]["prompt"]
    assert prompt == chat.last_prompt
    assert prompt.startswith("<s>[INST] What is the capital of France? [/INST]")
    assert prompt.count("<s>") == 1
    assert prompt.count("</s>") == 1
    assert prompt.endswith("</s>[INST] And of Italy? [/INST]")
    assert [m.role for m in chat.history] == ["user", "assistant", "user", "assistant"]
    large = client.conversation(model="mistral-large-2402", system="Be brief.")
    large.send("One")
    with large.stream("Two") as stream:
        assert "(turn 2)" in "".join(stream.text_stream())
    assert [m["role"] for m in runtime_control.requests()[-1]["body"]["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
    ]
    assert len(large.history) == 5


def test_a_failed_turn_leaves_history_unchanged(client: MistralBedrock, runtime_control: Control) -> None:
    chat = client.conversation(model="mistral-large-2402")
    chat.send("One")
    runtime_control.fault(kind="stream-error", after_frames=1)
    with pytest.raises(ModelStreamErrorException), chat.stream("Two") as stream:
        list(stream)
    assert len(chat.history) == 2


def test_run_tools_over_chat_and_converse(client: MistralBedrock) -> None:
    for api, model in (("chat", "mistral-large-2402"), ("converse", "mistral-large-2402")):
        run = client.run_tools(
            "What is the most popular song on WZPZ?", tools=[top_song], tool_choice="any", api=api, model=model
        )
        assert "Elemental Hotel" in run.text
        assert [m.role for m in run.history] == ["user", "assistant", "tool", "assistant"]
        assert json.loads(run.history[2].content)["station"] == "WZPZ"


def test_run_tools_reports_tool_failures_and_limits_steps(client: MistralBedrock) -> None:
    def flaky(sign: str) -> str:
        """Always fails."""
        raise RuntimeError(f"station {sign} is off the air")

    run = client.run_tools("Use flaky on WZPZ", tools=[flaky], tool_choice="any")
    assert "station WZPZ is off the air" in run.history[2].content
    assert "RuntimeError" in run.text
    with pytest.raises(ToolLoopLimitError) as info:
        client.run_tools("Use flaky on WZPZ", tools=[flaky], tool_choice="any", max_steps=1)
    assert info.value.history[-1].tool_calls


def test_throttling_30_percent_all_calls_succeed(client: MistralBedrock, runtime_control: Control) -> None:
    runtime_control.fault(kind="error", code="ThrottlingException", rate=0.3)
    results = [client.complete_text(f"call {i}") for i in range(30)]
    assert all(r.stop_reason == "stop" for r in results)
    statuses = [entry["status"] for entry in runtime_control.requests()]
    assert statuses.count(429) > 0  # the faults really fired…
    assert statuses.count(200) == 30  # …and every call got through


def test_retries_stop_at_the_limit_and_never_retry_client_errors(
    server: ServerThread, runtime_control: Control
) -> None:
    runtime_control.fault(kind="error", code="ThrottlingException", count=10)
    policy = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.001)
    with MistralBedrock(
        endpoint_url=server.url, region="us-east-1", aws_access_key_id="a", aws_secret_access_key="b", retry=policy
    ) as c:
        with pytest.raises(ThrottlingException) as info:
            c.complete_text("x")
        assert info.value.status == 429
        assert info.value.retryable
        assert len(runtime_control.requests()) == 3
        runtime_control.http.delete("/faults")
        runtime_control.http.delete("/requests")
        runtime_control.fault(kind="error", code="AccessDeniedException", count=1)
        with pytest.raises(AccessDeniedException):
            c.complete_text("x")
        assert len(runtime_control.requests()) == 1


def test_mid_stream_error_and_dropped_connection_are_typed(client: MistralBedrock, runtime_control: Control) -> None:
    runtime_control.fault(kind="stream-error", code="ThrottlingException", after_frames=2, count=1)
    seen: list[str] = []
    with pytest.raises(ThrottlingException), client.stream_text("Tell me", model="mistral-7b") as stream:
        seen.extend(delta.text for delta in stream)
    assert len(seen) == 2  # data had been yielded, so no retry
    assert len(runtime_control.requests()) == 1
    runtime_control.fault(kind="drop", after_frames=3, count=1)
    with pytest.raises(StreamError) as info, client.stream_text("Tell me", model="mistral-7b") as stream:
        list(stream)
    assert info.value.partial_text


@pytest.fixture
def strict_server() -> Iterator[ServerThread]:
    app = create_app(auth=StrictAuth({"AKIDSTRICT": "right-secret"}, tokens={"ABSKtoken"}))
    with ServerThread(app) as running:
        yield running


def test_sigv4_signing_verified_by_strict_runtime(strict_server: ServerThread) -> None:
    def make(**kwargs: Any) -> MistralBedrock:
        return MistralBedrock(endpoint_url=strict_server.url, region="us-east-1", retry=FAST_RETRY, **kwargs)

    with make(aws_access_key_id="AKIDSTRICT", aws_secret_access_key="right-secret") as good:
        assert good.complete_text(
            "hi", model="arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-7b-instruct-v0:2"
        ).text
        with good.stream_chat("hi") as stream:
            assert stream.result().stop_reason == "stop"
    with (
        make(aws_access_key_id="AKIDSTRICT", aws_secret_access_key="wrong") as bad,
        pytest.raises(InvalidSignatureException),
    ):
        bad.complete_text("hi")
    with make(api_key="ABSKtoken") as bearer:
        assert bearer.converse("hi").stop_reason == "stop"


def test_environment_configures_the_client(server: ServerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "ABSKlocal")
    with MistralBedrock() as c:
        assert (c.endpoint_url, c.region) == (server.url, "eu-west-3")
        assert c.complete_text("hi").stop_reason == "stop"
    monkeypatch.delenv("AWS_BEARER_TOKEN_BEDROCK")
    with MistralBedrock() as c, pytest.raises(NoCredentialsError):
        c.complete_text("hi")
    monkeypatch.delenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
    with MistralBedrock(region="us-west-2", aws_access_key_id="a", aws_secret_access_key="b") as c:
        assert c.endpoint_url == "https://bedrock-runtime.us-west-2.amazonaws.com"


def test_local_client_and_offline_count(runtime_control: Control) -> None:
    with MistralBedrock.local() as c:
        assert c.complete_chat("hi").text == LEAD + "hi"
    assert MistralBedrock.count_tokens("Hello, what's your name?", model="mistral-7b") == 16
    assert MistralBedrock.count_tokens(
        "Hi", model="mistral-large-2407", tools=[top_song]
    ) > MistralBedrock.count_tokens("Hi", model="mistral-large-2407")


def test_stream_in_a_chosen_dialect(client: MistralBedrock, runtime_control: Control) -> None:
    with client.stream_text("Hello", model="mistral-large-2402") as stream:
        assert stream.request_body == {"prompt": "<s>[INST]Hello[/INST]"}
        assert stream.result().text.strip() == LEAD + "Hello"
    with client.stream_chat("Hello", model="mistral-large-2402") as stream:
        assert "messages" in stream.request_body
        assert stream.result().dialect.value == "chat"
    with client.stream_chat("Hello", model="mistral-7b") as stream:  # a text-only model gets the rendered prompt
        assert stream.request_body == {"prompt": "<s>[INST] Hello [/INST]"}
        assert stream.result().dialect.value == "text"
    with pytest.raises(ValidationException, match="does not accept the text body"):
        client.stream_text("Hello", model="pixtral-large")
    with pytest.raises(ValidationException, match="model identifier is invalid"):
        client.stream_chat("Hello", model="mistral.nope")
    assert len(runtime_control.requests()) == 3  # the refused streams sent nothing
