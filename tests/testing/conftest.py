"""The pytest plugin's tests run small pytest projects of their own (``pytester``), which load the plugin through its
entry point as a user's project would.

Those runs are in-process unless a test needs a fresh interpreter (another environment, a module made missing).
An in-process run removes the modules it imported when it ends, and some refuse a second import (numpy warns, and
warnings are errors here): ``_stack_imported`` imports the whole stack once, before any of them, by using it.
"""

from __future__ import annotations

import asyncio

import boto3
import pytest
import yaml  # noqa: F401  (rules files)

from mistral_bedrock import AsyncMistralBedrock, MistralBedrock
from mistral_bedrock.runtime import ServerThread

MODEL = "mistral.mistral-large-2402-v1:0"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="session", autouse=True)
def _stack_imported() -> None:
    with ServerThread() as server:
        client = boto3.client("bedrock-runtime", endpoint_url=server.url, region_name="us-east-1", **CREDENTIALS)
        messages = [{"role": "user", "content": [{"text": "Hi"}]}]
        client.converse(modelId=MODEL, messages=messages)
        assert list(client.converse_stream(modelId=MODEL, messages=messages)["stream"])
        client.close()
        with MistralBedrock(endpoint_url=server.url, region="us-east-1", **CREDENTIALS) as mistral:
            mistral.converse("Hi", model=MODEL)

        async def main() -> None:
            async with AsyncMistralBedrock(endpoint_url=server.url, region="us-east-1", **CREDENTIALS) as mistral:
                await mistral.converse("Hi", model=MODEL)

        asyncio.run(main())
