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
            "marker: unknown key engin; it takes engine, faults, cassette, record, region, assert_all_used, match_ignore, timing, secrets, redact, redactors",
        ),
        ({"engine": "builtin", "cassette": True}, "marker: give engine or cassette, not both*"),
        ({"record": "sometimes"}, "marker: record must be one of none, once, new_episodes, all, got 'sometimes'"),
        ({"assert_all_used": "no"}, "marker: assert_all_used must be True or False, got 'no'"),
        ({"cassette": 3}, "marker: cassette must be True, a name or a path, got 3"),
        ({"cassette": ""}, "marker: cassette must be True, a name or a path, got ''"),
        ({"cassette": "../../etc"}, "marker: cassette '../../etc' leaves the cassette directory; *absolute path"),
        ({"cassette": Path("a/../../b")}, "marker: cassette 'a/../../b' leaves the cassette directory; *"),
        (
            {"engine": 5},
            "marker: engine must be an engine spec such as 'scripted:rules.yaml', an engine object or None, got 5",
        ),
        ({"engine": object}, "marker: engine must be *, got <class 'object'>"),
        (
            {"cassette": True, "redactors": "hook"},
            "marker: redactors must be a function or a list of functions, got 'hook'",
        ),
        (
            {"cassette": True, "redactors": [len, 5]},
            "marker: redactors must be a function or a list of functions, got *",
        ),
        (
            {"timing": "recorded"},
            "marker: timing: cassette options, and the test has no cassette (cassette=True or a name)",
        ),
        ({"engine": "builtin", "redact": ["x"]}, "marker: redact: cassette options, and the test has no cassette*"),
        ({"region": "Not a Region"}, "marker: region must be a Region's name such as us-west-2, got 'Not a Region'"),
    ],
)
def test_a_bad_key_or_value_names_its_source(layer: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as info:
        merge(Options(), [("marker", layer)])
    assert fnmatch.fnmatchcase(str(info.value), message), str(info.value)


class Engine:
    def generate(self, request: object) -> None: ...


class Relay:
    def relay(self, request: object) -> None: ...


def test_what_each_key_accepts() -> None:
    options = Options(record="once", region="eu-west-3", assert_all_used=False)
    for engine in (None, "scripted:rules.yaml", Engine(), Relay()):
        assert merge(options, [("marker", {"engine": engine})]).engine is engine
    config = ("config", {"record": "all", "assert_all_used": True, "region": "us-west-2"})
    defaults = merge(options, [config, ("marker", {"record": None, "assert_all_used": None, "region": "us-east-1"})])
    assert (defaults.record, defaults.assert_all_used, defaults.region) == ("once", False, "us-east-1")
    assert merge(options, [("marker", {"cassette": "/elsewhere/../c"})]).cassette == "/elsewhere/../c"
    hooked = merge(options, [("marker", {"cassette": "inner/c", "redactors": len})])
    assert (hooked.cassette, hooked.cassette_options) == ("inner/c", {"redactors": (len,)})
    # Cassette options go with the cassette an engine replaces; without every source, they wait for theirs.
    replaced = merge(options, [("config", {"cassette": True, "timing": "recorded"}), ("marker", {"engine": "builtin"})])
    assert replaced.cassette_options == {}
    assert merge(options, [("marker", {"timing": "recorded"})], every_source=False).cassette is None


def test_the_command_lines_record_mode_wins_over_every_source() -> None:
    layers = [("bedrock_config", {"record": "all"}), ("bedrock marker", {"record": "once", "cassette": True})]
    assert merge(Options(record="new_episodes", forced_record="none"), layers).record == "none"
    assert merge(Options(forced_record="all"), [("bedrock marker", {"record": "none"})]).record == "all"
    assert merge(Options(record="new_episodes"), []).record == "new_episodes"


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (
            "None",
            "bedrock: bedrock_config: must return a mapping of the bedrock marker's keywords (a dict), got NoneType None",
        ),
        (
            '[("engine", "builtin")]',
            "bedrock: bedrock_config: must return a mapping *, got list [[]('engine', 'builtin')[]]",
        ),
    ],
)
def test_a_bedrock_config_that_is_no_mapping_fails_in_one_line(
    pytester: pytest.Pytester, returned: str, message: str
) -> None:
    pytester.makeconftest(f"import pytest\n\n@pytest.fixture\ndef bedrock_config():\n    return {returned}\n")
    write_tests(pytester, "def test_app(bedrock):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])
    result.stdout.no_fnmatch_line("*Traceback*")


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


@pytest.mark.parametrize("where", ["command line", "ini", "ini, started elsewhere"])
def test_the_default_engine_comes_from_the_command_line_or_the_ini_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    pytester.mkdir("scripts").joinpath("rules.yaml").write_text("default: {text: Scripted for the suite.}\n")
    args = ["--bedrock-engine", "scripted:scripts/rules.yaml"] if where == "command line" else []
    pytester.makeini("[pytest]\n" + ("bedrock_engine = scripted:scripts/rules.yaml\n" if "ini" in where else ""))
    if where == "ini, started elsewhere":  # the ini file's relative path is relative to the ini file
        monkeypatch.chdir(pytester.mkdir("elsewhere"))
        args = [str(pytester.path)]
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
