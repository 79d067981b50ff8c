"""Colours: on for a terminal, off with ``NO_COLOR`` (and off when stdout is not a terminal, see the other tests)."""

from __future__ import annotations

import re

import pytest

from tests.cli.cli_support import Runtime, Terminal, clean_env

COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-7]|9[0-7]|38;[0-9;]+)m")  # a foreground colour, alone or with attributes


@pytest.mark.parametrize("no_color", [False, True])
def test_colours_on_a_terminal_unless_no_color(cli_runtime: Runtime, no_color: bool) -> None:
    env = clean_env(TERM="xterm-256color", **({"NO_COLOR": "1"} if no_color else {}))
    terminal = Terminal("tools", "--endpoint-url", cli_runtime.url, env=env)
    try:
        terminal.expect("[Assistant]: Here is what top_song returned")
        assert terminal.wait() == 0
    finally:
        terminal.close()
    assert bool(COLOUR.search(terminal.raw)) is not no_color
