"""Errors in how the client is used (as opposed to errors Bedrock or the network report)."""

from __future__ import annotations

from ..errors import MistralBedrockError

__all__ = ["ClientClosedError", "ConversationMovedError"]


class ClientClosedError(MistralBedrockError):
    """A call on a client after :meth:`close` (or after its ``with`` block): its connections are gone."""

    def __init__(self) -> None:
        super().__init__("this client is closed; create a new one to make more calls")


class ConversationMovedError(MistralBedrockError):
    """A streamed turn finished after another turn was sent: its answer would no longer follow its question, so
    it is not added to the history (the history keeps the turn that was sent meanwhile)."""

    def __init__(self) -> None:
        super().__init__(
            "the conversation moved on while this stream was open (another turn was sent or the history was "
            "replaced); this answer was not added to the history"
        )
