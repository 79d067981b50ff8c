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
from mistral_bedrock.formats import ParsedRequest, dialect_for_body, format_for
from mistral_bedrock.formats.selection import converse_format
from mistral_bedrock.prompt import count_prompt_tokens
from mistral_bedrock.prompt.input_tokens import count_input_tokens

from ..invocation import InvocationType

__all__ = ["reserved_tokens"]


def _parse(spec: ModelSpec, invocation: InvocationType, model_input: Mapping[str, Any]) -> ParsedRequest:
    if invocation is InvocationType.CONVERSE:
        return converse_format().parse_request(spec, model_input, stream=False)
    return format_for(dialect_for_body(spec, model_input)).parse_request(spec, model_input, stream=False)


def reserved_tokens(spec: ModelSpec, invocation: InvocationType, model_input: Mapping[str, Any]) -> int:
    """The tokens one record reserves: its exact input count plus its ``max_tokens``; 0 for a body that fails."""
    try:
        request = _parse(spec, invocation, model_input)
    except (MistralBedrockError, RecursionError):
        return 0
    if request.prompt is not None:
        count = count_prompt_tokens(request.prompt, spec)
    else:
        count = count_input_tokens(request.messages, spec, request.tools)
    max_tokens = request.params.max_tokens
    return count + (max_tokens if max_tokens is not None else spec.max_output)
