"""``mistral-bedrock demo``: the classic walkthrough end to end, then which backend answered.

Runs, in order: ``basic`` (Mistral 7B, the payloads and the answer), ``chat`` (two scripted turns with Mixtral
8x7B, then the prompt of the second turn, which carries the first answer and ``</s>``), ``chat-streaming``
(Mistral Large answering token by token) and ``tools`` (the ``top_song`` tool loop). With no AWS set up it runs
on the embedded local runtime, offline.
"""

from __future__ import annotations

from typing import Any

import click

from ..conversation import Params
from .backend import Backend, BackendOptions, backend_options, describe_endpoint, open_backend
from .failures import CommandFailure, guard
from .output import Output, json_option, result_json, totals

__all__ = ["CHAT_TURNS", "STREAM_TURNS", "command"]

CHAT_TURNS = ("Hi! My name is Ada. Please remember it.", "What is my name?")
STREAM_TURNS = ("Tell me a fun fact about the mistral, the wind of southern France.",)


def _chat(backend: Backend, out: Output, model: str, turns: tuple[str, ...], stream: bool) -> dict[str, Any]:
    from .chat_session import ChatSession, ChatSettings

    session = ChatSession(backend.client, ChatSettings(model=model, stream=stream), out)
    for text in turns:
        out.labelled("User", text, style="bold green")
        if session.turn(text) is None:
            raise CommandFailure(f"the {model} chat failed: {session.turns[-1].get('error', 'cancelled')}")
    prompt = session.conversation.last_prompt
    if prompt is not None and len(turns) > 1:
        out.line("prompt of the last turn (the history, with <s> once and </s> after each answer):", style="bold")
        out.line(prompt)
    return session.document(backend.kind)


def _sections(backend: Backend, out: Output) -> dict[str, Any]:
    from . import basic, chat_repl, chat_streaming, tool_calling

    document: dict[str, Any] = {}
    out.heading(f"basic · {basic.DEFAULT_MODEL}")
    result = basic.invoke(backend.client, basic.DEFAULT_MODEL, basic.DEFAULT_MESSAGE, Params())
    basic.show(out, result)
    out.footer([result])
    document["basic"] = result_json(result)

    out.heading(f"chat · {chat_repl.DEFAULT_MODEL}")
    document["chat"] = _chat(backend, out, chat_repl.DEFAULT_MODEL, CHAT_TURNS, stream=False)

    out.heading(f"chat-streaming · {chat_streaming.DEFAULT_MODEL}")
    document["chat_streaming"] = _chat(backend, out, chat_streaming.DEFAULT_MODEL, STREAM_TURNS, stream=True)

    out.heading(f"tools · {tool_calling.DEFAULT_MODEL}")
    loop = tool_calling.run(backend.client, tool_calling.DEFAULT_MODEL, tool_calling.DEFAULT_MESSAGE, "auto", "chat")
    tool_calling.show(out, loop)
    out.footer(loop.steps)
    document["tools"] = {
        "calls": tool_calling.calls_json(loop),
        "answer": loop.text.strip(),
        "totals": totals(loop.steps),
    }
    return document


@click.command("demo")
@json_option
@backend_options
def command(as_json: bool, backend: BackendOptions) -> None:
    """Run basic, chat, chat-streaming and tools end to end, and say which backend answered."""
    out = Output(as_json)
    with guard(), open_backend(backend) as opened:
        document = _sections(opened, out)
        answered_by = describe_endpoint(opened)
        out.heading("done")
        out.line(f"Answered by {answered_by}.", style="bold")
        out.emit({"backend": opened.kind, "answered_by": answered_by, **document})
