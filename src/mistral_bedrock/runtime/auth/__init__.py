"""Authentication for the local Bedrock runtime: AWS SigV4 and Bedrock API keys (``Authorization: Bearer``).

The runtime builds an :class:`AuthRequest` from each incoming request and asks its :class:`AuthPolicy` for a
:class:`Principal`; a refusal is raised as the typed exception from :mod:`mistral_bedrock.errors`, which carries
the AWS error code and HTTP status the runtime must answer with. Everything here is pure standard library and
does no I/O, so it can be tested (and reused by other front ends) without a server.

Policies:

* :class:`LenientAuth` (the default): any *well-formed* ``AWS4-HMAC-SHA256`` or ``Bearer`` credentials are
  accepted without checking them against a secret, the clock or the credential scope. Requests without
  credentials, and SigV4 headers that real AWS would reject as unparseable, are refused exactly as Bedrock does,
  so clients exercise their auth-error paths even offline.
* :class:`StrictAuth`: verifies SigV4 the way the AWS front end does for ``bedrock-runtime`` (signing name
  ``bedrock``, double-encoded canonical URI, ±5 minutes of clock skew) against configured access keys, and
  compares bearer tokens against configured Bedrock API keys. The region is not checked unless pinned, since
  one local runtime answers for every region.

botocore (1.44) refuses to send a Bearer token to an ``http://`` endpoint ("Bearer authorization requires an HTTPS
endpoint."), so boto3 clients using ``AWS_BEARER_TOKEN_BEDROCK`` need the runtime behind TLS; other clients differ.

Errors. Codes, statuses and messages copy what AWS answers; the evidence for each is in brackets:

* No ``Authorization`` header: 403 ``AccessDeniedException``, ``Authorization header is missing`` [a real Bedrock
  reply in karthink/gptel#1397 with ``x-amzn-ErrorType: AccessDeniedException`` and ``Content-Length: 45``; also
  anthropics/claude-code#45000]. It is not ``MissingAuthenticationTokenException``, which API Gateway sends.
* A SigV4 header that cannot be parsed: 400 ``IncompleteSignature`` (400 per the Bedrock troubleshooting page):

  - ``Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter.
    Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a
    'X-Amz-Date' or a 'Date' header. Authorization=<header>``, listing only what is missing [aws/chalice#828,
    brendanhay/amazonka#316, aws/aws-sdk-ruby#317 (also for other schemes such as ``Basic``)];
  - ``'<item>' not a valid key=value pair (missing equal-sign) in Authorization header: '<header>'``
    [iann0036/cloud9-sync#10];
  - ``Unsupported AWS 'algorithm': '<scheme>'.`` and ``Date must be in ISO-8601 'basic format'. Got '<date>'. See
    http://en.wikipedia.org/wiki/ISO_8601`` [scratchstack-aws-signature's AWS-derived tests];
  - ``Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '<cred>'``
    [mhart/aws4#97].

* Request time outside ``±max_skew`` (strict): 403 ``InvalidSignatureException``, ``Signature expired:
  20250130T203827Z is now earlier than 20250130T204131Z (20250130T204631Z - 5 min.)`` or ``Signature not yet
  current: <t> is still later than <now+skew> (<now> + 5 min.)`` [Bedrock: anthropics/anthropic-sdk-go#122 (403),
  aws-samples/bedrock-access-gateway#163; AWS SigV4 troubleshooting page].
* Wrong credential scope (strict): 403 ``InvalidSignatureException``, ``Credential should be scoped to correct
  service: 'bedrock'. `` and its siblings for region, terminator and date. Each complaint ends in ``". "``; the
  ``Content-Length: 112`` in JuliaCloud/AWS.jl#334 only adds up with that trailing space [403 for a restJson
  service: aws/aws-sdk-go#1850].
* Unknown access key (strict): 403 ``UnrecognizedClientException``, ``The security token included in the request
  is invalid.`` [Bedrock: vercel/ai#4163, Aider-AI/aider#1986].
* Signature mismatch (strict): 403 ``InvalidSignatureException``, ``The request signature we calculated does not
  match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service
  documentation for details.`` followed, as AWS does, by the canonical string and string-to-sign the server
  computed [Bedrock: continuedev/continue#9297].
* Unknown bearer token (strict): 403 ``AccessDeniedException``, ``Invalid API Key format: Must start with
  pre-defined prefix`` when the token lacks the ``ABSK`` / ``bedrock-api-key-`` prefix of Bedrock API keys, else
  ``Authentication failed: Please make sure your API Key is valid.``
  [aws-solutions-library-samples/guidance-for-claude-code-with-amazon-bedrock#784, different-ai/openwork#3929,
  anomalyco/opencode#47073].

Two choices are inferred rather than observed: an ``x-amz-content-sha256`` header whose digest disagrees with the
body is refused as ``InvalidSignatureException`` with S3's wording (strict only; without the check a signed
request's body could be swapped), and a ``Signature`` that is not 64 hex digits is refused by :class:`LenientAuth`
as a signature mismatch, which is what AWS itself answers for it (it never reports it as incomplete).

Real Bedrock writes the missing-header body as ``{"Message":…}`` with the ``com.amazon.coral.service`` error-type
suffix; the runtime's error envelope decides whether to reproduce that.

The ``--auth`` flag (:func:`parse_auth_spec`)::

    lenient                                   the default (also the empty string)
    strict:AKID:SECRET[,AKID2:SECRET2…]       SigV4 against these access keys
    strict-token:TOKEN[,TOKEN2…]              Bedrock API keys (Authorization: Bearer) only
    strict                                    keys and tokens from the environment only
    …;key=AKID:SECRET[,…]                     more access keys
    …;token=TOKEN[,…]                         more API keys, e.g. strict:AKID:SECRET;token=abc
    …;skew=SECONDS                            allowed clock skew (default 300)
    …;region=REGION                           also require this region in the credential scope

Environment variables, read for every ``strict…`` spec so that secrets need not appear in the process list:
``MISTRAL_BEDROCK_AUTH_KEYS`` (``AKID:SECRET[,AKID:SECRET…]``) and ``MISTRAL_BEDROCK_AUTH_TOKENS``
(``TOKEN[,TOKEN…]``). They are ignored by ``lenient``.
"""

from __future__ import annotations

from .constants import ALGORITHM, DEFAULT_MAX_SKEW, ENV_KEYS, ENV_TOKENS, SIGNING_SERVICE
from .constants import API_KEY_PREFIXES as API_KEY_PREFIXES
from .constants import MSG_API_KEY_FORMAT as MSG_API_KEY_FORMAT
from .constants import MSG_API_KEY_INVALID as MSG_API_KEY_INVALID
from .constants import MSG_CONTENT_SHA256_MISMATCH as MSG_CONTENT_SHA256_MISMATCH
from .constants import MSG_MISSING_AUTH as MSG_MISSING_AUTH
from .constants import MSG_SIGNATURE_MISMATCH as MSG_SIGNATURE_MISMATCH
from .constants import MSG_UNKNOWN_ACCESS_KEY as MSG_UNKNOWN_ACCESS_KEY
from .constants import TERMINATOR as TERMINATOR
from .flag import parse_auth_spec
from .policies import AuthPolicy, LenientAuth, StrictAuth
from .request import AuthRequest, Principal
from .sigv4 import canonical_query_string, canonical_uri

__all__ = [
    "ALGORITHM",
    "DEFAULT_MAX_SKEW",
    "ENV_KEYS",
    "ENV_TOKENS",
    "SIGNING_SERVICE",
    "AuthPolicy",
    "AuthRequest",
    "LenientAuth",
    "Principal",
    "StrictAuth",
    "canonical_query_string",
    "canonical_uri",
    "parse_auth_spec",
]
