"""Cassettes through the plugin: where a test's cassette lives, replaying one written by hand, what a test left
unplayed or missed, and recording one (credentials read once, at the session's start) to replay offline."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from mistral_bedrock.runtime import RuntimeConfig, ServerThread
from mistral_bedrock.testing.cassettes import cassette_directory
from tests.testing.plugin_support import write_tests

# One Converse interaction, as a person would write it: the request's body, and Bedrock's whole answer.
INTERACTION = """
version: 1
request:
  operation: Converse
  model: mistral.mistral-large-2402-v1:0
  body:
    messages:
      - role: user
        content: [{{text: {question}}}]
response:
  status: 200
  headers: {{content-type: application/json}}
  body:
    output: {{message: {{role: assistant, content: [{{text: {answer}}}]}}}}
    stopReason: end_turn
    usage: {{inputTokens: 5, outputTokens: 3, totalTokens: 8}}
    metrics: {{latencyMs: 120}}
"""


def write_cassette(directory: Path, **answers: str) -> None:
    directory.mkdir(parents=True)
    for question, answer in answers.items():
        text = INTERACTION.format(question=question, answer=answer)
        (directory / f"converse-{question.lower()}.yaml").write_text(textwrap.dedent(text))


def item(path: str, name: str, cls: type | None = None) -> pytest.Item:
    return SimpleNamespace(path=Path(path), name=name, cls=cls)  # type: ignore[return-value]


def test_where_a_cassette_lives() -> None:
    class TestGroup:
        pass

    test = item("/project/tests/test_app.py", "test_ask[what is/this?-2]")
    assert cassette_directory(True, test, None) == Path("/project/tests/cassettes/test_app/test_ask-what-is-this-2")
    grouped = item("/project/tests/test_app.py", "test_ask", TestGroup)
    assert cassette_directory(True, grouped, Path("/c")) == Path("/c/test_app/TestGroup.test_ask")
    assert cassette_directory("shared", test, None) == Path("/project/tests/cassettes/shared")
    assert cassette_directory("/elsewhere/c", test, Path("/c")) == Path("/elsewhere/c")


def test_a_hand_written_cassette_replays(pytester: pytest.Pytester) -> None:
    write_cassette(pytester.path / "cassettes" / "test_app" / "test_replay", Hello="Recorded hello.")
    write_cassette(pytester.path / "elsewhere" / "shared", Hello="Shared hello.")
    write_tests(
        pytester,
        """
        @pytest.mark.bedrock(cassette=True)
        def test_replay(bedrock):
            assert ask(bedrock.client()) == "Recorded hello."

        @pytest.mark.bedrock(cassette="shared")
        def test_named(bedrock_env):
            assert ask(boto3.client("bedrock-runtime")) == "Shared hello."
            assert bedrock_env.requests[-1].status == 200
        """,
    )
    pytester.runpytest("--bedrock-cassette-dir", "elsewhere", "-k", "named").assert_outcomes(passed=1)
    pytester.runpytest("-k", "replay").assert_outcomes(passed=1)


def test_an_unplayed_interaction_fails_the_test_unless_allowed(pytester: pytest.Pytester) -> None:
    write_cassette(pytester.path / "cassettes" / "two", Hello="Hi.", Goodbye="Bye.")
    write_tests(
        pytester,
        """
        @pytest.mark.bedrock(cassette="two")
        def test_strict(bedrock):
            assert ask(bedrock.client()) == "Hi."

        @pytest.mark.bedrock(cassette="two", assert_all_used=False)
        def test_lenient(bedrock):
            assert ask(bedrock.client()) == "Hi."
        """,
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_strict*",
            "  cassette interactions never played (*two):",
            "    - converse-goodbye.yaml",
        ]
    )


def test_a_miss_always_fails_the_test_and_names_the_nearest_recording(pytester: pytest.Pytester) -> None:
    write_cassette(pytester.path / "cassettes" / "one", Hello="Hi.")
    write_tests(
        pytester,
        """
        from botocore.exceptions import ClientError

        @pytest.mark.bedrock(cassette="one", assert_all_used=False)
        def test_app(bedrock):
            with pytest.raises(ClientError) as info:
                ask(bedrock.client(config=ONE_ATTEMPT), "Hello!")
            assert info.value.response["Error"]["Code"] == "ValidationException"
        """,
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "  cassette misses (*one):",
            "    - No recording in cassette * matches this Converse request *Nearest: converse-hello.yaml; *",
        ]
    )
    result.stdout.no_fnmatch_line("*assert_all_used=False (in the*")


def test_a_missing_cassette_fails_in_one_line(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        @pytest.mark.bedrock(cassette=True)
        def test_app(bedrock):
            pass
        """,
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["bedrock: cassette */cassettes/test_app/test_app does not exist*"])


@pytest.mark.parametrize("where", ["--bedrock-record=once", "marker"])
def test_a_record_mode_without_credentials_is_a_usage_error(pytester: pytest.Pytester, where: str) -> None:
    marker = '@pytest.mark.bedrock(cassette=True, record="once")' if where == "marker" else ""
    write_tests(pytester, f"{marker}\ndef test_app(bedrock):\n    pass\n")
    result = pytester.runpytest(*([where] if where != "marker" else []))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: * records from Amazon Bedrock and needs AWS credentials, but *"])


AKID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_record_once_then_replay_offline(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's real credentials: read when the session starts, before bedrock_env puts dummy ones in their place.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    write_tests(
        pytester,
        """
        @pytest.mark.bedrock(cassette=True)
        def test_app(bedrock_env):
            assert ask(boto3.client("bedrock-runtime"), "Record me")
        """,
    )
    # Bedrock stands in as a second runtime that checks every signature against those credentials only.
    with ServerThread(config=RuntimeConfig(auth=f"strict:{AKID}:{SECRET}")) as upstream:
        recorded = pytester.runpytest("--bedrock-record=once", f"--bedrock-upstream-url={upstream.url}")
        recorded.assert_outcomes(passed=1)
    (cassette,) = (pytester.path / "cassettes" / "test_app" / "test_app").iterdir()
    assert "Record me" in cassette.read_text()
    assert AKID not in cassette.read_text()
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    pytester.runpytest().assert_outcomes(passed=1)  # offline: no credentials, the upstream gone


def test_cassette_options_from_the_marker_and_bedrock_config(pytester: pytest.Pytester) -> None:
    write_cassette(pytester.path / "cassettes" / "shared", Hello="Recorded hello.")
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def bedrock_config():
            return {"cassette": "shared", "redact": [r"\\d{4}"]}
        """
    )
    write_tests(
        pytester,
        """
        @pytest.mark.bedrock(match_ignore="inferenceConfig")
        def test_ignored_field(bedrock):
            client = bedrock.client()
            messages = [{"role": "user", "content": [{"text": "Hello"}]}]
            answer = client.converse(modelId=MODEL, messages=messages, inferenceConfig={"temperature": 0.5})
            assert answer["output"]["message"]["content"][0]["text"] == "Recorded hello."

        def test_a_field_that_is_not_ignored_misses(bedrock):
            client = bedrock.client()
            messages = [{"role": "user", "content": [{"text": "Hello"}]}]
            client.converse(modelId=MODEL, messages=messages, inferenceConfig={"temperature": 0.5})

        @pytest.mark.bedrock(timing="sometimes")
        def test_a_bad_option(bedrock):
            pass
        """,
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1, errors=2)  # the miss fails the test, and again at teardown
    result.stdout.fnmatch_lines(["*first difference at inferenceConfig.temperature: sent 0.5, recorded nothing*"])
    result.stdout.fnmatch_lines(["*replay timing 'sometimes': expected instant, recorded or scaled:FACTOR*"])
