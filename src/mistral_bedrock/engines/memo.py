"""Memoised tokenizer work for the engines, within a budget in bytes.

The built-in and scripted engines are deterministic, so the same answer text is tokenized again and again, and
the same prompt is counted again for every request that repeats it. Tokenizing is most of an engine's cost per
request, so results are kept in LRU maps keyed by the model and the text.

All the maps share one store bounded in bytes, not in entries: a bound on entries bounds nothing when one entry
is a 4 MB prompt and its token ids (eight such prompts once took a worker to 3.5 GB). Each entry is charged what
its key and value hold (:func:`footprint`): a text by its size in memory (a prompt used as a key counts its
whole length), token ids at 36 bytes each (an 8-byte slot and a 28-byte int), plus a fixed overhead for the
entry itself. An entry that would take more than ``entry_bytes`` is not kept at all: it would push out many small
ones to save a single repeat (see :data:`DEFAULT_ENTRY_BYTES`). Least recently used entries go first when the
store is over ``total_bytes``.

The budget is process-wide, like the maps; :func:`configure` sets it (the runtime does, from
``RuntimeConfig.memo_bytes`` and ``memo_entry_bytes``).
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

__all__ = [
    "DEFAULT_ENTRY_BYTES",
    "DEFAULT_TOTAL_BYTES",
    "LRU",
    "MemoUsage",
    "clear",
    "configure",
    "footprint",
    "too_large",
    "usage",
]

V = TypeVar("V")

#: The default budget of all the maps together.
DEFAULT_TOTAL_BYTES = 64 * 1024 * 1024
#: The default largest entry kept (1/256 of the default total): a prompt of ~60k tokens as a key. Bigger entries
#: are not worth keeping: one saves a single repeat, and a long-lived block of that size among the transient ones
#: of later requests pins about as much again in the allocator's free lists (measured: 100 distinct 100k-token
#: prompts took a worker to +138 MiB with 1 MiB entries kept, +25 MiB without).
DEFAULT_ENTRY_BYTES = 256 * 1024

# What one entry costs beyond its key and value: the ordered dict's node and hash slot, the (map, key) tuple
# and the (value, size) record. Measured at ~250 bytes with tracemalloc; rounded up.
_ENTRY_OVERHEAD = 256
# A token id in a tuple: the tuple's 8-byte slot and a 28-byte int (ids up to 2**30). Ids of 256 and below are
# shared small ints and cost only their slot, but they are few, and counting them too keeps this a bound.
_ID_BYTES = 8 + 28


def footprint(value: object) -> int:
    """The bytes ``value`` holds, as the memo charges them.

    Texts and bytes by ``sys.getsizeof``; a tuple by its own size plus that of its items, where a tuple that
    starts with an int is taken for token ids (36 bytes each: see the module docstring); other values by
    ``sys.getsizeof`` alone.
    """
    if isinstance(value, tuple):
        if value and isinstance(value[0], int):
            return sys.getsizeof(value) + len(value) * (_ID_BYTES - 8)
        total = sys.getsizeof(value)
        for item in value:  # a loop, not sum() over a generator: this runs on every request's keys
            total += footprint(item)
        return total
    if isinstance(value, int) and -5 <= value <= 256:
        return 0  # a shared small int (booleans too)
    return sys.getsizeof(value)


@dataclass(frozen=True)
class MemoUsage:
    """What the memo holds.

    Attributes:
        entries: Entries kept, all maps together.
        bytes: Their charged size (see :func:`footprint`).
        total_bytes: The budget.
        entry_bytes: The largest entry kept.
    """

    entries: int
    bytes: int
    total_bytes: int
    entry_bytes: int


class _Store:
    """Every map's entries in one LRU order, so that the budget is shared and the oldest entry goes first."""

    def __init__(self, total_bytes: int, entry_bytes: int) -> None:
        self.total_bytes = total_bytes
        self.entry_bytes = entry_bytes
        self.used = 0
        self.items: OrderedDict[tuple[str, Hashable], tuple[object, int]] = OrderedDict()
        self.lock = threading.Lock()

    def lookup(self, slot: tuple[str, Hashable]) -> tuple[object, int] | None:
        with self.lock:
            found = self.items.get(slot)
            if found is not None:
                self.items.move_to_end(slot)
            return found

    def keep(self, slot: tuple[str, Hashable], value: object, size: int) -> None:
        with self.lock:
            if size > min(self.entry_bytes, self.total_bytes):
                return
            old = self.items.pop(slot, None)
            if old is not None:
                self.used -= old[1]
            self.items[slot] = (value, size)
            self.used += size
            self._shrink()

    def configure(self, total_bytes: int, entry_bytes: int) -> None:
        with self.lock:
            self.total_bytes, self.entry_bytes = total_bytes, entry_bytes
            for slot in [slot for slot, (_, size) in self.items.items() if size > entry_bytes]:
                self.used -= self.items.pop(slot)[1]
            self._shrink()

    def _shrink(self) -> None:
        while self.used > self.total_bytes and self.items:
            _, (_, size) = self.items.popitem(last=False)
            self.used -= size


_STORE = _Store(DEFAULT_TOTAL_BYTES, DEFAULT_ENTRY_BYTES)


def configure(total_bytes: int = DEFAULT_TOTAL_BYTES, entry_bytes: int = DEFAULT_ENTRY_BYTES) -> None:
    """Set the memo's budget: ``total_bytes`` for all maps together (0 keeps nothing), ``entry_bytes`` at most
    for one entry. Entries beyond the new budget are dropped at once.

    Raises:
        ValueError: For a negative size.
    """
    if total_bytes < 0 or entry_bytes < 0:
        raise ValueError(f"memo sizes must be 0 or more, got {total_bytes} and {entry_bytes}")
    _STORE.configure(total_bytes, entry_bytes)


def usage() -> MemoUsage:
    """What the memo holds now."""
    with _STORE.lock:
        return MemoUsage(len(_STORE.items), _STORE.used, _STORE.total_bytes, _STORE.entry_bytes)


def clear() -> None:
    """Drop every entry (tests and benchmarks start from an empty memo)."""
    with _STORE.lock:
        _STORE.items.clear()
        _STORE.used = 0


class LRU(Generic[V]):
    """One named map in the shared, byte-bounded store; thread-safe.

    Args:
        name: Tells this map's keys from another's that compare equal.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def lookup(self, key: Hashable) -> V | None:
        """The value kept for ``key``, or None (values are never None)."""
        found = _STORE.lookup((self.name, key))
        return None if found is None else cast(V, found[0])

    def keep(self, key: Hashable, value: V, size: int | None = None) -> None:
        """Keep ``value`` for ``key`` if it fits; ``size`` when the caller knows it, else :func:`footprint`."""
        charged = _ENTRY_OVERHEAD + (footprint(key) + footprint(value) if size is None else size)
        _STORE.keep((self.name, key), value, charged)

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value for ``key``, computed (outside the lock) and kept on a miss."""
        key_size = footprint(key)
        if too_large(key_size):
            return compute()  # the key alone is over the entry budget: no need to hash it
        value = self.lookup(key)
        if value is None:
            value = compute()
            self.keep(key, value, key_size + footprint(value))
        return value


def too_large(size: int) -> bool:
    """Whether an entry of at least ``size`` bytes would be refused: callers skip building such keys."""
    return size + _ENTRY_OVERHEAD > min(_STORE.entry_bytes, _STORE.total_bytes)
