"""The ``--fault`` flag: :func:`parse_fault_spec`, a rule written on one line.

The flag is a shorthand for a rule's JSON form (:meth:`~.faults.FaultRule.from_json`), which checks it field by
field; this module only turns the line into that JSON.
"""

from __future__ import annotations

from mistral_bedrock.protocol.error_codes import ERROR_CODES

from .faults import CODE_ALIASES, INT_FIELDS, KINDS, FaultRule

__all__ = ["parse_fault_spec"]

_SPEC_NAMES = {"first_byte": "first_byte_ms", "per_token": "per_token_ms"}


def _spec_value(name: str, value: str) -> object:
    """A ``--fault`` option's text as the JSON value it stands for; a bad number is left as text to be refused."""
    if name == "rate":
        try:
            return float(value)
        except ValueError:
            return value
    if name in INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value
    return value


def parse_fault_spec(spec: str) -> FaultRule:
    """Parse a ``--fault`` flag.

    Forms: ``KIND_OR_CODE[:key=value,…]``, where the head is a fault kind (``latency``, ``stream-error``,
    ``drop``) or an AWS error code or short name (``ThrottlingException``, ``throttle``, ``not-ready``,
    ``timeout``, ``unavailable``, ``internal``), which makes an ``error`` rule. Keys are the JSON field names;
    ``first_byte`` and ``per_token`` are short for ``first_byte_ms`` and ``per_token_ms``. Examples::

        throttle:rate=0.3
        ModelNotReadyException:count=2,model=mistral-7b
        latency:first_byte=200,per_token=10
        stream-error:after_frames=3
        drop:after_frames=2,model=mistral-large-2407,operation=converse-stream

    Raises:
        ValueError: ``fault 'SPEC': …`` naming what is wrong.
    """
    try:
        head, _, rest = spec.partition(":")
        head = head.strip()
        if not head:
            raise ValueError("it is empty; expected KIND_OR_CODE[:key=value,…]")
        if head not in KINDS and head not in ERROR_CODES and head not in CODE_ALIASES:
            raise ValueError(
                f"{head!r} is neither a fault kind ({', '.join(KINDS)}) nor an AWS error code or short name"
            )
        data: dict[str, object] = {"kind": head} if head in KINDS else {"kind": "error", "code": head}
        for item in (part for part in rest.split(",") if part.strip()):
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep:
                raise ValueError(f"option {item.strip()!r} is not key=value")
            name = _SPEC_NAMES.get(key, key)
            if name in data:
                raise ValueError(f"{name} is given twice")
            data[name] = _spec_value(name, value.strip())
        return FaultRule.from_json(data)
    except ValueError as exc:
        raise ValueError(f"fault {spec!r}: {exc}") from None
