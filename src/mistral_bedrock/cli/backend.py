"""Which backend a command talks to — Amazon Bedrock, another endpoint, or the embedded local runtime.

Every command that calls a model takes the same options (:func:`backend_options`):

* ``--local`` starts the embedded runtime in-process (:meth:`MistralBedrock.local`);
* ``--endpoint-url URL`` (or ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` / ``AWS_ENDPOINT_URL``) talks to another
  endpoint; with no credentials anywhere, requests are signed with placeholder keys, which a local runtime
  accepts;
* otherwise Amazon Bedrock, with ``--region`` and ``--profile`` or the standard AWS chain.

With no endpoint, no ``--profile`` and no credentials (checked cheaply: the environment, then botocore's chain
with instance metadata disabled so it cannot hang), the embedded runtime is used and one line on stderr says so.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

import click

from ..errors import MistralBedrockError
from .failures import CommandFailure, UsageFailure

if TYPE_CHECKING:
    from ..client import MistralBedrock
    from ..runtime import RuntimeConfig

__all__ = [
    "Backend",
    "BackendOptions",
    "backend_options",
    "check_endpoint",
    "credentials_available",
    "note",
    "open_backend",
]

F = TypeVar("F", bound=Callable[..., Any])

CREDENTIAL_ENVS = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_BEARER_TOKEN_BEDROCK")
FALLBACK_NOTE = "no AWS credentials found; using the embedded local runtime (--local)"
NO_REGION = "no AWS region configured: pass --region REGION, set AWS_REGION, or give the profile a region"

BackendKind = Literal["local", "endpoint", "bedrock"]


@dataclass(frozen=True)
class BackendOptions:
    """The backend options as given on the command line.

    Attributes:
        endpoint_url: ``--endpoint-url``.
        local: ``--local``.
        region: ``--region``.
        profile: ``--profile``.
        max_attempts: ``--max-attempts`` (retries included).
        engine: ``--engine``: what answers in the embedded runtime (implies ``--local``).
    """

    endpoint_url: str | None = None
    local: bool = False
    region: str | None = None
    profile: str | None = None
    max_attempts: int = 5
    engine: str | None = None


@dataclass(frozen=True)
class Backend:
    """An open client and a description of what answers it.

    Attributes:
        client: The client; closed by :func:`open_backend`.
        kind: ``local`` (embedded runtime), ``endpoint`` (another endpoint) or ``bedrock``.
        label: Human description, e.g. ``the embedded local runtime at http://127.0.0.1:50123``.
    """

    client: MistralBedrock
    kind: BackendKind
    label: str


def note(message: str) -> None:
    """One line on stderr, prefixed with the program's name.

    Args:
        message: The note, without a trailing newline.
    """
    click.echo(f"mistral-bedrock: {message}", err=True)


_OPTIONS = (
    click.option("--endpoint-url", metavar="URL", help="Send requests to this endpoint (a local runtime, a proxy)."),
    click.option("--local", is_flag=True, help="Start the embedded local runtime in-process and use it."),
    click.option("--region", metavar="REGION", help="AWS region (default: from the AWS configuration)."),
    click.option("--profile", metavar="NAME", help="AWS shared-config profile."),
    click.option(
        "--max-attempts",
        default=5,
        show_default=True,
        type=click.IntRange(1, 20),
        help="Attempts per request, retries of throttling and 5xx errors included.",
    ),
    click.option(
        "--engine",
        metavar="SPEC",
        help="Answer with this engine in the embedded runtime (implies --local): builtin, scripted:RULES, "
        "llamacpp:FILE.gguf, transformers:DIR, upstream:URL.",
    ),
)


def backend_options(func: F) -> F:
    """Add the backend options to a command; it receives them as one ``backend: BackendOptions`` argument.

    Args:
        func: The command function.

    Returns:
        The decorated function.
    """

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        endpoint_url: str | None,
        local: bool,
        region: str | None,
        profile: str | None,
        max_attempts: int,
        engine: str | None,
        **kwargs: Any,
    ) -> Any:
        if local and endpoint_url:
            raise UsageFailure("--local and --endpoint-url exclude each other")
        if engine is not None and endpoint_url:
            raise UsageFailure("--engine runs in the embedded runtime; it excludes --endpoint-url")
        if endpoint_url is not None:
            check_endpoint(endpoint_url, "--endpoint-url")
        options = BackendOptions(endpoint_url, local or engine is not None, region, profile, max_attempts, engine)
        return func(*args, backend=options, **kwargs)

    decorated: Callable[..., Any] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return cast(F, decorated)


def check_endpoint(url: str, source: str) -> None:
    """Refuse an endpoint that is not an http:// or https:// URL with a host, naming where it came from.

    Without a scheme (``localhost:8787``) the URL would parse as scheme ``localhost`` and no host, and signing
    would fail deep inside botocore; this says what to write instead.

    Args:
        url: The endpoint.
        source: ``--endpoint-url`` or the environment variable that gave it.

    Raises:
        UsageFailure: With exit status 2.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (reading it checks the port: "localhost:abc" is refused here, not mid-signing)
    except ValueError as exc:
        raise UsageFailure(f"{source} {url!r} is not a valid URL: {exc}") from None
    if parts.scheme.lower() in ("http", "https") and parts.hostname:
        return
    if "://" in url:
        raise UsageFailure(f"{source} {url!r} is not an http:// or https:// URL with a host")
    rest = url.lstrip("/")
    raise UsageFailure(f"{source} {url!r} has no scheme: write http://{rest} or https://{rest}")


def credentials_available(profile: str | None = None) -> bool:
    """Whether AWS credentials (or a Bedrock API key) can be found, without waiting on instance metadata.

    Args:
        profile: A shared-config profile to look in; None for the default chain.

    Returns:
        True when the environment names credentials, a profile or an API key, or botocore's chain finds some.
    """
    if any(os.environ.get(name) for name in CREDENTIAL_ENVS):
        return True
    import botocore.exceptions
    import botocore.session

    saved = os.environ.get("AWS_EC2_METADATA_DISABLED")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    try:
        return botocore.session.Session(profile=profile).get_credentials() is not None
    except botocore.exceptions.BotoCoreError:
        return False
    finally:
        if saved is None:
            del os.environ["AWS_EC2_METADATA_DISABLED"]
        else:
            os.environ["AWS_EC2_METADATA_DISABLED"] = saved


def _runtime_config(engine: str | None) -> RuntimeConfig | None:
    from ..runtime import RuntimeConfig

    return None if engine is None else RuntimeConfig(engine=engine)


def _connect(options: BackendOptions) -> Backend:
    from ..client import MistralBedrock, RetryPolicy
    from ..client.core import ENDPOINT_ENVS
    from ..client.settings import LOCAL_CREDENTIALS
    from ..client.signing import default_region

    retry = RetryPolicy(max_attempts=options.max_attempts)
    endpoint = options.endpoint_url
    if endpoint is None and not options.local:  # --local uses no endpoint, so none of the environment's
        variable = next((name for name in ENDPOINT_ENVS if os.environ.get(name)), None)
        if variable is not None:
            endpoint = os.environ[variable]
            check_endpoint(endpoint, variable)
    fallback = not options.local and endpoint is None and options.profile is None and not credentials_available()
    if fallback:
        note(FALLBACK_NOTE)
    if options.local or fallback:
        try:
            config = _runtime_config(options.engine)
            from ..runtime import ServerThread  # noqa: F401  (the runtime extra, before any engine's own)
        except ImportError as exc:
            raise CommandFailure(
                f"the embedded local runtime needs the runtime extra (pip install 'mistral-bedrock[runtime]'): {exc}"
            ) from None
        try:
            # The embedded runtime serves each model in Bedrock's Regions too: sign for the configured Region.
            local_region = options.region or default_region(options.profile) or "us-east-1"
            client = MistralBedrock.local(config, retry=retry, region=local_region)
        # An engine that does not load: its extra missing, a missing file, a vocabulary that is not Mistral's, an
        # unreachable server.
        except (ImportError, ValueError, MistralBedrockError) as exc:
            raise UsageFailure(f"--engine {options.engine}: {exc}") from None
        engine = options.engine or "built-in"
        return Backend(client, "local", f"the embedded local runtime at {client.endpoint_url} ({engine} engine)")
    if endpoint is not None:
        # Nothing to sign with: placeholder keys, which a local runtime accepts (any well-formed signature).
        found = credentials_available(options.profile)
        client = MistralBedrock(
            endpoint_url=endpoint,
            region=options.region,
            profile=options.profile,
            aws_access_key_id=None if found else LOCAL_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=None if found else LOCAL_CREDENTIALS["aws_secret_access_key"],
            retry=retry,
        )
        return Backend(client, "endpoint", f"the endpoint {client.endpoint_url}")
    # Amazon Bedrock is regional: say which option names the region, in the command line's terms.
    region = options.region or default_region(options.profile)
    if region is None:
        raise CommandFailure(NO_REGION)
    client = MistralBedrock(region=region, profile=options.profile, retry=retry)
    return Backend(client, "bedrock", f"Amazon Bedrock ({client.region})")


@contextmanager
def open_backend(options: BackendOptions) -> Iterator[Backend]:
    """Open the client the options ask for, and close it (and any embedded runtime) afterwards.

    Args:
        options: The command's backend options.

    Yields:
        The open backend.
    """
    backend = _connect(options)
    try:
        yield backend
    finally:
        backend.client.close()


def describe_endpoint(backend: Backend) -> str:
    """The backend's label, naming the engine when the endpoint is a mistral-bedrock runtime.

    Args:
        backend: An open backend.

    Returns:
        E.g. ``the endpoint http://127.0.0.1:8787 (a mistral-bedrock runtime, engine: builtin)``.
    """
    if backend.kind != "endpoint":
        return backend.label
    import httpx

    try:
        response = httpx.get(f"{backend.client.endpoint_url}/_mistral_bedrock/health", timeout=2.0)
        engine = response.json().get("engine") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        engine = None
    if not engine:
        return backend.label
    return f"{backend.label} (a mistral-bedrock runtime, engine: {engine})"
