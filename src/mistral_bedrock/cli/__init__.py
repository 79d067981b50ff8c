"""The ``mistral-bedrock`` command line.

One subcommand per module, imported only when that subcommand runs, so ``--help`` stays fast and
``import mistral_bedrock`` never pulls in click or rich.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from .._version import __version__
from .failures import text_arguments

__all__ = ["COMMANDS", "main"]

# name → (module, one-line help). The table is the whole command list; modules load on use.
COMMANDS: dict[str, tuple[str, str]] = {
    "batch": ("batch", "Bedrock batch inference: build, validate, estimate, submit, wait, results; or run on demand."),
    "bench": ("bench", "Measure parts against a reference from the same run: bench engine SOURCE (runtime vs direct)."),
    "basic": ("basic", "Send one message to Mistral 7B; print the request and response payloads and the answer."),
    "chat": ("chat_repl", "Interactive multi-turn chat (Mixtral 8x7B by default); --stream, --verbose, /save, /load."),
    "chat-streaming": ("chat_streaming", "The streaming chat of the classic walkthrough (Mistral Large)."),
    "converse": ("converse_call", "One Converse call (ConverseStream with --stream)."),
    "demo": ("demo", "Run basic, chat, chat-streaming and tools end to end; say which backend answered."),
    "models": ("models", "The model catalog: ids, aliases, dialects, tokenizer, context, prices."),
    "serve": ("serve", "Run the local Bedrock runtime (Bedrock's wire protocol, offline)."),
    "tokens": ("tokens", "Render a Bedrock request body's prompt and count its tokens exactly."),
    "tools": ("tool_calling", "Tool calling with a top_song tool: each call, its arguments, its result, the answer."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"{__name__}.{entry[0]}")
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mistral-bedrock")
def cli() -> None:
    """Mistral AI models on Amazon Bedrock: run the classic examples, inspect prompts, serve Bedrock locally.

    Commands that call a model take --local (the embedded runtime), --endpoint-url, --region and --profile.
    With no AWS credentials or endpoint configured they use the embedded local runtime, so everything works
    offline.
    """


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=text_arguments(sys.argv[1:] if argv is None else argv), prog_name="mistral-bedrock")
