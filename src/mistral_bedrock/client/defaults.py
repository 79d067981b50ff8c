"""The client's one default-model policy.

Every method of :class:`~.sync.MistralBedrock` and :class:`~.aio.AsyncMistralBedrock` that takes a ``model``
defaults to :data:`DEFAULT_MODEL`: Mistral Large 24.02, served on demand in us-east-1 and eight more Regions, in
both the text and the chat dialect. The Mistral-shaped ``chat`` methods require ``model``, as ``mistralai`` does.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MODEL"]

DEFAULT_MODEL = "mistral-large-2402"
