"""The environment ``bedrock_env`` gives a test: every AWS SDK, in this process or a subprocess, reaches the local
runtime with dummy credentials, and nothing can reach real AWS.

AWS SDKs read a service's endpoint from ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` (botocore does since 1.31, the other
SDKs too), so unmodified code — ``boto3.client("bedrock-runtime")`` with no arguments, a CLI in a subprocess — talks
to the runtime. What could still lead elsewhere is removed: a session token or profile that would replace the dummy
keys, a Bedrock API key, the switch that ignores configured endpoints, and the config files and instance metadata
where real credentials live.
"""

from __future__ import annotations

import os

__all__ = ["ACCESS_KEY_ID", "REGION", "SECRET_ACCESS_KEY", "bedrock_environment"]

#: The dummy credentials the runtime accepts (it checks no signature by default).
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
#: The Region clients sign for: one that serves every Mistral model of the catalog.
REGION = "us-east-1"

# Variables that would send a request elsewhere, or sign it with something other than the dummy keys.
_REMOVED = (
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


def bedrock_environment(url: str) -> dict[str, str | None]:
    """The variables to set for a runtime at ``url``; None marks one to remove."""
    return {
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        **dict.fromkeys(_REMOVED),
    }
