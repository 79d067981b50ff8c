"""The ``bedrock`` fixture against unmodified boto3 and the project's own clients: answers, the journal, faults,
scripts, and a clean runtime for every test."""

from __future__ import annotations

import pytest

from tests.testing.plugin_support import write_tests


def test_the_client_gets_the_builtin_answer_and_the_journal_shows_what_was_sent(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        def test_app(bedrock):
            assert bedrock.url.startswith("http://127.0.0.1:")
            assert bedrock.engine.name == "builtin"
            assert ask(bedrock.client(), "What is the capital of France?")
            (entry,) = bedrock.requests
            assert (entry.operation, entry.model, entry.status) == ("Converse", MODEL, 200)
            assert entry.body["messages"][0]["content"] == [{"text": "What is the capital of France?"}]
        """,
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_projects_own_clients_reach_the_runtime(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import asyncio

        def test_sync(bedrock):
            bedrock.script({"default": {"text": "scripted"}})
            assert bedrock.mistral_client().converse("Hi", model=MODEL).text == "scripted"
            assert bedrock.requests[-1].operation == "Converse"

        def test_async(bedrock):
            bedrock.script({"default": {"text": "scripted"}})

            async def main():
                async with bedrock.async_client() as client:
                    return (await client.converse("Hi", model=MODEL)).text

            assert asyncio.run(main()) == "scripted"
        """,
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_faults_from_the_marker_and_from_the_test(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        from botocore.exceptions import ClientError

        def throttled(client):
            with pytest.raises(ClientError) as info:
                ask(client)
            return info.value.response["Error"]["Code"]

        @pytest.mark.bedrock(faults=["throttle:count=1"])
        def test_marker(bedrock):
            client = bedrock.client(config=ONE_ATTEMPT)
            assert throttled(client) == "ThrottlingException"
            assert ask(client)
            assert [rule["fired"] for rule in bedrock.faults.rules] == [1]

        def test_added(bedrock):
            client = bedrock.client(config=ONE_ATTEMPT)
            bedrock.faults.add({"kind": "error", "code": "ModelNotReadyException", "count": 1})
            assert throttled(client) == "ModelNotReadyException"
            bedrock.faults.add("throttle")
            assert throttled(client) == "ThrottlingException"
            bedrock.faults.clear()
            assert ask(client)
            codes = [entry.error_code for entry in bedrock.requests]
            assert codes == ["ModelNotReadyException", "ThrottlingException", None]
        """,
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_a_script_answers_and_reset_starts_it_over(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", rules="rules:\n  - contains: weather\n    sequence: [{text: Sunny.}, {text: Rainy.}]\n")
    write_tests(
        pytester,
        """
        def test_script(bedrock):
            client = bedrock.client()
            engine = bedrock.script("rules.yaml")
            assert bedrock.engine is engine
            assert [ask(client, "weather?"), ask(client, "weather?")] == ["Sunny.", "Rainy."]
            bedrock.reset()
            assert bedrock.requests == []
            assert ask(client, "weather?") == "Sunny."

        @pytest.mark.bedrock(engine="scripted:rules.yaml")
        def test_marker(bedrock):
            assert ask(bedrock.client(), "weather?") == "Sunny."
        """,
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_nothing_leaks_from_one_test_into_the_next(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        @pytest.mark.bedrock(engine="scripted:rules.yaml")
        def test_first(bedrock):
            client = bedrock.client()
            assert ask(client) == "The first"
            bedrock.faults.add("latency:first_byte=1")
            bedrock.script([{"contains": "Hello", "reply": {"text": "scripted"}}])
            assert ask(client) == "scripted"

        @pytest.mark.bedrock(engine="scripted:rules.yaml")
        def test_second(bedrock):
            assert (bedrock.requests, bedrock.faults.rules) == ([], [])
            assert ask(bedrock.client()) == "The first"  # the file's sequence starts over

        @pytest.mark.bedrock(engine="scripted:rules.yaml")
        def test_third(bedrock):
            assert ask(bedrock.client()) == "The first"

        def test_last(bedrock):
            assert bedrock.engine.name == "builtin"
            assert ask(bedrock.client()) not in ("scripted", "The first")
        """,
    )
    pytester.makefile(
        ".yaml", rules="rules:\n  - contains: Hello\n    sequence: [{text: The first}, {text: The second}]\n"
    )
    pytester.runpytest().assert_outcomes(passed=4)


def test_a_bad_setting_fails_the_test_in_one_line(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        @pytest.mark.bedrock(engin="builtin")
        def test_typo(bedrock):
            pass

        @pytest.mark.bedrock(faults=["throttle:count=x"])
        def test_bad_fault(bedrock):
            pass

        @pytest.mark.bedrock(engine="scripted:missing.yaml")
        def test_missing_rules(bedrock):
            pass
        """,
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*bedrock: bedrock marker: unknown key engin; it takes engine, faults, cassette, record, region, assert_all_used, match_ignore, timing, secrets, redact, redactors",
            "*bedrock: fault 'throttle:count=x': *",
            "*bedrock: Cannot read rules file missing.yaml*",
        ]
    )
    result.stdout.no_fnmatch_line("*During handling*")
    result.stdout.no_fnmatch_line("*Traceback*")


def test_requests_are_those_the_test_received(pytester: pytest.Pytester) -> None:
    # A stream the first test leaves open ends during the second, and is journalled then: not the second's.
    write_tests(
        pytester,
        """
        import time

        LEFT_OPEN = []

        def journalled(bedrock):
            return bedrock._runtime.state.journal.entries()  # the runtime's whole journal

        def test_leaves_a_stream_open(bedrock):
            bedrock.script([{"contains": "slow", "reply": {"text": "one two three four five", "token_latency_ms": 100}}])
            messages = [{"role": "user", "content": [{"text": "slow"}]}]
            answer = bedrock.client().converse_stream(modelId=MODEL, messages=messages)
            next(iter(answer["stream"]))
            LEFT_OPEN.append(answer)

        def test_sees_only_its_own(bedrock):
            deadline = time.monotonic() + 10
            while not journalled(bedrock) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [entry.operation for entry in journalled(bedrock)] == ["ConverseStream"]
            assert bedrock.requests == []
            ask(bedrock.client())
            assert [entry.operation for entry in bedrock.requests] == ["Converse"]
            bedrock.reset()
            assert bedrock.requests == []
        """,
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_one_region_for_every_client(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nbedrock_region = us-west-2\n")
    write_tests(
        pytester,
        """
        import asyncio
        import os

        LARGE_2 = "mistral.mistral-large-2407-v1:0"  # served in us-west-2, not in us-east-1
        MESSAGES = [{"role": "user", "content": [{"text": "Hi"}]}]

        def test_clients(bedrock):
            assert bedrock.region == "us-west-2"
            assert bedrock.client().converse(modelId=LARGE_2, messages=MESSAGES)["stopReason"] == "end_turn"
            assert bedrock.mistral_client().converse("Hi", model=LARGE_2).text

            async def main():
                async with bedrock.async_client() as client:
                    return (await client.converse("Hi", model=LARGE_2)).text

            assert asyncio.run(main())

        def test_unmodified_code(bedrock_env):
            assert os.environ["AWS_REGION"] == os.environ["AWS_DEFAULT_REGION"] == "us-west-2"
            assert boto3.client("bedrock-runtime").converse(modelId=LARGE_2, messages=MESSAGES)

        @pytest.mark.bedrock(region="eu-west-3")
        def test_marker(bedrock_env):
            assert bedrock_env.client().meta.region_name == os.environ["AWS_REGION"] == "eu-west-3"
        """,
    )
    pytester.runpytest().assert_outcomes(passed=3)


def test_the_clients_read_no_aws_configuration(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's configuration: a profile that does not exist, and one attempt only (no retry of a throttle).
    config = pytester.path / "aws_config"
    config.write_text("[default]\nmax_attempts = 1\nregion = eu-west-3\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "nope")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    write_tests(
        pytester,
        """
        import asyncio

        @pytest.mark.bedrock(faults=["throttle:count=1"])
        def test_boto3(bedrock):
            client = bedrock.client()
            assert client.meta.region_name == "us-east-1"
            assert ask(client)  # retried once, as botocore's defaults do
            assert [entry.error_code for entry in bedrock.requests] == ["ThrottlingException", None]

        def test_the_projects_clients(bedrock):
            assert bedrock.mistral_client().converse("Hi", model=MODEL).text

            async def main():
                async with bedrock.async_client() as client:
                    return (await client.converse("Hi", model=MODEL)).text

            assert asyncio.run(main())
        """,
    )
    pytester.runpytest().assert_outcomes(passed=2)
