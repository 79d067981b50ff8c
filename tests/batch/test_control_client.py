"""The batch control client: its requests are botocore's, byte for byte, and its shells retry, page and type errors.

botocore is the oracle for the wire: each call is made with an unmodified boto3 ``bedrock`` client whose request is
captured at ``before-send`` (nothing leaves the process), signed at the same instant as ours; method, URL, body and
signature must be equal. The shells are driven against :class:`ScriptedControlPlane`, a loopback stand-in that
answers from a script and records each raw request line; the end-to-end tests against the runtime's emulated control
plane live with the CLI's (``tests/cli/test_batch_cli.py``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.jobs import create_job_request
from mistral_bedrock.batch.status import JobStatus
from mistral_bedrock.client.aio_batch import AsyncBatchControl
from mistral_bedrock.client.batch_control import BatchControlCore, JobQuery, control_endpoint_for
from mistral_bedrock.client.retry import RetryPolicy
from mistral_bedrock.client.settings import ClientSettings
from mistral_bedrock.client.sync_batch import BatchControl
from mistral_bedrock.errors import (
    ConflictException,
    ResourceNotFoundException,
    ThrottlingException,
    ValidationException,
)

AKID, SECRET = "AKIDBATCH", "batch-secret"
REGION = "eu-west-3"
JOB_ID = "abcdefghijkl"
ARN = f"arn:aws:bedrock:{REGION}:123456789012:model-invocation-job/{JOB_ID}"
SIGNED_AT = dt.datetime(2026, 12, 1, 3, 4, 5)
CREATE = create_job_request(
    job_name="reviews-2026-12",
    role_arn="arn:aws:iam::123456789012:role/BatchRole",
    model_id="mistral.mistral-large-3-675b-instruct",
    input_uri="s3://my-bucket/in/reviews.jsonl",
    output_uri="s3://my-bucket/out/",
    invocation=InvocationType.CONVERSE,
    client_request_token="0123456789abcdef",
    timeout_hours=48,
    tags={"team": "search", "cost centre": "r+d/2"},
)


def _job_json(status: str = "InProgress", job_id: str = JOB_ID, **extra: Any) -> dict[str, Any]:
    return {
        "jobArn": f"arn:aws:bedrock:{REGION}:123456789012:model-invocation-job/{job_id}",
        "jobName": f"job-{job_id}",
        "modelId": "mistral.mistral-large-3-675b-instruct",
        "roleArn": "arn:aws:iam::123456789012:role/BatchRole",
        "status": status,
        "submitTime": "2026-12-01T03:04:05.000Z",
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://my-bucket/in/reviews.jsonl"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://my-bucket/out/"}},
        **extra,
    }


# -- the wire, against botocore ----------------------------------------------------------------------------------

# (our call on the core, the same call on boto3)
CALLS: dict[str, tuple[Callable[[BatchControlCore], Any], Callable[[Any], Any]]] = {
    "create": (lambda core: core.create(CREATE), lambda boto: boto.create_model_invocation_job(**CREATE)),
    "get by id": (lambda core: core.get(JOB_ID), lambda boto: boto.get_model_invocation_job(jobIdentifier=JOB_ID)),
    "get by ARN": (lambda core: core.get(ARN), lambda boto: boto.get_model_invocation_job(jobIdentifier=ARN)),
    "stop by ARN": (lambda core: core.stop(ARN), lambda boto: boto.stop_model_invocation_job(jobIdentifier=ARN)),
    "list, no filter": (
        lambda core: core.list_page(JobQuery()),
        lambda boto: boto.list_model_invocation_jobs(),
    ),
    "list, every filter": (
        lambda core: core.list_page(
            JobQuery(
                status=JobStatus.IN_PROGRESS,
                name_contains="a b/+é",
                submitted_after=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                submitted_before=dt.datetime(2026, 1, 2, 3, 4, 5, 123000),
                sort_order="Ascending",
                page_size=7,
            ),
            "next/page+token==",
        ),
        lambda boto: boto.list_model_invocation_jobs(
            submitTimeAfter=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            submitTimeBefore=dt.datetime(2026, 1, 2, 3, 4, 5, 123000),
            statusEquals="InProgress",
            nameContains="a b/+é",
            maxResults=7,
            nextToken="next/page+token==",
            sortBy="CreationTime",
            sortOrder="Ascending",
        ),
    ),
}


def _botocores(call: Callable[[Any], Any], monkeypatch: pytest.MonkeyPatch) -> AWSPreparedRequest:
    """What boto3 sends for ``call``, signed at :data:`SIGNED_AT`; captured before it would leave the process."""
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: SIGNED_AT)
    client = boto3.client("bedrock", region_name=REGION, aws_access_key_id=AKID, aws_secret_access_key=SECRET)
    seen: list[AWSPreparedRequest] = []

    def capture(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        seen.append(request)
        return AWSResponse(request.url, 200, {}, _Raw(json.dumps({"jobArn": ARN, **_job_json()}).encode()))

    client.meta.events.register("before-send.bedrock.*", capture)
    call(client)
    assert len(seen) == 1
    return seen[0]


@dataclass
class _Raw:
    data: bytes

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@pytest.mark.parametrize("name", CALLS)
def test_each_request_is_botocores_byte_for_byte(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ours_call, boto_call = CALLS[name]
    theirs = _botocores(boto_call, monkeypatch)
    monkeypatch.setattr("mistral_bedrock.client.signing._amz_date", lambda: SIGNED_AT.strftime("%Y%m%dT%H%M%SZ"))
    core = BatchControlCore.from_settings(
        ClientSettings(region=REGION, aws_access_key_id=AKID, aws_secret_access_key=SECRET)
    )
    ours = ours_call(core)
    assert (ours.method, ours.url) == (theirs.method, theirs.url)
    assert ours.payload == (theirs.body or b"")
    headers = core.headers(ours)
    signed = {k: v.decode() if isinstance(v, bytes) else v for k, v in theirs.headers.items()}
    assert headers["Authorization"] == signed["Authorization"]
    assert "/bedrock/aws4_request" in headers["Authorization"]
    assert headers.get("Content-Type") == signed.get("Content-Type")


def test_an_arn_goes_percent_encoded_whole() -> None:
    core = BatchControlCore(region=REGION, endpoint_url="http://h", signer=None)  # type: ignore[arg-type]
    assert core.get(ARN).url == (
        "http://h/model-invocation-job/arn%3Aaws%3Abedrock%3Aeu-west-3%3A123456789012%3Amodel-invocation-job%2F"
        + JOB_ID
    )
    assert core.stop(JOB_ID).url == f"http://h/model-invocation-job/{JOB_ID}/stop"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "cn-north-1", "cn-northwest-1"])
def test_the_regional_endpoint_is_botocores(region: str) -> None:
    boto = boto3.client("bedrock", region_name=region, aws_access_key_id=AKID, aws_secret_access_key=SECRET)
    assert control_endpoint_for(region, None) == boto.meta.endpoint_url


@pytest.mark.parametrize(
    ("env", "explicit", "expected"),
    [
        ({"AWS_ENDPOINT_URL_BEDROCK": "http://svc:1", "AWS_ENDPOINT_URL": "http://all:2"}, None, "http://svc:1"),
        ({"AWS_ENDPOINT_URL": "http://all:2"}, None, "http://all:2"),
        ({"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://data:3"}, None, f"https://bedrock.{REGION}.amazonaws.com"),
        ({"AWS_ENDPOINT_URL_BEDROCK": "http://svc:1"}, "http://mine:4/", "http://mine:4"),
    ],
)
def test_the_endpoint_chain(
    env: dict[str, str], explicit: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert control_endpoint_for(REGION, explicit) == expected
    if explicit is None:  # boto3 reads the same variables the same way
        boto = boto3.client("bedrock", region_name=REGION, aws_access_key_id=AKID, aws_secret_access_key=SECRET)
        assert boto.meta.endpoint_url == expected


def test_bad_input_fails_before_any_io() -> None:
    # An endpoint nothing listens on: a request that went out would fail differently.
    control = BatchControl(region=REGION, endpoint_url="http://127.0.0.1:9", aws_access_key_id=AKID,
                           aws_secret_access_key=SECRET, retry=RetryPolicy(max_attempts=1))  # fmt: skip
    with control, pytest.raises(ValidationException, match="at 'jobIdentifier' failed to satisfy constraint"):
        control.get_job("not-a-job")
    with pytest.raises(ValidationException, match="at 'jobName' failed to satisfy constraint"):
        control.create_job(
            job_name="no_underscores",
            role_arn="arn:aws:iam::123456789012:role/R",
            model_id="mistral.ministral-3-8b-instruct",
            input_uri="s3://bucket/in.jsonl",
            output_uri="s3://bucket/out/",
            client_request_token="t0k3n",
        )


# -- the shells, against a loopback stand-in ---------------------------------------------------------------------


@dataclass
class ScriptedControlPlane:
    """A stand-in for Bedrock's control plane: answers each request with the next scripted reply, and records the
    raw request line, headers and body. Stands in only where the shells' retry, paging and error handling are
    exercised; what a request looks like is held to botocore above."""

    replies: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)

    def reply(self, status: int, body: dict[str, Any] | None = None, code: str | None = None) -> None:
        headers = {"Content-Type": "application/json"} | ({"x-amzn-ErrorType": code} if code else {})
        self.replies.append((status, headers, json.dumps(body or {}).encode()))


@pytest.fixture
def stand_in() -> Iterator[tuple[ScriptedControlPlane, str]]:
    plane = ScriptedControlPlane()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with lock:
                plane.seen.append((self.command, self.path, dict(self.headers.items()), body))
                status, headers, data = plane.replies.pop(0)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # http.server calls do_<METHOD>
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def log_message(self, *_: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield plane, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _sync(url: str, attempts: int = 5) -> BatchControl:
    # No waiting between attempts: the stand-in answers from its script, not from time.
    retry = RetryPolicy(max_attempts=attempts, base_delay=0)
    return BatchControl(region=REGION, endpoint_url=url, aws_access_key_id=AKID, aws_secret_access_key=SECRET,
                        retry=retry)  # fmt: skip


def _async(url: str, attempts: int = 5) -> AsyncBatchControl:
    retry = RetryPolicy(max_attempts=attempts, base_delay=0)
    return AsyncBatchControl(region=REGION, endpoint_url=url, aws_access_key_id=AKID, aws_secret_access_key=SECRET,
                             retry=retry)  # fmt: skip


THROTTLED = {"message": "Too many requests, please wait before trying again."}


def test_sync_get_retries_throttling_then_parses_the_job(stand_in: tuple[ScriptedControlPlane, str]) -> None:
    plane, url = stand_in
    plane.reply(429, THROTTLED, "ThrottlingException")
    plane.reply(429, THROTTLED, "ThrottlingException")
    plane.reply(200, _job_json("Completed", totalRecordCount=100, successRecordCount=0, errorRecordCount=100))
    with _sync(url) as control:
        job = control.get_job(ARN)
    assert (job.job_id, job.status, job.terminal, job.partial_failure) == (JOB_ID, JobStatus.COMPLETED, True, True)
    assert [line for _, line, _, _ in plane.seen] == [
        "/model-invocation-job/arn%3Aaws%3Abedrock%3Aeu-west-3%3A123456789012%3Amodel-invocation-job%2Fabcdefghijkl"
    ] * 3
    assert all("/bedrock/aws4_request" in headers["Authorization"] for _, _, headers, _ in plane.seen)


def test_throttling_past_the_attempts_is_raised_typed(stand_in: tuple[ScriptedControlPlane, str]) -> None:
    plane, url = stand_in
    for _ in range(2):
        plane.reply(429, THROTTLED, "ThrottlingException")
    with _sync(url, attempts=2) as control, pytest.raises(ThrottlingException):
        control.get_job(JOB_ID)
    assert len(plane.seen) == 2


def test_stop_on_an_ended_job_is_bedrocks_validation_error_not_retried(
    stand_in: tuple[ScriptedControlPlane, str],
) -> None:
    plane, url = stand_in
    message = "Failed to stop job. State was: Completed"
    plane.reply(400, {"message": message}, "ValidationException")
    with _sync(url) as control, pytest.raises(ValidationException, match="State was: Completed"):
        control.stop_job(JOB_ID)
    method, line, headers, body = plane.seen[0]
    assert (method, line, body, len(plane.seen)) == ("POST", f"/model-invocation-job/{JOB_ID}/stop", b"", 1)
    assert "Content-Type" not in headers


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [(404, "ResourceNotFoundException", ResourceNotFoundException), (409, "ConflictException", ConflictException)],
)
def test_errors_are_typed_by_aws_code(
    stand_in: tuple[ScriptedControlPlane, str], status: int, code: str, error: type[Exception]
) -> None:
    plane, url = stand_in
    plane.reply(status, {"message": "said by the stand-in"}, code)
    with _sync(url) as control, pytest.raises(error, match="said by the stand-in"):
        control.get_job(JOB_ID)


def test_create_sends_the_checked_body_and_returns_the_arn(stand_in: tuple[ScriptedControlPlane, str]) -> None:
    plane, url = stand_in
    plane.reply(200, {"jobArn": ARN})
    with _sync(url) as control:
        arn = control.create_job(
            job_name="reviews-2026-12",
            role_arn="arn:aws:iam::123456789012:role/BatchRole",
            model_id="mistral.mistral-large-3-675b-instruct",
            input_uri="s3://my-bucket/in/reviews.jsonl",
            output_uri="s3://my-bucket/out/",
            client_request_token="0123456789abcdef",
            invocation=InvocationType.CONVERSE,
            timeout_hours=48,
            tags={"team": "search", "cost centre": "r+d/2"},
        )
    assert arn == ARN
    method, line, headers, body = plane.seen[0]
    assert (method, line, headers["Content-Type"]) == ("POST", "/model-invocation-job", "application/json")
    assert json.loads(body) == CREATE


def _pages(plane: ScriptedControlPlane) -> None:
    plane.reply(200, {"invocationJobSummaries": [_job_json(job_id="a" * 12), _job_json(job_id="b" * 12)],
                      "nextToken": "page/2+="})  # fmt: skip
    plane.reply(200, {"invocationJobSummaries": [_job_json("Failed", job_id="c" * 12, message="no access")]})


def test_list_walks_every_page_with_the_token_encoded(stand_in: tuple[ScriptedControlPlane, str]) -> None:
    plane, url = stand_in
    _pages(plane)
    with _sync(url) as control:
        jobs = list(control.list_jobs(JobQuery(status=JobStatus.FAILED, page_size=2)))
    assert [job.job_id for job in jobs] == ["a" * 12, "b" * 12, "c" * 12]
    assert jobs[2].message == "no access"
    assert [line for _, line, _, _ in plane.seen] == [
        "/model-invocation-jobs?statusEquals=Failed&maxResults=2",
        "/model-invocation-jobs?statusEquals=Failed&maxResults=2&nextToken=page%2F2%2B%3D",
    ]


def test_list_stops_at_the_limit_without_asking_for_more(stand_in: tuple[ScriptedControlPlane, str]) -> None:
    plane, url = stand_in
    _pages(plane)
    with _sync(url) as control:
        jobs = list(control.list_jobs(limit=2))
    assert [job.job_id for job in jobs] == ["a" * 12, "b" * 12]
    assert len(plane.seen) == 1


def test_the_async_shell_does_the_same(stand_in: tuple[ScriptedControlPlane, str]) -> None:
    plane, url = stand_in
    plane.reply(429, THROTTLED, "ThrottlingException")
    plane.reply(200, {"jobArn": ARN})
    plane.reply(200, _job_json("Stopping"))
    plane.reply(200, {})
    _pages(plane)

    async def scenario() -> tuple[str, JobStatus, list[str]]:
        async with _async(url) as control:
            arn = await control.create_job(
                job_name="j1",
                role_arn="arn:aws:iam::123456789012:role/R",
                model_id="mistral.ministral-3-8b-instruct",
                input_uri="s3://bucket/in.jsonl",
                output_uri="s3://bucket/out/",
                client_request_token="t0k3n",
            )
            job = await control.get_job(arn)
            await control.stop_job(arn)
            ids = [job.job_id async for job in control.list_jobs()]
            return arn, job.status, ids

    arn, status, ids = asyncio.run(scenario())
    assert (arn, status, ids) == (ARN, JobStatus.STOPPING, ["a" * 12, "b" * 12, "c" * 12])
    assert [method for method, _, _, _ in plane.seen] == ["POST", "POST", "GET", "POST", "GET", "GET"]
    # aiohttp under httpx sends the path as signed: the ARN's %3A and %2F, the token's %2F, %2B and %3D.
    encoded_arn = "arn%3Aaws%3Abedrock%3Aeu-west-3%3A123456789012%3Amodel-invocation-job%2Fabcdefghijkl"
    assert [line for _, line, _, _ in plane.seen[2:]] == [
        f"/model-invocation-job/{encoded_arn}",
        f"/model-invocation-job/{encoded_arn}/stop",
        "/model-invocation-jobs",
        "/model-invocation-jobs?nextToken=page%2F2%2B%3D",
    ]


def test_a_malformed_answer_is_reported_as_such(stand_in: tuple[ScriptedControlPlane, str]) -> None:
    from mistral_bedrock.errors import MalformedResponseError

    plane, url = stand_in
    plane.reply(200, {"jobArn": ARN, "status": "InProgress"})  # no model, no configs: not a job
    with _sync(url) as control, pytest.raises(MalformedResponseError, match="not a model invocation job"):
        control.get_job(JOB_ID)
