"""Which tool-call ids each dialect writes and each model takes.

The id scheme itself (styles, the one hash) is :mod:`mistral_bedrock.prompt.tool_ids`.

Bedrock's chat dialect returns 22 characters of the base64url alphabet (``3NcHNntdRyaHu8zisKJAhQ``), Converse
returns ``tooluse_`` plus 22 such characters for every model, and the OpenAI-style dialect of the newer models
uses Mistral's own 9 alphanumerics. Ids are derived from a seed (the request and the call's position), so a
deterministic engine gives deterministic ids while two calls in one conversation never share one.

The models behind the OpenAI-style dialect refuse, in a history, any id that is not 9 alphanumerics, over
InvokeModel and through Converse alike, Converse's own ``tooluse_…`` ids included: a tool loop that sends the
ids back as Bedrock gave them fails on its second request. :func:`check_tool_call_ids` is that refusal (runtime
side); :func:`wire_tool_call_ids` is the way around it (client side, as a body is built).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..catalog import Dialect, ModelSpec
from ..conversation import Message, ToolCall
from ..errors import ValidationException
from ..prompt.tool_ids import IdStyle, is_mistral_tool_call_id, make_id, remap_tool_call_ids

__all__ = [
    "TOOL_CALL_ID_REFUSED",
    "assign_ids",
    "check_tool_call_ids",
    "requires_alnum9_tool_ids",
    "wire_tool_call_ids",
]

#: What such a model answers for any other id in a history (400 ValidationException): mistral-common's
#: validator text, which names the first such id in message order, wrapped as Bedrock wraps the model
#: container's errors. Verbatim from live Converse traffic to Pixtral Large (anomalyco/opencode#48843).
TOOL_CALL_ID_REFUSED = (
    "The model returned the following errors: Tool call id was {id} but must be a-z, A-Z, 0-9, with a length of 9."
)


def assign_ids(calls: Sequence[ToolCall], style: IdStyle, seed: str) -> tuple[ToolCall, ...]:
    """Give every call without an id one in ``style``; calls that already have an id keep it."""
    return tuple(
        call if call.id else replace(call, id=make_id(style, f"{seed}/{index}/{call.name}"))
        for index, call in enumerate(calls)
    )


def requires_alnum9_tool_ids(spec: ModelSpec) -> bool:
    """Whether ``spec`` takes, in a history, only tool-call ids of 9 characters ``[a-zA-Z0-9]``.

    True for the models Bedrock serves with the OpenAI-style chat body (Pixtral, Large 3, Ministral 3,
    Magistral, Voxtral and their successors): Bedrock hands their ids to the model's own validator unchanged,
    over InvokeModel and through Converse. False for the legacy chat dialect (Large 24.02/24.07, Small 24.02):
    Bedrock answers it with 22-character ids and takes them back, so it maps ids itself there, although
    Large 24.07's v3 tokenizer has the same rule.
    """
    return Dialect.CHAT_OPENAI in spec.dialects


def check_tool_call_ids(spec: ModelSpec, messages: Sequence[Message]) -> None:
    """Refuse a history with an id ``spec`` does not take, as the model does: the first one, in message order.

    Raises:
        ValidationException: :data:`TOOL_CALL_ID_REFUSED` for that id.
    """
    if not requires_alnum9_tool_ids(spec):
        return
    for message in messages:
        ids = [call.id for call in message.tool_calls]
        if message.role == "tool" and message.tool_call_id is not None:
            ids.append(message.tool_call_id)
        for value in ids:
            if not is_mistral_tool_call_id(value):
                raise ValidationException(TOOL_CALL_ID_REFUSED.format(id=value))


def wire_tool_call_ids(spec: ModelSpec, messages: Sequence[Message]) -> list[Message]:
    """The history with the ids ``spec`` takes: for those models, every other id becomes 9 alphanumerics.

    The rewrite is deterministic and collision-free, and the same for a call and the result answering it, so a
    history built from any model's answers (Converse's ``tooluse_…``, the chat dialect's 22 characters, another
    provider's ``call_…``) goes through. ``messages`` is not modified: the caller keeps the ids it was given,
    and the model's new calls in the answer carry the model's own ids.
    """
    if not requires_alnum9_tool_ids(spec):
        return list(messages)
    return remap_tool_call_ids(messages)[0]
