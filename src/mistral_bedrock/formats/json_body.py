"""Request bodies read as JSON the way Bedrock's parsers read them: ``NaN`` and ``Infinity`` are not numbers.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity`` and turns them into floats; no JSON parser
on Bedrock's side does. Here each becomes a :class:`BareToken`, a ``str`` that no check takes for a number or
for text:

* the native bodies' schema validator (everit on org.json, by its messages) reads an unquoted token as a
  string, so a number member holding one is refused as ``expected type: Number, found: String`` [I];
* anywhere else the body is refused as unparseable [I]: what a strict parser would do, and never looser
  than Bedrock, whichever parser it uses.

Number literals too large for a double (``1e400``, and integers such as ``10**400`` written out) are kept the
same way [I], so no float that is not finite ever reaches a format, an engine or a serializer, and no integer
that overflows a float on its way to a float member.

Two more things JSON allows and the rest of the pipeline cannot take are settled here, once:

* nesting deeper than the parser's recursion allows is unparseable, as it is for Bedrock's parsers, which cap
  nesting depth (Jackson's default is 1,000) [I];
* a lone UTF-16 surrogate escape (``"\\ud800"``) is valid JSON but no text: it becomes U+FFFD, the replacement
  character, which is what the model's tokenizer would see of it [I];
* bytes that are not valid in the body's encoding are unparseable [I]. The encoding is detected as RFC 4627
  says (UTF-8, with or without a byte-order mark, or UTF-16/32 by the pattern of NUL bytes), which is what
  both ``json.loads`` and Jackson do; but ``json.loads`` decodes with ``surrogatepass``, which would let an
  encoded surrogate (``ED A0 80``, invalid UTF-8) through as a lone surrogate that no tokenizer, encoder or
  UTF-8 writer downstream can take. Here the bytes are decoded strictly, so such a body is refused exactly
  as ``\\xff`` in a string always was.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from ..prompt.sanitize import holds_lone_surrogate, tokenizable_value

__all__ = ["BareToken", "has_bare_token", "load_json"]


class BareToken(str):
    """A token that is not JSON (``NaN``, ``Infinity``, ``-Infinity``), or a number literal beyond a double."""

    __slots__ = ()


def _float(text: str) -> float | BareToken:
    value = float(text)
    return value if math.isfinite(value) else BareToken(text)


def _int(text: str) -> int | BareToken:
    # More than 309 digits is past the largest double whatever the digits (and past Python's 4,300-digit limit
    # on int(), which would refuse the whole body); at 309 the value decides.
    if len(text.lstrip("-")) > _DOUBLE_DIGITS:
        return BareToken(text)
    value = int(text)
    return value if abs(value) <= _DOUBLE_MAX else BareToken(text)


_DOUBLE_MAX = int(sys.float_info.max)
_DOUBLE_DIGITS = len(str(_DOUBLE_MAX))


def load_json(raw: bytes | bytearray | str) -> Any:
    """Parse a request body; raises ``ValueError`` (or ``UnicodeDecodeError``) where ``json.loads`` does, and
    ``UnicodeDecodeError`` for bytes that are not valid in their encoding (see the module's notes)."""
    text = bytes(raw).decode(json.detect_encoding(raw)) if isinstance(raw, (bytes, bytearray)) else raw
    try:
        value = json.loads(text, parse_constant=BareToken, parse_float=_float, parse_int=_int)
        # Strictly decoded text holds no surrogate, so only a \uD8xx-\uDFxx escape can leave a lone one behind
        # (or a caller's own str). The parsed strings are checked rather than the text: an ASCII string answers
        # at once, where a search of a 20 MB body for the escape holds the GIL for ~14 ms. The walks are
        # recursive too: a depth the parser reached may be too deep for them.
        return tokenizable_value(value) if holds_lone_surrogate(value) else value
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def has_bare_token(value: object) -> bool:
    """Whether a parsed value holds a :class:`BareToken` anywhere."""
    if isinstance(value, str):
        return isinstance(value, BareToken)
    if isinstance(value, dict):
        return any(has_bare_token(v) for v in value.values())
    if isinstance(value, list):
        return any(has_bare_token(v) for v in value)
    return False
