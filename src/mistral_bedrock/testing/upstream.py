"""Real AWS credentials for record modes: read once per session, and only when a record mode is active.

Offline is the default: a session that only replays never looks for credentials. One that records reads them from
the standard AWS chain when collection ends, before any test runs — so before a test's ``bedrock_env`` (or any
fixture that cleans the environment) replaces them with dummy ones — and keeps them frozen for the session.
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
        region: The Region to sign for and send to; None lets the replay engine choose.
        url: Another endpoint than Amazon Bedrock's, e.g. a second runtime; None: Amazon Bedrock.
    """

    credentials: object
    region: str | None
    url: str | None


def read_upstream(region: str | None, url: str | None, why: str) -> Upstream:
    """The credentials (and, unless ``region`` is given, the Region) of the standard AWS chain.

    Args:
        region: ``--bedrock-region``, which wins over the chain's.
        url: ``--bedrock-upstream-url``.
        why: What asked for a record mode, for the error message.

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
    session = botocore.session.Session()
    try:
        found = session.get_credentials()
        chain_region = session.get_config_variable("region")
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
    return Upstream(found.get_frozen_credentials(), region or chain_region, url)
