"""Real AWS credentials for record modes: read once per session, and only when a test will record.

Offline is the default: a session whose tests only replay never looks for credentials. One that records reads them
from the standard AWS chain when collection ends, before any test runs — so before a test's ``bedrock_env`` (or any
fixture that cleans the environment) replaces them with dummy ones — and keeps them frozen for the session. The
Region is each test's (``--bedrock-region``, or the marker's ``region``), never the chain's: the Region a cassette
is recorded in is the one its replays sign for, on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

__all__ = ["Upstream", "read_upstream"]


@dataclass(frozen=True)
class Upstream:
    """Where record modes send requests, and what they sign them with.

    Attributes:
        credentials: botocore's frozen credentials (``access_key``, ``secret_key``, ``token``).
        url: Another endpoint than Amazon Bedrock's, e.g. a second runtime; None: Amazon Bedrock.
    """

    credentials: object
    url: str | None


def read_upstream(url: str | None, why: str) -> Upstream:
    """The credentials of the standard AWS chain.

    Args:
        url: ``--bedrock-upstream-url``.
        why: The test that will record, and its mode, for the error message.

    Raises:
        pytest.UsageError: When the chain finds no credentials, or fails reading them.
    """
    try:
        import botocore.session
        from botocore.exceptions import BotoCoreError
    except ImportError:  # pragma: no cover - botocore is a dependency of the package
        raise pytest.UsageError(
            f"{why} records from Amazon Bedrock, which needs botocore: pip install botocore"
        ) from None
    try:
        found = botocore.session.Session().get_credentials()
    except BotoCoreError as exc:
        raise pytest.UsageError(
            f"{why} records from Amazon Bedrock, but reading AWS credentials failed: {exc}"
        ) from None
    if found is None:
        raise pytest.UsageError(
            f"{why} records from Amazon Bedrock and needs AWS credentials, but the standard AWS chain found none "
            "(environment, shared config files, SSO, instance role): configure them, or replay offline "
            "(--bedrock-record=none)"
        )
    return Upstream(found.get_frozen_credentials(), url)
