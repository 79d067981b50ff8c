"""The text-completion prompt of a conversation, rendered without tokenizing its long contents.

What the text format sends for a conversation (and so what the client sends a text model): exactly
``render(messages, spec, tools).text``, but quick for 100k-token messages.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace

from ..catalog import ModelSpec
from ..conversation import Message, Tool
from .render import render
from .sanitize import tokenizable

__all__ = ["STAND_IN_CHARS", "prompt_text"]

#: Message contents at least this long are rendered through a stand-in (see :func:`prompt_text`).
STAND_IN_CHARS = 1024


def prompt_text(messages: Sequence[Message], spec: ModelSpec, tools: Sequence[Tool] = ()) -> str:
    """The text-completion prompt of a conversation, ``render(messages, spec, tools).text``, with each long message
    content tokenized not even once.

    Rendering encodes the conversation with mistral-common, which decodes the ids back to text, and the prompt text
    is decoded from them once more: three passes over a 100k-token message (a quarter of a second), for ids that a
    text body does not even send. Every tokenizer of the catalog decodes what it encodes to the same text, except
    that SentencePiece reads U+2581 as a space (a test checks both on every code point). So each long content
    without U+2581 is rendered as a short stand-in, its surrounding whitespace kept (mistral-common trims trailing
    spaces of an answer), and put back in place in the rendered text, made tokenizable as rendering would have
    made it. The template itself — BOS, ``[INST]``, where the system prompt goes, ``</s>`` — is mistral-common's,
    and so are its checks. A stand-in that does not come back exactly once, in order, means the whole conversation
    is rendered as it is.
    """
    marker = f"SI{secrets.token_hex(8)}"
    cores: list[str] = []
    stood_in: list[Message] = []
    for message in messages:
        content = message.content
        core = content.strip()
        if len(core) < STAND_IN_CHARS or "\u2581" in core:
            stood_in.append(message)
            continue
        start = len(content) - len(content.lstrip())
        stand_in = f"{marker}N{len(cores)}X"
        stood_in.append(replace(message, content=content[:start] + stand_in + content[start + len(core) :]))
        cores.append(core)
    if not cores:
        return render(messages, spec, tools or None).text
    rendered = render(stood_in, spec, tools or None).text
    parts: list[str] = []
    position = 0
    for index, core in enumerate(cores):
        stand_in = f"{marker}N{index}X"
        at = rendered.find(stand_in, position)
        if at < 0 or rendered.find(stand_in, at + len(stand_in)) >= 0:
            return render(messages, spec, tools or None).text
        parts += (rendered[position:at], tokenizable(core))
        position = at + len(stand_in)
    parts.append(rendered[position:])
    return "".join(parts)
