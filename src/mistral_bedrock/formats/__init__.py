"""One translator per dialect, chosen from a registry by the catalog — never by if-chains on the model.

Usable on its own with plain boto3::

    import boto3, json
    from mistral_bedrock import Message, Params, for_region
    from mistral_bedrock.formats import format_for

    bedrock = boto3.client("bedrock-runtime")
    model = for_region("mistral-7b", bedrock.meta.region_name)  # the id (or profile) that Region serves
    fmt = format_for(model.spec.native_dialect)
    body = fmt.build_body(model.spec, [Message.user("Hello, what's your name?")], Params(max_tokens=200))
    reply = bedrock.invoke_model(modelId=model.identifier, body=json.dumps(body))
    print(fmt.parse_response(json.loads(reply["body"].read())).text)

The bodies are plain dicts typed by :mod:`mistral_bedrock.formats.body_types` (``TextRequest``, ``ChatRequest``,
``ConverseRequest`` and their responses and stream chunks), so a type checker knows their keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..catalog import Dialect, ModelSpec
from .chat import ChatFormat
from .chat_openai import ChatOpenAIFormat
from .converse import ConverseFormat
from .format import Event, Format, Metrics, ParsedRequest, StreamReader, StreamWriter
from .text import TextFormat

__all__ = [
    "FORMATS",
    "ChatFormat",
    "ChatOpenAIFormat",
    "ConverseFormat",
    "Event",
    "Format",
    "Metrics",
    "ParsedRequest",
    "StreamReader",
    "StreamWriter",
    "TextFormat",
    "dialect_for_body",
    "format_for",
]

FORMATS: dict[Dialect, Format] = {
    fmt.dialect: fmt for fmt in (TextFormat(), ChatFormat(), ChatOpenAIFormat(), ConverseFormat())
}

# Which top-level key marks which native dialect family in an InvokeModel body.
_BODY_MARKERS: dict[str, tuple[Dialect, ...]] = {
    "prompt": (Dialect.TEXT,),
    "messages": (Dialect.CHAT, Dialect.CHAT_OPENAI),
}


def format_for(dialect: Dialect) -> Format:
    """The format for a dialect."""
    return FORMATS[dialect]


def dialect_for_body(spec: ModelSpec, body: object) -> Dialect:
    """The native dialect an InvokeModel body is written in, among those the model accepts.

    A body whose shape the model does not accept is judged by the model's preferred dialect, so it gets that
    dialect's validation message (``required key [messages] not found`` and the like), as on Bedrock.
    """
    if isinstance(body, Mapping):
        data: Mapping[str, Any] = body
        for marker, dialects in _BODY_MARKERS.items():
            if marker in data:
                for dialect in dialects:
                    if dialect in spec.dialects:
                        return dialect
    return spec.native_dialect
