"""How Bedrock's front end, a Java service, prints values in its validation messages (``Value '…' at``): strings
as they are, numbers as Java prints them (``'1.5'``, ``'32424.0'`` for a float member), lists as ``[a, b]`` and
maps as ``{k=v}``. A float member is also compared as the 32-bit float it is read into (:func:`as_float32`).
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal

from .service_model import Shape

__all__ = ["as_float32", "java_value"]

_FLOAT_MAX = 3.4028234663852886e38


def _java_decimal(text: str) -> str:
    """Java's ``Float``/``Double.toString`` layout for the shortest digits ``text`` of a finite number."""
    number = Decimal(text)
    if number == 0:
        return "-0.0" if number.is_signed() else "0.0"
    sign = "-" if number < 0 else ""
    number = abs(number).normalize()
    if Decimal("0.001") <= number < Decimal("1e7"):
        plain = format(number, "f")
        return sign + (plain if "." in plain else plain + ".0")
    digits = "".join(map(str, number.as_tuple().digits))
    exponent = number.adjusted()
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _to_float(value: float) -> float:
    """``float(value)``; infinite for an integer beyond a double, where ``float()`` raises (a caller's own int:
    a request body's are bare tokens by then, see .json_body)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def as_float32(value: float) -> float:
    """``value`` rounded to a 32-bit float (Java's ``float``), infinite beyond its range."""
    value = _to_float(value)
    if math.isfinite(value) and abs(value) > _FLOAT_MAX:
        return math.copysign(math.inf, value)
    return float(struct.unpack("f", struct.pack("f", value))[0])


def _java_float(value: float, *, single: bool) -> str:
    if math.isnan(value):
        return "NaN"
    if single:
        value = as_float32(value)
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if not single:
        return _java_decimal(repr(value))
    as_float = value
    # The shortest digits that read back as the same 32-bit float, as Float.toString prints them.
    for digits in range(1, 10):
        text = f"{as_float:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == as_float:
            return _java_decimal(text)
    return _java_decimal(repr(as_float))  # pragma: no cover - nine digits always round-trip a float


def java_value(shape: Shape, value: object) -> str:
    """A value as the Java front end prints it inside ``Value '…'``, read as ``shape``."""
    if shape.kind in ("float", "double") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _java_float(_to_float(value), single=shape.kind == "float")
    if shape.kind in ("integer", "long") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, list):
        item = shape.member or shape
        return "[" + ", ".join(java_value(item, v) for v in value) + "]"
    if isinstance(value, dict):
        members = dict(shape.members)
        parts = []
        for k, v in value.items():
            sub = shape.value if shape.value is not None else members.get(k, shape)
            parts.append(f"{k}={java_value(sub, v)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)
