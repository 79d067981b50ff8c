"""The multi-turn helper's state, shared by :class:`Conversation` and :class:`AsyncConversation`.

Each turn goes out in the model's native dialect: a rendered ``<s>[INST] … [/INST] …</s>`` prompt for text
models (BOS once, ``</s>`` after each answer), ``messages`` for chat models. A turn that fails leaves the
history as it was, so the conversation stays consistent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog import lookup
from ..conversation import Message, Params
from .core import ClientCore
from .prepared import Prepared
from .result import Result
from .usage_errors import ConversationMovedError

__all__ = ["ConversationState", "PendingTurn"]


@dataclass(frozen=True)
class PendingTurn:
    """A turn sent and not yet answered: its request, the history it commits, and the history's version then."""

    prepared: Prepared
    turns: list[Message]
    version: int


@dataclass
class ConversationState:
    """History plus the settings of a conversation.

    Attributes:
        model: Model id or alias.
        system: An optional system prompt (merged into the prompt the way Mistral does for text models).
        params: Parameters for every turn.
        history: The turns so far, system prompt first when there is one.
        last_prompt: For text models, the exact prompt of the last request.
    """

    model: str
    system: str | None = None
    params: Params = field(default_factory=Params)
    history: list[Message] = field(default_factory=list)
    last_prompt: str | None = None
    version: int = 0  # moves whenever the history changes, so a late answer cannot overwrite a newer turn

    def __post_init__(self) -> None:
        self.spec = lookup(self.model)
        if self.system and not self.history:
            self.history.append(Message.system(self.system))

    def prepare(self, core: ClientCore, text: str, *, stream: bool) -> PendingTurn:
        """The request for the next user turn, with the history it would commit."""
        turns = [*self.history, Message.user(text)]
        return PendingTurn(core.turn_call(turns, self.model, self.params, stream=stream), turns, self.version)

    def commit(self, pending: PendingTurn, result: Result) -> None:
        """Add an answered turn to the history.

        Raises:
            ConversationMovedError: The history changed since the turn was sent (a streamed turn that finished
                after a later ``send``); the history is left as it is.
        """
        if pending.version != self.version:
            raise ConversationMovedError
        # Text completions start with the space SentencePiece puts before the first word; the history keeps
        # the answer itself, so re-rendering it does not double that space.
        answer = Message.assistant(result.text.strip(), result.tool_calls)
        self.history = [*pending.turns, answer]
        prompt = pending.prepared.body.get("prompt")
        self.last_prompt = prompt if isinstance(prompt, str) else None
        self.version += 1

    def load(self, history: list[Message]) -> None:
        """Replace the history (a saved conversation, say); the system prompt is whatever it holds."""
        self.history = list(history)
        self.last_prompt = None
        self.version += 1

    def reset(self) -> None:
        self.history = [Message.system(self.system)] if self.system else []
        self.last_prompt = None
        self.version += 1
