"""Shared by the examples: pick Amazon Bedrock or the embedded local runtime.

Not an example itself. Every example takes ``--local``; without it, the embedded runtime is still used when
nothing in the environment points at AWS (no ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``, ``AWS_ACCESS_KEY_ID``,
``AWS_PROFILE`` or ``AWS_BEARER_TOKEN_BEDROCK``), so the examples run anywhere, offline. Otherwise they use
``MistralBedrock()``: the standard AWS chain for credentials and region, and the endpoint override if set.
"""

from __future__ import annotations

import argparse
import os
import sys

from mistral_bedrock.client import MistralBedrock

__all__ = ["add_backend_flag", "aws_configured", "make_client"]

AWS_ENV_VARS = (
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_BEARER_TOKEN_BEDROCK",
)


def aws_configured() -> bool:
    """True when the environment names an endpoint, credentials, a profile or a Bedrock API key."""
    return any(os.environ.get(name) for name in AWS_ENV_VARS)


def add_backend_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--local",
        action="store_true",
        help="use the embedded local runtime (the default when no AWS endpoint or credentials are configured)",
    )


def make_client(local: bool) -> MistralBedrock:
    """The embedded runtime when asked for or when AWS is not configured; Amazon Bedrock otherwise."""
    if local or not aws_configured():
        print("(using the embedded local runtime: deterministic answers, no AWS account needed)", file=sys.stderr)
        return MistralBedrock.local()
    return MistralBedrock()
