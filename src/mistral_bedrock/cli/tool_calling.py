"""``mistral-bedrock tools``: the tool-calling example of the Bedrock user guide, with its ``top_song`` tool.

The model is given one tool, ``top_song`` (a radio station's call sign → the most played song and its artist),
and a question. The client's tool loop runs each call the model makes and sends the result back until the model
answers in text. Every step is shown: the tool call and its arguments, the tool's result, the final answer.
``--tool-choice`` is sent as is (``auto``, ``any`` or ``none``); ``--api converse`` uses the Converse API
instead of Mistral's chat body (Converse cannot say ``none``: no tools are sent then). MESSAGE may also come
piped on stdin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .backend import BackendOptions, backend_options, open_backend
from .failures import guard
from .input_text import question
from .options import model_option
from .output import Output, json_option, result_json, totals

if TYPE_CHECKING:
    from ..client import MistralBedrock, ToolRun

__all__ = ["DEFAULT_MESSAGE", "DEFAULT_MODEL", "STATIONS", "command", "run", "show", "top_song"]

DEFAULT_MODEL = "mistral-large-2402"
DEFAULT_MESSAGE = "What is the top song on WZPZ?"

#: The stations ``top_song`` knows (the first one is the Bedrock user guide's).
STATIONS = {
    "WZPZ": {"song": "Elemental Hotel", "artist": "8 Storey Hike"},
    "WKRP": {"song": "Turkeys Away", "artist": "Les Nessman"},
    "KBDR": {"song": "Ashes to Ashes", "artist": "The Night Shifts"},
}


def top_song(sign: str) -> dict[str, str]:
    """Get the most popular song played on a radio station.

    Args:
        sign: The call sign for the radio station for which you want the most popular song. Example call signs
            are WZPZ and WKRP.

    Returns:
        The song and its artist.

    Raises:
        LookupError: For a station this example does not know (the model is told, and answers accordingly).
    """
    station = STATIONS.get(sign.strip().upper())
    if station is None:
        raise LookupError(f"Station {sign} not found.")
    return dict(station)


def run(client: MistralBedrock, model: str, message: str, tool_choice: str | None, api: str) -> ToolRun:
    """The tool loop with ``top_song``.

    Args:
        client: The client.
        model: Model id or alias.
        message: The user's question.
        tool_choice: ``auto``, ``any``, ``none`` or None (not sent).
        api: ``chat`` (InvokeModel with Mistral's chat body) or ``converse``.

    Returns:
        The finished loop: every step and the whole history.
    """
    return client.run_tools(message, tools=[top_song], model=model, tool_choice=tool_choice, api=api)


def calls_json(run: ToolRun) -> list[dict[str, Any]]:
    """Every tool call of a loop with its result.

    Args:
        run: The finished loop.

    Returns:
        ``[{"id", "name", "arguments", "result"}]`` in the order the model made them.
    """
    results = {m.tool_call_id: m.content for m in run.history if m.role == "tool"}
    return [
        {"id": call.id, "name": call.name, "arguments": dict(call.arguments), "result": results.get(call.id)}
        for message in run.history
        for call in message.tool_calls
    ]


def show(out: Output, run: ToolRun) -> None:
    """Print each tool call, its arguments, its result, and the final answer.

    Args:
        out: Where to print.
        run: The finished loop.
    """
    for message in run.history:
        if message.role == "user":
            out.labelled("User", message.content, style="bold green")
        for call in message.tool_calls:
            out.labelled("Tool call", f"{call.name}({call.arguments_json})  id={call.id}", style="bold magenta")
        if message.role == "tool":
            out.labelled("Tool result", message.content, style="bold yellow")
    out.labelled("Assistant", run.text.strip())
    if not any(message.tool_calls for message in run.history):
        out.status("(the model answered without calling top_song)")


@click.command("tools")
@click.argument("message", required=False)
@model_option(DEFAULT_MODEL)
@click.option(
    "--tool-choice",
    type=click.Choice(["auto", "any", "none"]),
    default="auto",
    show_default=True,
    help="auto: the model decides; any: it must call a tool; none: it must not.",
)
@click.option(
    "--api",
    type=click.Choice(["chat", "converse"]),
    default="chat",
    show_default=True,
    help="Mistral's chat body over InvokeModel, or the Converse API.",
)
@json_option
@backend_options
def command(
    message: str | None, model: str, tool_choice: str, api: str, as_json: bool, backend: BackendOptions
) -> None:
    """Ask MESSAGE with a top_song tool; show each tool call, its arguments, its result and the final answer.
    Without MESSAGE, the text piped on stdin is asked, else the example's question about WZPZ."""
    out = Output(as_json)
    text = question(message, DEFAULT_MESSAGE)
    with guard(), open_backend(backend) as opened:
        loop = run(opened.client, model, text, tool_choice, api)
        show(out, loop)
        out.footer(loop.steps)
        out.emit(
            {
                "backend": opened.kind,
                "model_id": loop.result.model_id,
                "api": api,
                "tool_choice": tool_choice,
                "calls": calls_json(loop),
                "answer": loop.text.strip(),
                "totals": totals(loop.steps),
                "steps": [result_json(step) for step in loop.steps],
            }
        )
