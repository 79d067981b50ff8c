"""The Python client: :class:`MistralBedrock` and :class:`AsyncMistralBedrock`, the same methods in both."""

from .aio import AsyncConversation, AsyncMistralBedrock, AsyncStream
from .result import Result
from .retry import RetryPolicy
from .signing import NoCredentialsError
from .sync import Conversation, MistralBedrock, Stream
from .tools import ToolLoopLimitError, ToolRun, tool_from_function

__all__ = [
    "AsyncConversation",
    "AsyncMistralBedrock",
    "AsyncStream",
    "Conversation",
    "MistralBedrock",
    "NoCredentialsError",
    "Result",
    "RetryPolicy",
    "Stream",
    "ToolLoopLimitError",
    "ToolRun",
    "tool_from_function",
]
