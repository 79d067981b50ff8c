"""The runner end to end: real records through the real runtime over real sockets, boto3 as the oracle.

Each test runs :func:`run_records` with :class:`HttpBackend` against a ``ServerThread`` (built-in engine) and checks
the output file line by line against what unmodified boto3 gets for the same body from the same runtime.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.outcome import RecordError, RecordOutcome
from mistral_bedrock.batch.output import Manifest
from mistral_bedrock.batch.records import InputRecord, RecordLineError, read_records
from mistral_bedrock.batch.runner import Progress, RunSettings, index_path, run_records, write_manifest
from mistral_bedrock.catalog import resolve
from mistral_bedrock.client import AsyncMistralBedrock
from mistral_bedrock.client.batch_backend import HttpBackend
from mistral_bedrock.prompt import count_prompt_tokens
from mistral_bedrock.runtime import CONTROL_PREFIX, RuntimeConfig, ServerThread

TEXT_MODEL = "mistral.mistral-7b-instruct-v0:2"
CONVERSE_MODEL = "mistral.mistral-large-2402-v1:0"


@pytest.fixture(scope="module")
def runtime() -> Iterator[ServerThread]:
    with ServerThread(config=RuntimeConfig(min_first_byte_ms=0)) as server:
        yield server


def boto3_client(url: str) -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def native_records(count: int) -> list[InputRecord]:
    """Distinct text-dialect records; every fifth one is a body Bedrock refuses, in one of three ways."""
    refused: tuple[Callable[[int], dict[str, Any]], ...] = (
        lambda i: {"prompt": f"<s>[INST] Item {i} [/INST]", "max_tokens": -i},
        lambda i: {"messages": [{"role": "user", "content": f"Item {i}"}]},
        lambda i: {"prompt": f"<s>[INST] Item {i} [/INST]", "temperature": 5 + i},
    )
    records = []
    for i in range(count):
        if i % 5 == 4:
            body = refused[i % 3](i)
        else:
            body = {"prompt": f"<s>[INST] Question {i}: what is {i} times {i + 7}? [/INST]", "max_tokens": 10 + i % 40}
        records.append(InputRecord(i, f"rec_{i:06d}", body))
    return records


def oracle_native(client: Any, body: Mapping[str, Any]) -> tuple[dict[str, Any], int, int]:
    """What boto3 gets for ``body``: the output line's ``modelOutput`` or ``error``, and the token counts."""
    try:
        response = client.invoke_model(modelId=TEXT_MODEL, body=json.dumps(body))
    except ClientError as exc:
        status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        return {"error": {"errorCode": status, "errorMessage": exc.response["Error"]["Message"]}}, 0, 0
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    counts = int(headers["x-amzn-bedrock-input-token-count"]), int(headers["x-amzn-bedrock-output-token-count"])
    return {"modelOutput": json.loads(response["body"].read())}, *counts


def oracle_converse(client: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    """boto3's Converse response to ``request``, or the ``error`` member a refusal makes."""
    try:
        return dict(client.converse(modelId=CONVERSE_MODEL, **request))
    except ClientError as exc:
        status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        return {"error": {"errorCode": status, "errorMessage": exc.response["Error"]["Message"]}}


def output_lines(path: Path) -> dict[str, dict[str, Any]]:
    """The output's lines by recordId, failing on a repeated id."""
    lines: dict[str, dict[str, Any]] = {}
    for raw in path.read_bytes().split(b"\n")[:-1]:
        line = json.loads(raw)
        assert line["recordId"] not in lines, f"{line['recordId']} written twice"
        lines[line["recordId"]] = line
    return lines


async def run_http(
    runtime: ServerThread, records: list[InputRecord], output: Path, invocation: InvocationType, model: str, **kw: Any
) -> Any:
    async with AsyncMistralBedrock(
        endpoint_url=runtime.url, region="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x"
    ) as client:
        return await run_records(
            iter(records), HttpBackend(client), model_id=model, invocation=invocation, output=output, **kw
        )


def test_invoke_model_records_come_out_as_boto3_sees_them(runtime: ServerThread, tmp_path: Path) -> None:
    records = native_records(220)
    output = tmp_path / "input.jsonl.out"
    report = asyncio.run(run_http(runtime, records, output, InvocationType.INVOKE_MODEL, TEXT_MODEL))

    lines = output_lines(output)
    assert sorted(lines) == sorted(record.record_id for record in records)
    expected = Manifest(total=len(records))
    client = boto3_client(runtime.url)
    for record in records:
        oracle, input_tokens, output_tokens = oracle_native(client, record.model_input)
        assert lines[record.record_id] == {"recordId": record.record_id, "modelInput": record.model_input, **oracle}
        error = oracle.get("error")
        expected.add(
            RecordOutcome(
                error=RecordError(error["errorCode"], error["errorMessage"]) if error else None,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
            )
        )
    assert report.manifest == expected
    assert expected.errors == 44 and all(
        line.get("error", {"errorCode": 400})["errorCode"] == 400 for line in lines.values()
    )
    assert (report.retries, report.resumed, report.stopped) == (0, 0, False)
    # Completion order: with eight records in flight the output is not the input's order.
    assert list(lines) != [record.record_id for record in records]


def test_converse_records_come_out_as_boto3_sees_them(runtime: ServerThread, tmp_path: Path) -> None:
    records = [
        InputRecord(
            i,
            f"c{i}",
            {"messages": [{"role": "user", "content": [{"text": f"Tell me about the number {i}"}]}]}
            if i % 4
            else {"messages": [{"role": "assistant", "content": [{"text": f"Hi {i}"}]}]},
        )
        for i in range(40)
    ]
    output = tmp_path / "converse.jsonl.out"
    report = asyncio.run(run_http(runtime, records, output, InvocationType.CONVERSE, CONVERSE_MODEL))

    lines = output_lines(output)
    client = boto3_client(runtime.url)
    tokens = 0
    for record in records:
        line = lines[record.record_id]
        answer = oracle_converse(client, record.model_input)
        if "error" in answer:
            assert line["error"] == answer["error"]
            continue
        assert line["modelOutput"]["output"] == answer["output"]
        assert line["modelOutput"]["usage"] == answer["usage"]
        tokens += answer["usage"]["inputTokens"] + answer["usage"]["outputTokens"]
    assert (report.manifest.success, report.manifest.errors) == (30, 10)
    assert report.manifest.input_tokens + report.manifest.output_tokens == tokens > 0


def test_throttled_attempts_are_retried_until_they_succeed(tmp_path: Path) -> None:
    config = RuntimeConfig(min_first_byte_ms=0, faults=("throttle:rate=0.3",), fault_seed=1)
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    records = [r for r in native_records(200) if r.index % 5 != 4]
    settings = RunSettings(max_attempts=8, backoff_base=0.5, backoff_cap=4.0, seed=3)
    with ServerThread(config=config) as server:
        report = asyncio.run(
            run_http(
                server,
                records,
                tmp_path / "t.out",
                InvocationType.INVOKE_MODEL,
                TEXT_MODEL,
                settings=settings,
                sleep=no_wait,
            )
        )
        journal = httpx.get(server.url + CONTROL_PREFIX + "/requests", headers={"Authorization": "Bearer t"}).json()
    throttled = sum(entry["error_code"] == "ThrottlingException" for entry in journal["requests"])
    assert report.manifest.success == len(records) == len(output_lines(tmp_path / "t.out"))
    assert report.retries == throttled == len(waits) > 20
    assert all(0 <= wait <= 4.0 for wait in waits)


class Unavailable:
    """A stand-in backend (the runtime cannot fail every attempt of a record on cue): always a retryable 503."""

    def __init__(self) -> None:
        self.calls = 0

    async def invoke(self, model_id: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        self.calls += 1
        error = RecordError(503, "Service unavailable. Try again later.")
        return RecordOutcome(error=error, error_code="ServiceUnavailableException", retryable=True)


def test_a_record_whose_attempts_run_out_is_written_as_its_last_error(tmp_path: Path) -> None:
    backend = Unavailable()
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    records = [InputRecord(i, f"u{i}", {"prompt": str(i)}) for i in range(5)]
    settings = RunSettings(max_attempts=3, backoff_base=1.0, backoff_cap=1.5, seed=0)
    report = asyncio.run(
        run_records(
            records,
            backend,
            model_id=TEXT_MODEL,
            invocation=InvocationType.INVOKE_MODEL,
            output=tmp_path / "u.out",
            settings=settings,
            sleep=no_wait,
        )
    )
    assert backend.calls == 15 and report.retries == 10
    # Full jitter: the first wait is drawn below 1 s, the second below min(cap, 2 s).
    assert len(waits) == 10 and all(0 <= wait <= 1.5 for wait in waits) and any(wait > 1.0 for wait in waits)
    lines = output_lines(tmp_path / "u.out")
    assert {line["error"]["errorCode"] for line in lines.values()} == {503}
    assert report.manifest.errors == 5


class Echo:
    """A stand-in backend answering at once, that sets ``stop`` when its ``stop_after``-th call arrives."""

    def __init__(self, stop: asyncio.Event | None = None, stop_after: int = 0) -> None:
        self.stop = stop
        self.stop_after = stop_after
        self.calls = 0

    async def invoke(self, model_id: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        self.calls += 1
        if self.stop is not None and self.calls == self.stop_after:
            self.stop.set()
        await asyncio.sleep(0)
        return RecordOutcome(output={"echo": model_input["n"]}, input_tokens=2, output_tokens=3)


def test_stop_finishes_what_is_in_flight_and_a_second_run_does_the_rest(tmp_path: Path) -> None:
    output = tmp_path / "s.out"
    records = [InputRecord(i, f"s{i}", {"n": i}) for i in range(300)]

    async def first() -> Any:
        stop = asyncio.Event()
        backend = Echo(stop, stop_after=50)
        report = await run_records(
            iter(records),
            backend,
            model_id=TEXT_MODEL,
            invocation=InvocationType.INVOKE_MODEL,
            output=output,
            settings=RunSettings(concurrency=4),
            stop=stop,
        )
        return report, backend.calls

    report, calls = asyncio.run(first())
    written = output_lines(output)
    assert report.stopped and calls == len(written) == report.manifest.processed
    assert 50 <= calls < 50 + 4  # the records in flight when stop was set, no more

    backend = Echo()
    second = asyncio.run(
        run_records(iter(records), backend, model_id=TEXT_MODEL, invocation=InvocationType.INVOKE_MODEL, output=output)
    )
    assert not second.stopped and second.resumed == calls and backend.calls == 300 - calls
    assert sorted(output_lines(output)) == sorted(record.record_id for record in records)
    assert second.manifest == Manifest(300, 300, 300, 0, 600, 900)


class Broken:
    """A stand-in backend that breaks the Backend contract by raising, on its third call (after the reader has
    filled the queue)."""

    def __init__(self) -> None:
        self.calls = 0

    async def invoke(self, model_id: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        self.calls += 1
        call = self.calls
        await asyncio.sleep(0)
        if call == 3:
            raise RuntimeError("backend bug")
        return RecordOutcome(output={})


def test_a_backend_that_raises_ends_the_run_with_its_exception(tmp_path: Path) -> None:
    records = (InputRecord(i, f"b{i}", {}) for i in range(100))
    with pytest.raises(RuntimeError, match="backend bug"):
        asyncio.run(
            run_records(
                records,
                Broken(),
                model_id=TEXT_MODEL,
                invocation=InvocationType.INVOKE_MODEL,
                output=tmp_path / "b.out",
            )
        )
    # What was written is consistent: a resume can pick it up.
    assert len(output_lines(tmp_path / "b.out")) * 16 == index_path(tmp_path / "b.out").stat().st_size


def test_a_bad_input_line_ends_the_run_with_its_error_and_what_was_done_kept(tmp_path: Path) -> None:
    source = tmp_path / "input.jsonl"
    lines = [b'{"recordId": "g%d", "modelInput": {"n": %d}}' % (i, i) for i in range(40)]
    source.write_bytes(b"\n".join([*lines, b'{"recordId": "broken"', *lines]) + b"\n")
    with source.open("rb") as stream, pytest.raises(RecordLineError, match="line 41: not valid JSON"):
        asyncio.run(
            run_records(
                read_records(stream),
                Echo(),
                model_id=TEXT_MODEL,
                invocation=InvocationType.INVOKE_MODEL,
                output=tmp_path / "input.jsonl.out",
            )
        )
    assert (
        len(output_lines(tmp_path / "input.jsonl.out")) * 16 == index_path(tmp_path / "input.jsonl.out").stat().st_size
    )


class Stuck:
    """A stand-in backend whose calls never end (the run can only be cancelled)."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def invoke(self, model_id: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        self.started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def test_cancelling_a_run_leaves_no_task_behind(tmp_path: Path) -> None:
    async def scenario() -> set[asyncio.Task[Any]]:
        backend = Stuck()
        records = (InputRecord(i, f"x{i}", {}) for i in range(1000))
        run = asyncio.create_task(
            run_records(
                records, backend, model_id=TEXT_MODEL, invocation=InvocationType.INVOKE_MODEL, output=tmp_path / "x.out"
            )
        )
        await backend.started.wait()
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        return asyncio.all_tasks() - {asyncio.current_task()}

    assert asyncio.run(scenario()) == set()


def test_progress_is_reported_at_its_interval_and_at_the_end(tmp_path: Path) -> None:
    ticks = iter(range(10_000))
    reports: list[Progress] = []
    records = [InputRecord(i, f"p{i}", {"n": i}) for i in range(20)]
    settings = RunSettings(concurrency=2, progress_interval=5)
    asyncio.run(
        run_records(
            records,
            Echo(),
            model_id=TEXT_MODEL,
            invocation=InvocationType.INVOKE_MODEL,
            output=tmp_path / "p.out",
            settings=settings,
            progress=reports.append,
            clock=lambda: float(next(ticks)),
        )
    )
    assert reports[-1].done == 20 and reports[-1].in_flight == 0
    assert reports[-1].input_tokens == 40 and reports[-1].output_tokens == 60
    assert 1 < len(reports) < 20
    assert all(b.elapsed - a.elapsed >= 5 for a, b in itertools.pairwise(reports[:-1]))
    assert reports[-1].records_per_second == 20 / reports[-1].elapsed
    assert reports[-1].tokens_per_second == 100 / reports[-1].elapsed


def test_an_input_file_is_read_lazily_and_the_manifest_written_whole(tmp_path: Path) -> None:
    source = tmp_path / "input.jsonl"
    source.write_bytes(b"".join(b'{"recordId": "f%d", "modelInput": {"n": %d}}\n' % (i, i) for i in range(50)))
    with source.open("rb") as stream:
        report = asyncio.run(
            run_records(
                read_records(stream),
                Echo(),
                model_id=TEXT_MODEL,
                invocation=InvocationType.INVOKE_MODEL,
                output=tmp_path / "input.jsonl.out",
            )
        )
    write_manifest(tmp_path / "manifest.json.out", report.manifest)
    assert json.loads((tmp_path / "manifest.json.out").read_text()) == {
        "totalRecordCount": 50, "processedRecordCount": 50, "successRecordCount": 50, "errorRecordCount": 0,
        "inputTokenCount": 100, "outputTokenCount": 150,
    }  # fmt: skip
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


class Metered:
    """A stand-in backend with a known cost (the runtime's pacing is not what is under test): it reads each record's
    exact input count and writes half its ``max_tokens``, at once, noting the (virtual) time of each call."""

    def __init__(self, clock: Callable[[], float], throttle_first: int = 0) -> None:
        self.clock = clock
        self.spec = resolve(TEXT_MODEL).spec
        self.calls: list[tuple[float, int]] = []
        self.throttle_first = throttle_first

    async def invoke(self, model_id: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        if len(self.calls) < self.throttle_first:
            self.calls.append((self.clock(), 0))
            error = RecordError(429, "Too many requests, please wait before trying again.")
            return RecordOutcome(error=error, error_code="ThrottlingException", retryable=True)
        max_tokens = model_input["max_tokens"]
        input_tokens = count_prompt_tokens(model_input["prompt"], self.spec)
        self.calls.append((self.clock(), input_tokens + max_tokens // 2))
        return RecordOutcome(output={}, input_tokens=input_tokens, output_tokens=max_tokens // 2)


class Clock:
    """Virtual time: sleeping moves it on (the limiter's waits are taken one at a time, so they add up)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def test_a_token_limit_paces_the_run_by_reservation_and_refund(tmp_path: Path) -> None:
    clock = Clock()
    backend = Metered(clock)
    records = [
        InputRecord(i, f"m{i}", {"prompt": f"<s>[INST] Count to {i} please [/INST]", "max_tokens": 100})
        for i in range(1_000)
    ]
    settings = RunSettings(tokens_per_minute=60_000, margin_s=0)
    report = asyncio.run(
        run_records(
            records,
            backend,
            model_id=TEXT_MODEL,
            invocation=InvocationType.INVOKE_MODEL,
            output=tmp_path / "m.out",
            settings=settings,
            sleep=clock.sleep,
            clock=clock,
        )
    )
    used = sum(tokens for _, tokens in backend.calls)
    assert report.manifest.input_tokens + report.manifest.output_tokens == used
    windows = [sum(tokens for at, tokens in backend.calls if start <= at < start + 10) for start, _ in backend.calls]
    assert max(windows) <= 10_000  # 60,000 a minute is 10,000 a 10 s window
    # Each record reserves its input and all 100 max_tokens (about 125), uses about 75 and gets the rest back at
    # once: paced by its reservation alone the run would reach 60 % of the limit.
    span = backend.calls[-1][0] // 10 * 10  # whole windows, so the bound is exact
    rate = sum(tokens for at, tokens in backend.calls if at < span) / span * 60
    assert 0.95 * 60_000 <= rate <= 60_000


def test_throttling_lowers_the_rate_the_progress_reports(tmp_path: Path) -> None:
    clock = Clock()
    backend = Metered(clock, throttle_first=2)
    reports: list[Progress] = []
    records = [InputRecord(i, f"t{i}", {"prompt": "<s>[INST] Hi [/INST]", "max_tokens": 10}) for i in range(3)]
    settings = RunSettings(concurrency=1, tokens_per_minute=60_000, requests_per_minute=600, progress_interval=0)
    report = asyncio.run(
        run_records(
            records,
            backend,
            model_id=TEXT_MODEL,
            invocation=InvocationType.INVOKE_MODEL,
            output=tmp_path / "t.out",
            settings=settings,
            progress=reports.append,
            sleep=clock.sleep,
            clock=clock,
        )
    )
    assert report.retries == 2 and report.manifest.success == 3
    first = reports[0]
    assert first.retries == 2
    assert (first.requests_per_minute, first.tokens_per_minute) == (
        pytest.approx(600 * 0.49),
        pytest.approx(60_000 * 0.49),
    )
