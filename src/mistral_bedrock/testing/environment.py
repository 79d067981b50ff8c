"""The environment ``bedrock_env`` gives a test: every AWS SDK, in this process or a subprocess, reaches the local
runtime with dummy credentials, and nothing can reach real AWS.

AWS SDKs read a service's endpoint from ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` (botocore does since 1.31, the other
SDKs too), so unmodified code — ``boto3.client("bedrock-runtime")`` with no arguments, a CLI in a subprocess — talks
to the runtime. What could still lead elsewhere, or sign otherwise, is removed: a session token or profile that
would replace the dummy keys, a Bedrock API key and the preference that would pick it, the switch that ignores
configured endpoints, and the config files and instance metadata where real credentials live. A proxy the shell
names would take the runtime's loopback address for its own: the runtime's host joins ``NO_PROXY``.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

__all__ = ["ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "bedrock_environment"]

#: The dummy credentials the runtime accepts (it checks no signature by default).
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"

# Variables that would send a request elsewhere, or sign it with something other than the dummy keys. Left alone:
# AWS_ENDPOINT_URL (the service-specific variable set here wins over it), the container and web-identity credential
# variables (keys in the environment come first in every SDK's chain), and retry settings (they change how often,
# not where or how).
_REMOVED = (
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",  # the real keys' expiry, which would expire the dummy ones
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_AUTH_SCHEME_PREFERENCE",  # e.g. httpBearerAuth: signs with a Bedrock API key instead of the dummy keys
    "AWS_SIGV4A_SIGNING_REGION_SET",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    # Bedrock's endpoint rules refuse FIPS or dual-stack with a configured endpoint (botocore skips them for one;
    # SDKs that apply the rules to it fail).
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
)


def bedrock_environment(url: str, region: str) -> dict[str, str | None]:
    """The variables to set for a runtime at ``url``, signed for ``region``; None marks one to remove."""
    bypassed = os.environ.get("NO_PROXY") or os.environ.get("no_proxy")
    no_proxy = ",".join(filter(None, (bypassed, urlsplit(url).hostname)))
    return {
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
        **dict.fromkeys(_REMOVED),
    }
