"""The ``replay:DIR?…`` spec (:class:`ReplaySettings`): its defaults, every option, repeated and refused options, a
clear ValueError for each bad value, ``spec()`` read back equal by ``parse`` (property-tested over option
combinations, regexes full of URL characters and directories with spaces), :class:`Timing`'s text forms and which
:class:`RecordMode` records."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mistral_bedrock.engines.cassette.settings import RecordMode, ReplaySettings, Timing

KNOWN = "ignore, mode, redact, region, secrets, timing, upstream"


def parse_spec(spec: str) -> ReplaySettings:
    """An engine spec read back: ``parse`` takes what follows ``replay:``, as the engine registry hands it over."""
    name, colon, argument = spec.partition(":")
    assert (name, colon) == ("replay", ":"), spec
    return ReplaySettings.parse(argument)


# -- defaults and options --------------------------------------------------------------------------------------------


def test_a_bare_directory_takes_every_default() -> None:
    settings = ReplaySettings.parse("cassettes/chat")
    assert settings == ReplaySettings(Path("cassettes/chat"))
    assert settings.directory == Path("cassettes/chat")
    assert settings.mode is RecordMode.NONE
    assert settings.timing == Timing(0.0)
    assert settings.ignore == ()
    assert settings.upstream_url is None
    assert settings.region is None
    assert settings.secrets == "redact"
    assert settings.redact == ()


def test_an_empty_query_is_the_defaults() -> None:
    assert ReplaySettings.parse("dir?") == ReplaySettings(Path("dir"))


def test_every_option_is_read() -> None:
    settings = ReplaySettings.parse(
        "cass?mode=new_episodes&timing=scaled:0.25&ignore=inferenceConfig.temperature"
        "&upstream=http://127.0.0.1:9000&region=eu-west-3&secrets=refuse&redact=sk-[a-z]{8}"
    )
    assert settings == ReplaySettings(
        directory=Path("cass"),
        mode=RecordMode.NEW_EPISODES,
        timing=Timing(0.25),
        ignore=("inferenceConfig.temperature",),
        upstream_url="http://127.0.0.1:9000",
        region="eu-west-3",
        secrets="refuse",
        redact=("sk-[a-z]{8}",),
    )


@pytest.mark.parametrize("mode", list(RecordMode))
def test_each_mode_is_read(mode: RecordMode) -> None:
    assert ReplaySettings.parse(f"d?mode={mode.value}").mode is mode


def test_ignore_and_redact_repeat_in_their_order() -> None:
    settings = ReplaySettings.parse("d?ignore=b.c&redact=two&ignore=a&redact=one&ignore=messages.*.content")
    assert settings.ignore == ("b.c", "a", "messages.*.content")
    assert settings.redact == ("two", "one")


def test_percent_escapes_are_decoded() -> None:
    settings = ReplaySettings.parse("d?redact=a%26b%3Fc%23d%3De%25&redact=x%2By%20z&region=eu%2Dwest%2D1")
    assert settings.redact == ("a&b?c#d=e%", "x+y z")
    assert settings.region == "eu-west-1"


@pytest.mark.parametrize("option", ["mode=once", "timing=recorded", "upstream=http://h", "region=r", "secrets=refuse"])
def test_a_single_option_given_twice_is_refused(option: str) -> None:
    name = option.partition("=")[0]
    with pytest.raises(ValueError, match=f"replay option '{name}' is given twice"):
        ReplaySettings.parse(f"d?{option}&{option}")


def test_an_unknown_option_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="replay option 'speed' is unknown") as caught:
        ReplaySettings.parse("d?mode=once&speed=fast")
    assert str(caught.value).endswith(f"known: {KNOWN}")


@pytest.mark.parametrize("query", ["mode", "mode=once&&timing=recorded", "a&b", "=once", "mode=once&"])
def test_a_query_that_is_not_name_value_pairs_is_refused(query: str) -> None:
    with pytest.raises(ValueError, match="expected NAME=VALUE pairs joined by '&'"):
        ReplaySettings.parse(f"d?{query}")


def test_a_spec_without_a_directory_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape("needs its cassette directory: 'replay:DIR'")):
        ReplaySettings.parse("?mode=once")


# -- bad values --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("mode=sometimes", "replay mode='sometimes': expected one of none, once, new_episodes, all"),
        ("mode=NONE", "replay mode='NONE': expected one of none, once, new_episodes, all"),
        ("timing=fast", "replay timing 'fast': expected instant, recorded or scaled:FACTOR (0 to 1000)"),
        ("timing=scaled:-1", "replay timing 'scaled:-1': expected instant, recorded or scaled:FACTOR (0 to 1000)"),
        ("timing=scaled:x", "replay timing 'scaled:x': expected instant, recorded or scaled:FACTOR (0 to 1000)"),
        ("timing=scaled:2000", "replay timing 'scaled:2000': expected instant, recorded or scaled:FACTOR (0 to 1000)"),
        ("timing=scaled:", "replay timing 'scaled:': expected instant"),
        ("timing=scaled:nan", "replay timing 'scaled:nan': expected instant"),
        ("timing=scaled:inf", "replay timing 'scaled:inf': expected instant"),
        ("timing=", "replay timing '': expected instant"),
        ("secrets=keep", "replay secrets='keep': expected redact or refuse"),
        ("ignore=", "replay ignore='': expected a dotted field path such as inferenceConfig.topP"),
        ("ignore=a..b", "replay ignore='a..b': expected a dotted field path"),
        ("ignore=a.", "replay ignore='a.': expected a dotted field path"),
        ("ignore=a%20b", "replay ignore='a b': expected a dotted field path"),
        ("ignore=a*", "replay ignore='a*': expected a dotted field path"),
        ("redact=(unclosed", "replay redact='(unclosed': not a regular expression (missing )"),
        ("redact=[a-", "replay redact='[a-': not a regular expression"),
        ("upstream=ftp://host", "replay upstream='ftp://host': expected an http:// or https:// URL"),
        ("upstream=localhost:8000", "replay upstream='localhost:8000': expected an http:// or https:// URL"),
        ("upstream=", "replay upstream='': expected an http:// or https:// URL"),
    ],
)
def test_a_bad_value_is_a_value_error_that_says_what_was_expected(query: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        ReplaySettings.parse(f"d?{query}")


def test_the_constructor_checks_its_values_too() -> None:
    with pytest.raises(ValueError, match="expected redact or refuse"):
        ReplaySettings(Path("d"), secrets="maybe")
    with pytest.raises(ValueError, match="not a regular expression"):
        ReplaySettings(Path("d"), redact=("(",))
    with pytest.raises(ValueError, match="dotted field path"):
        ReplaySettings(Path("d"), ignore=("a b",))
    with pytest.raises(ValueError, match="http:// or https://"):
        ReplaySettings(Path("d"), upstream_url="file:///etc")
    with pytest.raises(ValueError, match="'sometimes' is not a valid RecordMode"):
        ReplaySettings(Path("d"), mode="sometimes")  # type: ignore[arg-type]


def test_the_constructor_coerces_strings() -> None:
    settings = ReplaySettings("d", mode="once")  # type: ignore[arg-type]
    assert settings.directory == Path("d") and settings.mode is RecordMode.ONCE


# -- Timing and RecordMode ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "scale", "shown"),
    [
        ("instant", 0.0, "instant"),
        ("recorded", 1.0, "recorded"),
        ("scaled:0", 0.0, "instant"),
        ("scaled:1", 1.0, "recorded"),
        ("scaled:0.5", 0.5, "scaled:0.5"),
        ("scaled:2", 2.0, "scaled:2"),
        ("scaled:2.50", 2.5, "scaled:2.5"),
        ("scaled:0.123456789", 0.123456789, "scaled:0.123456789"),
        ("scaled:1000", 1000.0, "scaled:1000"),
        ("scaled:0.001", 0.001, "scaled:0.001"),
        ("scaled:1e-3", 0.001, "scaled:0.001"),
    ],
)
def test_timing_forms(text: str, scale: float, shown: str) -> None:
    timing = Timing.parse(text)
    assert timing == Timing(scale)
    assert str(timing) == shown
    assert Timing.parse(str(timing)) == timing


def test_timing_defaults_to_instant() -> None:
    assert Timing() == Timing.parse("instant") and str(Timing()) == "instant"


def test_only_mode_none_stays_offline() -> None:
    assert [mode.value for mode in RecordMode if not mode.records] == ["none"]
    assert RecordMode.ONCE.records and RecordMode.NEW_EPISODES.records and RecordMode.ALL.records


# -- spec() round trip -------------------------------------------------------------------------------------------------


def test_the_default_spec_is_the_bare_directory() -> None:
    assert ReplaySettings(Path("cassettes/chat")).spec() == "replay:cassettes/chat"


def test_spec_leaves_defaults_out_and_escapes_values() -> None:
    settings = ReplaySettings(
        Path("my cassettes/a"),
        mode=RecordMode.ONCE,
        timing=Timing(0.5),
        ignore=("messages.*.content",),
        redact=("a&b=c?d#e+f g",),
    )
    assert settings.spec() == (
        "replay:my cassettes/a?mode=once&timing=scaled:0.5&ignore=messages.*.content&redact=a%26b%3Dc%3Fd%23e%2Bf%20g"
    )
    assert parse_spec(settings.spec()) == settings


_FIELD_PATHS = st.from_regex(r"[A-Za-z0-9_$-]{1,8}(\.([A-Za-z0-9_$-]{1,8}|\*)){0,3}", fullmatch=True)
_URL_TEXT = "&?#=+% /:.*;,@!'\"()[]{}\\|^$~é中"
_REGEXES = st.one_of(
    st.sampled_from(
        [r"sk-[a-z]+", r"\d{3}-\d{4}", r"a&b", r"x?y#z=w", r"(?i)secret\s*=\s*\S+", r"^$", r"%[0-9A-F]{2}"]
    ),
    st.text(alphabet=st.sampled_from(f"abcXYZ019{_URL_TEXT}"), max_size=12).map(re.escape),
)
# Directories: spaces, URL characters and non-ASCII; never '?', which begins the options.
_DIRECTORIES = st.text(alphabet=st.sampled_from("abcxyz09-_ ./&=#+%é"), min_size=1, max_size=20).map(Path)
_TIMINGS = st.one_of(st.sampled_from([Timing(0.0), Timing(1.0)]), st.floats(0.0, 1000.0).map(Timing))
_UPSTREAMS = st.sampled_from(
    [None, "http://127.0.0.1:8080", "https://bedrock-runtime.us-east-1.amazonaws.com", "http://h:1/p?q=a&b=c#f"]
)
_REGIONS = st.one_of(st.none(), st.sampled_from(["us-east-1", "eu-central-2"]), st.text("abc-+ &=#%é19", max_size=10))


@given(
    directory=_DIRECTORIES,
    mode=st.sampled_from(list(RecordMode)),
    timing=_TIMINGS,
    ignore=st.lists(_FIELD_PATHS, max_size=3).map(tuple),
    upstream_url=_UPSTREAMS,
    region=_REGIONS,
    secrets=st.sampled_from(["redact", "refuse"]),
    redact=st.lists(_REGEXES, max_size=3).map(tuple),
)
def test_spec_reads_back_equal(
    directory: Path,
    mode: RecordMode,
    timing: Timing,
    ignore: tuple[str, ...],
    upstream_url: str | None,
    region: str | None,
    secrets: str,
    redact: tuple[str, ...],
) -> None:
    settings = ReplaySettings(directory, mode, timing, ignore, upstream_url, region, secrets, redact)
    spec = settings.spec()
    assert parse_spec(spec) == settings
    # The options part is one URL query: nothing a value holds can start another option or end the query.
    options = spec.partition("?")[2]
    assert "#" not in options and " " not in options and "+" not in options
    assert options.count("&") == (options.count("=") - 1 if options else 0)


@given(st.floats(0.0, 1000.0, allow_nan=False))
def test_any_timing_factor_reads_back_equal(scale: float) -> None:
    settings = ReplaySettings(Path("d"), timing=Timing(scale))
    assert parse_spec(settings.spec()) == settings
    assert Timing.parse(str(Timing(scale))).scale == scale


def test_a_hand_written_regex_keeps_its_plus() -> None:
    # A spec is written by hand too: '+' is a regular expression's plus there, never a space.
    assert ReplaySettings.parse(r"d?redact=sk-[a-z]+&redact=\d+").redact == (r"sk-[a-z]+", r"\d+")
