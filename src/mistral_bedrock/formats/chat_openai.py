"""The OpenAI-style chat dialect of the newer Mistral models on Bedrock (Pixtral Large 25.02 and later): its row
of the chat format.

Responses carry ``id``, ``object``, ``created``, ``model``, ``choices[].message`` with ``finish_reason`` (not
``stop_reason``) and ``usage``; streams carry ``choices[].delta`` increments. Content may be a string or a list
of parts (``text``, ``image_url``, ``input_audio``).
"""

from __future__ import annotations

import time
import uuid

from ..catalog import Dialect
from ..prompt.tool_ids import IdStyle
from . import schema as s
from .body_types import MistralStopReason
from .chat_completion import ChatCompletionFormat
from .chat_streams import DELTA_CHUNKS
from .chat_variant import ChatEnvelope, ChatVariant, ToolIdRule
from .chat_wire import tool_schema, typed_tool_call_to_wire
from .format import ParsedRequest
from .stops import MISTRAL_STOPS, StopTable
from .token_usage import UsageSpelling

__all__ = ["CHAT_OPENAI", "STOPS", "USAGE", "ChatOpenAIFormat"]

TOOL_CHOICES = ("auto", "any", "none", "required")
# finish_reason: ``stop`` [R] (a captured Pixtral body), ``length``/``tool_calls`` [S]; a content filter in
# OpenAI's spelling, ``content_filter`` [I]; the rest as in Mistral's own API and Bedrock's names (see .stops).
STOPS: StopTable[MistralStopReason] = StopTable(
    "choices[0].finish_reason", (("content_filter", "content_filtered"), *MISTRAL_STOPS)
)

#: ``usage`` as OpenAI-style bodies carry it; its total is written, not read.
USAGE = UsageSpelling("prompt_tokens", "completion_tokens", "total_tokens", total_required=False)

_MESSAGE = s.obj(
    {
        "role": s.string(enum=("system", "user", "assistant", "tool")),
        "content": s.anything(),
        "tool_calls": s.array(
            s.obj(
                {
                    "id": s.string(nullable=True),
                    "type": s.string(),
                    "index": s.anything(),
                    "function": s.obj({"name": s.string(), "arguments": s.string()}, ("name",)),
                },
                ("function",),
            ),
            nullable=True,
        ),
        "tool_call_id": s.string(nullable=True),
        "name": s.string(nullable=True),
        "prefix": s.obj({}, additional=True, nullable=True),
    },
    ("role",),
)


def _envelope(request: ParsedRequest, kind: str) -> ChatEnvelope:
    return {
        "id": str(uuid.uuid4()),
        "object": kind,
        "created": int(time.time()),
        "model": request.spec.model_id.removeprefix("mistral.").split("-v1:")[0],
    }


CHAT_OPENAI = ChatVariant(
    dialect=Dialect.CHAT_OPENAI,
    stop_key="finish_reason",
    stops=STOPS,
    properties={
        "messages": s.array(_MESSAGE),
        "tools": s.array(tool_schema(strict=s.anything())),
        "tool_choice": s.anything(),  # a string or a function object, read by the format
        "stop": s.anything(),
        "stream": s.anything(),
        "response_format": s.obj({}, additional=True),
    },
    tool_choices=TOOL_CHOICES,
    # Media parts → the catalog flag of the models whose input modalities include them.
    content_parts={"text": None, "image_url": "images", "input_audio": "audio"},
    call_to_wire=typed_tool_call_to_wire,
    # Mistral's own 9 alphanumerics, which these models require of a history too (see .tool_id_rules).
    ids=ToolIdRule(IdStyle.ALNUM_9, model_rule=True),
    unsupported=("top_k",),
    unsupported_message="This chat-completion body has no top_k parameter; use Converse for it.",
    container_refused=(),
    envelope=_envelope,
    usage=USAGE,
    stream=DELTA_CHUNKS,
)


class ChatOpenAIFormat(ChatCompletionFormat):
    """The OpenAI-style chat-completion body."""

    variant = CHAT_OPENAI
