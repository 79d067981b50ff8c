"""``mistral-bedrock chat-streaming``: the classic streaming chat, Mistral Large answering token by token.

The third program of the classic walkthrough: ``chat --stream`` with Mistral Large 2 (24.07), which speaks the
chat dialect (``messages``) over InvokeModelWithResponseStream. Same options and REPL commands as ``chat``.
"""

from __future__ import annotations

import click

from ..conversation import Params
from .backend import BackendOptions
from .chat_session import ChatSettings, chat_options, start_chat

__all__ = ["DEFAULT_MODEL", "command"]

DEFAULT_MODEL = "mistral-large-2402"


@click.command("chat-streaming")
@chat_options(DEFAULT_MODEL, stream_flag=False)
def command(
    verbose: bool, system: str | None, model: str, params: Params, as_json: bool, backend: BackendOptions
) -> None:
    """Chat with streamed answers (Mistral Large by default), as the classic streaming example does."""
    start_chat(ChatSettings(model=model, system=system, params=params, stream=True, verbose=verbose), as_json, backend)
