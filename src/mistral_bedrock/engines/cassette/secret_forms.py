r"""The forms a secret takes in recorded traffic besides plain text, and how the scanner (:mod:`.secrets`) reads each.

Searching the raw text alone misses a value that is encoded: base64 (an event stream's ``chunk.bytes``, a ``Basic``
header, a blob in a model's answer; standard or URL-safe alphabet; UTF-8 text, or UTF-16 as in PowerShell's
``-EncodedCommand``), base64 wrapped at 64 or 76 columns (MIME, PEM, the ``base64`` tool), percent-encoded (a presigned
URL's ``X-Amz-Security-Token=…``, a request path), or backslash-escaped (``\u002F`` or ``\/`` for "/" in a JSON body
kept as text, and the escapes of a YAML double-quoted scalar, which is how a cassette's own text holds such strings).

A base64 run is decoded, its text cleaned, and encoded again in the same alphabet and codec, so the blob stays valid.
The other forms are views: the decoded text of a stretch of the source with a map from its positions back to the
source's, so that what is found in the decoded text is replaced in the encoded text itself and the rest is kept as is.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import codecs
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote

__all__ = ["BASE64_RUN", "View", "base64_cores", "decode_base64", "encode_base64_like", "escaped", "line_wrapped"]

# Both alphabets, standard and URL-safe. Shorter runs are mostly words and ids (an encoded key id takes 28).
BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
# Two or more lines of base64, the first a run of 16 characters at least (BASE64_RUN), each line after it ending where
# base64 would (not "key:" or "- item", as YAML has). A break may hold blank and indented lines: a YAML scalar folds
# its lines that way.
_WRAPPED = re.compile(
    r"[A-Za-z0-9+/_-]{16,}+={0,2}+"
    r"(?:(?:\r?\n[ \t]*+)++[A-Za-z0-9+/_-]++={0,2}+(?=[ \t]*+(?:[\r\n\"'`)\]}>.,;]|\Z)))++"
)
_LINE_BREAK = re.compile(r"(?:\r?\n[ \t]*)+")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_PERCENT_TOKEN = re.compile(r"(?:%[0-9A-Fa-f]{2})+|\+")
_ESCAPE = re.compile(r"""\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|[\\/"'nrtbf0])""")
_ESCAPED_CHARACTER = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "0": "\0"}
_SPACES = " \t\n\r\f\v"
_SPACE = re.compile(f"[{_SPACES}]")
# Escapes closer than this share one view: prose with an escape on every line is decoded once, not once per line.
_GAP = 1024
# Controls other than tabs and line breaks: text has none, binary read as UTF-16 nearly always does.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_UTF16 = (("utf-16-le", codecs.BOM_UTF16_LE, 1), ("utf-16-be", codecs.BOM_UTF16_BE, 0))


def base64_cores(raw: bytes) -> Iterable[str]:
    """The parts of base64(prefix + raw + suffix) that depend on ``raw`` alone, for any prefix and suffix.

    Base64 maps 3 bytes to 4 characters, so how ``raw`` encodes depends on the prefix's length modulo 3. The
    characters that mix the prefix's or suffix's bits with the value's are left out: those are what is stable.
    Credentials are ASCII letters, digits, "+", "/" and "=", whose base64 (UTF-8 or UTF-16) never holds "+" or "/"
    (that takes bytes like "~" or "?"), so these forms are the same in the URL-safe alphabet.
    """
    cores: dict[str, None] = {}  # ordered, so that redaction is the same in every process
    for lead in range(3):
        encoded = base64.b64encode(bytes(lead) + raw).decode("ascii")
        cores[encoded[-(-8 * lead // 6) : 8 * (lead + len(raw)) // 6]] = None
    return cores


def decode_base64(run: str) -> tuple[str, str] | None:
    """The text a base64 run encodes, and the codec that gives back its exact bytes; None if it is not base64."""
    body = run.rstrip("=")
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), _altchars(run), validate=True)
    except binascii.Error:
        return None
    for codec, bom, high in _UTF16:
        # UTF-16 of mostly ASCII text has a zero in every other byte; a byte order mark says so outright.
        if len(raw) % 2 == 0 and (raw.startswith(bom) or 4 * raw[high::2].count(0) >= len(raw) > 0):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            if not _CONTROL.search(text):
                return text, codec
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Latin-1 maps every byte to one character: binary data comes back byte for byte.
        return raw.decode("latin-1"), "latin-1"


def encode_base64_like(run: str, text: str, codec: str) -> str:
    """``text`` encoded with the same codec and alphabet as ``run``, and unpadded if ``run`` was."""
    encoded = base64.b64encode(text.encode(codec), _altchars(run)).decode("ascii")
    return encoded.rstrip("=") if "=" not in run and len(run) % 4 else encoded


def _altchars(run: str) -> bytes:
    return b"-_" if "-" in run or "_" in run else b"+/"


@dataclass(frozen=True)
class View:
    """The decoded text of ``source[start:end]``, and where each of its characters came from."""

    label: str
    source: str
    start: int
    end: int
    token: re.Pattern[str]  # what is decoded; the rest stays as it is
    decode: Callable[[re.Match[str]], str]
    # A replacement written into the source as the source writes text (a percent-encoded one percent-encoded).
    encode: Callable[[str], str]

    @cached_property
    def text(self) -> str:
        return self.token.sub(self.decode, self.source[self.start : self.end])

    @cached_property
    def _tokens(self) -> tuple[list[int], list[tuple[int, int, int]]]:
        """Per decoded token, its start in the view; and its end in the view, start and end in the source.

        Built only when something is found: a view is mostly searched in vain.
        """
        starts: list[int] = []
        marks: list[tuple[int, int, int]] = []
        shift = self.start  # the source position minus the view position, before the next token
        for match in self.token.finditer(self.source, self.start, self.end):
            length = len(self.decode(match))
            starts.append(match.start() - shift)
            marks.append((match.start() - shift + length, match.start(), match.end()))
            shift += match.end() - match.start() - length
        return starts, marks

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Where ``text[start:end]`` is in the source; a span that cuts a token takes all of it."""
        starts = self._tokens[0]
        first = self._source(start, bisect.bisect_right(starts, start) - 1, at_end=False)
        return first, self._source(end, bisect.bisect_left(starts, end) - 1, at_end=True)

    def _source(self, position: int, index: int, *, at_end: bool) -> int:
        """``index``: the last token that starts before ``position`` (or at it, for a start); -1 if none does."""
        if index < 0:
            return self.start + position
        view_end, source_start, source_end = self._tokens[1][index]
        if position < view_end:
            return source_end if at_end else source_start
        return source_end + position - view_end


def line_wrapped(text: str, runs: Iterable[re.Match[str]]) -> Iterator[View]:
    """Each block of base64 lines in ``text``, its line breaks taken out; ``runs``: the text's base64 runs.

    A block starts with a run, so only runs that end a line are tried (a search of the whole text costs as much as
    finding the runs again).
    """
    end = 0
    for run in runs:
        if run.start() >= end and text.startswith(("\n", "\r\n"), run.end()):
            block = _WRAPPED.match(text, run.start())
            if block:
                end = block.end()
                yield View("line-wrapped", text, *block.span(), _LINE_BREAK, _removed, _as_is)


def escaped(text: str) -> Iterator[View]:
    """The stretches of ``text`` that hold percent-encoding or backslash escapes, decoded."""
    for start, end in _stretches(text, _PERCENT):
        yield View("url-encoded", text, start, end, _PERCENT_TOKEN, _unquote, _quote)
    # Replacements go in unescaped: markers, zeros and base64 hold no backslash or quote.
    for start, end in _stretches(text, _ESCAPE):
        yield View("escaped", text, start, end, _ESCAPE, _unescape, _as_is)


def _removed(_match: re.Match[str]) -> str:
    return ""


def _as_is(replacement: str) -> str:
    return replacement


def _quote(replacement: str) -> str:
    return quote(replacement, safe="")


def _unquote(match: re.Match[str]) -> str:
    return " " if match[0] == "+" else bytes.fromhex(match[0].replace("%", "")).decode("utf-8", "replace")


def _unescape(match: re.Match[str]) -> str:
    escape = match[0][1:]
    return chr(int(escape[1:], 16)) if escape[0] in "ux" else _ESCAPED_CHARACTER.get(escape, escape)


def _stretches(text: str, escape: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """The words of ``text`` that hold an escape, with what lies between them when they are close.

    A secret holds no space, so a word is enough to find one; the view need not be the whole text.
    """
    end = 0
    found = escape.search(text)
    while found:
        start = max(end, *(text.rfind(space, end, found.start()) + 1 for space in _SPACES))
        end = _word_end(text, found.end())
        while (found := escape.search(text, end)) and found.start() - end <= _GAP:
            end = _word_end(text, found.end())
        yield start, end


def _word_end(text: str, position: int) -> int:
    space = _SPACE.search(text, position)
    return space.start() if space else len(text)
