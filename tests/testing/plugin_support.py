"""What the plugin's tests share: the start of every inner test module, and writing one."""

from __future__ import annotations

import textwrap

import pytest

# The inner modules' common start: unmodified boto3, and a Converse call whose answer is its text.
PRELUDE = """
import boto3
import pytest
from botocore.config import Config

MODEL = "mistral.mistral-large-2402-v1:0"
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def ask(client, text="Hello"):
    reply = client.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": text}]}])
    return reply["output"]["message"]["content"][0]["text"]
"""


def write_tests(pytester: pytest.Pytester, source: str, name: str = "test_app") -> None:
    """An inner test module ``name``: the prelude, then ``source``."""
    pytester.makepyfile(**{name: PRELUDE + textwrap.dedent(source)})
