"""How a test's settings merge: defaults, then the command line or ini, then ``bedrock_config``, then the markers
(farthest first) — and what each source may not say."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from mistral_bedrock.engines.cassette import RecordMode
from mistral_bedrock.testing.settings import BedrockSettings, Options, SettingsError, merge
from tests.testing.plugin_support import write_tests


def test_a_later_source_wins_key_by_key() -> None:
    settings = merge(
        Options(record="once", assert_all_used=False),
        [
            ("bedrock_config", {"engine": "scripted:a.yaml", "faults": ["throttle"], "assert_all_used": True}),
            ("bedrock marker", {"faults": "latency:first_byte=1", "record": RecordMode.ALL}),
        ],
    )
    assert settings == BedrockSettings(
        engine="scripted:a.yaml", faults=("latency:first_byte=1",), record="all", assert_all_used=True
    )
    assert merge(Options(record="once", assert_all_used=False), []) == BedrockSettings(
        record="once", assert_all_used=False
    )


def test_a_cassette_and_an_engine_replace_each_other() -> None:
    options = Options()
    assert merge(options, [("config", {"engine": "builtin"}), ("marker", {"cassette": True})]).engine is None
    replaced = merge(options, [("config", {"cassette": "shared"}), ("marker", {"engine": "builtin"})])
    assert (replaced.engine, replaced.cassette) == ("builtin", None)
    assert merge(options, [("config", {"cassette": "shared"}), ("marker", {"cassette": False})]).cassette is None
    path = Path("/tmp/elsewhere")
    assert merge(options, [("marker", {"cassette": path})]).cassette == path


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (
            {"engin": "builtin"},
            "marker: unknown key engin; it takes engine, faults, cassette, record, assert_all_used, match_ignore, timing, secrets, redact, redactors",
        ),
        ({"engine": "builtin", "cassette": True}, "marker: give engine or cassette, not both*"),
        ({"record": "sometimes"}, "marker: record must be one of none, once, new_episodes, all, got 'sometimes'"),
        ({"assert_all_used": "no"}, "marker: assert_all_used must be True or False, got 'no'"),
        ({"cassette": 3}, "marker: cassette must be True, a name or a path, got 3"),
    ],
)
def test_a_bad_key_or_value_names_its_source(layer: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as info:
        merge(Options(), [("marker", layer)])
    assert fnmatch.fnmatchcase(str(info.value), message), str(info.value)


def test_bedrock_config_and_the_marker_merge(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", rules="default: {text: From the file.}\n")
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="module")
        def bedrock_config():
            return {"engine": "scripted:rules.yaml", "faults": ["latency:first_byte=1"]}
        """
    )
    write_tests(
        pytester,
        """
        def test_config(bedrock):
            assert ask(bedrock.client()) == "From the file."
            assert [rule["kind"] for rule in bedrock.faults.rules] == ["latency"]

        @pytest.mark.bedrock(faults=["throttle:count=1"])
        def test_marker_faults(bedrock):
            assert [rule["kind"] for rule in bedrock.faults.rules] == ["error"]
            assert bedrock.engine.name == "scripted"

        @pytest.mark.bedrock(engine="builtin")
        class TestBuiltin:
            def test_class_marker(self, bedrock):
                assert bedrock.engine.name == "builtin"

            @pytest.mark.bedrock(engine="scripted:rules.yaml")
            def test_own_marker_wins(self, bedrock):
                assert bedrock.engine.name == "scripted"
        """,
    )
    pytester.runpytest().assert_outcomes(passed=4)


@pytest.mark.parametrize("where", ["command line", "ini"])
def test_the_default_engine_comes_from_the_command_line_or_the_ini_file(pytester: pytest.Pytester, where: str) -> None:
    pytester.mkdir("scripts").joinpath("rules.yaml").write_text("default: {text: Scripted for the suite.}\n")
    args = ["--bedrock-engine", "scripted:scripts/rules.yaml"] if where == "command line" else []
    pytester.makeini("[pytest]\n" + ("bedrock_engine = scripted:scripts/rules.yaml\n" if where == "ini" else ""))
    write_tests(
        pytester,
        """
        def test_default(bedrock):
            assert ask(bedrock.client()) == "Scripted for the suite."

        @pytest.mark.bedrock(engine="builtin")
        def test_named(bedrock):
            assert ask(bedrock.client()) != "Scripted for the suite."
        """,
    )
    pytester.runpytest(*args).assert_outcomes(passed=2)


def test_a_bad_record_mode_in_the_ini_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nbedrock_record = sometimes\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*bedrock_record: record must be one of none, once, new_episodes, all, got 'sometimes'"]
    )
