"""Record modes through the plugin: the command line's ``--bedrock-record`` wins over every other source, AWS
credentials are read when collection ends only if a selected test will really record, and recordings are made in
the tests' Region. The suite's environment holds no AWS credentials: a session that reads them is a usage error."""

from __future__ import annotations

import pytest

from mistral_bedrock.runtime import RuntimeConfig, ServerThread
from tests.testing.plugin_support import write_cassette, write_tests

AKID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
NO_CREDENTIALS = "ERROR: record mode * records from Amazon Bedrock and needs AWS credentials, but *"

RECORDED = (
    "@pytest.mark.bedrock(cassette=True)\ndef test_app(bedrock):\n    assert ask(bedrock.client()) == 'Recorded.'\n"
)
PLAIN = "def test_plain(bedrock):\n    assert ask(bedrock.client())\n"
CONFIG_CASSETTE = "import pytest\n\n@pytest.fixture\ndef bedrock_config():\n    return {'cassette': True}\n"


def bedrock_stand_in(region: str = "us-east-1") -> ServerThread:
    """Amazon Bedrock, as a runtime that takes only the "real" key, signed for ``region``."""
    return ServerThread(config=RuntimeConfig(auth=f"strict:{AKID}:{SECRET};region={region}"))


@pytest.mark.parametrize(
    ("marker", "args", "ini"),
    [
        ('record="once"', [], ""),  # once only replays a cassette that holds recordings
        ('record="all"', ["--bedrock-record=none"], ""),  # the command line forces offline
        ("", ["--bedrock-record=once"], "bedrock_record = all"),
        ("", [], "bedrock_record = once"),
    ],
    ids=["marker once", "command line none", "command line once", "ini once"],
)
def test_a_session_that_will_not_record_reads_no_credentials(
    pytester: pytest.Pytester, marker: str, args: list[str], ini: str
) -> None:
    write_cassette(pytester.path / "cassettes" / "test_app" / "test_app", Hello="Recorded.")
    pytester.makeini(f"[pytest]\n{ini}\n")
    write_tests(pytester, RECORDED.replace("cassette=True", f"cassette=True, {marker}") + PLAIN)
    pytester.runpytest(*args).assert_outcomes(passed=2)  # the plain test has no cassette to record into


def test_collect_only_reads_no_credentials(pytester: pytest.Pytester) -> None:
    write_tests(pytester, RECORDED)
    result = pytester.runpytest("--collect-only", "--bedrock-record=all")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*1 test collected*"])


@pytest.mark.parametrize(
    ("marker", "args", "conftest"),
    [
        ('record="once"', [], ""),  # a cassette directory that holds no recording
        ('record="none"', ["--bedrock-record=new_episodes"], ""),  # the command line wins over the marker
        (None, ["--bedrock-record=all"], CONFIG_CASSETTE),  # bedrock_config may name a cassette
    ],
    ids=["marker once, empty cassette", "command line new_episodes", "bedrock_config cassette"],
)
def test_a_session_that_may_record_reads_credentials(
    pytester: pytest.Pytester, marker: str | None, args: list[str], conftest: str
) -> None:
    (pytester.path / "cassettes" / "test_app" / "test_app").mkdir(parents=True)
    (pytester.path / "cassettes" / "test_app" / "test_app" / "README.md").write_text("Recorded by CI.\n")
    pytester.makeconftest(conftest)
    write_tests(pytester, PLAIN if marker is None else RECORDED.replace("cassette=True", f"cassette=True, {marker}"))
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([NO_CREDENTIALS])


def test_a_record_mode_from_bedrock_config_alone_says_to_pass_it_on_the_command_line(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("import pytest\n\n@pytest.fixture\ndef bedrock_config():\n    return {'record': 'once'}\n")
    write_tests(pytester, RECORDED)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["bedrock: record mode 'once' of cassette * was set by bedrock_config only*pass --bedrock-record=once*"]
    )


def test_the_command_lines_all_re_records_what_a_marker_would_replay(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    cassette = pytester.path / "cassettes" / "test_app" / "test_app"
    write_cassette(cassette, Hello="Recorded.")
    write_tests(
        pytester,
        '@pytest.mark.bedrock(cassette=True, record="none")\ndef test_app(bedrock):\n    ask(bedrock.client())\n',
    )
    with bedrock_stand_in() as upstream:
        result = pytester.runpytest("--bedrock-record=all", f"--bedrock-upstream-url={upstream.url}")
        result.assert_outcomes(passed=1)
        assert len(upstream.app.state.journal.entries()) == 1
    assert any("built-in engine" in path.read_text() for path in cassette.iterdir())


def test_recordings_are_made_in_the_tests_region(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")  # the AWS chain's Region, which is not the tests'
    write_tests(
        pytester,
        """
        @pytest.mark.bedrock(cassette=True)
        def test_default(bedrock):
            assert ask(bedrock.client(), "Record me")

        @pytest.mark.bedrock(cassette=True, region="us-west-2")
        def test_marked(bedrock):
            assert ask(bedrock.client(), "Record me")
        """,
    )
    for test, region in (("test_default", "us-east-1"), ("test_marked", "us-west-2")):
        with bedrock_stand_in(region) as upstream:
            result = pytester.runpytest("-k", test, "--bedrock-record=once", f"--bedrock-upstream-url={upstream.url}")
            result.assert_outcomes(passed=1)
        (recording,) = (pytester.path / "cassettes" / "test_app" / test).iterdir()
        assert f"region: {region}" in recording.read_text()
