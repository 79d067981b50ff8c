"""What the ``batch`` commands share: where the control plane and the files are, the invocation type, and the
handle directory.

* ``--endpoint-url`` (else the job's handle, else ``AWS_ENDPOINT_URL_BEDROCK`` / ``AWS_ENDPOINT_URL``) names the
  control plane, such as ``mistral-bedrock serve``; with no credentials anywhere, requests to it are signed with
  placeholder keys, which a local runtime accepts. Without one, Amazon Bedrock answers in ``--region``.
* ``--store`` names where ``s3://`` URIs point: a directory (``DIR/bucket/key``, what ``serve --batch-store DIR``
  reads) or an S3-compatible endpoint URL; without it, Amazon S3 itself through boto3 (the ``[batch]`` extra).
* ``--state-dir`` is where ``submit`` keeps its handle files (``.mistral-bedrock/batch`` in the working directory).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from .failures import CommandFailure, UsageFailure

if TYPE_CHECKING:
    from ..batch.invocation import InvocationType
    from ..batch.storage import ObjectStore
    from ..client.sync_batch import BatchControl
    from .batch_handles import JobHandle

__all__ = [
    "DEFAULT_STATE_DIR",
    "ControlOptions",
    "chosen_endpoint",
    "control_options",
    "invocation",
    "open_control",
    "open_object_store",
    "state_dir_option",
    "store_option",
]

F = TypeVar("F", bound=Callable[..., Any])

# A Region's form (us-east-1, eu-central-2): anything else would only fail later, inside a host name or a signature.
_REGION = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
DEFAULT_STATE_DIR = Path(".mistral-bedrock") / "batch"
BOTO3_MISSING = "S3 needs boto3: pip install 'mistral-bedrock[batch]' (or pass --store DIR for a local directory)"


@dataclass(frozen=True)
class ControlOptions:
    """The control-plane options as given on the command line.

    Attributes:
        endpoint_url: ``--endpoint-url``.
        region: ``--region``.
        profile: ``--profile``.
        state_dir: ``--state-dir``: the handle files.
    """

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    state_dir: Path = DEFAULT_STATE_DIR


state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    help="Where submit keeps a handle file per job (name, URIs, idempotency token, ARN).",
)

store_option = click.option(
    "--store",
    metavar="DIR|URL",
    help="Where s3:// URIs point: a directory (DIR/bucket/key) or an S3-compatible endpoint URL "
    "(default: Amazon S3 through boto3).",
)

_OPTIONS = (
    click.option(
        "--endpoint-url", metavar="URL", help="The control plane's endpoint (mistral-bedrock serve, a proxy)."
    ),
    click.option("--region", metavar="REGION", help="AWS region (default: the job's handle, then AWS config)."),
    click.option("--profile", metavar="NAME", help="AWS shared-config profile."),
    state_dir_option,
)


def control_options(func: F) -> F:
    """Add the control-plane options; the command receives them as one ``control: ControlOptions`` argument.

    Args:
        func: The command function.

    Returns:
        The decorated function.
    """

    @functools.wraps(func)
    def wrapper(
        *args: Any, endpoint_url: str | None, region: str | None, profile: str | None, state_dir: Path, **kwargs: Any
    ) -> Any:
        from .backend import check_endpoint

        if endpoint_url is not None:
            check_endpoint(endpoint_url, "--endpoint-url")
        if region is not None and not _REGION.fullmatch(region):
            raise UsageFailure(f"--region {region!r} is not a Region name (lowercase letters, digits and hyphens)")
        return func(*args, control=ControlOptions(endpoint_url, region, profile, state_dir), **kwargs)

    decorated: Callable[..., Any] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return cast(F, decorated)


def invocation(converse: bool) -> InvocationType:
    """``--converse`` → the Converse invocation type; InvokeModel otherwise."""
    from ..batch.invocation import InvocationType

    return InvocationType.CONVERSE if converse else InvocationType.INVOKE_MODEL


def _environment_endpoint() -> str | None:
    from ..client.batch_control import CONTROL_ENDPOINT_ENVS
    from .backend import check_endpoint

    for name in CONTROL_ENDPOINT_ENVS:
        value = os.environ.get(name)
        if value:
            check_endpoint(value, name)
            return value
    return None


def chosen_endpoint(options: ControlOptions, handle: JobHandle | None = None) -> str | None:
    """The control plane's endpoint: ``--endpoint-url``, else the job's handle, else the environment; None for
    Amazon Bedrock. ``submit`` records this one, so a later command in another shell reaches the same plane."""
    return options.endpoint_url or (handle.endpoint_url if handle else None) or _environment_endpoint()


@contextmanager
def open_control(options: ControlOptions, handle: JobHandle | None = None) -> Iterator[BatchControl]:
    """The control client the options ask for, closed afterwards.

    Args:
        options: The command's options; they win over what the job's handle says.
        handle: The job's handle, when it has one: its Region and endpoint are the job's.

    Yields:
        The open client.

    Raises:
        CommandFailure: No Region for Amazon Bedrock.
    """
    from ..client.settings import LOCAL_CREDENTIALS
    from ..client.signing import default_region
    from ..client.sync_batch import BatchControl
    from .backend import NO_REGION, credentials_available

    endpoint = chosen_endpoint(options, handle)
    chosen_region = options.region or (handle.region if handle else None) or default_region(options.profile)
    placeholder = False
    if endpoint is not None:
        chosen_region = chosen_region or "us-east-1"  # a custom endpoint still needs a signing Region
        placeholder = not credentials_available(options.profile)  # then sign with keys a local runtime accepts
    elif chosen_region is None:
        raise CommandFailure(NO_REGION)
    try:
        client = BatchControl(
            region=chosen_region,
            profile=options.profile,
            endpoint_url=endpoint,
            aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"] if placeholder else None,
            aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"] if placeholder else None,
        )
    except ValueError as exc:
        raise UsageFailure(str(exc)) from None
    try:
        yield client
    finally:
        client.close()


def open_object_store(store: str | None, *, region: str | None, profile: str | None) -> ObjectStore:
    """The object store ``--store`` names, or Amazon S3 through boto3.

    Args:
        store: A directory or an S3-compatible endpoint URL; None for Amazon S3.
        region: The Region for Amazon S3.
        profile: The AWS profile for Amazon S3.

    Raises:
        CommandFailure: boto3 is not installed.
    """
    from ..batch.storage import S3Store, open_store

    try:
        if store is not None:
            return open_store(store)
        import boto3
    except ImportError:
        raise CommandFailure(BOTO3_MISSING) from None
    session = boto3.session.Session(profile_name=profile, region_name=region)
    return S3Store(session.client("s3"))
