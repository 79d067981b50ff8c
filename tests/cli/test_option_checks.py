"""Options checked before anything is sent: parameters a model's body cannot carry, endpoints, the region."""

from __future__ import annotations

import json
import subprocess

import pytest

from mistral_bedrock.catalog import Dialect, lookup
from mistral_bedrock.conversation import Message, Params
from mistral_bedrock.errors import ValidationException
from mistral_bedrock.formats import format_for
from tests.cli.cli_support import LEAD_IN, Runtime, clean_env, invoke, run_cli

LARGE_2402 = "mistral.mistral-large-2402-v1:0 (Mistral Large (24.02))"
LARGE_3 = "mistral.mistral-large-3-675b-instruct (Mistral Large 3)"


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    [line] = stderr.splitlines()
    return line


# -- parameters a dialect cannot carry ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "refused"),
    [
        (
            ("chat", "--model", "mistral-large-2402", "--stop", "X"),
            f"{LARGE_2402} cannot take --stop: its chat request body has no stop parameter",
        ),
        (
            ("chat-streaming", "--stop", "X"),
            f"{LARGE_2402} cannot take --stop: its chat request body has no stop parameter",
        ),
        (
            ("chat", "-m", "mistral-large-2402", "--top-k", "5", "--stop", "X"),
            f"{LARGE_2402} cannot take --top-k and --stop: its chat request body has no top_k or stop parameter",
        ),
        (
            ("chat", "--model", "mistral-large-3", "--top-k", "5"),
            f"{LARGE_3} cannot take --top-k: its chat-openai request body has no top_k parameter",
        ),
        (
            ("basic", "--model", "mistral-large-3", "--top-k", "5"),
            f"{LARGE_3} cannot take --top-k: its chat-openai request body has no top_k parameter",
        ),
    ],
)
def test_an_option_the_body_cannot_carry_is_refused_up_front(
    cli_runtime: Runtime, args: tuple[str, ...], refused: str
) -> None:
    result = invoke(*args, "--endpoint-url", cli_runtime.url, stdin="hello\nagain\n")
    assert result.exit_code == 2
    assert one_line(result.stderr) == f"Error: {refused}"
    assert result.stdout == ""
    assert cli_runtime.requests() == []  # no turn was sent to fail


def test_chat_sends_stop_where_the_chat_dialect_carries_it(cli_runtime: Runtime) -> None:
    result = invoke("chat", "-m", "mistral-large-3", "--stop", "###", "--endpoint-url", cli_runtime.url, stdin="a\nb\n")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert [entry["body"]["stop"] for entry in cli_runtime.requests()] == [["###"], ["###"]]


def test_basic_sends_stop_to_a_chat_only_model(cli_runtime: Runtime) -> None:
    result = invoke(
        "basic", "Hi", "-m", "mistral-large-3", "--stop", "engine", "--json", "--endpoint-url", cli_runtime.url
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["request"] == {"messages": [{"role": "user", "content": "Hi"}], "stop": ["engine"]}
    assert document["text"] == "I am the built-in "  # the stop sequence took effect


def test_basic_sends_top_k_and_stop_in_the_text_dialect_of_a_model_that_has_both(cli_runtime: Runtime) -> None:
    args = ("basic", "Hi", "-m", "mistral-large-2402", "--top-k", "3", "--stop", "###", "--json")
    result = invoke(*args, "--endpoint-url", cli_runtime.url)
    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout)["request"]
    assert request == {"prompt": "<s>[INST]Hi[/INST]", "top_k": 3, "stop": ["###"]}


@pytest.mark.parametrize(
    ("dialect", "model"),
    [(Dialect.TEXT, "mistral-7b"), (Dialect.CHAT, "mistral-large-2402"), (Dialect.CHAT_OPENAI, "mistral-large-3")],
)
@pytest.mark.parametrize(("flag", "params"), [("--top-k", Params(top_k=5)), ("--stop", Params(stop=("X",)))])
def test_the_refusals_are_the_formats_own(dialect: Dialect, model: str, flag: str, params: Params) -> None:
    """What a format says its body carries is what it builds, no more and no less (the CLI refuses by it)."""
    fmt = format_for(dialect)
    build = fmt.build_body
    if flag[2:].replace("-", "_") not in fmt.carries(lookup(model)):
        with pytest.raises(ValidationException):
            build(lookup(model), [Message.user("hi")], params)
    else:
        build(lookup(model), [Message.user("hi")], params)


def test_an_unknown_model_still_gets_bedrocks_message(cli_runtime: Runtime) -> None:
    result = invoke("chat", "-m", "mistral.nope-v1:0", "--stop", "X", "--endpoint-url", cli_runtime.url, stdin="hi\n")
    assert result.exit_code == 1
    assert one_line(result.stderr) == "Error: ValidationException: The provided model identifier is invalid."


# -- endpoints ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("localhost:8787", "has no scheme: write http://localhost:8787 or https://localhost:8787"),
        ("127.0.0.1", "has no scheme: write http://127.0.0.1 or https://127.0.0.1"),
        ("ftp://example.com", "is not an http:// or https:// URL with a host"),
        ("http://", "is not an http:// or https:// URL with a host"),
        ("http://localhost:port", "is not a valid URL: Port could not be cast to integer value as 'port'"),
    ],
)
def test_an_endpoint_that_is_not_an_http_url_is_a_usage_error(url: str, said: str) -> None:
    completed = run_cli("basic", "--endpoint-url", url)
    assert completed.returncode == 2
    assert one_line(completed.stderr) == f"Error: --endpoint-url {url!r} {said}"


def test_an_endpoint_from_the_environment_is_checked_and_named() -> None:
    completed = run_cli("converse", env=clean_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME="localhost:8787"))
    assert completed.returncode == 2
    assert one_line(completed.stderr) == (
        "Error: AWS_ENDPOINT_URL_BEDROCK_RUNTIME 'localhost:8787' has no scheme: "
        "write http://localhost:8787 or https://localhost:8787"
    )


def test_local_looks_at_no_endpoint_of_the_environment() -> None:
    completed = run_cli("basic", "--local", env=clean_env(AWS_ENDPOINT_URL="localhost:8787"))
    assert completed.returncode == 0, completed.stderr
    assert f"{LEAD_IN} You said: Hello, what's your name?" in completed.stdout


def test_an_endpoint_with_its_scheme_works(cli_runtime: Runtime) -> None:
    completed = run_cli("basic", "--endpoint-url", cli_runtime.url.replace("http://", "HTTP://"))
    assert completed.returncode == 0, completed.stderr
    assert f"{LEAD_IN} You said: Hello, what's your name?" in completed.stdout


# -- the region -----------------------------------------------------------------------------------------------------


def test_no_region_names_the_options_of_the_command_line() -> None:
    # Credentials, so no fallback to the embedded runtime; no region anywhere (the config file is empty).
    env = clean_env(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret")
    completed: subprocess.CompletedProcess[str] = run_cli("basic", env=env)
    assert completed.returncode == 1
    assert one_line(completed.stderr) == (
        "Error: no AWS region configured: pass --region REGION, set AWS_REGION, or give the profile a region"
    )
    assert completed.stdout == ""


def test_local_signs_for_the_region_asked() -> None:
    # The embedded runtime serves each model in its Bedrock Regions: Large 24.07 only in us-west-2.
    result = invoke("basic", "--local", "--region", "us-west-2", "-m", "mistral-large-2407", "hi", stdin="")
    assert result.exit_code == 0, result.stderr
    assert "mistral.mistral-large-2407-v1:0" in result.stdout
