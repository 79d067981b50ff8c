"""The batch runner's HTTP backend: each record sent on demand through the async client.

Each record's ``modelInput`` is sent as written, as the body of InvokeModel (or of Converse, for the Converse
invocation type), to whatever the client points at: the local runtime, or Bedrock itself with SigV4. The client's
own checks run first, so a record Bedrock would refuse gets Bedrock's 400 message without any I/O: the error a
batch job writes for it [D]. The client does not retry: the runner retries, under its limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..batch.invocation import InvocationType
from ..batch.outcome import RecordError, RecordOutcome
from ..errors import BedrockError, MalformedResponseError, MistralBedrockError, StreamError, TransportError
from .aio import AsyncMistralBedrock
from .retry import RetryPolicy

__all__ = ["HttpBackend"]

#: One attempt per call: retrying is the runner's, so that each attempt passes its limits and is counted.
NO_RETRY = RetryPolicy(max_attempts=1)

#: Failures that carry no HTTP status from Bedrock: the status their error line gets, and whether to try again.
#: A batch job never writes these (Bedrock's own workers do not lose their connection to the model) [I]; the
#: statuses are those of the nearest Bedrock errors: 503 ServiceUnavailable for a lost connection, 500 for an
#: answer that is not what Bedrock sends.
_LOCAL_FAILURES: dict[type[MistralBedrockError], tuple[int, bool]] = {
    TransportError: (503, True),
    StreamError: (503, True),
    MalformedResponseError: (500, False),
}


def _failure(error: MistralBedrockError) -> RecordOutcome:
    if isinstance(error, BedrockError):
        status, code, retryable = error.status, error.error_code, RetryPolicy.retryable(error)
        message = error.message
    else:
        status, retryable = next(
            (found for kind, found in _LOCAL_FAILURES.items() if isinstance(error, kind)), (500, False)
        )
        code, message = type(error).__name__, str(error)
    return RecordOutcome(error=RecordError(status, message), error_code=code, retryable=retryable)


class HttpBackend:
    """A :class:`~mistral_bedrock.batch.outcome.Backend` that answers records over HTTP with ``client``.

    Args:
        client: The async client; its endpoint, Region and credentials say where records go. Its retry policy is
            not used (the runner retries).
    """

    def __init__(self, client: AsyncMistralBedrock) -> None:
        self.client = client

    async def invoke(self, model_id: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        """Send one record; failures (Bedrock's, or the connection's) are outcomes, as the runner expects."""
        converse = invocation is InvocationType.CONVERSE
        try:
            result = await self.client.invoke_body(model_id, model_input, converse=converse, retry=NO_RETRY)
        except MistralBedrockError as exc:
            return _failure(exc)
        usage = result.usage
        return RecordOutcome(
            output=result.response_body,
            input_tokens=usage.input_tokens if usage else 0,
            output_tokens=usage.output_tokens if usage else 0,
        )
