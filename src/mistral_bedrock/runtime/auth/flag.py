"""The ``--auth`` flag: :func:`parse_auth_spec` and its key and token lists."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from .constants import DEFAULT_MAX_SKEW, ENV_KEYS, ENV_TOKENS
from .policies import AuthPolicy, LenientAuth, StrictAuth


def _parse_keys(text: str, where: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for index, entry in enumerate(text.split(","), start=1):
        entry = entry.strip()
        key_id, sep, secret = entry.partition(":")
        # Messages name the position, never the entry: the entry may be a secret.
        if not sep or not key_id or not secret:
            raise ValueError(f"{where}: key #{index} must be ACCESS_KEY_ID:SECRET_ACCESS_KEY")
        if any(ch.isspace() for ch in entry) or "/" in key_id:
            raise ValueError(f"{where}: key #{index} contains whitespace, or '/' in the access key id")
        if keys.get(key_id, secret) != secret:
            raise ValueError(f"{where}: access key id {key_id!r} is given twice with different secrets")
        keys[key_id] = secret
    return keys


def _parse_tokens(text: str, where: str) -> list[str]:
    tokens: list[str] = []
    for index, token in enumerate(text.split(","), start=1):
        token = token.strip()
        if not token or any(ch.isspace() for ch in token):
            raise ValueError(f"{where}: token #{index} is empty or contains whitespace")
        tokens.append(token)
    return tokens


def _merge_keys(into: dict[str, str], extra: Mapping[str, str], where: str) -> None:
    for key_id, secret in extra.items():
        if into.get(key_id, secret) != secret:
            raise ValueError(f"{where}: access key id {key_id!r} is given twice with different secrets")
        into[key_id] = secret


def parse_auth_spec(spec: str, environ: Mapping[str, str] | None = None) -> AuthPolicy:
    """Build the policy named by the ``--auth`` flag; the syntax is in the module docstring.

    Args:
        spec: The flag value, e.g. ``lenient``, ``strict:AKID:SECRET`` or ``strict:AKID:SECRET;token=abc``.
        environ: Where to read :data:`ENV_KEYS` and :data:`ENV_TOKENS`; ``os.environ`` when None.

    Returns:
        The policy.

    Raises:
        ValueError: The spec is malformed; the message names the problem but never echoes a secret.
    """
    env = os.environ if environ is None else environ
    clauses = [clause.strip() for clause in spec.split(";")]
    clauses = [clause for clause in clauses if clause]
    if not clauses or clauses[0].lower() == "lenient":
        if len(clauses) > 1:
            raise ValueError("--auth: 'lenient' takes no options")
        return LenientAuth()

    head, options = clauses[0], clauses[1:]
    keys: dict[str, str] = {}
    tokens: list[str] = []
    kind, sep, value = head.partition(":")
    if kind.lower() == "strict":
        if sep:
            if not value:
                raise ValueError("--auth: 'strict:' needs ACCESS_KEY_ID:SECRET_ACCESS_KEY[,…]")
            keys = _parse_keys(value, "--auth strict")
    elif kind.lower() == "strict-token":
        if not value:
            raise ValueError("--auth: 'strict-token:' needs TOKEN[,TOKEN…]")
        tokens = _parse_tokens(value, "--auth strict-token")
    else:
        raise ValueError(
            f"--auth: unknown mode {kind!r}; expected lenient, strict[:AKID:SECRET,…] or strict-token:TOKEN[,…]"
        )

    max_skew = DEFAULT_MAX_SKEW
    region: str | None = None
    for option in options:
        name, sep, value = option.partition("=")
        name = name.strip().lower()
        value = value.strip()
        if not sep or not value:
            raise ValueError(f"--auth: option {name!r} must look like NAME=VALUE")
        if name in ("key", "keys"):
            _merge_keys(keys, _parse_keys(value, "--auth key="), "--auth key=")
        elif name in ("token", "tokens"):
            tokens.extend(_parse_tokens(value, "--auth token="))
        elif name == "skew":
            try:
                seconds = float(value)
            except ValueError:
                raise ValueError(f"--auth: skew must be a number of seconds, got {value!r}") from None
            if not seconds > 0:
                raise ValueError(f"--auth: skew must be positive, got {value!r}")
            max_skew = timedelta(seconds=seconds)
        elif name == "region":
            region = value
        else:
            raise ValueError(f"--auth: unknown option {name!r}; expected key=, token=, skew= or region=")

    if env.get(ENV_KEYS, "").strip():
        _merge_keys(keys, _parse_keys(env[ENV_KEYS], ENV_KEYS), ENV_KEYS)
    if env.get(ENV_TOKENS, "").strip():
        tokens.extend(_parse_tokens(env[ENV_TOKENS], ENV_TOKENS))
    if not keys and not tokens:
        raise ValueError(
            f"--auth: strict mode needs at least one access key or token (in the spec, {ENV_KEYS} or {ENV_TOKENS})"
        )
    return StrictAuth(keys, tokens, max_skew=max_skew, region=region)
