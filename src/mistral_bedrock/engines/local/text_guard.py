"""The guard of text-only upstreams: no control string of the tokenizer in a conversation's content."""

from __future__ import annotations

from collections.abc import Iterable

from ...catalog import ModelSpec
from ...errors import ValidationException
from ...prompt.tokenizers import tokenizer_info

__all__ = ["check_text_safe"]


def check_text_safe(texts: Iterable[str], spec: ModelSpec | str) -> None:
    """Refuse request content that a text-only upstream would read as control tokens.

    The ids path encodes a user's ``[INST]`` as plain text (mistral-common never parses control strings in
    content), but a server that tokenizes the prompt text itself (Ollama ``raw``) turns every control string in it
    into the control token: a user could close their own turn, or forge a tool call. Call this on every string of
    the request that goes into the rendered prompt — messages of every role, tool results, tool calls' arguments,
    tool definitions — before rendering. Not on a text-completion body's ``prompt``: its control strings are meant
    as control tokens, exactly as the ids path encodes them.

    Which strings count depends on the tokenizer: v1 has only ``<s>`` and ``</s>`` (``[INST]`` is plain text
    there), v3 and Tekken also ``[INST]``, ``[TOOL_CALLS]`` and the rest of :attr:`~.TokenizerInfo.control`.

    Raises:
        ValidationException: Naming the first control string found.
    """
    pattern = tokenizer_info(spec).control_pattern
    for text in texts:
        found = pattern.search(text)
        if found is not None:
            raise ValidationException(
                f"The request contains {found.group()!r}, a control token of this model's tokenizer. This model is "
                "served by a text-only upstream, which would read it as that token rather than as text; remove it "
                "from the request, or serve the model from an upstream that takes token ids (vLLM, llama-server)."
            )
