"""Constants of AWS authentication: SigV4 names, Bedrock API key prefixes and the messages AWS answers with."""

from __future__ import annotations

from datetime import timedelta

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNING_SERVICE = "bedrock"
TERMINATOR = "aws4_request"
DEFAULT_MAX_SKEW = timedelta(minutes=5)
ENV_KEYS = "MISTRAL_BEDROCK_AUTH_KEYS"
ENV_TOKENS = "MISTRAL_BEDROCK_AUTH_TOKENS"

# Long-term Bedrock API keys start with "ABSK", short-term ones with "bedrock-api-key-"; Bedrock answers a
# token with neither prefix differently from a well-formed but unknown one.
API_KEY_PREFIXES = ("ABSK", "bedrock-api-key-")

MSG_MISSING_AUTH = "Authorization header is missing"
MSG_UNKNOWN_ACCESS_KEY = "The security token included in the request is invalid."
MSG_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
MSG_API_KEY_FORMAT = "Invalid API Key format: Must start with pre-defined prefix"
MSG_API_KEY_INVALID = "Authentication failed: Please make sure your API Key is valid."
MSG_CONTENT_SHA256_MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed."

_SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_UNRESERVED = "-_.~"
