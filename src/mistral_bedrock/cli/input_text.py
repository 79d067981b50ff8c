"""What the commands read from stdin: the question of the one-shot commands, and strict decoding of input bytes.

``basic``, ``converse`` and ``tools`` take their question from MESSAGE; without it, from stdin when stdin is not
a terminal and holds text (``echo "Hi" | mistral-bedrock basic``); otherwise they ask the example's own question.
``chat`` reads its turns from stdin line by line (:mod:`.lines`).

Input is decoded strictly, in stdin's encoding: bytes that are not text in it would reach the model as U+FFFD,
not as typed (and fail when printed back), so they are refused in one line naming the bytes, exit status 2, as
:func:`.errors.text_arguments` refuses such arguments.
"""

from __future__ import annotations

import codecs
import sys

from .failures import UsageFailure

__all__ = ["NotText", "decode_input", "question", "typed_bytes"]

_SHOWN = 80  # characters of the offending bytes' repr in the message


class NotText(UsageFailure):
    """Input bytes that are not text in stdin's encoding (exit status 2)."""


def _encoding() -> str:
    """stdin's encoding, by its canonical name (``utf-8``); UTF-8 when stdin has none."""
    return codecs.lookup(getattr(sys.stdin, "encoding", None) or "utf-8").name


def decode_input(data: bytes, source: str) -> str:
    """``data`` as text, strictly decoded in stdin's encoding.

    Args:
        data: The bytes read.
        source: What they are, for the message: ``stdin``, ``line 3 of stdin``.

    Returns:
        The text.

    Raises:
        NotText: Naming ``source``, the encoding and the bytes around the first one that is not text.
    """
    encoding = _encoding()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        around = data[max(exc.start - 16, 0) : exc.end + 16]
        raise NotText(f"{source} is not valid {encoding} text: {repr(around)[:_SHOWN]}") from None


def typed_bytes(line: str) -> bytes:
    """The bytes behind a line ``input()`` decoded, for :func:`decode_input` to check.

    Where stdin's error handler is ``surrogateescape`` (a UTF-8 or C locale), ``input()`` hands bytes that are
    not text over as lone surrogates instead of failing; encoding the line back gives those bytes again.

    Args:
        line: What ``input()`` returned.

    Returns:
        The line's bytes in stdin's encoding.
    """
    return line.encode(_encoding(), "surrogateescape")


def question(message: str | None, default: str) -> str:
    """The question of a one-shot command: MESSAGE, else the text piped on stdin, else ``default``.

    stdin is read only when MESSAGE is not given and stdin is not a terminal (a terminal would wait for typing).

    Args:
        message: The MESSAGE argument, or None.
        default: The example's own question.

    Returns:
        The question, stripped when it came from stdin.

    Raises:
        NotText: When the piped bytes are not text.
    """
    if message is not None:
        return message
    stdin = sys.stdin
    if stdin is None or stdin.isatty():  # None: the process was started with stdin closed
        return default
    piped = decode_input(stdin.buffer.read(), "stdin").strip()
    return piped or default
