"""``mistral-bedrock chat``: an interactive multi-turn chat (Mixtral 8x7B by default).

The second program of the classic walkthrough, as a REPL: line editing and history on a terminal, plain line
reads from a pipe, ``--stream`` to print tokens as they come, ``--verbose`` to watch the ``<s>``/``</s>`` prompt
grow. Ctrl-C while an answer streams cancels that answer (the turn does not join the history); Ctrl-C at the
prompt clears the line; Ctrl-D or ``/exit`` leaves.
"""

from __future__ import annotations

import click

from ..conversation import Params
from .backend import BackendOptions
from .chat_session import ChatSettings, chat_options, start_chat

__all__ = ["DEFAULT_MODEL", "command"]

DEFAULT_MODEL = "mixtral-8x7b"


@click.command("chat")
@chat_options(DEFAULT_MODEL, stream_flag=True)
def command(
    stream: bool, verbose: bool, system: str | None, model: str, params: Params, as_json: bool, backend: BackendOptions
) -> None:
    """Chat with a model, turn after turn, keeping the history (/help inside lists the commands)."""
    settings = ChatSettings(model=model, system=system, params=params, stream=stream, verbose=verbose)
    start_chat(settings, as_json, backend)
