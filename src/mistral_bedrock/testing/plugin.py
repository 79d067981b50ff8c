"""The pytest plugin (the ``pytest11`` entry point ``mistral_bedrock``): options, ini keys, the ``bedrock`` marker,
and the fixtures ``bedrock``, ``bedrock_env`` and ``bedrock_config``. See docs/TESTING.md.

Every pytest run of anyone who has mistral-bedrock installed imports this module, so it imports only pytest, the
standard library and :mod:`.settings`; the runtime, boto3 and botocore load inside the fixtures, when a test asks
for them. ``-p no:mistral_bedrock`` turns the plugin off.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from .settings import DEFAULT_REGION, RECORD_MODES, Options, SettingsError, merge

if TYPE_CHECKING:
    from .fixture import BedrockFixture
    from .session import SessionRuntime
    from .upstream import Upstream

_OPTIONS = pytest.StashKey[Options]()
_UPSTREAM: pytest.StashKey[Upstream | None] = pytest.StashKey()
_CALL_PASSED = pytest.StashKey[bool]()

_MARKER = (
    "bedrock(engine=None, faults=(), cassette=None, record=None, region=None, assert_all_used=None): the local "
    "Bedrock runtime of the bedrock fixture for this test: its engine (a spec or an engine object) or cassette "
    "(True, a name or a path), fault rules active from the start, the cassette's record mode, the Region its "
    "clients sign for, and whether scripted rules and recorded interactions never used fail the test"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bedrock", "mistral-bedrock: a local Amazon Bedrock runtime for tests")
    texts = (
        ("engine", "SPEC", "engine of tests that name none, e.g. llamacpp:models/tiny.gguf (default: builtin)"),
        ("record", "MODE", f"cassette record mode: {', '.join(RECORD_MODES)} (default: none, offline)"),
        ("cassette-dir", "DIR", "where cassettes live (default: a cassettes folder beside each test file)"),
        ("upstream-url", "URL", "where record modes send requests (default: Amazon Bedrock)"),
        ("region", "REGION", f"the Region of the fixture's clients and of recordings (default: {DEFAULT_REGION})"),
    )
    for name, metavar, text in texts:
        dest = "bedrock_" + name.replace("-", "_")
        choices = RECORD_MODES if name == "record" else None
        wins = "wins over every test's marker and bedrock_config" if name == "record" else "wins over the ini key"
        group.addoption(
            f"--bedrock-{name}", dest=dest, metavar=metavar, default=None, choices=choices, help=f"{text}; {wins}"
        )
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


def _marker_layers(item: pytest.Item) -> list[tuple[str, dict[str, Any]]]:
    """The test's ``bedrock`` markers as settings layers, the farthest first.

    Raises:
        SettingsError: A marker with positional arguments.
    """
    markers = list(item.iter_markers("bedrock"))  # the test's own first
    if any(marker.args for marker in markers):
        raise SettingsError("bedrock marker: takes keyword arguments only")
    return [("bedrock marker", dict(marker.kwargs)) for marker in reversed(markers)]


def _config_may_name_cassette(item: pytest.Item, options: Options) -> bool:
    """Whether ``item``'s ``bedrock_config`` — known only once its fixtures run — may give it a cassette: a
    conftest or module overrides it where the test sees it, or the test gets the fixture at run time."""
    if "bedrock" not in getattr(item, "fixturenames", ()):
        return options.autouse
    # The definitions of a fixture a test sees, the plugin's first: pytest keeps no public view of them.
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.get("bedrock_config") if info is not None else None
    return definitions is None or len(definitions) > 1


def _will_record(item: pytest.Item, options: Options) -> str | None:
    """Why ``item`` may send requests to Amazon Bedrock, or None when it will not (or its fixture will fail)."""
    try:
        layers = _marker_layers(item)
        settings = merge(options, layers, every_source=False)
    except SettingsError:
        return None  # the test's fixture reports it
    if settings.record == "none":
        return None
    if settings.cassette is None:
        if any("engine" in layer or "cassette" in layer for _, layer in layers):
            return None  # the markers, which win over bedrock_config, leave it no cassette
        if not _config_may_name_cassette(item, options):
            return None
    elif settings.record == "once":
        from .cassettes import cassette_directory, has_recordings

        if has_recordings(cassette_directory(settings.cassette, item, options.cassette_dir, item.config.rootpath)):
            return None  # once replays a cassette that holds recordings
    return f"record mode {settings.record!r} of {item.nodeid}"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Read AWS credentials now, once, when a selected test will record: before any test's fixtures replace them.

    Never under ``--collect-only``; never for tests whose cassettes a record mode ``once`` would only replay.
    """
    options = session.config.stash[_OPTIONS]
    upstream = None
    if not session.config.option.collectonly:
        why = next(filter(None, (_will_record(item, options) for item in session.items)), None)
        if why is not None:
            from .upstream import read_upstream

            upstream = read_upstream(options.upstream_url, why)
    session.config.stash[_UPSTREAM] = upstream


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.when == "call":
        item.stash[_CALL_PASSED] = report.passed  # not a failure, a skip or an xfail
    return report


@pytest.fixture(scope="session")
def bedrock_config() -> Mapping[str, Any]:
    """The ``bedrock`` fixture's settings for a scope (override it in a conftest, at any scope); the ``bedrock``
    marker's keywords win over it. Keys: the marker's (``engine``, ``faults``, ``cassette``, ``record``, ``region``,
    ``assert_all_used``, and a cassette's ``match_ignore``, ``timing``, ``secrets``, ``redact``, ``redactors``)."""
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
    request: pytest.FixtureRequest, _bedrock_session: SessionRuntime, bedrock_config: object
) -> Iterator[BedrockFixture]:
    """A local Bedrock runtime for this test: ``.url``, ``.region``, ``.client()``, ``.mistral_client()``,
    ``.async_client()``, ``.requests``, ``.faults``, ``.script(rules)``, ``.reset()``, ``.engine``. Fault rules and
    the journal start empty; what a test that passed left unmet fails it at teardown."""
    from .fixture import BedrockFixture

    options = request.config.stash[_OPTIONS]
    request.node.stash[_CALL_PASSED] = False  # until its call says otherwise (a set-up error never calls it)
    problem: str | None = None
    try:
        if not isinstance(bedrock_config, Mapping):
            raise SettingsError(
                "bedrock_config: must return a mapping of the bedrock marker's keywords (a dict), "
                f"got {type(bedrock_config).__name__} {bedrock_config!r}"
            )
        settings = merge(options, [("bedrock_config", bedrock_config), *_marker_layers(request.node)])
        upstream = request.config.stash.get(_UPSTREAM, None)
        fixture = BedrockFixture.for_test(request.node, _bedrock_session, options, settings, upstream)
    except (ValueError, pytest.UsageError) as exc:  # SettingsError is a ValueError
        problem = f"bedrock: {exc}"
    if problem is not None:  # failed outside the handler, so that the report is this one line
        pytest.fail(problem, pytrace=False)
    yield fixture
    unmet = fixture.finish(unused=settings.assert_all_used)
    # Over a test that failed, was skipped or xfailed, or never ran, leftovers are noise, or a second report.
    if unmet and request.node.stash.get(_CALL_PASSED, False):
        from .leftovers import report

        pytest.fail(report(request.node.nodeid, unmet), pytrace=False)


@pytest.fixture
def bedrock_env(bedrock: BedrockFixture, monkeypatch: pytest.MonkeyPatch) -> BedrockFixture:
    """The ``bedrock`` fixture, with ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` and dummy credentials set, so that
    unmodified code (``boto3.client("bedrock-runtime")``) and subprocesses reach the runtime, never real AWS."""
    from .environment import bedrock_environment

    for name, value in bedrock_environment(bedrock.url, bedrock.region).items():
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
