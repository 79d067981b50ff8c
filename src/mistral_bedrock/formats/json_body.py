"""Request bodies read as JSON the way Bedrock's parsers read them: ``NaN`` and ``Infinity`` are not numbers.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity`` and turns them into floats; no JSON parser
on Bedrock's side does. Here each becomes a :class:`BareToken`, a ``str`` that no check takes for a number or
for text:

* the native bodies' schema validator (everit on org.json, by its messages) reads an unquoted token as a
  string, so a number member holding one is refused as ``expected type: Number, found: String`` [I];
* anywhere else the body is refused as unparseable [I]: what a strict parser would do, and never looser
  than Bedrock, whichever parser it uses.

Number literals too large for a double (``1e400``) are kept the same way, so no float that is not finite
ever reaches a format, an engine or a serializer.

Two more things JSON allows and the rest of the pipeline cannot take are settled here, once:

* nesting deeper than the parser's recursion allows is unparseable, as it is for Bedrock's parsers, which cap
  nesting depth (Jackson's default is 1,000) [I];
* a lone UTF-16 surrogate escape (``"\\ud800"``) is valid JSON but no text: it becomes U+FFFD, the replacement
  character, which is what the model's tokenizer would see of it [I].
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["BareToken", "has_bare_token", "load_json"]


class BareToken(str):
    """A token that is not JSON (``NaN``, ``Infinity``, ``-Infinity``), or a number literal beyond a double."""

    __slots__ = ()


def _float(text: str) -> float | BareToken:
    value = float(text)
    return value if math.isfinite(value) else BareToken(text)


def load_json(raw: bytes | bytearray | str) -> Any:
    """Parse a request body; raises ``ValueError`` (or ``UnicodeDecodeError``) where ``json.loads`` does."""
    try:
        value = json.loads(raw, parse_constant=BareToken, parse_float=_float)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    # Only a \uD8xx-\uDFxx escape can leave a lone surrogate behind (raw UTF-8 cannot encode one).
    found = _SURROGATE_ESCAPE_STR.search(raw) if isinstance(raw, str) else _SURROGATE_ESCAPE_BYTES.search(raw)
    return _without_lone_surrogates(value) if found else value


_SURROGATE_ESCAPE_STR = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, BareToken):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    return value


def has_bare_token(value: object) -> bool:
    """Whether a parsed value holds a :class:`BareToken` anywhere."""
    if isinstance(value, str):
        return isinstance(value, BareToken)
    if isinstance(value, dict):
        return any(has_bare_token(v) for v in value.values())
    if isinstance(value, list):
        return any(has_bare_token(v) for v in value)
    return False
