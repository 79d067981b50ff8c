"""The exception tree. Every error this package raises derives from :class:`MistralBedrockError`.

::

    MistralBedrockError
    ├── BedrockError                 an AWS error, typed by its code (``x-amzn-ErrorType`` / ``:exception-type``)
    │   ├── ValidationException
    │   ├── ThrottlingException      (retryable)
    │   ├── ModelNotReadyException   (retryable)
    │   ├── …one class per row of :data:`mistral_bedrock.protocol.error_codes.ERROR_CODES`
    │   ├── BedrockError itself for codes the table does not know (the code is kept)
    │   └── NonBedrockError       an error status with no AWS code: a proxy, a gateway or another server answered
    ├── StreamError                  a stream that broke: truncated, bad frames, no stop reason
    ├── MalformedResponseError       a 200 answer without what its dialect requires (not JSON, fields missing)
    ├── ModelNotServedError          an alias whose model the client's Region does not serve (before any I/O)
    └── TransportError               the connection failed before a response was read

Clients choose the class from the AWS code, never from the HTTP status alone.
"""

from __future__ import annotations

from typing import ClassVar

from .protocol.error_codes import ERROR_CODES, error_code_for_stream_member

__all__ = [
    "AccessDeniedException",
    "BedrockError",
    "ConflictException",
    "IncompleteSignature",
    "InternalServerException",
    "InvalidSignatureException",
    "MalformedResponseError",
    "MissingAuthenticationTokenException",
    "MistralBedrockError",
    "ModelErrorException",
    "ModelNotReadyException",
    "ModelNotServedError",
    "ModelStreamErrorException",
    "ModelTimeoutException",
    "NonBedrockError",
    "ResourceNotFoundException",
    "SerializationException",
    "ServiceQuotaExceededException",
    "ServiceUnavailableException",
    "StreamError",
    "ThrottlingException",
    "TransportError",
    "UnknownOperationException",
    "UnrecognizedClientException",
    "ValidationException",
    "error_class",
    "error_from_code",
    "error_from_stream_member",
]


class MistralBedrockError(Exception):
    """Root of every error raised by mistral-bedrock."""


class BedrockError(MistralBedrockError):
    """An error answered by Bedrock (or the local runtime), identified by its AWS error code.

    Attributes:
        error_code: The AWS code, e.g. ``ThrottlingException``.
        status: The HTTP status (for in-stream errors, the status the code maps to).
        message: Bedrock's message.
        request_id: ``x-amzn-RequestId`` of the response, when known.
        retryable: Whether retrying with backoff can succeed.
    """

    code: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        error_code: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.error_code = error_code or self.code or "UnknownError"
        row = ERROR_CODES.get(self.error_code)
        self.status = status if status is not None else (row.status if row else 0)
        self.message = message
        self.request_id = request_id
        self.retryable = retryable if retryable is not None else (row.retryable if row else False)
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"


class StreamError(MistralBedrockError):
    """A response stream that did not end properly: truncated, corrupt frames, or no stop reason.

    Never treated as a partial success. ``partial_text`` holds what arrived before the break, for diagnosis.
    """

    def __init__(self, message: str, *, partial_text: str = "", request_id: str | None = None) -> None:
        self.partial_text = partial_text
        self.request_id = request_id
        super().__init__(message)


class MalformedResponseError(MistralBedrockError):
    """A 200 response, or one event of a 200 stream, that lacks what its dialect requires.

    Not JSON, JSON that is not an object, a required field missing or of the wrong type (Converse without
    ``stopReason``, a chat answer without ``choices[0].message``…). Bedrock answered 200, so there is no AWS
    error code to type it by: it is not a :class:`BedrockError`. It is never retried — the call went through
    and was billed — and never read as an empty success.

    Attributes:
        body: What arrived, as received: the response body's bytes, or the stream event's payload (the
            parsed JSON when a format is called directly, as with plain boto3).
        request_id: ``x-amzn-RequestId`` of the response, when known.
        partial_text: For streams, the text that arrived before the malformed event.
    """

    def __init__(
        self, message: str, *, body: object = None, request_id: str | None = None, partial_text: str = ""
    ) -> None:
        self.body = body
        self.request_id = request_id
        self.partial_text = partial_text
        super().__init__(message)

    def received(self, body: object, request_id: str | None, partial_text: str = "") -> MalformedResponseError:
        """Attach what the client received (formats see only parsed JSON, the client has the bytes)."""
        self.body = body
        self.request_id = request_id
        self.partial_text = partial_text
        return self


class TransportError(MistralBedrockError):
    """The connection failed (refused, reset, timed out) before a complete response was read."""

    retryable = True


class ModelNotServedError(MistralBedrockError, ValueError):
    """A model alias names a model that Bedrock does not serve from the client's Region (raised before any I/O)."""


# One class per row of the protocol table (a test keeps the two in step).


class ValidationException(BedrockError):
    """AWS ``ValidationException``."""

    code = "ValidationException"


class AccessDeniedException(BedrockError):
    """AWS ``AccessDeniedException``."""

    code = "AccessDeniedException"


class ResourceNotFoundException(BedrockError):
    """AWS ``ResourceNotFoundException``."""

    code = "ResourceNotFoundException"


class ModelTimeoutException(BedrockError):
    """AWS ``ModelTimeoutException``."""

    code = "ModelTimeoutException"


class ThrottlingException(BedrockError):
    """AWS ``ThrottlingException``."""

    code = "ThrottlingException"


class ModelNotReadyException(BedrockError):
    """AWS ``ModelNotReadyException``."""

    code = "ModelNotReadyException"


class ServiceQuotaExceededException(BedrockError):
    """AWS ``ServiceQuotaExceededException``."""

    code = "ServiceQuotaExceededException"


class ModelErrorException(BedrockError):
    """AWS ``ModelErrorException``."""

    code = "ModelErrorException"


class ModelStreamErrorException(BedrockError):
    """AWS ``ModelStreamErrorException``."""

    code = "ModelStreamErrorException"


class InternalServerException(BedrockError):
    """AWS ``InternalServerException``."""

    code = "InternalServerException"


class ServiceUnavailableException(BedrockError):
    """AWS ``ServiceUnavailableException``."""

    code = "ServiceUnavailableException"


class ConflictException(BedrockError):
    """AWS ``ConflictException``."""

    code = "ConflictException"


class SerializationException(BedrockError):
    """AWS ``SerializationException``."""

    code = "SerializationException"


class UnknownOperationException(BedrockError):
    """AWS ``UnknownOperationException``."""

    code = "UnknownOperationException"


class UnrecognizedClientException(BedrockError):
    """AWS ``UnrecognizedClientException``."""

    code = "UnrecognizedClientException"


class InvalidSignatureException(BedrockError):
    """AWS ``InvalidSignatureException``."""

    code = "InvalidSignatureException"


class IncompleteSignature(BedrockError):
    """AWS ``IncompleteSignature``."""

    code = "IncompleteSignature"


class MissingAuthenticationTokenException(BedrockError):
    """AWS ``MissingAuthenticationTokenException``."""

    code = "MissingAuthenticationTokenException"


_CLASSES: dict[str, type[BedrockError]] = {cls.code: cls for cls in BedrockError.__subclasses__()}


def error_class(code: str) -> type[BedrockError]:
    """The exception class for an AWS code; :class:`BedrockError` for codes outside the table."""
    return _CLASSES.get(code, BedrockError)


def error_from_code(
    code: str,
    message: str,
    *,
    status: int | None = None,
    request_id: str | None = None,
) -> BedrockError:
    """Build the typed exception for an AWS error code."""
    return error_class(code)(message, error_code=code, status=status, request_id=request_id)


def error_from_stream_member(member: str, message: str, *, request_id: str | None = None) -> BedrockError:
    """Build the typed exception for an in-stream ``:exception-type`` (camelCase member name)."""
    return error_from_code(error_code_for_stream_member(member), message, request_id=request_id)


# Not in the code table (so not in _CLASSES above): it is what an answer without an AWS code becomes.
class NonBedrockError(BedrockError):
    """An error status that names no AWS error code: not Bedrock's answer, but a proxy's, a load balancer's or that
    of a server at the endpoint that is not Bedrock (a ``501 Not Implemented`` HTML page, an empty ``502``).

    ``error_code`` is the status as text, as botocore reports such an answer; ``message`` gives the status's reason
    phrase and how the body begins. ``retryable`` when botocore would retry the status
    (:data:`mistral_bedrock.client.retry.RETRYABLE_STATUSES`).

    Attributes:
        body: The response body as received.
    """

    def __init__(
        self, message: str, *, status: int, retryable: bool, body: bytes = b"", request_id: str | None = None
    ) -> None:
        super().__init__(message, error_code=str(status), status=status, request_id=request_id, retryable=retryable)
        self.body = body
