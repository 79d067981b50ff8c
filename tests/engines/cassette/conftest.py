"""Recording without AWS: the far side is a second runtime in strict-auth mode, standing in for Amazon Bedrock.

Its signature checks prove the re-signing: it refuses the dummy key the clients use and accepts only requests
signed with the configured key, secret and session token — the credentials the recording engine is given.

* ``upstream``: that runtime (one per module), fresh for each test; its engine may be swapped
  (``upstream.app.state.engine``);
* ``cassette``: an empty cassette directory for the test;
* ``serving``: starts a runtime on an engine (a recording or a replaying one) and gives boto3 bound to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials

from mistral_bedrock.engines import Engine
from mistral_bedrock.engines.builtin import BuiltinEngine
from mistral_bedrock.engines.cassette import RecordMode, ReplayEngine, ReplaySettings
from mistral_bedrock.engines.relay import Relay
from mistral_bedrock.runtime import RuntimeConfig, ServerThread, create_app

REGION = "us-west-2"
KEY_ID = "AKIAZZREALKEY0000001"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYREALSECRET1"
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDREALSESSIONTOKEN0123456789abcdef"
CREDENTIALS = ReadOnlyCredentials(KEY_ID, SECRET, TOKEN)


def boto_client(url: str, key: str = "AKIDDUMMYKEY", secret: str = "dummy") -> Any:
    """Unmodified boto3, with dummy credentials unless told otherwise, and no retries (errors surface as they are)."""
    return boto3.client(
        "bedrock-runtime",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture(scope="module")
def _upstream_server() -> Iterator[ServerThread]:
    config = RuntimeConfig(auth=f"strict:{KEY_ID}:{SECRET};token={TOKEN}", min_first_byte_ms=0)
    with ServerThread(config=config) as server:
        yield server


@pytest.fixture
def upstream(_upstream_server: ServerThread) -> Iterator[ServerThread]:
    """The stand-in for Amazon Bedrock: strict SigV4 with the real key, secret and session token; its journal,
    faults and engine fresh for each test."""
    state = _upstream_server.app.state
    state.journal.clear()
    state.faults.reset()
    yield _upstream_server
    state.engine = BuiltinEngine()
    state.faults.reset()


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return tmp_path / "cassette"


@pytest.fixture
def recorder(upstream: ServerThread, cassette: Path) -> Callable[..., ReplayEngine]:
    """A recording engine aimed at the stand-in, with the real credentials."""

    def make(mode: RecordMode = RecordMode.ALL, **settings: Any) -> ReplayEngine:
        options = {"upstream_url": upstream.url, "region": REGION, **settings}
        return ReplayEngine(ReplaySettings(cassette, mode, **options), credentials=CREDENTIALS)

    return make


@dataclass
class Served:
    client: Any  # boto3 bedrock-runtime, dummy credentials
    server: ServerThread


@pytest.fixture
def serving() -> Iterator[Callable[..., Served]]:
    """``serving(engine, **config)``: a runtime answering with ``engine``, and boto3 bound to it."""
    with ExitStack() as stack:

        def start(engine: Engine | Relay, **config: Any) -> Served:
            app = create_app(RuntimeConfig(min_first_byte_ms=0, **config), engine=engine)
            server = stack.enter_context(ServerThread(app=app))
            client = boto_client(server.url)
            stack.callback(client.close)
            return Served(client, server)

        yield start
