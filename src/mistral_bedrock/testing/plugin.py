"""The pytest plugin (the ``pytest11`` entry point ``mistral_bedrock``): options, ini keys, the ``bedrock`` marker,
and the fixtures ``bedrock``, ``bedrock_env`` and ``bedrock_config``. See docs/TESTING.md.

Every pytest run of anyone who has mistral-bedrock installed imports this module, so it imports only pytest, the
standard library and :mod:`.settings`; the runtime, boto3 and botocore load inside the fixtures, when a test asks
for them. ``-p no:mistral_bedrock`` turns the plugin off.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .settings import RECORD_MODES, Options, SettingsError, merge, record_mode

if TYPE_CHECKING:
    from .fixture import BedrockFixture
    from .session import SessionRuntime
    from .upstream import Upstream

_OPTIONS = pytest.StashKey[Options]()
_UPSTREAM: pytest.StashKey[Upstream | None] = pytest.StashKey()
_CALL_FAILED = pytest.StashKey[bool]()

_MARKER = (
    "bedrock(engine=None, faults=(), cassette=None, record=None, assert_all_used=None): the local Bedrock "
    "runtime of the bedrock fixture for this test: its engine (a spec or an engine object) or cassette (True, a "
    "name or a path), fault rules active from the start, the cassette's record mode, and whether scripted rules "
    "and recorded interactions never used fail the test"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bedrock", "mistral-bedrock: a local Amazon Bedrock runtime for tests")
    texts = (
        ("engine", "SPEC", "engine of tests that name none, e.g. llamacpp:models/tiny.gguf (default: builtin)"),
        ("record", "MODE", f"cassette record mode: {', '.join(RECORD_MODES)} (default: none, offline)"),
        ("cassette-dir", "DIR", "where cassettes live (default: a cassettes folder beside each test file)"),
        ("upstream-url", "URL", "where record modes send requests (default: Amazon Bedrock)"),
        ("region", "REGION", "the Region record modes sign for and send to (default: the AWS chain's)"),
    )
    for name, metavar, text in texts:
        dest = "bedrock_" + name.replace("-", "_")
        choices = RECORD_MODES if name == "record" else None
        group.addoption(f"--bedrock-{name}", dest=dest, metavar=metavar, default=None, choices=choices, help=text)
        parser.addini(dest, f"{text}; --bedrock-{name} wins", type="string", default="")
    parser.addini("bedrock_autouse", "give every test the bedrock_env fixture", type="bool", default=False)
    parser.addini(
        "bedrock_assert_all_used",
        "fail a test that leaves scripted rules or recorded interactions unused",
        type="bool",
        default=True,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)
    config.stash[_OPTIONS] = Options.from_config(config)


def _marker_records(item: pytest.Item) -> bool:
    for marker in item.iter_markers("bedrock"):
        try:
            if record_mode(marker.kwargs.get("record", "none"), "marker") != "none":
                return True
        except SettingsError:
            pass  # the test's fixture reports it
    return False


def pytest_collection_finish(session: pytest.Session) -> None:
    """Read AWS credentials now, once, when a record mode is on: before any test's fixtures replace them."""
    options = session.config.stash[_OPTIONS]
    upstream = None
    why = f"record mode {options.record!r} (--bedrock-record, or ini bedrock_record)" if options.records else None
    if why is None:
        why = next((f"the bedrock marker of {item.nodeid}" for item in session.items if _marker_records(item)), None)
    if why is not None:
        from .upstream import read_upstream

        upstream = read_upstream(options.region, options.upstream_url, why)
    session.config.stash[_UPSTREAM] = upstream


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def bedrock_config() -> dict[str, Any]:
    """The ``bedrock`` fixture's settings for a scope (override it in a conftest, at any scope); the ``bedrock``
    marker's keywords win over it. Keys: ``engine``, ``faults``, ``cassette``, ``record``, ``assert_all_used``."""
    return {}


@pytest.fixture(scope="session")
def _bedrock_session() -> Iterator[SessionRuntime]:
    """The runtime every test of the session shares."""
    from .session import MissingDependency, SessionRuntime

    missing: str | None = None
    try:
        runtime = SessionRuntime()
    except MissingDependency as exc:
        missing = str(exc)
    if missing is not None:  # failed outside the handler, so that the report is this one line
        pytest.fail(missing, pytrace=False)
    yield runtime
    runtime.stop()


@pytest.fixture
def bedrock(
    request: pytest.FixtureRequest, _bedrock_session: SessionRuntime, bedrock_config: dict[str, Any]
) -> Iterator[BedrockFixture]:
    """A local Bedrock runtime for this test: ``.url``, ``.client()``, ``.mistral_client()``, ``.async_client()``,
    ``.requests``, ``.faults``, ``.script(rules)``, ``.reset()``, ``.engine``. Fault rules and the journal start
    empty; what the test left unused fails it at teardown."""
    from .fixture import BedrockFixture

    options = request.config.stash[_OPTIONS]
    markers = [("bedrock marker", dict(marker.kwargs), marker.args) for marker in request.node.iter_markers("bedrock")]
    problem: str | None = None
    try:
        if any(args for _, _, args in markers):
            raise SettingsError("bedrock marker: takes keyword arguments only")
        layers = [("bedrock_config", bedrock_config), *((source, kwargs) for source, kwargs, _ in reversed(markers))]
        settings = merge(options, layers)
        upstream = request.config.stash.get(_UPSTREAM, None)
        fixture = BedrockFixture.for_test(request.node, _bedrock_session, options, settings, upstream)
    except (ValueError, pytest.UsageError) as exc:  # SettingsError is a ValueError
        problem = f"bedrock: {exc}"
    if problem is not None:  # failed outside the handler, so that the report is this one line
        pytest.fail(problem, pytrace=False)
    yield fixture
    failed = request.node.stash.get(_CALL_FAILED, False)
    unmet = fixture.finish(unused=settings.assert_all_used and not failed)
    if unmet:
        from .leftovers import report

        pytest.fail(report(request.node.nodeid, unmet), pytrace=False)


@pytest.fixture
def bedrock_env(bedrock: BedrockFixture, monkeypatch: pytest.MonkeyPatch) -> BedrockFixture:
    """The ``bedrock`` fixture, with ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` and dummy credentials set, so that
    unmodified code (``boto3.client("bedrock-runtime")``) and subprocesses reach the runtime, never real AWS."""
    from .environment import bedrock_environment

    for name, value in bedrock_environment(bedrock.url).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return bedrock


@pytest.fixture(autouse=True)
def _bedrock_autouse(request: pytest.FixtureRequest) -> None:
    """``bedrock_env`` for every test, when the ini file says ``bedrock_autouse = true``."""
    if request.config.stash[_OPTIONS].autouse:
        request.getfixturevalue("bedrock_env")
