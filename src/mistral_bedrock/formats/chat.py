"""Mistral's chat-completion dialect (Mistral Large 24.02/24.07, Small 24.02): its row of the chat format.

``{"messages": […], "tools": […], "tool_choice": "auto"|"any"|"none", "max_tokens", "temperature", "top_p"}`` →
``{"choices": [{"index": 0, "message": {…}, "stop_reason": "stop"|"length"|"tool_calls"}]}``.

The key is ``stop_reason``, not ``finish_reason``; streams carry whole-message-shaped increments under
``choices[].message`` (not ``delta``); there is no ``stop`` parameter in this schema.
"""

from __future__ import annotations

from ..catalog import Dialect
from ..prompt.tool_ids import IdStyle
from . import schema as s
from .chat_completion import ChatCompletionFormat
from .chat_streams import MESSAGE_CHUNKS
from .chat_variant import ChatEnvelope, ChatVariant, ToolIdRule
from .chat_wire import message_from_wire, message_to_wire, tool_call_to_wire, tool_schema
from .format import ParsedRequest
from .stops import MISTRAL_STOPS, StopTable

__all__ = ["CHAT", "STOPS", "ChatFormat", "message_from_wire", "message_to_wire"]

TOOL_CHOICES = ("auto", "any", "none")
STOPS = StopTable("choices[0].stop_reason", MISTRAL_STOPS)

_TOOL_CALL = s.obj(
    {
        "id": s.string(),
        "type": s.string(enum=("function",)),
        "function": s.obj({"name": s.string(), "arguments": s.string()}, ("name", "arguments")),
    },
    ("function",),
)
_MESSAGE = s.obj(
    {
        "role": s.string(enum=("system", "user", "assistant", "tool")),
        "content": s.string(nullable=True),
        "tool_calls": s.array(_TOOL_CALL, nullable=True),
        "tool_call_id": s.string(nullable=True),
        "name": s.string(nullable=True),
    },
    ("role",),
)


def _no_envelope(request: ParsedRequest, kind: str) -> ChatEnvelope:
    return {}  # a response is its choices alone


CHAT = ChatVariant(
    dialect=Dialect.CHAT,
    stop_key="stop_reason",
    stops=STOPS,
    properties={
        "messages": s.array(_MESSAGE),
        "tools": s.array(tool_schema()),
        "tool_choice": s.string(enum=TOOL_CHOICES),
    },
    tool_choices=TOOL_CHOICES,
    content_parts={},  # content is a string; the schema says so
    call_to_wire=tool_call_to_wire,
    # Bedrock answers with 22 base64url characters and takes them back, mapping ids for the model itself.
    ids=ToolIdRule(IdStyle.BASE64URL_22, model_rule=False),
    unsupported=("stop", "top_k"),
    unsupported_message=(
        "Mistral's chat-completion body has no stop or top_k parameter (Bedrock would refuse it); use the "
        "text-completion dialect or Converse for them."
    ),
    container_refused=("stop",),
    envelope=_no_envelope,
    usage=None,
    stream=MESSAGE_CHUNKS,
)


class ChatFormat(ChatCompletionFormat):
    """Mistral's own chat-completion body."""

    variant = CHAT
