"""``batch wait`` through the real ``mistral-bedrock`` entry point: waiting never changes the job. ``--timeout`` and
Ctrl-C end only the waiting and say how to resume; a stop is what ends a job.

The runtime's control endpoint holds the job in one phase for as long as a test needs it there, so nothing waits on
time; unmodified boto3 reads the job's status independently.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli.cli_support import Terminal, clean_env, ok
from tests.cli.test_batch_cli import Plane, batch, records, submit


def test_wait_gives_up_without_touching_the_job_and_stop_ends_it(plane: Plane, work: Path) -> None:
    plane.hold("Validating")
    path = records(work / "held.jsonl", 100)
    arn = ok(submit(plane, work, path, "--name", "held-one")).stdout.strip()
    gave_up = batch(plane, work, "wait", "held-one", "--timeout", "0", "--interval", "0")
    assert gave_up.returncode == 124
    assert "resume with mistral-bedrock batch wait held-one" in gave_up.stderr
    assert plane.boto.get_model_invocation_job(jobIdentifier=arn)["status"] in {"Submitted", "Validating"}

    assert ok(batch(plane, work, "stop", "held-one")).stdout.startswith(f"stopping {arn}")
    plane.hold()
    ended = batch(plane, work, "wait", "held-one", "--interval", "0.05")
    assert ended.returncode == 1
    assert "mistral-bedrock: Stopped: the job was stopped" in ended.stderr


def test_ctrl_c_at_a_terminal_ends_the_waiting_not_the_job(plane: Plane, work: Path) -> None:
    plane.hold("Validating")
    path = records(work / "watched.jsonl", 100)
    arn = ok(submit(plane, work, path, "--name", "watched-one")).stdout.strip()
    args = ("batch", "wait", "watched-one", "--interval", "0.05", "--endpoint-url", plane.url)
    terminal = Terminal(*args, "--state-dir", str(work / "state"), env=clean_env(COLUMNS="160"))
    try:
        terminal.expect("Validating · 0/100 records, 0 errors")  # the live line
        terminal.send("\x03")
        assert terminal.wait() == 130
    finally:
        terminal.close()
    assert "stopped waiting; the job goes on" in terminal.buffer
    assert "mistral-bedrock batch stop watched-one stops it" in terminal.buffer
    assert plane.boto.get_model_invocation_job(jobIdentifier=arn)["status"] == "Validating"
