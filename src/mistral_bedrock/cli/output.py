"""What commands print: rich text for people, one JSON document for scripts.

With ``--json`` a command prints exactly one JSON document on stdout — no decoration, no footer, no colour.
Otherwise rich renders the output; colours are off when stdout is not a terminal and when ``NO_COLOR`` is set.
The footer sums up a call: the model id that answered, why the answer stopped (in words, with the dialect's own
spelling), tokens in and out, latency, time to first token (streams) and cost.

An answer Bedrock flags — a guardrail, a content filter, output it could not parse, a model error, a stop reason
this package does not know — came back as a 200 with text that is not the model's answer. The command says so on
stderr, prints its output as usual, and then exits with :data:`EXIT_FLAGGED`, so a script cannot take it for a
good answer.

rich is imported when an :class:`Output` is made, never when a command module loads.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from ..client import Result
    from ..conversation import StopReason, ToolCall

__all__ = [
    "EXIT_FLAGGED",
    "STOP_MEANINGS",
    "Output",
    "flagged",
    "footer_text",
    "json_option",
    "result_json",
    "stop_text",
    "totals",
]

EXIT_FLAGGED = 3  # the calls succeeded, but an answer stopped for a reason that makes it no answer

# stop reason → (what it means, in the footer and the JSON; whether it flags the answer)
STOP_MEANINGS: dict[StopReason, tuple[str, bool]] = {
    "stop": ("finished", False),
    "length": ("cut at max_tokens", False),
    "tool_calls": ("asks for tool calls", False),
    "model_context_window_exceeded": ("cut: the context window is full", False),
    "guardrail_intervened": ("blocked by a Bedrock guardrail; the text is the guardrail's, not the model's", True),
    "content_filtered": ("withheld by a content filter", True),
    "malformed_model_output": ("Bedrock could not parse the model's output", True),
    "malformed_tool_use": ("the model's tool call was malformed", True),
    "error": ("the model ended with an error", True),
    "unknown": ("a stop reason this version does not know", True),
}

_PIPE_WIDTH = 160  # rich's width when stdout is not a terminal and COLUMNS is unset (it would use 80)

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document for scripts.")


def _console() -> Console:
    from rich.console import Console

    # No highlighting or emoji codes: answers and payloads print as they are.
    console = Console(highlight=False, emoji=False, no_color=True if os.environ.get("NO_COLOR") else None)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = _PIPE_WIDTH
    return console


def tool_call_json(call: ToolCall) -> dict[str, Any]:
    """A tool call as JSON.

    Args:
        call: The call.

    Returns:
        ``{"id", "name", "arguments"}``.
    """
    return {"id": call.id, "name": call.name, "arguments": dict(call.arguments)}


def result_json(result: Result) -> dict[str, Any]:
    """Everything about one call, as JSON.

    Args:
        result: A finished call.

    Returns:
        Text, stop reason, tool calls, usage, cost, timings, ids, and the request and response bodies.
    """
    usage = result.usage
    meaning = STOP_MEANINGS[result.stop_reason][0] if result.stop_reason else None
    return {
        "text": result.text,
        "stop_reason": result.stop_reason,
        "raw_stop_reason": result.raw_stop_reason,
        "stop_meaning": meaning,
        "tool_calls": [tool_call_json(call) for call in result.tool_calls],
        "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens} if usage else None,
        "cost_usd": result.cost,
        "latency_ms": round(result.latency_ms, 1),
        "time_to_first_token_ms": (
            round(result.time_to_first_token_ms, 1) if result.time_to_first_token_ms is not None else None
        ),
        "model_id": result.model_id,
        "dialect": result.dialect.value,
        "request_id": result.request_id,
        "request": dict(result.request_body),
        "response": dict(result.response_body) if result.response_body is not None else None,
    }


def totals(results: Sequence[Result]) -> dict[str, Any]:
    """Usage and cost summed over several calls (a tool loop, a conversation).

    Args:
        results: The calls.

    Returns:
        ``{"requests", "input_tokens", "output_tokens", "cost_usd", "latency_ms"}``; tokens and cost are None when
        any call did not report usage.
    """
    known = all(result.usage is not None for result in results)
    costs = [result.cost for result in results]
    return {
        "requests": len(results),
        "input_tokens": sum(r.usage.input_tokens for r in results if r.usage) if known else None,
        "output_tokens": sum(r.usage.output_tokens for r in results if r.usage) if known else None,
        "cost_usd": sum(c for c in costs if c is not None) if all(c is not None for c in costs) else None,
        "latency_ms": round(sum(result.latency_ms for result in results), 1),
    }


def stop_text(result: Result) -> str:
    """Why an answer stopped, in words, with the dialect's own spelling.

    Args:
        result: A finished call.

    Returns:
        E.g. ``finished (end_turn)``, ``blocked by a Bedrock guardrail; … (guardrail_intervened)``.
    """
    if result.stop_reason is None:
        return "no stop reason"
    meaning = STOP_MEANINGS[result.stop_reason][0]
    return f"{meaning} ({result.raw_stop_reason or result.stop_reason})"


def flagged(result: Result) -> bool:
    """Whether an answer stopped for a reason that makes its text no answer (see :data:`STOP_MEANINGS`)."""
    return result.stop_reason is not None and STOP_MEANINGS[result.stop_reason][1]


def footer_text(results: Sequence[Result]) -> str:
    """The footer line for one or more calls.

    Args:
        results: The calls (several for a tool loop; the last one's stop reason is the answer's).

    Returns:
        E.g. ``mistral.mistral-7b-instruct-v0:2 · finished (stop) · 12 in · 20 out tokens · 35 ms · first token
        9 ms · $0.000006``.
    """
    summary = totals(results)
    parts: list[str] = []
    if results:
        parts.append(", ".join(dict.fromkeys(result.model_id for result in results if result.model_id)))
        parts.append(stop_text(results[-1]))
    if len(results) > 1:
        parts.append(f"{len(results)} requests")
    if summary["input_tokens"] is not None:
        parts.append(f"{summary['input_tokens']} in · {summary['output_tokens']} out tokens")
    parts.append(f"{summary['latency_ms']:.0f} ms")
    first = results[0].time_to_first_token_ms if results else None
    if first is not None:
        parts.append(f"first token {first:.0f} ms")
    if summary["cost_usd"] is not None:
        parts.append(f"${summary['cost_usd']:.6f}")
    return " · ".join(parts)


class Output:
    """A command's output, in rich text or as one JSON document.

    Args:
        as_json: ``--json`` was given: rich text methods print nothing; :meth:`emit` prints the document.
    """

    def __init__(self, as_json: bool = False) -> None:
        self.as_json = as_json
        self.console = _console()
        self.flagged: list[Result] = []  # answers that stopped for a reason that makes them no answer
        self.errors = 0  # failures reported with :meth:`error`

    @property
    def rich(self) -> bool:
        """Whether rich text is printed (not ``--json``)."""
        return not self.as_json

    def line(self, text: str = "", style: str | None = None) -> None:
        """Print one line of plain text (never wrapped, no markup).

        Args:
            text: The text.
            style: A rich style, e.g. ``bold``.
        """
        if self.rich:
            self.console.print(text, style=style, markup=False, soft_wrap=True)

    def labelled(self, label: str, text: str, style: str = "bold cyan") -> None:
        """Print ``[Label]: text`` with the label styled.

        Args:
            label: E.g. ``Assistant``.
            text: The rest of the line.
            style: The label's style.
        """
        if self.rich:
            from rich.text import Text

            self.console.print(Text.assemble((f"[{label}]:", style), " ", text), soft_wrap=True)

    def label_start(self, label: str, style: str = "bold cyan") -> None:
        """Print ``[Label]: `` and no newline, before a streamed answer.

        Args:
            label: E.g. ``Assistant``.
            style: The label's style.
        """
        if self.rich:
            from rich.text import Text

            self.console.print(Text.assemble((f"[{label}]:", style), " "), end="", soft_wrap=True)
            self.console.file.flush()

    def status(self, text: str) -> None:
        """A dim status line (``(history cleared)``…).

        Args:
            text: The line.
        """
        self.line(text, style="dim")

    def error(self, text: str) -> None:
        """``Error: <text>`` on one line on stderr, in every mode.

        Args:
            text: The error, already on one line.
        """
        self.errors += 1
        click.echo(f"Error: {text}", err=True)

    def heading(self, title: str) -> None:
        """A section rule, e.g. between the parts of ``demo``.

        Args:
            title: The section's title.
        """
        if self.rich:
            self.console.rule(title, characters="─" if self.console.is_terminal else "-")

    def payload(self, title: str, body: Mapping[str, Any] | None) -> None:
        """A title line, then the body as compact JSON on one line (as the classic examples print it).

        Args:
            title: E.g. ``request payload:``.
            body: The JSON body; None prints ``(streamed)``.
        """
        if self.rich:
            self.line(title, style="bold")
            text = "(streamed)" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            self.line(text)

    def piece(self, text: str) -> None:
        """Print part of a streamed answer at once, without a newline.

        Args:
            text: The new text.
        """
        if self.rich:
            self.console.print(text, end="", markup=False, soft_wrap=True)
            self.console.file.flush()

    def footer(self, results: Sequence[Result]) -> None:
        """The footer line: model, stop reason, tokens, latency, time to first token, cost.

        In every mode, an answer that stopped for a flagging reason is also reported on stderr and remembered,
        so :meth:`emit` ends the command with :data:`EXIT_FLAGGED`.

        Args:
            results: The calls it sums up.
        """
        if self.rich and results:
            self.line(footer_text(results), style="dim")
        for result in results:
            if flagged(result):
                self.flagged.append(result)
                click.echo(f"warning: the answer of {result.model_id} was {stop_text(result)}", err=True)

    def emit(self, document: Any) -> None:
        """Print the ``--json`` document (only in JSON mode); every command calls it last.

        Args:
            document: Anything ``json.dumps`` accepts.

        Raises:
            click.exceptions.Exit: With :data:`EXIT_FLAGGED` once the document is out, when an answer the footer
                summed up was flagged and no failure was reported (a failure's own exit status wins).
        """
        if self.as_json:
            sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
            sys.stdout.flush()
        if self.flagged and not self.errors:
            raise click.exceptions.Exit(EXIT_FLAGGED)
