"""The multi-turn chat REPL behind ``chat`` and ``chat-streaming``.

Each line is a user turn sent with the whole history, in the model's native dialect (for text models, the
``<s>[INST] … [/INST] …</s>`` prompt of the classic walkthrough). A turn joins the history only once its answer
is complete: a failed turn, or one cancelled with Ctrl-C while it streams, leaves the history as it was.

Lines starting with ``/`` are commands: ``/reset``, ``/save FILE``, ``/load FILE``, ``/history``, ``/help`` and
``/exit``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..conversation import Params
from ..formats.selection import native_format
from .backend import BackendOptions, backend_options, note, open_backend
from .failures import describe, guard, reportable
from .history import HistoryFileError, load_history, messages_json, refuse_unsendable, save_history
from .input_text import NotText
from .lines import LineReader
from .options import catalog_entry, inference_options, model_option, refuse_uncarried_params
from .output import Output, json_option, result_json

if TYPE_CHECKING:
    from ..client import Conversation, MistralBedrock, Result
    from .backend import Backend

__all__ = ["ChatSession", "ChatSettings", "chat_options", "refuse_uncarried", "run_chat", "start_chat"]

F = TypeVar("F", bound=Callable[..., Any])

HELP = (
    "/reset        forget the conversation (the --system prompt stays)",
    "/save FILE    write the history to FILE as JSON",
    "/load FILE    replace the history with the one in FILE",
    "/history      show the history",
    "/exit         leave (so do Ctrl-D and end of input)",
)
PROMPT = "[User]: "


@dataclass(frozen=True)
class ChatSettings:
    """How a chat runs.

    Attributes:
        model: Model id or alias.
        system: System prompt, or None.
        params: Inference parameters for every turn.
        stream: Stream answers as they are generated.
        verbose: Show each request and response payload, and the exact prompt of text models.
    """

    model: str
    system: str | None = None
    params: Params = field(default_factory=Params)
    stream: bool = False
    verbose: bool = False


class ChatSession:
    """One conversation driven by lines of input.

    Args:
        client: The client.
        settings: The chat's settings.
        out: Where to print.
    """

    def __init__(self, client: MistralBedrock, settings: ChatSettings, out: Output) -> None:
        self.settings = settings
        self.out = out
        self.conversation: Conversation = client.conversation(
            model=settings.model, system=settings.system, **settings.params.keywords()
        )
        self.turns: list[dict[str, Any]] = []
        self.failed = False
        self._commands: dict[str, Callable[[str], bool]] = {
            "/reset": self._reset,
            "/save": self._save,
            "/load": self._load,
            "/history": self._history,
            "/help": self._help,
            "/exit": lambda _: False,
            "/quit": lambda _: False,
        }

    # -- turns ----------------------------------------------------------------------------------------
    def turn(self, text: str) -> Result | None:
        """Send one user turn and show the answer.

        Args:
            text: The user's message.

        Returns:
            The result, or None when the turn failed or was cancelled (the history is then unchanged).
        """
        try:
            result = self._streamed(text) if self.settings.stream else self._whole(text)
        except KeyboardInterrupt:
            self.out.status("(answer cancelled; this turn is not in the history)")
            self.turns.append({"user": text, "cancelled": True})
            return None
        except Exception as exc:
            if not reportable(exc):
                raise
            self.out.error(describe(exc))
            self.turns.append({"user": text, "error": describe(exc)})
            self.failed = True
            return None
        self.turns.append({"user": text, "assistant": result.text.strip(), **result_json(result)})
        return result

    def _whole(self, text: str) -> Result:
        result = self.conversation.send(text)
        if self.settings.verbose:
            self._show_request(result)
            self.out.payload("response payload:", result.response_body)
        self.out.labelled("Assistant", result.text.strip())
        self.out.footer([result])
        return result

    def _streamed(self, text: str) -> Result:
        started = False
        try:
            with self.conversation.stream(text) as stream:
                for delta in stream:
                    piece = delta.text if started else delta.text.lstrip()
                    if piece:
                        if not started:
                            self.out.label_start("Assistant")
                            started = True
                        self.out.piece(piece)
                result = stream.result()
        except BaseException:
            if started:  # end the half-printed answer's line
                self.out.line()
            raise
        if not started:
            self.out.label_start("Assistant")
        self.out.line()
        if self.settings.verbose:
            self._show_request(result)
            self.out.payload("response payload:", result.response_body)
            if result.metrics:
                self.out.payload("invocation metrics:", result.metrics)
        self.out.footer([result])
        return result

    def _show_request(self, result: Result) -> None:
        self.out.payload("request payload:", result.request_body)
        prompt = result.request_body.get("prompt")
        if isinstance(prompt, str):
            self.out.line("prompt:", style="bold")
            self.out.line(prompt)

    # -- commands -------------------------------------------------------------------------------------
    def command(self, line: str) -> bool:
        """Run a ``/command``.

        Args:
            line: The whole line, starting with ``/``.

        Returns:
            False when the session should end.
        """
        name, _, argument = line.strip().partition(" ")
        handler = self._commands.get(name.lower())
        if handler is None:
            self.out.error(f"unknown command {name}; /help lists the commands")
            return True
        return handler(argument.strip())

    def _reset(self, _: str) -> bool:
        self.conversation.reset()
        self.out.status("(history cleared)")
        return True

    def _save(self, path: str) -> bool:
        if not path:
            self.out.error("/save needs a file name")
            return True
        try:
            save_history(path, self.conversation.state.spec.model_id, self.conversation.history)
        except HistoryFileError as exc:
            self.out.error(str(exc))
            self.failed = True
            return True
        self.out.status(f"(saved {len(self.conversation.history)} messages to {path})")
        return True

    def _load(self, path: str) -> bool:
        if not path:
            self.out.error("/load needs a file name")
            return True
        spec = self.conversation.state.spec
        try:
            saved = load_history(path)
            refuse_unsendable(path, spec, saved.messages)
        except HistoryFileError as exc:
            self.out.error(str(exc))
            self.failed = True
            return True
        self.conversation.load(saved.messages)
        self.out.status(f"(loaded {len(saved.messages)} messages from {path})")
        saved_spec = catalog_entry(saved.model) if saved.model is not None else spec
        if saved_spec is None or saved_spec.model_id != spec.model_id:
            # The chat's model stays the one it was started with (--model); the history is checked against it.
            note(f"{path} was saved with {saved.model}; this chat goes on with {spec.model_id}")
        return True

    def _history(self, _: str) -> bool:
        for message in self.conversation.history:
            self.out.labelled(message.role.title(), message.content or str(messages_json([message])[0]))
        if not self.conversation.history:
            self.out.status("(the history is empty)")
        return True

    def _help(self, _: str) -> bool:
        for line in HELP:
            self.out.line(line)
        return True

    # -- the loop -------------------------------------------------------------------------------------
    def run(self, reader: LineReader) -> None:
        """Read lines until ``/exit`` or the end of input.

        A typed line that is not text is refused and the next one read; a piped one ends the session.

        Args:
            reader: Where lines come from.

        Raises:
            NotText: For a piped line that is not text (exit status 2).
        """
        while True:
            try:
                line = reader.read()
            except NotText as exc:
                if not reader.interactive:
                    raise  # piped input that is not text: the script's input is broken, exit 2
                self.out.error(exc.message)  # a person can type the line again
                continue
            if line is None:
                return
            text = line.strip()
            if not text:
                continue
            if not reader.interactive:
                self.out.labelled("User", text, style="bold green")
            if text.startswith("/"):
                if not self.command(text):
                    return
                continue
            self.turn(text)

    def document(self, backend: str) -> dict[str, Any]:
        """The ``--json`` document: every turn and the final history.

        Args:
            backend: The backend's kind.

        Returns:
            ``{"model", "backend", "turns", "history"}``.
        """
        return {
            "model": self.conversation.state.spec.model_id,
            "backend": backend,
            "turns": self.turns,
            "history": messages_json(self.conversation.history),
        }


def chat_options(default_model: str, *, stream_flag: bool) -> Callable[[F], F]:
    """The options of ``chat`` and ``chat-streaming``: model, system prompt, parameters, output, backend.

    Args:
        default_model: The model used when ``--model`` is not given.
        stream_flag: Offer ``--stream`` (``chat-streaming`` always streams).

    Returns:
        A decorator adding them (in ``--help``, in the order listed above).
    """

    def decorate(func: F) -> F:
        # click lists options in the reverse order they are added: the backend options end the list.
        func = backend_options(func)
        func = json_option(func)
        func = inference_options(func)
        func = click.option(
            "--verbose", "-v", is_flag=True, help="Show each request and response payload, and text prompts."
        )(func)
        if stream_flag:
            func = click.option("--stream", is_flag=True, help="Stream each answer as it is generated.")(func)
        func = click.option("--system", "-s", metavar="TEXT", help="System prompt.")(func)
        return model_option(default_model)(func)

    return decorate


def refuse_uncarried(settings: ChatSettings) -> None:
    """Refuse, before a backend opens, the parameters the model's chat dialect cannot carry on any turn.

    Args:
        settings: The chat's settings.

    Raises:
        UsageFailure: Naming the model and the options (exit status 2).
    """
    spec = catalog_entry(settings.model)
    if spec is not None:  # a model the catalog does not know fails on the first turn, with Bedrock's message
        refuse_uncarried_params(settings.params, spec, native_format(spec))


def run_chat(backend: Backend, settings: ChatSettings, out: Output, interactive: bool) -> None:
    """Run the REPL on an open backend until the input ends.

    Args:
        backend: The open backend.
        settings: The chat's settings.
        out: Where to print.
        interactive: stdin is a terminal (line editing, a prompt, Ctrl-C clears the line).

    Raises:
        click.exceptions.Exit: With code 1 when input was piped and a turn failed.
        NotText: For a piped line that is not text (exit status 2).
    """
    session = ChatSession(backend.client, settings, out)
    spec = session.conversation.state.spec
    if interactive:
        out.status(f"{spec.name} ({spec.model_id}) on {backend.label}. /help lists commands; Ctrl-D leaves.")
    session.run(LineReader(PROMPT, interactive))
    out.emit(session.document(backend.kind))
    if session.failed and not interactive:
        raise click.exceptions.Exit(1)


def start_chat(settings: ChatSettings, as_json: bool, backend: BackendOptions) -> None:
    """What ``chat`` and ``chat-streaming`` do: refuse what the model cannot take, open a backend, run the REPL."""
    out = Output(as_json)
    refuse_uncarried(settings)
    with guard(), open_backend(backend) as opened:
        run_chat(opened, settings, out, interactive=sys.stdin.isatty())
