"""What a record reserves of the tokens-per-minute quota before it is sent: ``input_tokens + max_tokens`` [D].

Bedrock reserves the request's input tokens plus its ``max_tokens`` (the model's maximum when the body sets none)
at the start of a request, and settles to the real count when it ends [D]. The input is counted exactly, with the
package's one counting path: a raw ``prompt`` tokenized as sent, a conversation rendered with the model's tokenizer,
as the runtime counts it. A body that does not parse reserves nothing: the backend refuses it without using any.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mistral_bedrock.catalog import ModelSpec
from mistral_bedrock.errors import MistralBedrockError

from ..invocation import InvocationType
from ..validation import parse_model_input, request_input_tokens

__all__ = ["reserved_tokens"]


def reserved_tokens(spec: ModelSpec, invocation: InvocationType, model_input: Mapping[str, Any]) -> int:
    """The tokens one record reserves: its exact input count plus its ``max_tokens``; 0 for a body that fails."""
    try:
        request = parse_model_input(spec, invocation, model_input)
    except (MistralBedrockError, RecursionError):
        return 0
    count = request_input_tokens(request)
    max_tokens = request.params.max_tokens
    return count + (max_tokens if max_tokens is not None else spec.max_output)
