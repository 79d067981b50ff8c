"""How the CLI reports failures: one readable line on stderr, the AWS code when there is one, never a traceback.

Usage mistakes (a bad flag, a body that is not JSON, an argument or input that is not text, an endpoint that is not
an http(s) URL, an option the model's request body cannot carry) exit with 2, like click's own usage errors.
Failures of the call itself (an AWS error, a broken stream, a refused connection, missing credentials or region)
exit with 1. Ctrl-C during a one-shot command exits with 130, quietly.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import click

from ..errors import BedrockError, MistralBedrockError

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "CommandFailure",
    "UsageFailure",
    "describe",
    "fail",
    "guard",
    "text_arguments",
]

EXIT_USAGE = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130


class UsageFailure(click.ClickException):
    """A failure reported as ``Error: <message>`` with exit code 2, never a traceback."""

    exit_code = EXIT_USAGE


class CommandFailure(click.ClickException):
    """A failed call reported as ``Error: <message>`` with exit code 1, never a traceback."""

    exit_code = EXIT_FAILURE


def _one_line(text: str) -> str:
    return " ".join(text.split())


def describe(error: BaseException) -> str:
    """One line for an error: ``ThrottlingException: …`` for AWS errors, ``TypeName: …`` for the rest.

    Args:
        error: Any exception the CLI reports.

    Returns:
        The line, without a trailing newline.
    """
    if isinstance(error, BedrockError):
        return _one_line(f"{error.error_code}: {error.message}")
    text = _one_line(str(error))
    name = type(error).__name__
    return f"{name}: {text}" if text else name


def fail(error: Exception | str) -> UsageFailure:
    """The one-line usage failure for an error; AWS errors keep their code (``ValidationException: …``)."""
    if isinstance(error, BedrockError):
        return UsageFailure(f"{error.error_code}: {error.message}")
    if isinstance(error, MistralBedrockError):
        return UsageFailure(str(error))
    return UsageFailure(str(error))


def reportable(error: BaseException) -> bool:
    """Whether an exception is a failure of the call (reported in one line) rather than a bug.

    Args:
        error: The exception caught at a command's boundary.

    Returns:
        True for this package's errors, httpx's errors and botocore's errors (credentials, profiles).
    """
    if isinstance(error, MistralBedrockError):
        return True
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(error, httpx.HTTPError):
        return True
    return type(error).__module__.startswith("botocore.")


@contextmanager
def guard() -> Iterator[None]:
    """Turn call failures into :class:`CommandFailure` and Ctrl-C into a quiet exit 130.

    Raises:
        CommandFailure: For any :func:`reportable` error raised inside the block.
        click.exceptions.Exit: With code 130 on Ctrl-C.
    """
    try:
        yield
    except KeyboardInterrupt:
        click.echo("", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        if reportable(exc):
            raise CommandFailure(describe(exc)) from None
        raise


_SURROGATE = re.compile("[\ud800-\udfff]")


def text_arguments(args: Sequence[str]) -> list[str]:
    """The command line, if every argument is text; otherwise one ``Error:`` line and exit 2.

    Python reads argument bytes that are not valid in the locale's encoding (``$'\\xff'`` under UTF-8) as lone
    surrogates. Sent on, such a message would reach the model as U+FFFD, not as typed, and printing it back would
    fail; so the command refuses it before doing anything, naming the bytes.

    Args:
        args: The arguments after the program name.

    Returns:
        ``args`` as a list.
    """
    for arg in args:
        if _SURROGATE.search(arg):
            try:
                shown = repr(os.fsencode(arg))
            except UnicodeError:  # a surrogate that stands for no byte (only possible when called from Python)
                shown = ascii(arg)
            failure = UsageFailure(f"an argument is not valid {sys.getfilesystemencoding()} text: {shown[:80]}")
            failure.show()
            raise SystemExit(failure.exit_code)
    return list(args)
