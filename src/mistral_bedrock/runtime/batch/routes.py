"""The batch paths of the runtime's port: Bedrock's four control-plane operations, and the control endpoint that
drives jobs in tests.

=========================================================  ================================================
``POST /model-invocation-job``                             CreateModelInvocationJob
``GET /model-invocation-job/{jobIdentifier}``              GetModelInvocationJob (an id or a quoted ARN)
``GET /model-invocation-jobs``                             ListModelInvocationJobs
``POST /model-invocation-job/{jobIdentifier}/stop``        StopModelInvocationJob
``GET /_mistral_bedrock/batch``                            the job clock, the holds, the store
``PUT /_mistral_bedrock/batch/holds``                      ``{"phases": [...]}``: keep jobs in these phases
``POST /_mistral_bedrock/batch/clock``                     ``{"advanceSeconds": N}``: move the job clock on
``POST /_mistral_bedrock/batch/jobs/{id}/advance``         let a held job go one phase (``{"records": N}`` at
                                                           a held InProgress: N more records)
``POST /_mistral_bedrock/batch/jobs/{id}/settle``          answer once the job has ended or waits at a hold
=========================================================  ================================================

Every route is authenticated as model requests are (``--auth strict:…`` applies; the SigV4 scope's service is
``bedrock`` for both APIs), and every refusal is Bedrock's restJson1 error. The Region of the signature scopes the
jobs (a bearer token's requests see ``us-east-1``'s).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.types import Receive, Scope, Send

from mistral_bedrock.errors import BedrockError, UnknownOperationException, ValidationException
from mistral_bedrock.protocol.batch_operations import BatchOperationName, match_batch_path
from mistral_bedrock.protocol.error_codes import ERROR_CODES

from ..asgi import read_request
from ..auth import AuthPolicy, AuthRequest
from ..request_ids import new_request_id
from ..responses import JSONBytesResponse, error_response, json_response
from .create import json_object
from .plane import BatchPlane

__all__ = ["BATCH_CONTROL", "BATCH_PATHS", "DISABLED_MESSAGE", "BatchEndpoint"]

#: Path prefixes this endpoint answers (decoded paths): the operations, and its part of the control prefix.
BATCH_CONTROL = "/_mistral_bedrock/batch"
BATCH_PATHS = ("/model-invocation-job", BATCH_CONTROL)
#: What every batch path answers where the plane is off (several worker processes: a job lives in one).
DISABLED_MESSAGE = (
    "Batch inference is not available from this runtime: it serves with several worker processes, and a job lives "
    "in the one that accepted it. Serve with --workers 1."
)
#: How long a settle waits at most when the request names no timeout, in seconds.
SETTLE_TIMEOUT_S = 60.0
_UNKNOWN = ERROR_CODES["UnknownOperationException"].message
_INTERNAL = ERROR_CODES["InternalServerException"].message
_JOB_ROUTE = re.compile(r"^/jobs/(?P<id>[^/]+)/(?P<action>advance|settle)$")
logger = logging.getLogger("mistral_bedrock.runtime.batch")

Answer = dict[str, Any]


def _query(query_string: str) -> dict[str, str]:
    # Blank values are kept: ``nameContains=`` is a value the front end refuses (length 0), not an absent member.
    return dict(parse_qsl(query_string, keep_blank_values=True))


def _number(data: dict[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ValidationException(f"{name} must be a number")
    return value


class BatchEndpoint:
    """Answers the batch paths.

    Args:
        plane: The control plane; None where batch is off (:data:`DISABLED_MESSAGE`).
        auth: The app's auth policy.
        clock: "Now" for signature expiry (the app's).
    """

    def __init__(self, plane: BatchPlane | None, auth: AuthPolicy, clock: Callable[[], datetime]) -> None:
        self.plane = plane
        self.auth = auth
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(await read_request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: AuthRequest) -> JSONBytesResponse:
        """The response to one request on a batch path; never raises."""
        request_id = new_request_id()
        try:
            region = self.auth.check(request, self.clock()).region
            if self.plane is None:
                raise ValidationException(DISABLED_MESSAGE)
            if request.raw_path == BATCH_CONTROL or request.raw_path.startswith(BATCH_CONTROL + "/"):
                answer = await self._control(self.plane, request, region)
            else:
                answer = self._operation(self.plane, request, region)
            return json_response(answer, request_id)
        except BedrockError as error:
            return error_response(error.status or 500, error.error_code, error.message, request_id)
        except Exception:  # a bug must not take the server down or leak a traceback to the client
            logger.exception("internal error in batch request %s", request_id)
            return error_response(500, "InternalServerException", _INTERNAL, request_id)

    @staticmethod
    def _operation(plane: BatchPlane, request: AuthRequest, region: str | None) -> Answer:
        matched = match_batch_path(request.method, request.raw_path)
        if matched is None:
            raise UnknownOperationException(_UNKNOWN)
        operation, identifier = matched
        table: dict[BatchOperationName, Callable[[], Answer]] = {
            BatchOperationName.CREATE: lambda: plane.create_job(request.body, region),
            BatchOperationName.GET: lambda: plane.get_job(identifier or "", region),
            BatchOperationName.LIST: lambda: plane.list_jobs(_query(request.query_string), region),
            BatchOperationName.STOP: lambda: plane.stop_job(identifier or "", region),
        }
        return table[operation.name]()

    @staticmethod
    async def _control(plane: BatchPlane, request: AuthRequest, region: str | None) -> Answer:
        rest = request.raw_path[len(BATCH_CONTROL) :]
        data = json_object(request.body)
        job = _JOB_ROUTE.match(rest)
        routes: dict[tuple[str, str], Callable[[], Awaitable[Answer]]] = {
            ("GET", ""): _described(plane, lambda: None),
            ("PUT", "/holds"): _described(plane, lambda: plane.hold(_phases(data))),
            ("POST", "/clock"): _described(plane, lambda: plane.advance_clock(_number(data, "advanceSeconds") or 0)),
        }
        if job is not None:
            identifier, action = unquote(job["id"]), job["action"]  # an id, or an ARN quoted as boto3 quotes it
            routes[("POST", rest)] = (
                _advanced(plane, identifier, region, data)
                if action == "advance"
                else lambda: plane.settle(identifier, region, _number(data, "timeoutSeconds") or SETTLE_TIMEOUT_S)
            )
        route = routes.get((request.method, rest))
        if route is None:
            raise UnknownOperationException(_UNKNOWN)
        try:
            return await route()
        except (ValueError, OverflowError) as exc:  # a bad phase or clock move: the caller's mistake, said plainly
            raise ValidationException(str(exc)) from None


def _phases(data: dict[str, Any]) -> list[str]:
    phases = data.get("phases", [])
    if not isinstance(phases, list) or not all(isinstance(p, str) for p in phases):
        raise ValidationException("phases must be a list of job statuses")
    return phases


def _described(plane: BatchPlane, change: Callable[[], None]) -> Callable[[], Awaitable[Answer]]:
    async def route() -> Answer:
        change()
        return plane.describe()

    return route


def _advanced(
    plane: BatchPlane, identifier: str, region: str | None, data: dict[str, Any]
) -> Callable[[], Awaitable[Answer]]:
    async def route() -> Answer:
        records = data.get("records")
        if records is not None and (isinstance(records, bool) or not isinstance(records, int) or records < 0):
            raise ValidationException("records must be a whole number, 0 or more")
        plane.advance(identifier, region, records)
        return plane.get_job(identifier, region)

    return route
