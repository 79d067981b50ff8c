"""Credentials and request signing, through botocore (imported only when a request is first signed).

The standard AWS chain applies — explicit keys, environment, shared config and profiles, SSO, container and
instance credentials — and so does ``AWS_BEARER_TOKEN_BEDROCK`` (Bedrock API keys). Every attempt is signed
anew, so a retry never reuses an expired ``X-Amz-Date``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import MistralBedrockError

__all__ = ["BEARER_ENV", "NoCredentialsError", "Signer"]

BEARER_ENV = "AWS_BEARER_TOKEN_BEDROCK"
SIGNING_NAME = "bedrock"  # not "bedrock-runtime": the service model's signingName


class NoCredentialsError(MistralBedrockError):
    """No AWS credentials and no Bedrock API key could be found."""


@dataclass
class Signer:
    """Signs requests for one region with SigV4 (or a Bearer API key).

    Attributes:
        region: The signing region.
        profile: A shared-config profile name, or None for the default chain.
        access_key_id: Explicit credentials (with ``secret_access_key`` and optional ``session_token``).
        api_key: A Bedrock API key sent as ``Authorization: Bearer``; defaults to ``AWS_BEARER_TOKEN_BEDROCK``.
    """

    region: str
    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    api_key: str | None = None

    def __post_init__(self) -> None:
        self._credentials: Any = None
        if self.api_key is None and self.access_key_id is None:
            self.api_key = os.environ.get(BEARER_ENV) or None

    def _resolve(self) -> Any:
        if self._credentials is None:
            import botocore.credentials
            import botocore.session

            if self.access_key_id is not None:
                self._credentials = botocore.credentials.Credentials(
                    self.access_key_id, self.secret_access_key or "", self.session_token
                )
            else:
                session = botocore.session.Session(profile=self.profile)
                self._credentials = session.get_credentials()
            if self._credentials is None:
                raise NoCredentialsError(
                    "No AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or "
                    f"{BEARER_ENV}, or configure a profile."
                )
        return self._credentials

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, str]:
        """The headers to send, ``Authorization`` included."""
        if self.api_key:
            return {**headers, "Authorization": f"Bearer {self.api_key}"}
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
        SigV4Auth(self._resolve().get_frozen_credentials(), SIGNING_NAME, self.region).add_auth(request)
        return dict(request.headers.items())


def default_region(profile: str | None) -> str | None:
    """The region from the standard chain (env, then profile), without credentials."""
    env = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if env:
        return env
    import botocore.session

    region = botocore.session.Session(profile=profile).get_config_variable("region")
    return str(region) if region else None
