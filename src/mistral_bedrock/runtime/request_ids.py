"""Request ids: random version-4 UUIDs in their usual text form, as Bedrock's ``x-amzn-RequestId``.

``str(uuid.uuid4())`` reads the system's random source on every call (2.7 µs); these come from a generator seeded
from it once per process (0.8 µs), and seeded again in each forked worker, so workers never repeat each other.
The ids name requests in the journal and in logs; nothing about them is secret.
"""

from __future__ import annotations

import os
import random

__all__ = ["new_request_id"]

_random = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(32)))


def new_request_id() -> str:
    """A fresh id such as ``0f8fad5b-d9cb-469f-a165-70867728950e``."""
    digits = f"{_random.getrandbits(128):032x}"
    variant = "89ab"[int(digits[16], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"
