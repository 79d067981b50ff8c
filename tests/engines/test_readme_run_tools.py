"""The README's ``run_tools`` example, exactly as written there, calls its tool on ``MistralBedrock.local()``.

The built-in engine decides under tool choice ``auto`` (the example sends none): the question names no tool, but
shares words with the tool's description ("popular", "song") and its parameter's ("WZPZ").
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mistral_bedrock.client import MistralBedrock

README = Path(__file__).parents[2] / "README.md"


def readme_example() -> tuple[str, str]:
    """The ``def top_song`` block and the ``run_tools`` line of the README's client example, dedented."""
    text = README.read_text("utf-8")
    blocks = [block for block in re.findall(r"```python\n(.*?)```", text, re.S) if "run_tools(" in block]
    assert len(blocks) == 1, "the README has one client example with run_tools"
    lines = blocks[0].splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("def top_song("))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next(
        i for i in range(start + 1, len(lines)) if lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) <= indent
    )
    [call] = [line.strip() for line in lines if "run_tools(" in line]
    return textwrap.dedent("\n".join(lines[start:end])), call


def test_the_readme_run_tools_example_calls_its_tool_locally(capsys: pytest.CaptureFixture[str]) -> None:
    definition, call = readme_example()
    assert "tool_choice" not in call  # the example relies on the default, auto
    with MistralBedrock.local() as bedrock:
        namespace: dict[str, Any] = {"bedrock": bedrock}
        exec(definition, namespace)
        exec(call, namespace)
    # Without a call the answer would be "I am the built-in engine … You said: …"; this sentence is the engine
    # reading back the tool result that the client's loop sent.
    assert capsys.readouterr().out == "Here is what top_song returned: song: Elemental Hotel, artist: 8 Storey Hike.\n"
