"""The package surface: a complete sorted ``__all__``, lazy loading, and nothing heavy on import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mistral_bedrock


def test_all_is_sorted_and_resolves() -> None:
    assert mistral_bedrock.__all__ == sorted(mistral_bedrock.__all__)
    for name in mistral_bedrock.__all__:
        assert getattr(mistral_bedrock, name) is not None
    assert set(dir(mistral_bedrock)) == set(mistral_bedrock.__all__)


def test_import_stays_light() -> None:
    code = (
        "import sys, mistral_bedrock;"
        "print(','.join(m for m in ('httpx', 'click', 'rich', 'starlette', 'mistral_common', 'pydantic', 'botocore')"
        " if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    assert loaded == ""


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="NotAThing"):
        mistral_bedrock.NotAThing  # noqa: B018
