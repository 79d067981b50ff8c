"""``mistral-bedrock basic``: the first program of the classic walkthrough.

Sends one message to Mistral 7B as a text completion and prints what went over the wire, as the classic
example does::

    request payload:
    {"prompt":"<s>[INST] Hello, what's your name? [/INST]"}
    response payload:
    {"outputs":[{"text":" Hello! …","stop_reason":"stop"}]}
    response string:
    Hello! …

Models without the text dialect are sent the chat body instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .backend import BackendOptions, backend_options, open_backend
from .errors import guard
from .options import InferenceParams, inference_options, model_option
from .output import Output, json_option, result_json

if TYPE_CHECKING:
    from ..client import MistralBedrock, Result

__all__ = ["DEFAULT_MESSAGE", "DEFAULT_MODEL", "command", "invoke", "show"]

DEFAULT_MODEL = "mistral-7b"
DEFAULT_MESSAGE = "Hello, what's your name?"


def invoke(client: MistralBedrock, model: str, message: str, params: InferenceParams) -> Result:
    """One InvokeModel call: a text completion, or a chat completion for models without the text dialect.

    Args:
        client: The client.
        model: Model id or alias.
        message: The user's message.
        params: Inference parameters.

    Returns:
        The result, with the request and response bodies.
    """
    from ..catalog import Dialect, lookup

    if Dialect.TEXT in lookup(model).dialects:
        return client.complete_text(message, model=model, **params.kwargs())
    return client.complete_chat(message, model=model, **params.kwargs(top_k=False, stop=False))


def show(out: Output, result: Result) -> None:
    """Print the payloads and the answer the way the classic example does.

    Args:
        out: Where to print.
        result: The call.
    """
    out.payload("request payload:", result.request_body)
    out.payload("response payload:", result.response_body)
    out.line("response string:", style="bold")
    out.line(result.text.strip())


@click.command("basic")
@click.argument("message", default=DEFAULT_MESSAGE)
@model_option(DEFAULT_MODEL)
@inference_options
@json_option
@backend_options
def command(message: str, model: str, params: InferenceParams, as_json: bool, backend: BackendOptions) -> None:
    """Send MESSAGE to a model (Mistral 7B by default); print the request payload, the response payload and the
    response string, as the classic example does."""
    out = Output(as_json)
    with guard(), open_backend(backend) as opened:
        result = invoke(opened.client, model, message, params)
        show(out, result)
        out.footer([result])
        document: dict[str, Any] = {"backend": opened.kind, **result_json(result)}
        out.emit(document)
