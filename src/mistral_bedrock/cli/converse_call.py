"""``mistral-bedrock converse``: one Converse (or ConverseStream) call.

The Converse API takes the same body for every model; the client applies Mistral's rules as it builds it (Mistral
7B and Mixtral take no system prompt through Converse, so ``--system`` is folded into the user's turn for them).
MESSAGE may also come piped on stdin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..conversation import Params
from .backend import BackendOptions, backend_options, open_backend
from .failures import guard
from .input_text import question
from .options import inference_options, model_option
from .output import Output, json_option, result_json

if TYPE_CHECKING:
    from ..client import MistralBedrock, Result

__all__ = ["DEFAULT_MESSAGE", "DEFAULT_MODEL", "command", "converse"]

DEFAULT_MODEL = "mistral-large-2402"
DEFAULT_MESSAGE = "Hello, what's your name?"


def converse(
    client: MistralBedrock,
    out: Output,
    model: str,
    message: str,
    system: str | None,
    params: Params,
    stream: bool,
) -> Result:
    """Send one message through Converse and print the answer (live when streaming).

    Args:
        client: The client.
        out: Where to print.
        model: Model id or alias.
        message: The user's message.
        system: A system prompt, or None.
        params: Inference parameters.
        stream: Use ConverseStream.

    Returns:
        The result.
    """
    if not stream:
        result = client.converse(message, model=model, system=system, **params.keywords())
        out.line(result.text.strip())
        return result
    with client.converse_stream(message, model=model, system=system, **params.keywords()) as answer:
        started = False
        for delta in answer:
            piece = delta.text if started else delta.text.lstrip()
            if piece:
                started = True
                out.piece(piece)
        result = answer.result()
    out.line()
    return result


@click.command("converse")
@click.argument("message", required=False)
@model_option(DEFAULT_MODEL)
@click.option("--system", "-s", metavar="TEXT", help="System prompt.")
@click.option("--stream", is_flag=True, help="Use ConverseStream and print the answer as it comes.")
@inference_options
@json_option
@backend_options
def command(
    message: str | None,
    model: str,
    system: str | None,
    stream: bool,
    params: Params,
    as_json: bool,
    backend: BackendOptions,
) -> None:
    """Send MESSAGE through the Converse API (ConverseStream with --stream) and print the answer. Without MESSAGE,
    the text piped on stdin is sent, else a greeting."""
    out = Output(as_json)
    text = question(message, DEFAULT_MESSAGE)
    with guard(), open_backend(backend) as opened:
        result = converse(opened.client, out, model, text, system, params, stream)
        out.footer([result])
        out.emit({"backend": opened.kind, **result_json(result)})
