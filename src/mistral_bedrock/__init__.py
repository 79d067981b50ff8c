"""Mistral AI models on Amazon Bedrock: a typed client, a CLI and a local Bedrock runtime."""

from ._version import __version__
from .catalog import Dialect, ModelSpec, resolve
from .conversation import Completion, Delta, Message, Params, Tool, ToolCall, Usage
from .errors import BedrockError, MistralBedrockError, StreamError, TransportError

__all__ = [
    "BedrockError",
    "Completion",
    "Delta",
    "Dialect",
    "Message",
    "MistralBedrockError",
    "ModelSpec",
    "Params",
    "StreamError",
    "Tool",
    "ToolCall",
    "TransportError",
    "Usage",
    "__version__",
    "resolve",
]
