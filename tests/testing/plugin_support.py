"""What the plugin's tests share: the start of every inner test module, writing one, and writing a cassette."""

from __future__ import annotations

import textwrap
from pathlib import Path

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


# One Converse interaction, as a person would write it: the request's body, and Bedrock's whole answer.
INTERACTION = """
version: 1
request:
  operation: Converse
  model: mistral.mistral-large-2402-v1:0
  body:
    messages:
      - role: user
        content: [{{text: {question}}}]
response:
  status: 200
  headers: {{content-type: application/json}}
  body:
    output: {{message: {{role: assistant, content: [{{text: {answer}}}]}}}}
    stopReason: end_turn
    usage: {{inputTokens: 5, outputTokens: 3, totalTokens: 8}}
    metrics: {{latencyMs: 120}}
"""


def write_cassette(directory: Path, **answers: str) -> None:
    """A cassette of one Converse interaction per ``question=answer``."""
    directory.mkdir(parents=True)
    for question, answer in answers.items():
        text = INTERACTION.format(question=question, answer=answer)
        (directory / f"converse-{question.lower()}.yaml").write_text(textwrap.dedent(text))
