"""The sync client is generated from the async one, and their public surfaces are the same.

``scripts/unasync.py --check`` regenerates ``client/sync.py`` from ``client/aio.py`` in memory and compares; the
surface test compares the classes themselves: public names, what kind of attribute each is, signatures (with async
names mapped to their sync twins) and docstrings, where each method's ``Raises`` are written.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mistral_bedrock.client import aio, sync

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import unasync  # noqa: E402  (the generator itself, from scripts/)

PAIRS = [
    (aio.AsyncMistralBedrock, sync.MistralBedrock),
    (aio.AsyncStream, sync.Stream),
    (aio.AsyncConversation, sync.Conversation),
]
_ITERATION = {"__aiter__": "__iter__", "__anext__": "__next__", "__aenter__": "__enter__", "__aexit__": "__exit__"}


def test_the_sync_client_is_what_the_async_one_generates() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "unasync.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_generator_maps_each_async_form() -> None:
    source = '"""doc"""\nasync def f(x: AsyncIterator[int]) -> None:\n    async with a:\n        await g()\n'
    source += (
        "    async for y in httpx.AsyncClient().aiter_raw():\n        pass\n    await asyncio.sleep(1)  # sync: pass\n"
    )
    out = unasync.generate(source)
    assert "async" not in out.split('"""', 2)[2] and "await" not in out
    assert "def f(x: Iterator[int])" in out and "with a:" in out and "g()" in out
    assert "for y in httpx.Client().iter_raw():" in out and "asyncio" not in out


def _public(cls: type) -> dict[str, Any]:
    names = {
        name for name in vars(cls) if not name.startswith("_") or name in _ITERATION or name in _ITERATION.values()
    }
    return {_ITERATION.get(name, name): inspect.getattr_static(cls, name) for name in names}


def _kind(attribute: Any) -> str:
    if isinstance(attribute, property):
        return "property"
    if isinstance(attribute, (staticmethod, classmethod)):
        return type(attribute).__name__
    return "method" if callable(attribute) else "value"


def _synced(text: str) -> str:
    """An async signature or docstring in sync words, by the generator's own table."""
    text = re.sub(r"\bawait\s+|\basync\s+(?=def|with|for)", "", text)
    for old, new in sorted(unasync.TOKENS.items(), key=lambda item: -len(item[0])):
        text = re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", new, text)
    return text


@pytest.mark.parametrize(("async_cls", "sync_cls"), PAIRS, ids=lambda cls: cls.__name__)
def test_public_surfaces_are_identical(async_cls: type, sync_cls: type) -> None:
    async_side, sync_side = _public(async_cls), _public(sync_cls)
    assert sorted(async_side) == sorted(sync_side)
    for name, attribute in async_side.items():
        twin = sync_side[name]
        assert _kind(attribute) == _kind(twin), name
        function = attribute.fget if isinstance(attribute, property) else getattr(attribute, "__func__", attribute)
        twin_function = twin.fget if isinstance(twin, property) else getattr(twin, "__func__", twin)
        if callable(function):
            assert _synced(str(inspect.signature(function))) == str(inspect.signature(twin_function)), name
            assert _synced(inspect.getdoc(function) or "") == (inspect.getdoc(twin_function) or ""), name


def test_every_async_method_that_waits_is_a_coroutine_or_async_iterator_and_its_twin_is_not() -> None:
    for async_cls, sync_cls in PAIRS:
        for name in _public(async_cls):
            original = {v: k for k, v in _ITERATION.items()}.get(name, name)
            async_function = getattr(async_cls, original)
            sync_function = getattr(sync_cls, name)
            if inspect.iscoroutinefunction(async_function) or inspect.isasyncgenfunction(async_function):
                assert not inspect.iscoroutinefunction(sync_function), name
                assert not inspect.isasyncgenfunction(sync_function), name
