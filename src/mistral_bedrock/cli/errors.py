"""How the CLI reports failures: one readable line on stderr, the AWS code when there is one, exit code 2."""

from __future__ import annotations

import click

from ..errors import BedrockError, MistralBedrockError

__all__ = ["UsageFailure", "fail"]

EXIT_USAGE = 2


class UsageFailure(click.ClickException):
    """A failure reported as ``Error: <message>`` with exit code 2, never a traceback."""

    exit_code = EXIT_USAGE


def fail(error: Exception | str) -> UsageFailure:
    """The one-line failure for an error; AWS errors keep their code (``ValidationException: …``)."""
    if isinstance(error, BedrockError):
        return UsageFailure(f"{error.error_code}: {error.message}")
    if isinstance(error, MistralBedrockError):
        return UsageFailure(str(error))
    return UsageFailure(str(error))
