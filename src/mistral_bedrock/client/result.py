"""What the client's methods return."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..catalog import Dialect
from ..conversation import Completion
from .prepared import Prepared

__all__ = ["Result"]


@dataclass(frozen=True, kw_only=True)
class Result(Completion):
    """One answer, from any dialect, whole or streamed: the :class:`~mistral_bedrock.conversation.Completion`
    every format parses, with what the call itself adds.

    The answer (from :class:`~mistral_bedrock.conversation.Completion`):
        text: The answer's text.
        stop_reason: Why the answer ended, in one vocabulary for every dialect (see
            :data:`~mistral_bedrock.conversation.StopReason`): ``stop``, ``length``, ``tool_calls``, and what
            Bedrock itself reports — ``guardrail_intervened``, ``content_filtered``, ``malformed_model_output``,
            ``malformed_tool_use``, ``model_context_window_exceeded`` — plus Mistral's ``error``. A spelling
            this package does not know is ``unknown`` (never ``stop``): read :attr:`raw_stop_reason`. Check it:
            a guardrail or filter stop comes back as a 200 with text, which is not the model's answer.
        tool_calls: Tool calls, arguments parsed.
        usage: Input and output tokens as Bedrock reported them (headers, stream metrics, or Converse usage).
        stop_sequence: The stop sequence that ended the answer, where the dialect says which.
        raw_stop_reason: The stop reason as the dialect spelled it (``end_turn``, ``finish_reason`` values…).
        message: The answer as an assistant turn, ready to append to a history.

    The call:
        model_id: The identifier that answered, as sent: a Bedrock model id, an inference profile or an ARN.
        dialect: The dialect spoken.
        cost: USD at on-demand prices, from the catalog; None when usage is unknown.
        request_id: ``x-amzn-RequestId``.
        request_body: The body sent.
        response_body: The body received (for streams: None).
        latency_ms: Wall time of the call as this client measured it.
        time_to_first_token_ms: For streams, the wait until the first text or tool call.
        metrics: For streams, Bedrock's invocation metrics as sent.
    """

    model_id: str
    dialect: Dialect
    cost: float | None = None
    request_id: str | None = None
    request_body: Mapping[str, Any] = field(default_factory=dict)
    response_body: Mapping[str, Any] | None = None
    latency_ms: float = 0.0
    time_to_first_token_ms: float | None = None
    metrics: Mapping[str, int] | None = None

    @classmethod
    def of(cls, completion: Completion, prepared: Prepared, request_id: str | None, **call: Any) -> Result:
        """``completion`` as the answer to ``prepared``, priced from the catalog; ``call`` sets the other fields."""
        usage = completion.usage
        return cls(
            **{item.name: getattr(completion, item.name) for item in fields(Completion)},
            model_id=prepared.model.identifier,
            dialect=prepared.fmt.dialect,
            cost=prepared.model.spec.cost(usage.input_tokens, usage.output_tokens) if usage else None,
            request_id=request_id,
            request_body=prepared.body,
            **call,
        )
