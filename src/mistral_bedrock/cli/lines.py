"""Reading the REPL's input lines: line editing and history on a terminal, plain reads from a pipe.

On a terminal the stdlib ``readline`` module gives ``input()`` line editing and in-session history (arrow keys,
Ctrl-R); Ctrl-C clears the line and prompts again; Ctrl-D ends the session. From a pipe, lines are read as
they are and end of input ends the session. Either way a line whose bytes are not text is refused
(:class:`~.input_text.NotText`), never sent as U+FFFD.
"""

from __future__ import annotations

import contextlib
import sys

from .input_text import decode_input, typed_bytes

__all__ = ["LineReader"]


class LineReader:
    """Reads one line at a time from stdin.

    Args:
        prompt: Shown before each line on a terminal.
        interactive: Use ``input()`` with readline (stdin is a terminal); otherwise plain reads.
    """

    def __init__(self, prompt: str, interactive: bool) -> None:
        self.prompt = prompt
        self.interactive = interactive
        self.count = 0  # lines read from a pipe so far, to name a bad one
        if interactive:
            with contextlib.suppress(ImportError):  # platforms without readline still read lines
                import readline  # noqa: F401  (importing it gives input() line editing and history)

    def read(self) -> str | None:
        """The next line without its newline, or None at the end of input (Ctrl-D).

        Returns:
            The line, or None.

        Raises:
            NotText: When the line's bytes are not text.
        """
        if not self.interactive:
            data = sys.stdin.buffer.readline()
            if not data:
                return None
            self.count += 1
            return decode_input(data, f"line {self.count} of stdin").rstrip("\r\n")
        while True:
            try:
                data = typed_bytes(input(self.prompt))
            except UnicodeDecodeError as exc:  # stdin decodes strictly (PYTHONIOENCODING, a non-UTF-8 locale)
                data = exc.object
            except KeyboardInterrupt:  # Ctrl-C at the prompt: drop the line, prompt again
                sys.stdout.write("\n")
                sys.stdout.flush()
                continue
            except EOFError:  # Ctrl-D
                sys.stdout.write("\n")
                sys.stdout.flush()
                return None
            return decode_input(data, "that line")
