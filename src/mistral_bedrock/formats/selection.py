"""Which format speaks to a model for each kind of call: every dialect choice outside this package, by name.

The client, the CLI and the runtime never compare dialects themselves; they ask for the format of a call here
(and the format says what its body carries: :meth:`~.format.Format.carries`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..catalog import Dialect, ModelSpec
from ..errors import ValidationException
from . import format_for
from .format import Format

__all__ = ["CHAT_ORDER", "chat_format", "converse_format", "native_format", "text_first_format", "text_format"]

#: The body a chat call sends: Mistral's chat body, else the OpenAI-style one of the newer models, else (a model
#: with only the text dialect) the conversation rendered as a prompt.
CHAT_ORDER = (Dialect.CHAT, Dialect.CHAT_OPENAI, Dialect.TEXT)


def _among(spec: ModelSpec, wanted: Sequence[Dialect]) -> Format:
    for dialect in wanted:
        if dialect in spec.dialects:
            return format_for(dialect)
    names = ", ".join(d.value for d in wanted)
    spoken = ", ".join(d.value for d in spec.dialects)
    raise ValidationException(
        f"{spec.name} ({spec.model_id}) does not accept the {names} body; it speaks {spoken} (and Converse)."
    )


def converse_format() -> Format:
    """The Converse API's format: one body for every model."""
    return format_for(Dialect.CONVERSE)


def text_format(spec: ModelSpec) -> Format:
    """The text-completion format, for a model that has it.

    Raises:
        ValidationException: The model has no text-completion body (the message names the ones it has).
    """
    return _among(spec, (Dialect.TEXT,))


def chat_format(spec: ModelSpec) -> Format:
    """The format of a chat call to ``spec``: the first of :data:`CHAT_ORDER` the model accepts."""
    return _among(spec, CHAT_ORDER)


def native_format(spec: ModelSpec) -> Format:
    """The model's preferred InvokeModel format (its catalog entry lists it first)."""
    return format_for(spec.native_dialect)


def text_first_format(spec: ModelSpec) -> Format:
    """The text-completion format where the model has one, else its preferred format (the classic first call)."""
    return format_for(Dialect.TEXT) if spec.has_text_body else native_format(spec)
