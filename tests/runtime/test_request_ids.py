"""Request ids are version-4 UUIDs in canonical form, never repeated, not even by forked workers."""

from __future__ import annotations

import multiprocessing
import uuid

from mistral_bedrock.runtime.request_ids import new_request_id


def test_ids_are_canonical_version_4_uuids_and_distinct() -> None:
    ids = [new_request_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for value in ids[:2_000]:
        parsed = uuid.UUID(value)
        assert str(parsed) == value and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def _child_id(queue: multiprocessing.Queue[str]) -> None:
    queue.put(new_request_id())


def test_a_forked_worker_does_not_repeat_its_parent() -> None:
    # Without a new seed after the fork, the child's first id would be the parent's next one.
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = context.Queue()
    child = context.Process(target=_child_id, args=(queue,))
    child.start()
    from_child = queue.get(timeout=60)
    child.join(timeout=60)
    assert from_child != new_request_id()
