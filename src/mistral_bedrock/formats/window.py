"""The context window, as the runtime enforces it: the one place that decides whether a request fits.

It lives with the formats because two sides ask it: the runtime (each request) and batch validation (each record,
before anything is uploaded), and they must give the same answers.

* A prompt that fills the window (input tokens ≥ the catalog's ``context_window``) is refused with
  ``Input is too long for requested model.``: Bedrock's words for an oversize prompt [R] (seen for other
  providers' models; for Mistral the wording is [I]).
* A request that asks for more output than the window has room for (input + ``max_tokens`` > window) is
  decided by :class:`WindowPolicy`. Bedrock's behaviour here is not documented for Mistral [I]. The default,
  ``refuse``, follows what Mistral's serving stacks do (they reject such a request up front) and keeps the
  promise one way: a request that passes here cannot fail on Bedrock for this reason. ``cap`` lets the model
  write until the window is full and stop with ``length``.
* A request that leaves ``max_tokens`` unset is never refused for it: its default output is capped at the room
  left [I].
"""

from __future__ import annotations

import enum
from dataclasses import replace

from mistral_bedrock.errors import ValidationException

from .format import ParsedRequest
from .messages import CONTAINER_VALIDATION_ERROR

__all__ = ["INPUT_TOO_LONG", "WindowPolicy", "fit_window"]

INPUT_TOO_LONG = "Input is too long for requested model."


class WindowPolicy(str, enum.Enum):
    """What happens to a request whose ``max_tokens`` would run past the context window."""

    REFUSE = "refuse"  # a ValidationException, in the Mistral container's words
    CAP = "cap"  # generation stops when the window is full, with stop reason ``length``


def fit_window(request: ParsedRequest, input_count: int, policy: WindowPolicy) -> ParsedRequest:
    """The request as the engine should answer it, or the error Bedrock gives for one that does not fit.

    Args:
        request: The parsed request.
        input_count: Its input tokens, with the model's tokenizer.
        policy: What to do when ``max_tokens`` runs past the window.

    Returns:
        ``request`` itself, or a copy whose ``max_tokens`` is capped at the room the window leaves.

    Raises:
        ValidationException: The prompt fills the window, or (``refuse``) ``max_tokens`` runs past it.
    """
    window = request.spec.context_window
    if input_count >= window:
        raise ValidationException(INPUT_TOO_LONG)
    room = window - input_count
    if request.max_tokens <= room:
        return request
    if request.params.max_tokens is not None and policy is WindowPolicy.REFUSE:
        raise ValidationException(CONTAINER_VALIDATION_ERROR)
    return replace(request, params=replace(request.params, max_tokens=room))
