"""The README's "From ``Mistral`` to ``MistralBedrock``" example runs as written, against the local runtime.

Only the constructor is changed (``MistralBedrock()`` → ``MistralBedrock.local()``), which is the example's point.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_mistral_example_runs_with_only_the_constructor_changed(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), re.S) if "chat.complete(" in b]
    assert len(blocks) == 1
    code = blocks[0].replace("client = MistralBedrock()", "client = MistralBedrock.local()")
    assert code != blocks[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    namespace["client"].close()
    printed = capsys.readouterr().out
    assert printed.count("I am the built-in engine of mistral-bedrock.") == 2
    assert re.search(r"You said: Hi! \d+\n", printed)  # the answer, then usage.total_tokens
