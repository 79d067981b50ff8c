"""``mistral-bedrock serve`` with a cassette, through the real entry point in a subprocess: ``--engine replay:DIR``
answers boto3 from a hand-written cassette and a miss with a 400 naming the nearest recording; ``--record DIR``
records a boto3 call made against a strict-auth stand-in for Bedrock, signed with the credentials from the
environment; and the refused combinations (cassette flags without a cassette, ``--record`` beside ``--engine``, a
missing cassette, ``--workers`` while recording, no credentials) each exit 2 with one line naming the problem."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import boto3
import pytest
import yaml
from botocore.config import Config
from botocore.exceptions import ClientError

from mistral_bedrock.runtime import RuntimeConfig, ServerThread
from tests.cli.cli_support import EXE, TIMEOUT, clean_env, run_cli

REGION = "us-west-2"
MODEL = "mistral.mistral-large-2407-v1:0"
SMALL = "mistral.mistral-7b-instruct-v0:2"
KEY_ID = "AKIAZZSERVETEST00001"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSERVETEST1"
RECORDED_TEXT = "Recorded once, replayed forever."

# A cassette as a person would write one: a Converse request and Bedrock's whole answer.
HAND_WRITTEN = f"""\
version: 1
recorded: {{tool: by hand, region: {REGION}, at: '2026-11-30T23:00:00Z'}}
request:
  operation: Converse
  model: {MODEL}
  path: /model/mistral.mistral-large-2407-v1%3A0/converse
  body:
    messages:
    - role: user
      content:
      - text: What is a cassette?
response:
  status: 200
  headers: {{content-type: application/json}}
  body:
    output:
      message:
        role: assistant
        content:
        - text: {RECORDED_TEXT}
    stopReason: end_turn
    usage: {{inputTokens: 9, outputTokens: 6, totalTokens: 15}}
    metrics: {{latencyMs: 321}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def messages(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


_CLIENTS: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def boto_client(url: str, key: str = "AKIDDUMMYKEY", secret: str = "dummy") -> Any:
    """boto3 with placeholder credentials (unless told otherwise), one attempt, bounded timeouts; closed after the
    test."""
    client = boto3.client(
        "bedrock-runtime",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )
    _CLIENTS.append(client)
    return client


def _pump(stream: IO[str], sink: Callable[[str | None], None]) -> None:
    for line in stream:
        sink(line)
    sink(None)


class Serving:
    """``mistral-bedrock serve ARGS`` in its own process group, with the environment given; its output kept."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(EXE), "serve", "--port", str(self.port), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=_pump, args=(self.process.stdout, self.lines.put), daemon=True),
            threading.Thread(target=_pump, args=(self.process.stderr, self._stderr_line), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _stderr_line(self, line: str | None) -> None:
        if line is not None:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def wait_for_url(self) -> None:
        """Block until the announce line (bounded): the server accepts connections from then on."""
        try:
            line = self.lines.get(timeout=TIMEOUT)
        except queue.Empty:
            self.stop()
            pytest.fail(f"serve announced nothing within {TIMEOUT}s; stderr:\n{self.stderr}")
        if line is None:
            self.stop()
            pytest.fail(f"serve exited with {self.process.returncode} before announcing; stderr:\n{self.stderr}")
        assert line == f"mistral-bedrock runtime listening on {self.url}\n", self.stderr

    def stop(self) -> int:
        """SIGTERM, then the exit status once its readers have drained its output; SIGKILL to the group if stuck."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait(timeout=TIMEOUT)
        for reader in self._readers:
            reader.join(timeout=TIMEOUT)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code


@pytest.fixture
def serving() -> Iterator[Callable[..., Serving]]:
    """``serving(*args, env=…)``: a started ``serve``, stopped at the end of the test."""
    started: list[Serving] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Serving:
        server = Serving(*args, env=env if env is not None else clean_env())
        started.append(server)
        server.wait_for_url()
        return server

    yield start
    for server in started:
        code = server.stop()
        assert code == 0, f"serve exited with {code}; stderr:\n{server.stderr}"
        assert "Traceback" not in server.stderr, server.stderr


def serve_refused(*args: str, env: dict[str, str] | None = None) -> str:
    """``serve ARGS`` that must exit 2 at once; its stderr."""
    completed = run_cli("serve", "--port", str(free_port()), *args, env=env)
    assert completed.returncode == 2, f"exit {completed.returncode}\n{completed.stdout}\n{completed.stderr}"
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    return completed.stderr


def error_line(stderr: str) -> str:
    """The one ``Error:`` line of a refusal."""
    [line] = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    return line


# -- replay ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def hand_written(tmp_path: Path) -> Path:
    directory = tmp_path / "my cassette"  # a space, as a person's folder may have
    directory.mkdir()
    (directory / "converse-what-is-a-cassette.yaml").write_text(HAND_WRITTEN, encoding="utf-8")
    return directory


def test_replay_answers_boto3_with_the_recorded_body(serving: Callable[..., Serving], hand_written: Path) -> None:
    server = serving("--engine", f"replay:{hand_written}")
    client = boto_client(server.url)
    response = client.converse(modelId=MODEL, messages=messages("What is a cassette?"))
    assert response["output"] == {"message": {"role": "assistant", "content": [{"text": RECORDED_TEXT}]}}
    assert response["stopReason"] == "end_turn"
    assert response["usage"] == {"inputTokens": 9, "outputTokens": 6, "totalTokens": 15}
    assert response["metrics"] == {"latencyMs": 321}
    # A recording plays as often as it is asked for.
    again = client.converse(modelId=MODEL, messages=messages("What is a cassette?"))
    assert again["output"] == response["output"]
    assert server.stop() == 0  # its output read to the end
    assert f"cassette {hand_written}: mode none, 1 recordings\n" in server.stderr


def test_a_replay_miss_is_a_400_naming_the_nearest_file(serving: Callable[..., Serving], hand_written: Path) -> None:
    server = serving("--engine", f"replay:{hand_written}")
    client = boto_client(server.url)
    with pytest.raises(ClientError) as caught:
        client.converse(modelId=MODEL, messages=messages("What is a tape?"))
    error = caught.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    message = error["Error"]["Message"]
    assert f"No recording in cassette {hand_written} matches this Converse request for {MODEL}" in message
    assert "Nearest: converse-what-is-a-cassette.yaml" in message
    assert (
        'first difference at messages[0].content[0].text: sent "What is a tape?", recorded "What is a cassette?"'
        in (message)
    )


def test_the_replay_flags_tune_a_replay_engine(serving: Callable[..., Serving], hand_written: Path) -> None:
    # Ignoring the text, any question gets the recorded answer.
    server = serving("--engine", f"replay:{hand_written}", "--match-ignore", "messages.*.content")
    response = boto_client(server.url).converse(modelId=MODEL, messages=messages("Something else entirely"))
    assert response["output"]["message"]["content"] == [{"text": RECORDED_TEXT}]


# -- record ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def bedrock_stand_in() -> Iterator[ServerThread]:
    """A runtime that checks SigV4 signatures against one key and secret only, as Bedrock would."""
    with ServerThread(config=RuntimeConfig(auth=f"strict:{KEY_ID}:{SECRET}")) as server:
        yield server


def test_record_proxies_to_the_upstream_and_writes_the_cassette(
    serving: Callable[..., Serving], bedrock_stand_in: ServerThread, tmp_path: Path
) -> None:
    # The stand-in refuses the placeholder key the app uses: what reaches it must be signed anew.
    with pytest.raises(ClientError) as refused:
        boto_client(bedrock_stand_in.url).converse(modelId=MODEL, messages=messages("direct"))
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    direct = boto_client(bedrock_stand_in.url, KEY_ID, SECRET).converse(modelId=MODEL, messages=messages("Hello"))

    cassette = tmp_path / "recorded"
    env = clean_env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET)
    server = serving(
        "--record", str(cassette), "--upstream-url", bedrock_stand_in.url, "--upstream-region", REGION, env=env
    )
    response = boto_client(server.url).converse(modelId=MODEL, messages=messages("Hello"))
    assert response["output"] == direct["output"]
    assert server.stop() == 0  # its output read to the end
    assert f"cassette {cassette}: mode all, 0 recordings; records from {bedrock_stand_in.url}, Region {REGION}\n" in (
        server.stderr
    )

    [written] = sorted(cassette.iterdir())
    assert written.name.startswith("converse-") and written.suffix == ".yaml"
    recorded = yaml.safe_load(written.read_text(encoding="utf-8"))
    assert recorded["request"]["operation"] == "Converse"
    assert recorded["request"]["model"] == MODEL
    assert recorded["request"]["body"] == {"messages": messages("Hello")}
    assert recorded["response"]["status"] == 200
    assert recorded["response"]["body"]["output"] == direct["output"]
    text = written.read_text(encoding="utf-8")
    for secret in (KEY_ID, SECRET, "AKIDDUMMYKEY"):
        assert secret not in text


def test_a_recording_replays_through_serve(
    serving: Callable[..., Serving], bedrock_stand_in: ServerThread, tmp_path: Path
) -> None:
    cassette = tmp_path / "recorded"
    env = clean_env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET)
    recording = serving(
        "--record", str(cassette), "--upstream-url", bedrock_stand_in.url, "--upstream-region", REGION, env=env
    )
    body = json.dumps({"prompt": "<s>[INST] Hi [/INST]", "max_tokens": 20})
    recorded = boto_client(recording.url).invoke_model(modelId=SMALL, body=body)["body"].read()
    assert recording.stop() == 0

    # Offline now: no credentials, and the stand-in is not named.
    replaying = serving("--engine", f"replay:{cassette}")
    assert boto_client(replaying.url).invoke_model(modelId=SMALL, body=body)["body"].read() == recorded


# -- refusals ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "flag"),
    [
        (("--record-mode", "once"), "--record-mode"),
        (("--upstream-url", "http://127.0.0.1:1"), "--upstream-url"),
        (("--upstream-region", "eu-west-1"), "--upstream-region"),
        (("--secrets", "refuse"), "--secrets"),
        (("--redact", "sk-.*"), "--redact"),
        (("--match-ignore", "inferenceConfig"), "--match-ignore"),
        (("--replay-timing", "recorded"), "--replay-timing"),
        (("--engine", "builtin", "--record-mode", "all"), "--record-mode"),
    ],
)
def test_a_cassette_flag_without_a_cassette_is_refused(flags: tuple[str, ...], flag: str) -> None:
    stderr = serve_refused(*flags)
    assert error_line(stderr) == f"Error: {flag} tunes a cassette: give --record DIR or --engine replay:DIR."


def test_record_beside_another_engine_is_refused(tmp_path: Path) -> None:
    stderr = serve_refused("--record", str(tmp_path / "c"), "--engine", "builtin")
    assert error_line(stderr) == "Error: --record DIR is the replay:DIR engine recording: give it instead of --engine."
    assert not (tmp_path / "c").exists()


def test_a_missing_cassette_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    stderr = serve_refused("--engine", f"replay:{missing}")
    assert error_line(stderr).startswith(f"Error: cassette {missing} does not exist")


def test_a_bad_cassette_file_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("version: 7\n", encoding="utf-8")
    stderr = serve_refused("--engine", f"replay:{tmp_path}")
    assert error_line(stderr).startswith(f"Error: cassette file {tmp_path / 'broken.yaml'}: not a version 1")


def test_a_bad_replay_option_is_refused(tmp_path: Path) -> None:
    stderr = serve_refused("--engine", f"replay:{tmp_path}?speed=fast")
    assert error_line(stderr).startswith("Error: replay option 'speed' is unknown; known: ignore, mode,")
    stderr = serve_refused("--engine", f"replay:{tmp_path}", "--replay-timing", "scaled:x")
    assert error_line(stderr).startswith("Error: replay timing 'scaled:x': expected instant, recorded or scaled:")


def test_recording_with_several_workers_is_refused(tmp_path: Path) -> None:
    env = clean_env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET)
    stderr = serve_refused("--record", str(tmp_path / "c"), "--workers", "2", env=env)
    assert error_line(stderr) == "Error: a cassette that records is written by one process: drop --workers"


def test_recording_without_credentials_is_refused_naming_them(tmp_path: Path) -> None:
    stderr = serve_refused("--record", str(tmp_path / "c"), "--upstream-url", "http://127.0.0.1:1")
    line = error_line(stderr)
    assert "Recording needs AWS credentials" in line and "AWS_ACCESS_KEY_ID" in line
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("args", [("--engine", "replay:{tmp}/missing"), ("--record", "{tmp}/c")])
def test_a_refusal_after_parsing_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    stderr = serve_refused(*(arg.format(tmp=tmp_path) for arg in args))
    assert len(stderr.splitlines()) == 1, stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--record-mode", "once"),
        ("--record", "{tmp}/c", "--engine", "builtin"),
        ("--engine", "replay:{tmp}?speed=fast"),
    ],
)
def test_a_cassette_flag_refusal_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    stderr = serve_refused(*(arg.format(tmp=tmp_path) for arg in args))
    assert len(stderr.splitlines()) == 1, stderr
