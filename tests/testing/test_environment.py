"""``bedrock_env``: unmodified code that builds its own client, in the test's process or in a subprocess, reaches
the runtime and nothing else; ini ``bedrock_autouse`` gives it to every test."""

from __future__ import annotations

import pytest

from tests.testing.plugin_support import write_tests


def test_unmodified_code_and_subprocesses_reach_the_runtime(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a developer's shell may hold: every one of these would send the request elsewhere, or sign it differently.
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "a-real-session-token")
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-real")
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    monkeypatch.setenv("AWS_AUTH_SCHEME_PREFERENCE", "httpBearerAuth")
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "example.com")
    write_tests(
        pytester,
        """
        import subprocess
        import sys

        CHILD = (
            "import boto3; c = boto3.client('bedrock-runtime'); "
            "print(c.converse(modelId='mistral.mistral-7b-instruct-v0:2', "
            "messages=[{'role': 'user', 'content': [{'text': 'From a child'}]}])['stopReason'])"
        )

        def test_in_process(bedrock_env):
            assert ask(boto3.client("bedrock-runtime"), "From the test")
            (entry,) = bedrock_env.requests
            assert entry.body["messages"][0]["content"] == [{"text": "From the test"}]

        def test_in_a_subprocess(bedrock_env):
            done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=False)
            assert (done.returncode, done.stdout.strip()) == (0, "end_turn"), done.stderr
            (entry,) = bedrock_env.requests
            assert entry.body["messages"][0]["content"] == [{"text": "From a child"}]

        def test_the_mistral_client_too(bedrock_env):
            from mistral_bedrock import MistralBedrock

            with MistralBedrock() as client:
                assert client.endpoint_url == bedrock_env.url
                assert client.converse("Hi", model=MODEL).text
        """,
    )
    pytester.runpytest().assert_outcomes(passed=3)


def test_the_environment_is_the_tests_alone(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import os

        def test_with(bedrock_env):
            assert os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == bedrock_env.url
            assert os.environ["AWS_CONFIG_FILE"] == os.environ["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
            assert os.environ["AWS_REGION"] == os.environ["AWS_DEFAULT_REGION"] == bedrock_env.region == "us-east-1"

        def test_without(bedrock):
            assert "AWS_ENDPOINT_URL_BEDROCK_RUNTIME" not in os.environ
        """,
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_bedrock_autouse_gives_every_test_the_environment(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nbedrock_autouse = true\n")
    write_tests(
        pytester,
        """
        def test_plain():
            assert ask(boto3.client("bedrock-runtime"))

        def test_with_the_fixture(bedrock):
            ask(boto3.client("bedrock-runtime"))
            assert len(bedrock.requests) == 1
        """,
    )
    pytester.runpytest().assert_outcomes(passed=2)
