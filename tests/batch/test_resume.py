"""Resuming: the output and its index reconciled after a kill at any moment, and every record written once.

The kills are real: a child process runs the runner over a real input file and is sent SIGKILL while it works.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.outcome import RecordError, RecordOutcome
from mistral_bedrock.batch.output import Manifest, output_line
from mistral_bedrock.batch.records import InputRecord, positional_id
from mistral_bedrock.batch.runner import ResumeError, index_path, run_records
from mistral_bedrock.batch.runner.resume import ENTRY, Bitmap, OutputWriter, rebuild_index, recover

MODEL = "mistral.mistral-7b-instruct-v0:2"
OK = RecordOutcome(output={"outputs": []}, input_tokens=5, output_tokens=7)
FAILED = RecordOutcome(error=RecordError(400, "Malformed input request"))


def written(output: Path, outcomes: list[tuple[int, RecordOutcome]]) -> None:
    writer = OutputWriter(output)
    for index, outcome in outcomes:
        writer.write(index, output_line(InputRecord(index, f"id{index}", {"n": index}), outcome), outcome)
    writer.close()


def record_ids(output: Path) -> list[str]:
    return [json.loads(line)["recordId"] for line in output.read_bytes().split(b"\n")[:-1]]


def test_a_new_output_starts_empty(tmp_path: Path) -> None:
    resumed = recover(tmp_path / "a.out")
    assert resumed.count == 0 and (tmp_path / "a.out").read_bytes() == b""
    assert index_path(tmp_path / "a.out").read_bytes() == b""


def test_finished_records_are_read_back_with_their_counts(tmp_path: Path) -> None:
    output = tmp_path / "a.out"
    written(output, [(7, OK), (2, FAILED), (40, OK)])
    resumed = recover(output)
    assert [index in resumed.done for index in (2, 7, 40, 0, 3, 41, 10**6)] == [True] * 3 + [False] * 4
    assert resumed.manifest == Manifest(total=0, processed=3, success=2, errors=1, input_tokens=10, output_tokens=14)


def test_a_line_cut_short_is_dropped_and_its_record_redone(tmp_path: Path) -> None:
    output = tmp_path / "a.out"
    written(output, [(0, OK), (1, OK), (2, OK)])
    whole = output.read_bytes()
    output.write_bytes(whole[:-9])  # the kill landed inside the third line, before its entry
    index_path(output).write_bytes(index_path(output).read_bytes()[: 2 * ENTRY.size])
    resumed = recover(output)
    assert sorted(record_ids(output)) == ["id0", "id1"] and 2 not in resumed.done and resumed.count == 2


def test_a_whole_line_without_its_entry_is_dropped(tmp_path: Path) -> None:
    output = tmp_path / "a.out"
    written(output, [(0, OK), (1, OK), (2, OK)])
    index_path(output).write_bytes(index_path(output).read_bytes()[: 2 * ENTRY.size + 5])  # and half an entry
    resumed = recover(output)
    assert record_ids(output) == ["id0", "id1"] and resumed.count == 2
    assert index_path(output).stat().st_size == 2 * ENTRY.size


def test_entries_beyond_the_output_are_dropped(tmp_path: Path) -> None:
    output = tmp_path / "a.out"
    written(output, [(0, OK), (1, OK), (2, OK)])
    output.write_bytes(b"".join(line + b"\n" for line in output.read_bytes().split(b"\n")[:2]))
    resumed = recover(output)
    assert resumed.count == 2 and 2 not in resumed.done
    assert index_path(output).stat().st_size == 2 * ENTRY.size


def test_an_output_without_its_index_is_refused(tmp_path: Path) -> None:
    output = tmp_path / "a.out"
    output.write_bytes(b'{"recordId": "x"}\n')
    with pytest.raises(ResumeError, match=r"a.out holds records but a.out.idx is missing") as info:
        recover(output)
    assert "rebuild a.out.idx from the output's recordIds (rebuild_index" in str(info.value)


def test_an_index_that_does_not_match_is_refused(tmp_path: Path) -> None:
    output = tmp_path / "a.out"
    written(output, [(0, OK), (1, OK), (2, OK)])
    index_path(output).write_bytes(index_path(output).read_bytes()[: ENTRY.size])
    with pytest.raises(ResumeError, match=r"holds 3 lines but a\.out\.idx only 1 entries"):
        recover(output)
    written(tmp_path / "b.out", [(4, OK), (4, OK)])
    with pytest.raises(ResumeError, match="entry 2 repeats record index 4"):
        recover(tmp_path / "b.out")


def test_the_bitmap_costs_one_bit_a_record() -> None:
    bitmap = Bitmap()
    for index in range(0, 1_000_000, 3):
        bitmap.add(index)
    assert bitmap.nbytes <= 1_000_000 // 8 * 2  # grown by doubling
    assert all((index in bitmap) == (index % 3 == 0) for index in range(999_990, 1_000_000))
    assert 5_000_000 not in bitmap


class Echo:
    """A stand-in backend answering at once with fixed counts."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    async def invoke(self, model_id: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        self.calls.append(model_input["n"])
        return OK


def run_echo(output: Path, count: int) -> tuple[Any, Echo]:
    backend = Echo()
    records = (InputRecord(i, f"id{i}", {"n": i}) for i in range(count))
    report = asyncio.run(
        run_records(records, backend, model_id=MODEL, invocation=InvocationType.INVOKE_MODEL, output=output)
    )
    return report, backend


def test_a_run_after_a_cut_line_redoes_only_that_record(tmp_path: Path) -> None:
    output = tmp_path / "input.jsonl.out"
    run_echo(output, 100)
    output.write_bytes(output.read_bytes()[:-20])
    report, backend = run_echo(output, 100)
    cut = backend.calls
    assert len(cut) == 1 and report.resumed == 99
    assert sorted(record_ids(output)) == sorted(f"id{i}" for i in range(100))
    assert report.manifest == Manifest(100, 100, 100, 0, 500, 700)


CHILD = textwrap.dedent(
    """
    import asyncio, os, sys
    from pathlib import Path
    from mistral_bedrock.batch.invocation import InvocationType
    from mistral_bedrock.batch.outcome import RecordOutcome
    from mistral_bedrock.batch.records import read_records
    from mistral_bedrock.batch.runner import RunSettings, run_records

    source, output, calls, allow = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])

    class Gate:
        '''A stand-in backend (the kill must land while records are in flight): answers its first `allow` calls, then blocks every call and says so once on stdout.'''

        def __init__(self):
            self.count = 0
            self.log = calls.open("ab", buffering=0)

        async def invoke(self, model_id, invocation, model_input):
            self.count += 1
            self.log.write(b"%d\\n" % model_input["n"])
            if self.count > allow:
                if self.count == allow + 1:
                    print("blocked", flush=True)
                await asyncio.Event().wait()
            await asyncio.sleep(0)
            return RecordOutcome(output={"n": model_input["n"]}, input_tokens=1, output_tokens=2)

    async def main():
        with source.open("rb") as stream:
            report = await run_records(
                read_records(stream), Gate(), model_id="mistral.mistral-7b-instruct-v0:2",
                invocation=InvocationType.INVOKE_MODEL, output=output, settings=RunSettings(concurrency=4),
            )
        print("done", report.resumed, report.manifest.processed, flush=True)

    asyncio.run(main())
    """
)


def test_every_record_is_written_exactly_once_across_kills(tmp_path: Path) -> None:
    count = 240
    source = tmp_path / "input.jsonl"
    source.write_bytes(b"".join(b'{"recordId": "k%04d", "modelInput": {"n": %d}}\n' % (i, i) for i in range(count)))
    script, output, calls = tmp_path / "child.py", tmp_path / "input.jsonl.out", tmp_path / "calls"
    script.write_text(CHILD)
    command = [sys.executable, str(script), str(source), str(output), str(calls)]
    for allow in (30, 60, 70):  # records answered by each run before it blocks and is killed
        with subprocess.Popen([*command, str(allow)], stdout=subprocess.PIPE) as child:
            assert child.stdout is not None
            assert child.stdout.readline() == b"blocked\n"
            child.kill()
        assert child.returncode == -9
    finished = subprocess.run([*command, str(count)], capture_output=True, check=True)
    done = finished.stdout.split()
    assert done[0] == b"done" and int(done[2]) == count

    ids = record_ids(output)
    assert len(ids) == count and sorted(ids) == [f"k{i:04d}" for i in range(count)]
    calls_made = calls.read_bytes().split()
    redone = len(calls_made) - count
    assert 0 < redone <= 3 * 4  # at most the records in flight at each kill (four workers, all blocked)
    assert int(done[1]) >= 30 + 60 + 70 - redone  # the last run skipped what the killed ones had written


def _records(ids: list[str]) -> list[InputRecord]:
    return [InputRecord(i, record_id, {"n": i}) for i, record_id in enumerate(ids)]


@pytest.mark.parametrize("positional", [True, False])
def test_a_lost_index_is_rebuilt_from_the_outputs_record_ids(tmp_path: Path, positional: bool) -> None:
    """After the rebuild, a run skips exactly the records the output answers, and the manifest counts them."""
    ids = [positional_id(i) if positional else f"id{i}" for i in range(100)]
    output = tmp_path / "input.jsonl.out"
    usage = {"usage": {"prompt_tokens": 11, "completion_tokens": 3}}
    writer = OutputWriter(output)
    for i in (5, 0, 42, 99, 7):
        outcome = FAILED if i == 42 else RecordOutcome(output=usage, input_tokens=11, output_tokens=3)
        writer.write(i, output_line(_records(ids)[i], outcome), outcome)
    writer.close()
    before = recover(output).manifest
    index_path(output).unlink()
    with output.open("ab") as out:
        out.write(b'{"recordId":"')  # a line cut short by a kill: dropped, its record re-done
    with pytest.raises(ResumeError):
        recover(output)
    assert rebuild_index(output, iter(_records(ids))) == 5
    resumed = recover(output)
    assert resumed.manifest == before == Manifest(processed=5, success=4, errors=1, input_tokens=44, output_tokens=12)
    backend = Echo()
    report = asyncio.run(
        run_records(_records(ids), backend, model_id=MODEL, invocation=InvocationType.INVOKE_MODEL, output=output)
    )
    assert sorted(backend.calls) == [i for i in range(100) if i not in (5, 0, 42, 99, 7)]
    assert report.resumed == 5 and report.manifest.processed == 100
    assert sorted(record_ids(output)) == sorted(ids)


def test_the_rebuilt_counts_are_zero_without_a_usage_in_the_body(tmp_path: Path) -> None:
    output = tmp_path / "a.out"
    written(output, [(3, OK)])  # the text body carries no usage: its 5 and 7 tokens were in headers
    index_path(output).unlink()
    ids = [f"id{i}" for i in range(5)]
    assert rebuild_index(output, _records(ids)) == 1
    assert recover(output).manifest == Manifest(processed=1, success=1)


def test_a_rebuild_is_refused_where_ids_cannot_say_which_record(tmp_path: Path) -> None:
    output = tmp_path / "a.out"
    written(output, [(0, OK), (1, OK)])
    index_path(output).unlink()
    with pytest.raises(ResumeError, match="recordId 'id1' is not unique"):
        rebuild_index(output, _records(["id0", "id1", "id1"]))
    with pytest.raises(ResumeError, match="recordId 'r00000000001' is not unique"):
        rebuild_index(output, _records(["r00000000001", positional_id(1)]))
    with pytest.raises(ResumeError, match="line 2: recordId 'id1' is not in the input"):
        rebuild_index(output, _records(["id0", "other"]))
    assert not index_path(output).exists()  # nothing half-written
    written(tmp_path / "b.out", [(0, OK), (0, OK)])
    index_path(tmp_path / "b.out").unlink()
    with pytest.raises(ResumeError, match="line 2: recordId 'id0' is answered twice"):
        rebuild_index(tmp_path / "b.out", _records(["id0"]))
    written(tmp_path / "c.out", [(0, OK)])
    with pytest.raises(ResumeError, match=r"c\.out\.idx exists"):
        rebuild_index(tmp_path / "c.out", _records(["id0"]))
