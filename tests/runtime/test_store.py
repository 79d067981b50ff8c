"""The runtime's state: fault rules with exact counts and the bounded journal, in memory and in SQLite alike.

Both stores run the same tests through the one interface. The SQLite store is also opened by several processes
at once, as ``serve``'s workers open it, and its counts must stay exact.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from mistral_bedrock.runtime import RuntimeConfig
from mistral_bedrock.runtime.faults import FaultController, FaultRule, Faults
from mistral_bedrock.runtime.journal import Journal, JournalEntry
from mistral_bedrock.runtime.store import (
    DATABASE_NAME,
    MemoryStore,
    SharedState,
    SqliteStore,
    Store,
    check_state_dir,
    open_store,
)

SEVEN_B = "mistral.mistral-7b-instruct-v0:2"
MakeStore = Callable[..., Store]


def entry(number: int, body: bytes = b"{}") -> JournalEntry:
    return JournalEntry(f"id-{number}", "InvokeModel", SEVEN_B, SEVEN_B, 200, None, body)


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    opened: list[Store] = []

    def make(journal_size: int = 1000, journal_bytes: int = 1 << 20) -> Store:
        store: Store
        if request.param == "memory":
            store = MemoryStore(journal_size, journal_bytes)
        else:
            store = SqliteStore(tmp_path / f"{len(opened)}.sqlite3", journal_size, journal_bytes)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def ids(entries: list[JournalEntry]) -> list[str]:
    return [e.request_id for e in entries]


def test_count_fires_exactly_count_times(make_store: MakeStore) -> None:
    store = make_store()
    store.add_rules([{"kind": "error", "code": "ThrottlingException", "count": 3}])
    (rule,) = store.rules()
    assert [store.fire(rule.id, 3) for _ in range(5)] == [True, True, True, False, False]
    assert store.rules()[0].fired == 3


def test_rules_version_moves_on_add_and_clear_but_not_on_fire(make_store: MakeStore) -> None:
    store = make_store()
    first = store.rules_version()
    store.add_rules([{"kind": "drop", "after_frames": 1}])
    second = store.rules_version()
    store.fire(store.rules()[0].id, None)
    assert store.rules_version() == second != first
    store.clear_rules()
    assert store.rules_version() != second
    assert store.rules() == []


def test_journal_keeps_the_newest_entries_by_count(make_store: MakeStore) -> None:
    store = make_store(journal_size=3)
    for number in range(7):
        store.append(entry(number))
    assert ids(store.entries()) == ["id-4", "id-5", "id-6"]


def test_journal_keeps_the_newest_entries_within_the_byte_budget(make_store: MakeStore) -> None:
    store = make_store(journal_bytes=250)
    for number in range(10):
        store.append(entry(number, b"x" * 100))
    assert ids(store.entries()) == ["id-8", "id-9"]  # a third would make 300 bytes
    store.append(entry(10, b""))
    assert ids(store.entries()) == ["id-8", "id-9", "id-10"]
    store.clear_journal()
    assert store.entries() == []
    store.append(entry(11, b"y" * 50))
    assert [(e.request_id, e.raw_body) for e in store.entries()] == [("id-11", b"y" * 50)]


def test_journal_entries_round_trip(make_store: MakeStore) -> None:
    store = make_store()
    sent = JournalEntry(
        "r",
        "ConverseStream",
        "m",
        None,
        200,
        "ThrottlingException",
        b"\x00\xff",
        ({"kind": "drop", "after_frames": 2},),
    )
    store.append(sent)
    assert store.entries() == [sent]


def test_a_body_longer_than_the_budget_is_kept_cut_and_marked(make_store: MakeStore) -> None:
    store = make_store(journal_bytes=100)
    journal = Journal(store, max_bytes=100)
    journal.add(entry(1, b'{"prompt": "' + b"a" * 200 + b'"}'))
    (kept,) = journal.entries()
    shown = kept.to_json()
    assert (shown["body_size"], shown["body_truncated"], len(kept.raw_body)) == (214, True, 100)
    assert shown["body"] == '{"prompt": "' + "a" * 88  # a cut body is not JSON: it is shown as text
    journal.add(entry(2, b'{"prompt": "short"}'))
    assert [e.to_json()["body"] for e in journal.entries()] == [{"prompt": "short"}]


def test_controller_counts_across_two_controllers_of_one_store(make_store: MakeStore) -> None:
    """Two controllers on one store stand for two workers: the count holds across both."""
    store = make_store()
    first, second = FaultController(store), FaultController(store)
    first.add(FaultRule("error", code="ThrottlingException", count=3))
    drawn = [(first if n % 2 else second).decide(SEVEN_B, "InvokeModel").error is not None for n in range(10)]
    assert drawn.count(True) == 3
    assert first.snapshot() == [
        {
            "id": first.snapshot()[0]["id"],
            "kind": "error",
            "code": "ThrottlingException",
            "count": 3,
            "fired": 3,
            "remaining": 0,
            "active": False,
        }
    ]


def test_a_rule_posted_to_one_controller_reaches_the_other(make_store: MakeStore) -> None:
    store = make_store()
    first, second = FaultController(store), FaultController(store)
    assert second.decide(SEVEN_B, "InvokeModel") == Faults()
    first.add(FaultRule("latency", first_byte_ms=7))
    assert second.decide(SEVEN_B, "InvokeModel").first_byte_ms == 7
    first.reset()
    assert second.decide(SEVEN_B, "InvokeModel") == Faults()


def _fire_many(path: str, rule_id: int, times: int, results: multiprocessing.Queue[int]) -> None:
    store = SqliteStore(path)
    try:
        results.put(sum(store.fire(rule_id, 37) for _ in range(times)))
    finally:
        store.close()


def test_sqlite_counts_are_exact_across_processes(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    store = SqliteStore(path)
    store.add_rules([{"kind": "error", "code": "ThrottlingException", "count": 37}])
    rule_id = store.rules()[0].id
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = context.Queue()
    workers = [context.Process(target=_fire_many, args=(str(path), rule_id, 40, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    fired = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert sum(fired) == 37
    assert store.rules()[0].fired == 37
    store.close()


def test_open_store_follows_the_settings(tmp_path: Path) -> None:
    assert isinstance(open_store(RuntimeConfig()), MemoryStore)
    store = open_store(RuntimeConfig(state_dir=str(tmp_path)))
    assert isinstance(store, SqliteStore)
    assert store.path == tmp_path / DATABASE_NAME
    store.close()


def test_shared_state_of_one_worker_is_its_memory() -> None:
    config = RuntimeConfig(faults=("throttle:count=1",))
    with SharedState(config, workers=1) as shared:
        assert shared.config == config


def test_shared_state_seeds_the_rules_once_and_removes_its_temporary_directory() -> None:
    config = RuntimeConfig(faults=("throttle:count=1", "drop:after_frames=2"))
    with SharedState(config, workers=2) as shared:
        assert shared.config.faults == ()
        assert shared.config.state_dir is not None
        directory = Path(shared.config.state_dir)
        store = open_store(shared.config)
        assert [rule.spec["kind"] for rule in store.rules()] == ["error", "drop"]
        store.close()
    assert not directory.exists()


def test_a_state_directory_keeps_the_journal_and_restarts_the_rules(tmp_path: Path) -> None:
    config = RuntimeConfig(faults=("throttle:count=1",), state_dir=str(tmp_path / "state"))
    with SharedState(config) as shared:
        store = open_store(shared.config)
        store.append(entry(1))
        FaultController(store).decide(SEVEN_B, "InvokeModel")
        assert store.rules()[0].fired == 1
        store.close()
    with SharedState(config) as shared:
        store = open_store(shared.config)
        assert ids(store.entries()) == ["id-1"]
        assert [rule.fired for rule in store.rules()] == [0]  # the run's rules, afresh
        store.close()
    assert (tmp_path / "state" / DATABASE_NAME).exists()


def test_a_state_of_another_version_is_refused(tmp_path: Path) -> None:
    SqliteStore(tmp_path / DATABASE_NAME).close()
    with closing(sqlite3.connect(tmp_path / DATABASE_NAME)) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(ValueError, match="another version"):
        check_state_dir(tmp_path)
