"""``mistral-bedrock basic``: the first program of the classic walkthrough.

Sends one message to Mistral 7B as a text completion and prints what went over the wire, as the classic
example does::

    request payload:
    {"prompt":"<s>[INST] Hello, what's your name? [/INST]"}
    response payload:
    {"outputs":[{"text":" Hello! …","stop_reason":"stop"}]}
    response string:
    Hello! …

Models without the text dialect are sent their chat body instead. MESSAGE may also come piped on stdin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..catalog import lookup
from ..conversation import Params
from ..formats.selection import text_first_format
from .backend import BackendOptions, backend_options, open_backend
from .failures import guard
from .input_text import question
from .options import catalog_entry, inference_options, model_option, refuse_uncarried_params
from .output import Output, json_option, result_json

if TYPE_CHECKING:
    from ..client import MistralBedrock, Result

__all__ = ["DEFAULT_MESSAGE", "DEFAULT_MODEL", "command", "invoke", "show"]

DEFAULT_MODEL = "mistral-7b"
DEFAULT_MESSAGE = "Hello, what's your name?"


def invoke(client: MistralBedrock, model: str, message: str, params: Params) -> Result:
    """One InvokeModel call: a text completion, or a chat completion for models without the text dialect.

    Args:
        client: The client.
        model: Model id or alias.
        message: The user's message.
        params: Inference parameters.

    Returns:
        The result, with the request and response bodies.
    """
    send = client.complete_text if lookup(model).has_text_body else client.complete_chat
    return send(message, model=model, **params.keywords())


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
@click.argument("message", required=False)
@model_option(DEFAULT_MODEL)
@inference_options
@json_option
@backend_options
def command(message: str | None, model: str, params: Params, as_json: bool, backend: BackendOptions) -> None:
    """Send MESSAGE to a model (Mistral 7B by default); print the request payload, the response payload and the
    response string, as the classic example does. Without MESSAGE, the text piped on stdin is sent, else the
    example's question."""
    out = Output(as_json)
    text = question(message, DEFAULT_MESSAGE)
    spec = catalog_entry(model)
    if spec is not None:  # a model the catalog does not know fails in the call, with Bedrock's message
        refuse_uncarried_params(params, spec, text_first_format(spec))
    with guard(), open_backend(backend) as opened:
        result = invoke(opened.client, model, text, params)
        show(out, result)
        out.footer([result])
        document: dict[str, Any] = {"backend": opened.kind, **result_json(result)}
        out.emit(document)
