"""Reading the REPL's input lines: line editing and history on a terminal, plain reads from a pipe.

On a terminal the stdlib ``readline`` module gives ``input()`` line editing and in-session history (arrow keys,
Ctrl-R); Ctrl-C clears the line and prompts again; Ctrl-D ends the session. From a pipe, lines are read as
they are and end of input ends the session.
"""

from __future__ import annotations

import contextlib
import sys

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
        if interactive:
            with contextlib.suppress(ImportError):  # platforms without readline still read lines
                import readline  # noqa: F401  (importing it gives input() line editing and history)

    def read(self) -> str | None:
        """The next line without its newline, or None at the end of input (Ctrl-D).

        Returns:
            The line, or None.
        """
        if not self.interactive:
            line = sys.stdin.readline()
            return line.rstrip("\r\n") if line else None
        while True:
            try:
                return input(self.prompt)
            except KeyboardInterrupt:  # Ctrl-C at the prompt: drop the line, prompt again
                sys.stdout.write("\n")
                sys.stdout.flush()
            except EOFError:  # Ctrl-D
                sys.stdout.write("\n")
                sys.stdout.flush()
                return None
