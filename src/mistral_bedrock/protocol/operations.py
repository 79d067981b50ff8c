"""The one table of bedrock-runtime operations this project speaks.

Client and runtime both route through this table, so a URI or a streaming flag cannot drift between them.
It is checked against botocore's ``bedrock-runtime`` service model in the tests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote

__all__ = [
    "OPERATIONS",
    "BodyKind",
    "Operation",
    "OperationName",
    "model_path",
    "operation_for_suffix",
    "split_model_path",
]


class OperationName(str, enum.Enum):
    """Operation names exactly as the AWS service model spells them."""

    INVOKE_MODEL = "InvokeModel"
    INVOKE_MODEL_WITH_RESPONSE_STREAM = "InvokeModelWithResponseStream"
    CONVERSE = "Converse"
    CONVERSE_STREAM = "ConverseStream"
    COUNT_TOKENS = "CountTokens"


class BodyKind(str, enum.Enum):
    """What the HTTP request body is."""

    BLOB = "blob"  # the model-native JSON, passed through untouched
    JSON = "json"  # a restJson1 structure (Converse, CountTokens)


@dataclass(frozen=True)
class Operation:
    """One row of the operations table.

    Attributes:
        name: The AWS operation name.
        method: HTTP method.
        suffix: The last path segment after ``/model/{modelId}/``.
        body: How the request body is encoded.
        streaming: Whether the response is an ``application/vnd.amazon.eventstream``.
        errors: AWS error codes the service model lists for this operation.
        stream_errors: In-stream exception member names (camelCase), empty for non-streaming operations.
        accept_header: The header the request's ``accept`` member is bound to: ``X-Amzn-Bedrock-Accept`` for
            InvokeModelWithResponseStream, whose own ``Accept`` is the event stream's [BC].
    """

    name: OperationName
    method: str
    suffix: str
    body: BodyKind
    streaming: bool
    errors: frozenset[str]
    stream_errors: frozenset[str] = frozenset()
    accept_header: str = "Accept"

    @property
    def uri_template(self) -> str:
        """The URI template as written in the service model."""
        return f"/model/{{modelId}}/{self.suffix}"


_COMMON = frozenset(
    {
        "AccessDeniedException",
        "ResourceNotFoundException",
        "ThrottlingException",
        "InternalServerException",
        "ServiceUnavailableException",
        "ValidationException",
    }
)
_MODEL = _COMMON | {"ModelTimeoutException", "ModelNotReadyException", "ModelErrorException"}
_STREAM_COMMON = frozenset(
    {
        "internalServerException",
        "modelStreamErrorException",
        "validationException",
        "throttlingException",
        "serviceUnavailableException",
    }
)

OPERATIONS: dict[OperationName, Operation] = {
    op.name: op
    for op in (
        Operation(
            OperationName.INVOKE_MODEL,
            "POST",
            "invoke",
            BodyKind.BLOB,
            streaming=False,
            errors=_MODEL | {"ServiceQuotaExceededException"},
        ),
        Operation(
            OperationName.INVOKE_MODEL_WITH_RESPONSE_STREAM,
            "POST",
            "invoke-with-response-stream",
            BodyKind.BLOB,
            streaming=True,
            errors=_MODEL | {"ServiceQuotaExceededException", "ModelStreamErrorException"},
            stream_errors=_STREAM_COMMON | {"modelTimeoutException"},
            accept_header="X-Amzn-Bedrock-Accept",
        ),
        Operation(OperationName.CONVERSE, "POST", "converse", BodyKind.JSON, False, _MODEL),
        Operation(
            OperationName.CONVERSE_STREAM,
            "POST",
            "converse-stream",
            BodyKind.JSON,
            streaming=True,
            errors=_MODEL,
            stream_errors=_STREAM_COMMON,
        ),
        Operation(OperationName.COUNT_TOKENS, "POST", "count-tokens", BodyKind.JSON, False, _COMMON),
    )
}

_BY_SUFFIX = {op.suffix: op for op in OPERATIONS.values()}


def operation_for_suffix(suffix: str) -> Operation | None:
    """Return the operation served at ``/model/{modelId}/<suffix>``, or None."""
    return _BY_SUFFIX.get(suffix)


def model_path(model_id: str, operation: OperationName) -> str:
    """Build the request path the way botocore does: the label is quoted with ``-._~`` safe.

    So ``:`` becomes ``%3A`` and ``/`` (inside ARNs) becomes ``%2F``.
    """
    return f"/model/{quote(model_id, safe='-._~')}/{OPERATIONS[operation].suffix}"


@lru_cache(maxsize=1024)  # a server sees few distinct paths, each on every request
def split_model_path(raw_path: str) -> tuple[str, str] | None:
    """Split a raw (still percent-encoded) path into ``(model_id, suffix)``.

    The path is split on literal ``/`` *before* decoding, so an ARN sent as ``%2F`` stays one label, while a
    client that sends a raw ``:`` (some do) is accepted as well. Returns None when the path is not
    ``/model/<label>/<suffix>``.
    """
    parts = raw_path.split("/")
    if len(parts) != 4 or parts[0] != "" or parts[1] != "model" or not parts[2]:
        return None
    return unquote(parts[2]), parts[3]
