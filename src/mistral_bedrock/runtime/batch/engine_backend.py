"""The in-process :class:`~mistral_bedrock.batch.outcome.Backend` of the runtime's batch jobs.

Each record goes through exactly what an on-demand InvokeModel or Converse call to this runtime goes through: the
operation's handler (:data:`~mistral_bedrock.runtime.handlers.HANDLERS`), so the same format validation answers it
with the same words, the same engine generates, and the app's fault rules are drawn per record. Only the HTTP
around it is missing: a refusal becomes the record's ``{"errorCode", "errorMessage"}`` [D] instead of a response.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.outcome import RecordError, RecordOutcome
from mistral_bedrock.batch.results import with_converse_nulls
from mistral_bedrock.batch.validation import batch_record_refusal
from mistral_bedrock.catalog import ResolvedModel
from mistral_bedrock.engines import Engine
from mistral_bedrock.engines.relay import Relay
from mistral_bedrock.errors import BedrockError
from mistral_bedrock.formats.messages import MALFORMED
from mistral_bedrock.formats.window import WindowPolicy
from mistral_bedrock.protocol.error_codes import ERROR_CODES, parse_error
from mistral_bedrock.protocol.operations import OPERATIONS, model_path

from ..faults import FaultController
from ..handlers import HANDLERS, Call
from ..pacing import Pacing
from ..request_ids import new_request_id
from ..responses import JSONBytesResponse

__all__ = ["EngineBackend", "RecordContext"]

logger = logging.getLogger("mistral_bedrock.runtime.batch")
_INTERNAL = ERROR_CODES["InternalServerException"].message
# Records have no client waiting on a first byte: the floor that keeps some SDKs' streams whole does not apply [I].
_BATCH_PACING = Pacing(min_first_byte_ms=0)


@dataclass(frozen=True)
class RecordContext:
    """What every record of a job shares: the app's engine, fault rules and settings, and the job's model.

    Attributes:
        engine: The app's engine (or relay).
        faults: The app's fault rules, drawn per record as per request.
        model: The job's model, resolved once.
        region: The job's Region (what a handler sees as the signing Region).
        padding: As the app's config.
        count_tokens: As the app's config.
        window: As the app's config: what a ``max_tokens`` past the context window gets.
    """

    engine: Engine | Relay
    faults: FaultController
    model: ResolvedModel
    region: str
    padding: bool
    count_tokens: bool
    window: WindowPolicy


def _tokens(raw: object) -> int:
    try:
        return max(0, int(str(raw)))
    except ValueError:
        return 0


def _outcome(invocation: InvocationType, response: JSONBytesResponse) -> RecordOutcome:
    """A record's answer as its output line carries it, with the tokens it used."""
    output = json.loads(response.body)
    if invocation is InvocationType.CONVERSE:
        # Converse-type output carries every member of the content-block union, null where unset, as Bedrock
        # writes it [R]; its counts are the body's.
        usage = output.get("usage") or {}
        return RecordOutcome(
            output=with_converse_nulls(output),
            input_tokens=_tokens(usage.get("inputTokens", 0)),
            output_tokens=_tokens(usage.get("outputTokens", 0)),
        )
    # InvokeModel's counts travel in headers (Mistral's native bodies carry none, or an OpenAI-style ``usage``).
    headers = {k.lower(): v for k, v in response.headers.items()}
    return RecordOutcome(
        output=output,
        input_tokens=_tokens(headers.get("x-amzn-bedrock-input-token-count", 0)),
        output_tokens=_tokens(headers.get("x-amzn-bedrock-output-token-count", 0)),
    )


def _error(error: BedrockError) -> RecordOutcome:
    status = error.status or 500
    return RecordOutcome(
        error=RecordError(status, error.message), error_code=error.error_code, retryable=error.retryable
    )


class EngineBackend:
    """Answers a job's records with the runtime's own handlers.

    Args:
        context: The engine, faults and model the records share.
    """

    def __init__(self, context: RecordContext) -> None:
        self.context = context

    async def invoke(self, model_id: str, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        """One record, as its on-demand call would be answered; failures are outcomes, never exceptions."""
        try:
            return await self._invoke(invocation, model_input)
        except BedrockError as error:
            return _error(error)
        except RecursionError:  # as the model endpoint answers a body nested past what the checks walk [I]
            return RecordOutcome(error=RecordError(400, MALFORMED), error_code="ValidationException")
        except Exception:  # a bug answers this record, not the job (nor the server)
            logger.exception("internal error in a batch record")
            return RecordOutcome(error=RecordError(500, _INTERNAL), error_code="InternalServerException")

    async def _invoke(self, invocation: InvocationType, model_input: Mapping[str, Any]) -> RecordOutcome:
        context = self.context
        if (refusal := batch_record_refusal(invocation, model_input)) is not None:
            return RecordOutcome(error=RecordError(400, refusal), error_code="ValidationException")
        operation = OPERATIONS[invocation.operation]
        model = context.model
        faults = context.faults.decide(model.model_id, operation.name.value)
        faults.raise_error()
        call = Call(
            request_id=new_request_id(),
            operation=operation,
            model=model,
            path=model_path(model.model_id, operation.name),
            region=context.region,
            body=json.dumps(model_input, ensure_ascii=False, separators=(",", ":")).encode(),
            headers={"content-type": "application/json"},
            faults=faults,
            engine=context.engine,
            padding=context.padding,
            count_tokens=context.count_tokens,
            started=time.perf_counter(),
            window=context.window,
            pacing=_BATCH_PACING,
        )
        response = await HANDLERS[operation.name](call)
        assert isinstance(response, JSONBytesResponse)  # the two whole-response operations
        if response.status >= 400:  # a relay's answer may be a refusal, as Bedrock gave it
            code, message = parse_error(response.headers, response.body, response.status)
            error = BedrockError(message, error_code=code, status=response.status)
            return _error(error)
        return _outcome(invocation, response)
