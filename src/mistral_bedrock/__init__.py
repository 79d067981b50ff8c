"""Mistral AI models on Amazon Bedrock: a typed client, a CLI and a local Bedrock runtime.

Names are loaded on first use (PEP 562), so ``import mistral_bedrock`` costs next to nothing and never imports
httpx, click, rich, starlette or mistral-common; ``from mistral_bedrock import MistralBedrock`` loads the client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .catalog import Dialect, ModelSpec, for_region, lookup, resolve
    from .client import (
        AsyncMistralBedrock,
        ClientClosedError,
        ConversationMovedError,
        MistralBedrock,
        Result,
        RetryPolicy,
    )
    from .conversation import Completion, Delta, Message, Params, Tool, ToolCall, Usage
    from .errors import (
        BedrockError,
        MalformedResponseError,
        MistralBedrockError,
        ModelNotServedError,
        StreamError,
        TransportError,
    )

# public name → the module that defines it
_EXPORTS = {
    "AsyncMistralBedrock": "client",
    "ClientClosedError": "client",
    "ConversationMovedError": "client",
    "BedrockError": "errors",
    "Completion": "conversation",
    "Delta": "conversation",
    "Dialect": "catalog",
    "MalformedResponseError": "errors",
    "Message": "conversation",
    "MistralBedrock": "client",
    "MistralBedrockError": "errors",
    "ModelNotServedError": "errors",
    "ModelSpec": "catalog",
    "Params": "conversation",
    "Result": "client",
    "RetryPolicy": "client",
    "StreamError": "errors",
    "Tool": "conversation",
    "ToolCall": "conversation",
    "TransportError": "errors",
    "Usage": "conversation",
    "for_region": "catalog",
    "lookup": "catalog",
    "resolve": "catalog",
}

__all__ = [
    "AsyncMistralBedrock",
    "BedrockError",
    "ClientClosedError",
    "Completion",
    "ConversationMovedError",
    "Delta",
    "Dialect",
    "MalformedResponseError",
    "Message",
    "MistralBedrock",
    "MistralBedrockError",
    "ModelNotServedError",
    "ModelSpec",
    "Params",
    "Result",
    "RetryPolicy",
    "StreamError",
    "Tool",
    "ToolCall",
    "TransportError",
    "Usage",
    "__version__",
    "for_region",
    "lookup",
    "resolve",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mistral_bedrock' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
