"""Teardown checks: a scripted rule the test never used fails it, in one readable block, unless
``assert_all_used`` is off (marker, ``bedrock_config`` or ini); only a test that passed is told, and only once."""

from __future__ import annotations

import pytest

from tests.testing.plugin_support import write_tests

# Two rules, as the Python literal an inner test passes to bedrock.script() (and as JSON for a rules file).
RULES = (
    '[{"name": "weather", "contains": "weather", "reply": {"text": "Sunny."}}, '
    '{"regex": "^Hi", "turn": 1, "reply": {"text": "Hello."}}]'
)


def test_an_unused_rule_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        f"""
        def test_app(bedrock):
            bedrock.script({RULES})
            assert ask(bedrock.client(), "And the weather?") == "Sunny."
        """,
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_app*",
            "bedrock: test_app.py::test_app left expectations unmet:",
            "  scripted rules never used:",
            "    - rule 1: regex='^Hi', turn=1",
            "  Unused rules and interactions pass with assert_all_used=False*",
        ]
    )
    result.stdout.no_fnmatch_line("*rule 0*")


CONFIG_OFF = """
import pytest

@pytest.fixture(scope="module")
def bedrock_config():
    return {"assert_all_used": False}
"""


@pytest.mark.parametrize(
    ("ini", "conftest", "marker"),
    [
        ("", "", "@pytest.mark.bedrock(assert_all_used=False)"),
        ("", CONFIG_OFF, ""),
        ("bedrock_assert_all_used = false", "", ""),
    ],
    ids=["marker", "bedrock_config", "ini"],
)
def test_assert_all_used_false_allows_unused_rules(
    pytester: pytest.Pytester, ini: str, conftest: str, marker: str
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makeconftest(conftest)
    write_tests(
        pytester,
        f"""
        {marker}
        def test_app(bedrock):
            bedrock.script({RULES})
        """,
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_marker_wins_over_bedrock_config(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def bedrock_config():
            return {"assert_all_used": False}
        """
    )
    write_tests(
        pytester,
        f"""
        @pytest.mark.bedrock(assert_all_used=True)
        def test_app(bedrock):
            bedrock.script({RULES})
        """,
    )
    pytester.runpytest().assert_outcomes(passed=1, errors=1)


def test_only_a_test_that_passed_is_told_what_it_left_unmet(pytester: pytest.Pytester) -> None:
    pytester.mkdir("cassettes").joinpath("empty").mkdir()  # every request misses
    write_tests(
        pytester,
        f"""
        from botocore.exceptions import ClientError

        @pytest.fixture
        def broken(bedrock):
            bedrock.script({RULES})
            raise RuntimeError("set-up failed")

        def test_failed(bedrock):
            bedrock.script({RULES})
            assert ask(bedrock.client(), "weather") == "Rainy."

        def test_skipped(bedrock):
            bedrock.script({RULES})
            pytest.skip("not today")

        @pytest.mark.xfail(reason="a known bug", strict=True)
        def test_xfailed(bedrock):
            bedrock.script({RULES})
            assert False

        def test_set_up_failed(broken):
            pass

        @pytest.mark.bedrock(cassette="empty")
        def test_failed_on_a_miss(bedrock):
            ask(bedrock.client(config=ONE_ATTEMPT))

        @pytest.mark.bedrock(cassette="empty", assert_all_used=False)
        def test_passed_over_a_miss(bedrock):
            with pytest.raises(ClientError):
                ask(bedrock.client(config=ONE_ATTEMPT))
        """,
    )
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1, failed=2, skipped=1, xfailed=1, errors=2)
    result.stdout.fnmatch_lines(
        ["*ERROR at setup of test_set_up_failed*", "*ERROR at teardown of test_passed_over_a_miss*"]
    )
    result.stdout.no_fnmatch_line("*never used*")
    result.stdout.no_fnmatch_line("*at teardown of test_failed*")


def test_the_command_line_engines_rules_are_not_the_tests_expectations(pytester: pytest.Pytester) -> None:
    pytester.makefile(".json", rules=RULES)
    write_tests(
        pytester,
        """
        def test_app(bedrock):
            assert ask(bedrock.client(), "weather") == "Sunny."

        @pytest.mark.bedrock(engine="scripted:rules.json")
        def test_named(bedrock):
            assert ask(bedrock.client(), "weather") == "Sunny."
        """,
    )
    result = pytester.runpytest("--bedrock-engine", "scripted:rules.json")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_named*"])
