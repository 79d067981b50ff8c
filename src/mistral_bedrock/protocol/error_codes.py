"""The one table of AWS error codes, and the restJson1 error envelope.

Bedrock answers an error with a status, an ``x-amzn-ErrorType`` header naming the code, and a body that is
exactly ``{"message":"…"}``. Inside an event stream the same errors travel as ``:message-type exception``
frames whose ``:exception-type`` is the camelCase union member name. Clients must classify by code, never by
status alone: 429 is both Throttling and ModelNotReady, 400 is both Validation and ServiceQuotaExceeded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ERROR_CODES",
    "ERROR_TYPE_HEADER",
    "ERROR_TYPE_SUFFIX",
    "ErrorCode",
    "error_body",
    "error_code_for_stream_member",
    "error_type_header",
    "parse_error",
]

ERROR_TYPE_HEADER = "x-amzn-ErrorType"
ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


@dataclass(frozen=True)
class ErrorCode:
    """One row of the error table.

    Attributes:
        code: The AWS error code (the shape name), e.g. ``ThrottlingException``.
        status: The HTTP status Bedrock answers with.
        fault: ``client`` or ``server``.
        retryable: Whether a well-behaved client retries it with backoff.
        stream_member: The camelCase in-stream member name, or None when it never travels in a stream.
        message: A real Bedrock message for this code, used when nothing more specific is known.
    """

    code: str
    status: int
    fault: str
    retryable: bool
    stream_member: str | None
    message: str


ERROR_CODES: dict[str, ErrorCode] = {
    e.code: e
    for e in (
        ErrorCode(
            "ValidationException",
            400,
            "client",
            False,
            "validationException",
            "Malformed input request, please reformat your input and try again.",
        ),
        ErrorCode(
            "AccessDeniedException",
            403,
            "client",
            False,
            None,
            "You don't have access to the model with the specified model ID.",
        ),
        ErrorCode(
            "ResourceNotFoundException",
            404,
            "client",
            False,
            None,
            "The requested resource could not be found.",
        ),
        ErrorCode(
            "ModelTimeoutException",
            408,
            "client",
            False,
            "modelTimeoutException",
            "Model has timed out in processing the request. Try your request again.",
        ),
        ErrorCode(
            "ThrottlingException",
            429,
            "client",
            True,
            "throttlingException",
            "Too many requests, please wait before trying again.",
        ),
        ErrorCode(
            "ModelNotReadyException",
            429,
            "client",
            True,
            None,
            "Model is not ready to serve inference requests. Try again later.",
        ),
        ErrorCode(
            "ServiceQuotaExceededException",
            400,
            "client",
            False,
            None,
            "Your request exceeds the service quota for your account.",
        ),
        ErrorCode(
            "ModelErrorException",
            424,
            "client",
            False,
            None,
            "The model returned an error while processing the request.",
        ),
        ErrorCode(
            "ModelStreamErrorException",
            424,
            "client",
            False,
            "modelStreamErrorException",
            "The model returned an error while streaming the response.",
        ),
        ErrorCode(
            "InternalServerException",
            500,
            "server",
            True,
            "internalServerException",
            "The server encountered an internal error.",
        ),
        ErrorCode(
            "ServiceUnavailableException",
            503,
            "server",
            True,
            "serviceUnavailableException",
            "Bedrock is unable to process your request.",
        ),
        ErrorCode(
            "ConflictException",
            400,
            "client",
            False,
            None,
            "The request conflicts with the current state of the resource.",
        ),
        # The JSON deserializer's answer when a Converse body has the wrong types; not modelled.
        ErrorCode(
            "SerializationException",
            400,
            "client",
            False,
            None,
            "Start of structure or map found where not expected.",
        ),
        # The front end's answer for a path or method that names no operation; not modelled.
        ErrorCode(
            "UnknownOperationException",
            404,
            "client",
            False,
            None,
            "The requested operation is not recognized by the service.",
        ),
        # Authentication failures are answered by the AWS front end, not by Bedrock itself; they are not in the
        # service model but every SDK classifies them by the same header.
        ErrorCode(
            "UnrecognizedClientException",
            403,
            "client",
            False,
            None,
            "The security token included in the request is invalid.",
        ),
        ErrorCode(
            "InvalidSignatureException",
            403,
            "client",
            False,
            None,
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.",
        ),
        ErrorCode(
            "IncompleteSignature",
            400,
            "client",
            False,
            None,
            "Authorization header requires 'Credential' parameter.",
        ),
        ErrorCode(
            "MissingAuthenticationTokenException",
            403,
            "client",
            False,
            None,
            "Missing Authentication Token",
        ),
    )
}

_BY_STREAM_MEMBER = {e.stream_member: e.code for e in ERROR_CODES.values() if e.stream_member}


def error_code_for_stream_member(member: str) -> str:
    """Map an in-stream ``:exception-type`` (camelCase) to its AWS code; unknown names pass through."""
    return _BY_STREAM_MEMBER.get(member, member)


def error_type_header(code: str) -> str:
    """The ``x-amzn-ErrorType`` value Bedrock sends for ``code``."""
    return code + ERROR_TYPE_SUFFIX


def error_body(message: str) -> bytes:
    """The error body, byte for byte as Bedrock sends it: compact ``{"message":"…"}``."""
    return json.dumps({"message": message}, separators=(",", ":"), ensure_ascii=False).encode()


def parse_error(headers: Mapping[str, str], body: bytes, status: int) -> tuple[str, str]:
    """Recover ``(code, message)`` from an error response the way botocore's restJson1 parser does.

    The header wins (cut at the first ``:`` and after the last ``#``); then ``code``/``__type`` in the body;
    then the status as a string. ``headers`` lookups must be case-insensitive (httpx and starlette headers are).
    """
    data: object = None
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested past the parser
        data = None
    fields: dict[str, object] = data if isinstance(data, dict) else {}
    raw = headers.get(ERROR_TYPE_HEADER) or headers.get(ERROR_TYPE_HEADER.lower())
    if not raw:
        candidate = fields.get("code") or fields.get("Code") or fields.get("__type")
        raw = candidate if isinstance(candidate, str) else ""
    code = raw.split(":", 1)[0].rsplit("#", 1)[-1] if raw else str(status)
    message = fields.get("message", fields.get("Message", ""))
    return code, message if isinstance(message, str) else json.dumps(message)
