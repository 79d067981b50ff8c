"""How the plugin is loaded: through its ``pytest11`` entry point, importing only pytest and the standard library,
switched off with ``-p no:mistral_bedrock``; and a missing extra fails the fixture with one line saying what to
install."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mistral_bedrock.testing.plugin
from tests.testing.plugin_support import write_tests


def test_the_entry_point_loads_the_plugin(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import mistral_bedrock.testing.plugin

        def test_loaded(pytestconfig):
            assert ("mistral_bedrock", mistral_bedrock.testing.plugin) in pytestconfig.pluginmanager.list_name_plugin()
        """,
    )
    result = pytester.runpytest("--trace-config")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*mistral_bedrock*{mistral_bedrock.testing.plugin.__file__}*"])


def test_the_plugin_can_be_switched_off(pytester: pytest.Pytester) -> None:
    write_tests(pytester, "def test_app(bedrock):\n    pass\n")
    result = pytester.runpytest("-p", "no:mistral_bedrock")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'bedrock' not found*"])


def test_importing_the_plugin_imports_only_pytest_and_the_standard_library() -> None:
    code = (
        "import sys; import pytest; before = set(sys.modules); import mistral_bedrock.testing.plugin; "
        "print(sorted({name.split('.')[0] for name in set(sys.modules) - before} - set(sys.stdlib_module_names)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['mistral_bedrock']"


def test_without_the_runtime_extra_the_fixture_says_what_to_install(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("import sys\n\nsys.modules['uvicorn'] = None  # as if it were not installed\n")
    write_tests(
        pytester,
        """
        def test_one(bedrock):
            pass

        def test_two(bedrock_env):
            pass

        def test_without():
            pass
        """,
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        ["the bedrock fixture needs the runtime extra (*uvicorn*): pip install 'mistral-bedrock[[]runtime[]]'"]
    )
    result.stdout.no_fnmatch_line("*During handling*")


def test_without_boto3_the_client_says_what_to_install(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_app="""
        import sys

        def test_client(bedrock, monkeypatch):
            monkeypatch.setitem(sys.modules, "boto3", None)
            bedrock.client()
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bedrock.client() needs boto3: pip install boto3"])
