"""Where a runtime keeps its fault rules (with how often each fired) and its journal.

One interface, :class:`Store` (:mod:`.interface`), two implementations:

* :class:`MemoryStore` (:mod:`.memory`) — inside one process: a list and a deque under a lock. ``ServerThread``
  and :func:`~mistral_bedrock.runtime.app.create_app` use it unless given a state directory.
* :class:`SqliteStore` (:mod:`.sqlite`) — a SQLite database in a state directory, opened by every worker of
  ``serve``, so a rule posted to one worker holds for all of them, a ``count`` is exact whichever worker answers
  (an atomic ``UPDATE … WHERE fired < count``), and the journal lists every worker's requests.

The journal write is on every request's path, so both keep it cheap: the memory store appends to a deque (~1 µs);
the SQLite store makes one ``INSERT`` in WAL mode without fsync and trims its table only now and then. Checking the
rules costs one read of a version number per request; the rules themselves are read again only when it moves.

Which of the two a runtime uses, and the state directory that ``serve`` prepares for its workers, are
:mod:`.state_dir`'s.
"""

from .interface import Store, StoredRule
from .memory import MemoryStore
from .sqlite import DATABASE_NAME, SqliteStore
from .state_dir import SharedState, check_state_dir, open_store

__all__ = [
    "DATABASE_NAME",
    "MemoryStore",
    "SharedState",
    "SqliteStore",
    "Store",
    "StoredRule",
    "check_state_dir",
    "open_store",
]
