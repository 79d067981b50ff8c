"""``mistral-bedrock tokens``: what a Bedrock request body turns into, token by token.

Reads a text-completion body (``prompt``) or a chat body (``messages``, optional ``tools``) and prints
``{"model", "tokenizer", "prompt", "token_ids", "count", "exact"}`` as JSON. The body is validated exactly as
Bedrock would; anything Bedrock would reject is reported on one line with exit code 2.

The count is the one the client's ``count_tokens`` and the runtime's usage give
(:mod:`mistral_bedrock.prompt.input_tokens`). A conversation the format accepts but mistral-common cannot render
has no prompt to show: ``prompt`` and ``token_ids`` are null, ``count`` is the approximation the runtime reports,
and stderr says why. ``exact`` is true only for a rendered prompt with the model's own tokenizer (the catalog's
``tokenizer_exact``: some newer models are counted with a stand-in tokenizer).

The file is read as bytes and parsed as the runtime parses a body (``formats.json_body.load_json``): the same
encodings, ``NaN`` and ``1e400`` as no numbers, a ``\\ud800`` escape as U+FFFD, and bytes that are not text or
nesting no parser follows refused in one line, never with a traceback.
"""

from __future__ import annotations

import json
from typing import BinaryIO

import click

from ..catalog import lookup
from ..errors import MistralBedrockError, ValidationException
from ..formats import dialect_for_body, format_for
from ..formats.json_body import load_json
from ..formats.messages import MALFORMED
from ..prompt import encode_prompt
from ..prompt.input_tokens import approximate_input_tokens, render_input
from ..prompt.rendered import Rendered
from .failures import fail

__all__ = ["command"]


@click.command("tokens")
@click.option("--model", "-m", required=True, help="Model id, alias, ARN or inference profile.")
@click.argument("file", type=click.File("rb"), default="-")
def command(model: str, file: BinaryIO) -> None:
    """Render FILE (a Bedrock request body; stdin by default) and count its tokens with the model's tokenizer."""
    try:
        body = load_json(file.read())
    except ValueError as exc:  # UnicodeDecodeError included: bytes that are not text
        raise fail(f"the request body is not valid JSON: {exc}") from None
    try:
        spec = lookup(model)
        request = format_for(dialect_for_body(spec, body)).parse_request(spec, body, stream=False)
    except MistralBedrockError as exc:
        raise fail(exc) from None
    except RecursionError:
        # JSON that parses but nests deeper than the checks can walk: the runtime calls it malformed, so here too.
        raise fail(ValidationException(MALFORMED)) from None
    rendered: Rendered | None
    if request.prompt is not None:
        rendered = encode_prompt(request.prompt, spec)
    else:
        try:
            rendered = render_input(request.messages, spec, request.tools)
        # Whatever stops mistral-common, the count is the runtime's: the approximation (prompt.input_tokens).
        except Exception as exc:
            reason = exc.message if isinstance(exc, ValidationException) else f"{type(exc).__name__}: {exc}"
            click.echo(f"note: {reason} The count is the approximation the runtime reports.", err=True)
            rendered = None
    click.echo(
        json.dumps(
            {
                "model": spec.model_id,
                "tokenizer": spec.tokenizer,
                "prompt": rendered.text if rendered else None,
                "token_ids": list(rendered.token_ids) if rendered else None,
                "count": rendered.count
                if rendered
                else approximate_input_tokens(request.messages, spec, request.tools),
                "exact": rendered is not None and spec.tokenizer_exact,
            },
            ensure_ascii=False,
        )
    )
