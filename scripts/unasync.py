"""Generate the synchronous client from the asynchronous one: ``client/aio*.py`` are the only sources.

    python scripts/unasync.py           # rewrite client/sync.py and client/sync_stream.py
    python scripts/unasync.py --check   # exit 1 if a twin is not what its source generates (the suite runs this)

The rewrite is token by token (whole words; docstrings follow the code), from one table, plus line overrides
written in the source itself: a line ending in ``# sync: TEXT`` becomes ``TEXT`` (indented as the line was), and
``# sync: -`` drops the line. The module docstring of the twin is :data:`SYNC_DOCSTRING`. The result goes through
the project's own ruff (import order, then format), so the twin is as clean as the source; ``--check`` compares
against the same pipeline, so it holds for whichever ruff the test environment has.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "src" / "mistral_bedrock" / "client"

# Each async source, its sync twin, and what the twin's module docstring says it is.
TWINS = (
    (CLIENT / "aio.py", CLIENT / "sync.py", "The synchronous client, :class:`MistralBedrock`"),
    (
        CLIENT / "aio_stream.py",
        CLIENT / "sync_stream.py",
        "A response stream of the synchronous client, :class:`Stream`",
    ),
    (
        CLIENT / "aio_batch.py",
        CLIENT / "sync_batch.py",
        "The batch control-plane client's synchronous shell, :class:`BatchControl`",
    ),
)


def sync_docstring(what: str, source: Path) -> str:
    return f'''"""{what}, generated from ``{source.name}``.

Do not edit: change ``{source.name}`` and run ``python scripts/unasync.py``. Both shells drive the same I/O-free
core, so they differ only in how they wait for bytes.
"""'''


# Async spelling → sync spelling, longest first so that no entry rewrites part of a longer one.
TOKENS = {
    "AsyncMistralBedrock": "MistralBedrock",
    "AsyncBatchControl": "BatchControl",
    "AsyncConversation": "Conversation",
    "AsyncStream": "Stream",
    "AsyncClosing": "Closing",
    "aio_stream": "sync_stream",
    "AsyncIterator": "Iterator",
    "AsyncClient": "Client",
    "StopAsyncIteration": "StopIteration",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "aiter_raw": "iter_raw",
    "aread": "read",
    "aclose": "close",
    "async_http": "sync_http",
    "atool_output": "tool_output",
    "asynchronously": "synchronously",
    "asyncio.sleep": "time.sleep",
}
_PHRASES = ((re.compile(r"\basync (?=def\b|with\b|for\b)"), ""), (re.compile(r"\bawait\b ?"), ""))
_OVERRIDE = re.compile(r"^(?P<indent>\s*)(?P<code>.*?)\s*# sync: (?P<replacement>.*)$")
_WORDS = re.compile(r"(?<!\w)(" + "|".join(re.escape(k) for k in sorted(TOKENS, key=len, reverse=True)) + r")(?!\w)")


def _line(line: str) -> str | None:
    override = _OVERRIDE.match(line)
    if override:
        replacement = override["replacement"].strip()
        return None if replacement == "-" else override["indent"] + replacement
    for pattern, new in _PHRASES:
        line = pattern.sub(new, line)
    return _WORDS.sub(lambda match: TOKENS[match.group(1)], line)


def generate(source: str, docstring: str = "", target: Path = TWINS[0][1]) -> str:
    """The sync twin of an async module's text, import-sorted and formatted by ruff."""
    body = source.split('"""', 2)[2]  # everything after the module docstring
    lines = [converted for line in body.splitlines() if (converted := _line(line)) is not None]
    text = (docstring or sync_docstring(TWINS[0][2], TWINS[0][0])) + "\n".join(lines) + "\n"
    name = str(target.relative_to(ROOT))
    text = _ruff(["check", "--select", "I", "--fix-only", "--quiet", "--stdin-filename", name, "-"], text)
    return _ruff(["format", "--quiet", "--stdin-filename", name, "-"], text)


def _ruff(arguments: list[str], text: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *arguments], input=text, capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"ruff {arguments[0]} failed on the generated client: {done.stderr.strip()}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    args = parser.parse_args(argv)
    stale = []
    for source, target, what in TWINS:
        expected = generate(source.read_text(), sync_docstring(what, source), target)
        if not args.check:
            target.write_text(expected)
        elif not target.exists() or target.read_text() != expected:
            stale.append(target)
    for target in stale:
        print(f"{target.relative_to(ROOT)} is out of date: run python scripts/unasync.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
