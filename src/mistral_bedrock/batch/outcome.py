"""What answering one record gives, and the backend that answers it (the runtime's engine, or an HTTP endpoint)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .invocation import InvocationType

__all__ = ["Backend", "RecordError", "RecordOutcome"]


@dataclass(frozen=True)
class RecordError:
    """A record's ``error`` member in the output: ``{"errorCode": 400, "errorMessage": "…"}`` [D].

    ``code`` is the HTTP status the same request would have got on demand; ``message`` is its Bedrock message.
    """

    code: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"errorCode": self.code, "errorMessage": self.message}


@dataclass(frozen=True)
class RecordOutcome:
    """The answer to one record.

    Attributes:
        output: The ``modelOutput``: the InvokeModel response body, or the Converse response; None on error.
        error: The record's error; None on success.
        input_tokens: Tokens read (from the usage headers or body); 0 when unknown or on error.
        output_tokens: Tokens written.
        error_code: The AWS error code of a failure (``ThrottlingException``), for retries and reports.
        retryable: Whether the same request may succeed later (throttling, a 5xx): the runner tries again, and
            writes the error only when its attempts run out.
    """

    output: Mapping[str, Any] | None = None
    error: RecordError | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    error_code: str | None = None
    retryable: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class Backend(Protocol):
    """Answers records: the runner's only view of where they go."""

    async def invoke(self, model_id: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        """Answer one record; failures are outcomes (with ``error``), never exceptions."""
        ...
