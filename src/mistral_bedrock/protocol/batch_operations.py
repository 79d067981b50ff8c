"""The one table of the ``bedrock`` control-plane operations of batch inference.

These are not bedrock-runtime operations: they live on ``bedrock.{region}.amazonaws.com`` (``AWS_ENDPOINT_URL_BEDROCK``)
and are signed for service ``bedrock``, like every other call. The client and the runtime's emulated control plane
both route through this table; it is checked against botocore's ``bedrock`` service model in the tests.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

__all__ = ["BATCH_OPERATIONS", "BatchOperation", "BatchOperationName", "batch_path", "match_batch_path"]


class BatchOperationName(str, enum.Enum):
    """Operation names exactly as the ``bedrock`` service model spells them."""

    CREATE = "CreateModelInvocationJob"
    GET = "GetModelInvocationJob"
    LIST = "ListModelInvocationJobs"
    STOP = "StopModelInvocationJob"


@dataclass(frozen=True)
class BatchOperation:
    """One row: the operation, its HTTP method and URI template, and the error codes the service model lists."""

    name: BatchOperationName
    method: str
    uri_template: str
    errors: frozenset[str]


_COMMON = frozenset({"AccessDeniedException", "ValidationException", "InternalServerException", "ThrottlingException"})

BATCH_OPERATIONS: dict[BatchOperationName, BatchOperation] = {
    op.name: op
    for op in (
        BatchOperation(
            BatchOperationName.CREATE,
            "POST",
            "/model-invocation-job",
            _COMMON | {"ResourceNotFoundException", "ConflictException", "ServiceQuotaExceededException"},
        ),
        BatchOperation(
            BatchOperationName.GET,
            "GET",
            "/model-invocation-job/{jobIdentifier}",
            _COMMON | {"ResourceNotFoundException"},
        ),
        BatchOperation(BatchOperationName.LIST, "GET", "/model-invocation-jobs", _COMMON),
        BatchOperation(
            BatchOperationName.STOP,
            "POST",
            "/model-invocation-job/{jobIdentifier}/stop",
            _COMMON | {"ResourceNotFoundException", "ConflictException"},
        ),
    )
}

# Each template as a pattern over the *raw* path: the identifier is one segment, so an ARN arrives percent-encoded
# with its ``/`` as ``%2F`` (boto3 quotes it whole) [M].
_PATTERNS = [
    (op, re.compile("^" + re.escape(op.uri_template).replace(r"\{jobIdentifier\}", "(?P<id>[^/]+)") + "$"))
    for op in BATCH_OPERATIONS.values()
]


def batch_path(name: BatchOperationName, job_identifier: str | None = None) -> str:
    """The request path, with the identifier (a job id or ARN) quoted as botocore quotes a URI label."""
    template = BATCH_OPERATIONS[name].uri_template
    if "{jobIdentifier}" not in template:
        return template
    if not job_identifier:
        raise ValueError(f"{name.value} needs a job identifier")
    return template.replace("{jobIdentifier}", quote(job_identifier, safe="-._~"))


def match_batch_path(method: str, raw_path: str) -> tuple[BatchOperation, str | None] | None:
    """The operation a request names, with its decoded job identifier; None when the path is no batch operation.

    A known path under the wrong method is also None: the caller answers it as Bedrock answers an unknown operation.
    """
    for op, pattern in _PATTERNS:
        found = pattern.match(raw_path)
        if found and op.method == method:
            identifier = found.groupdict().get("id")
            return op, unquote(identifier) if identifier is not None else None
    return None
