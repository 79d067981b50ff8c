"""The Python client: :class:`MistralBedrock` and :class:`AsyncMistralBedrock`, the same methods in both (the
sync client is generated from the async one: ``scripts/unasync.py``)."""

from .aio import AsyncConversation, AsyncMistralBedrock, AsyncStream
from .aio_batch import AsyncBatchControl
from .batch_control import JobQuery
from .result import Result
from .retry import RetryPolicy
from .signing import NoCredentialsError
from .sync import Conversation, MistralBedrock, Stream
from .sync_batch import BatchControl
from .tools import ToolLoopLimitError, ToolRun, tool_from_function
from .usage_errors import ClientClosedError, ConversationMovedError

__all__ = [
    "AsyncBatchControl",
    "AsyncConversation",
    "AsyncMistralBedrock",
    "AsyncStream",
    "BatchControl",
    "ClientClosedError",
    "Conversation",
    "ConversationMovedError",
    "JobQuery",
    "MistralBedrock",
    "NoCredentialsError",
    "Result",
    "RetryPolicy",
    "Stream",
    "ToolLoopLimitError",
    "ToolRun",
    "tool_from_function",
]
