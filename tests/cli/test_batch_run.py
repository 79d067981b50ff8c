"""``batch run``: a records file answered on demand through the real entry point, against real runtimes over
sockets; its output is Bedrock's batch format, and a run that is cut off resumes without losing or repeating a
record.

The runtime's journal is the oracle for what was sent: a resumed run sends only the records not yet written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mistral_bedrock.runtime import ServerThread, create_app
from tests.cli.cli_support import Runtime, Terminal, clean_env, ok, run_cli

MODEL = "mistral.ministral-3-8b-instruct"


def _records(path: Path, count: int) -> list[dict[str, Any]]:
    records = [
        {
            "recordId": f"id{i:03d}",
            "modelInput": {"messages": [{"role": "user", "content": f"Say {i}"}], "max_tokens": 8},
        }
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return records


def _output(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _model_requests(runtime: Runtime) -> int:
    return sum(1 for entry in runtime.requests() if entry["operation"] == "InvokeModel")


def test_a_run_writes_bedrocks_output_and_a_rerun_sends_nothing(cli_runtime: Runtime, tmp_path: Path) -> None:
    source = tmp_path / "chat.jsonl"
    records = _records(source, 20)
    first = ok(run_cli("batch", "run", str(source), "-m", MODEL, "--endpoint-url", cli_runtime.url))
    assert _model_requests(cli_runtime) == 20
    lines = _output(tmp_path / "chat.out" / "chat.jsonl.out")
    assert sorted(line["recordId"] for line in lines) == [record["recordId"] for record in records]
    by_id = {record["recordId"]: record for record in records}
    assert all(line["modelInput"] == by_id[line["recordId"]]["modelInput"] for line in lines)
    assert all(line["modelOutput"]["choices"][0]["message"]["content"] for line in lines)
    manifest = json.loads((tmp_path / "chat.out" / "manifest.json.out").read_text())
    assert manifest["totalRecordCount"] == manifest["processedRecordCount"] == manifest["successRecordCount"] == 20
    assert manifest["inputTokenCount"] > 0 and manifest["outputTokenCount"] > 0
    assert "20 records, 20 succeeded, 0 failed" in first.stdout
    assert "on demand  $" in first.stdout and "as batch   $" in first.stdout

    cli_runtime.clear()
    again = ok(run_cli("batch", "run", str(source), "-m", MODEL, "--endpoint-url", cli_runtime.url))
    assert _model_requests(cli_runtime) == 0
    assert "(20 from an earlier run)" in again.stdout
    assert len(_output(tmp_path / "chat.out" / "chat.jsonl.out")) == 20
    assert json.loads((tmp_path / "chat.out" / "manifest.json.out").read_text()) == manifest


@pytest.fixture(scope="module")
def slow_runtime() -> Iterator[Runtime]:
    """Each answer starts 200 ms late: a run of a few records is still going when Ctrl-C arrives."""
    with ServerThread(create_app(faults=["latency:first_byte=200"])) as server:
        runtime = Runtime(server)
        try:
            yield runtime
        finally:
            runtime.control.close()


def test_ctrl_c_stops_a_run_and_the_same_command_finishes_it(slow_runtime: Runtime, tmp_path: Path) -> None:
    source = tmp_path / "slow.jsonl"
    records = _records(source, 30)
    slow_runtime.clear()
    args = ("batch", "run", str(source), "-m", MODEL, "--endpoint-url", slow_runtime.url, "--concurrency", "1")
    terminal = Terminal(*args, env=clean_env(COLUMNS="120"))
    try:
        terminal.expect("1/30")  # the progress bar shows a record written
        terminal.send("\x03")
        assert terminal.wait() == 130
    finally:
        terminal.close()
    assert "run the same command to resume" in terminal.buffer
    written = len(_output(tmp_path / "slow.out" / "slow.jsonl.out"))
    assert 1 <= written < 30
    cut = json.loads((tmp_path / "slow.out" / "manifest.json.out").read_text())
    # The total is the input's, not the records read before the stop.
    assert (cut["totalRecordCount"], cut["processedRecordCount"]) == (30, written)
    sent_before = _model_requests(slow_runtime)

    resumed = ok(run_cli(*args, "--concurrency", "8"))
    lines = _output(tmp_path / "slow.out" / "slow.jsonl.out")
    assert sorted(line["recordId"] for line in lines) == [record["recordId"] for record in records]  # each once
    # Only what the first run had not written was sent again (at most the one record in flight at Ctrl-C twice).
    assert _model_requests(slow_runtime) - sent_before == 30 - written
    assert f"({written} from an earlier run)" in resumed.stdout
    manifest = json.loads((tmp_path / "slow.out" / "manifest.json.out").read_text())
    assert (manifest["totalRecordCount"], manifest["processedRecordCount"]) == (30, 30)


@pytest.fixture(scope="module")
def stalled_runtime() -> Iterator[Runtime]:
    """Each answer starts 3 s late: a second Ctrl-C lands while a record is still in flight."""
    with ServerThread(create_app(faults=["latency:first_byte=3000"])) as server:
        runtime = Runtime(server)
        try:
            yield runtime
        finally:
            runtime.control.close()


def test_a_second_ctrl_c_still_leaves_a_manifest_of_what_was_written(stalled_runtime: Runtime, tmp_path: Path) -> None:
    source = tmp_path / "stalled.jsonl"
    _records(source, 12)
    args = ("batch", "run", str(source), "-m", MODEL, "--endpoint-url", stalled_runtime.url, "--concurrency", "4")
    terminal = Terminal(*args, env=clean_env(COLUMNS="120"))
    try:
        terminal.expect("/12 0 errors")  # a record written, others in flight for 3 s
        terminal.send("\x03")
        terminal.expect("Ctrl-C again stops at once")  # the first was taken: the records in flight are awaited
        terminal.send("\x03")
        assert terminal.wait() == 130
    finally:
        terminal.close()
    assert "Traceback" not in terminal.buffer
    assert "mistral-bedrock: stopped; what was written stays in" in terminal.buffer
    written = len(_output(tmp_path / "stalled.out" / "stalled.jsonl.out"))
    manifest = json.loads((tmp_path / "stalled.out" / "manifest.json.out").read_text())
    # Cut off with records in flight, the manifest still matches the output and totals the whole input.
    assert (manifest["totalRecordCount"], manifest["processedRecordCount"]) == (12, written)
    assert manifest["successRecordCount"] == written


def test_records_throttled_past_their_attempts_become_error_lines(
    throttling_cli_runtime: Runtime, tmp_path: Path
) -> None:
    source = tmp_path / "throttled.jsonl"
    _records(source, 3)
    failed = run_cli(
        "batch", "run", str(source), "-m", MODEL, "--endpoint-url", throttling_cli_runtime.url, "--max-attempts", "2"
    )
    assert failed.returncode == 1
    assert "3 records failed" in failed.stderr and "Traceback" not in failed.stderr
    errors = [line["error"] for line in _output(tmp_path / "throttled.out" / "throttled.jsonl.out")]
    assert [error["errorCode"] for error in errors] == [429, 429, 429]
    manifest = json.loads((tmp_path / "throttled.out" / "manifest.json.out").read_text())
    assert (manifest["errorRecordCount"], manifest["successRecordCount"]) == (3, 0)


def test_run_with_no_credentials_uses_the_embedded_runtime(tmp_path: Path) -> None:
    source = tmp_path / "local.jsonl"
    _records(source, 2)
    ran = ok(run_cli("batch", "run", str(source), "-m", MODEL, "--out", str(tmp_path / "answers" / "local.out")))
    assert "no AWS credentials found; using the embedded local runtime" in ran.stderr
    assert len(_output(tmp_path / "answers" / "local.out")) == 2
    assert (tmp_path / "answers" / "manifest.json.out").exists()


def test_each_run_has_its_own_folder_and_an_out_among_another_runs_output_is_refused(
    cli_runtime: Runtime, tmp_path: Path
) -> None:
    _records(tmp_path / "first.jsonl", 2)
    _records(tmp_path / "second.jsonl", 3)
    for name in ("first", "second"):
        ok(run_cli("batch", "run", str(tmp_path / f"{name}.jsonl"), "-m", MODEL, "--endpoint-url", cli_runtime.url))
    first = json.loads((tmp_path / "first.out" / "manifest.json.out").read_text())
    second = json.loads((tmp_path / "second.out" / "manifest.json.out").read_text())
    assert (first["totalRecordCount"], second["totalRecordCount"]) == (2, 3)

    among = run_cli(
        "batch", "run", str(tmp_path / "second.jsonl"), "-m", MODEL, "--endpoint-url", cli_runtime.url,
        "--out", str(tmp_path / "first.out" / "second.out"),
    )  # fmt: skip
    assert among.returncode == 2 and "Traceback" not in among.stderr
    assert "holds another run's output (first.jsonl.out), and its manifest.json.out belongs to that run" in among.stderr
    assert json.loads((tmp_path / "first.out" / "manifest.json.out").read_text()) == first
    assert not (tmp_path / "first.out" / "second.out").exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--rpm", "nan"), ("--rpm", "inf"), ("--tpm", "nan"), ("--tpm", "-inf"), ("--tpm", "0"), ("--concurrency", "0")],
)
def test_a_rate_that_is_no_positive_finite_number_is_one_line(tmp_path: Path, option: str, value: str) -> None:
    source = tmp_path / "rates.jsonl"
    _records(source, 1)
    refused = run_cli("batch", "run", str(source), "-m", MODEL, "--local", option, value)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"Invalid value for '{option}'" in refused.stderr
    assert not (tmp_path / "rates.out" / "rates.jsonl.out").exists()


def test_an_output_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    source = tmp_path / "nowhere.jsonl"
    _records(source, 1)
    refused = run_cli("batch", "run", str(source), "-m", MODEL, "--local", "--out", "/proc/zz/o.out")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "cannot write /proc/zz/o.out" in refused.stderr


def test_a_tpm_below_one_records_reservation_is_refused_naming_it(tmp_path: Path) -> None:
    source = tmp_path / "big.jsonl"
    _records(source, 2)  # each reserves its input plus max_tokens 8
    refused = run_cli("batch", "run", str(source), "-m", MODEL, "--local", "--tpm", "10")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "--tpm 10 is below what record id000 reserves (" in refused.stderr
    assert "its input plus its max tokens" in refused.stderr
    assert not (tmp_path / "big.out").exists()
    ok(run_cli("batch", "run", str(source), "-m", MODEL, "--local", "--tpm", "100000"))
