"""The Python client: :class:`MistralBedrock` and :class:`AsyncMistralBedrock`, the same methods in both (the
sync client is generated from the async one: ``scripts/unasync.py``)."""

from .aio import AsyncConversation, AsyncMistralBedrock, AsyncStream
from .result import Result
from .retry import RetryPolicy
from .signing import NoCredentialsError
from .sync import Conversation, MistralBedrock, Stream
from .tools import ToolLoopLimitError, ToolRun, tool_from_function
from .usage_errors import ClientClosedError, ConversationMovedError

__all__ = [
    "AsyncConversation",
    "AsyncMistralBedrock",
    "AsyncStream",
    "ClientClosedError",
    "Conversation",
    "ConversationMovedError",
    "MistralBedrock",
    "NoCredentialsError",
    "Result",
    "RetryPolicy",
    "Stream",
    "ToolLoopLimitError",
    "ToolRun",
    "tool_from_function",
]
