"""Cassettes through the plugin: where a test's cassette lives, replaying one written by hand, what a test left
unplayed or missed, and recording one (credentials read once, at the session's start) to replay offline."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from mistral_bedrock.runtime import RuntimeConfig, ServerThread
from mistral_bedrock.testing.cassettes import cassette_directory, cassette_name
from tests.testing.plugin_support import write_cassette, write_tests


def item(path: str, name: str, cls: type | None = None) -> pytest.Item:
    return SimpleNamespace(path=Path(path), name=name, cls=cls)  # type: ignore[return-value]


def test_where_a_cassette_lives() -> None:
    class TestGroup:
        pass

    root = Path("/project")
    test = item("/project/tests/test_app.py", "test_ask[alpha-2]")
    assert cassette_directory(True, test, None, root) == Path("/project/tests/cassettes/test_app/test_ask-alpha-2")
    grouped = item("/project/tests/test_app.py", "test_ask", TestGroup)
    assert cassette_directory(True, grouped, None, root) == Path("/project/tests/cassettes/test_app/TestGroup.test_ask")
    # One root for every test file: the file's path from the rootdir tells two test_app.py apart.
    assert cassette_directory(True, grouped, Path("/c"), root) == Path("/c/tests/test_app/TestGroup.test_ask")
    outside = cassette_directory(True, item("/elsewhere/test_app.py", "test_ask"), Path("/c"), root)
    assert outside.parent.parent == Path("/c") and outside.parent.name.startswith("test_app-")
    assert cassette_directory("shared", test, None, root) == Path("/project/tests/cassettes/shared")
    assert cassette_directory("/elsewhere/c", test, Path("/c"), root) == Path("/elsewhere/c")


def test_a_cassette_name_is_one_per_test_and_short() -> None:
    def name(test: str) -> str:
        return cassette_name(item("/p/test_app.py", test))

    digest = hashlib.sha256(b"New York").hexdigest()[:8]
    assert name("test_city[New York]") == f"test_city-New-York-{digest}"
    ids = ["New York", "New/York", "New-York", "new york", "a" * 300, "b" * 300, "..", "é"]
    names = [name(f"test_city[{ident}]") for ident in ids]
    assert len(set(names)) == len(ids)
    assert all(len(each) <= 100 and each.strip("-.") == each for each in names), names
    assert name("test_city[alpha]") == "test_city-alpha"  # an id that is safe already stays as it is
    assert len(name("test_" + "x" * 200)) == 100


def test_parametrized_and_same_named_tests_get_their_own_cassettes(pytester: pytest.Pytester) -> None:
    source = """
        from pathlib import Path

        @pytest.mark.bedrock(cassette=True)
        @pytest.mark.parametrize("city", ["New York", "New/York", "new york", "x" * 150])
        def test_city(bedrock, city):
            with Path(__file__).parents[2].joinpath("cassettes.txt").open("a") as seen:
                seen.write(f"{bedrock.engine.settings.directory}\\n")
        """
    for folder in ("unit", "integration"):
        (pytester.path / "tests" / folder).mkdir(parents=True)
        write_tests(pytester, source, name=f"tests/{folder}/test_api")
    pytester.runpytest("--import-mode=importlib", "--bedrock-cassette-dir", "shared").assert_outcomes(passed=8)
    seen = [Path(line) for line in (pytester.path / "cassettes.txt").read_text().splitlines()]
    assert len(set(seen)) == 8
    assert {path.parent.relative_to(pytester.path) for path in seen} == {
        Path("shared/tests/unit/test_api"),
        Path("shared/tests/integration/test_api"),
    }
    assert all(len(path.name) <= 100 for path in seen)


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


def test_a_missing_cassette_is_an_empty_one(pytester: pytest.Pytester) -> None:
    # A test that sends nothing records nothing, and git keeps no empty directory: its cassette is missing.
    write_tests(
        pytester,
        """
        from botocore.exceptions import ClientError

        @pytest.mark.bedrock(cassette=True)
        def test_silent(bedrock):
            pass

        @pytest.mark.bedrock(cassette=True)
        def test_asks(bedrock):
            with pytest.raises(ClientError):
                ask(bedrock.client(config=ONE_ATTEMPT))
        """,
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_asks*",
            "    - No recording in cassette */test_asks matches *the cassette is empty*",
        ]
    )


@pytest.mark.parametrize("where", ["--bedrock-record=once", "marker"])
def test_a_record_mode_without_credentials_is_a_usage_error(pytester: pytest.Pytester, where: str) -> None:
    # A missing cassette: once records into it.
    marker = (
        '@pytest.mark.bedrock(cassette=True, record="once")'
        if where == "marker"
        else "@pytest.mark.bedrock(cassette=True)"
    )
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
    result.assert_outcomes(passed=1, failed=1, errors=1)  # the miss fails the test (once: not again at teardown)
    result.stdout.fnmatch_lines(["*first difference at inferenceConfig.temperature: sent 0.5, recorded nothing*"])
    result.stdout.fnmatch_lines(["*replay timing 'sometimes': expected instant, recorded or scaled:FACTOR*"])


def test_a_replay_spec_that_records_is_refused(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        @pytest.mark.bedrock(engine="replay:somewhere?mode=all")
        def test_records_behind_the_plugins_back(bedrock):
            pass
        """,
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*engine 'replay:somewhere?mode=all' records: use cassette= with --bedrock-record*"])
