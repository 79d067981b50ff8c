"""``mistral-bedrock serve``: the local Bedrock runtime in the foreground.

Prints one line with the URL once it accepts connections. Ctrl-C or SIGTERM stop it: open responses get
``--grace`` seconds to finish, then end with Bedrock's ServiceUnavailableException; a second signal stops it at
once. It says why it stopped in one line on stderr; the exit status is 0 after a stop on the first signal, 128 +
the signal's number after a second one, 1 if a worker process exited by itself. Point any AWS client at it with
``--endpoint-url`` or ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import sys
import time
from collections.abc import Iterator
from typing import Any

import click

from .failures import fail
from .recording import CassetteFlags, cassette_spec, recording_options

__all__ = ["command"]

# RuntimeConfig's default, repeated so that `--help` need not import the runtime (a test keeps them equal).
MIN_FIRST_BYTE_MS = 50.0
# runtime.server.DEFAULT_GRACE_S, repeated for the same reason.
GRACE_S = 5.0
# RuntimeConfig's journal_bytes and memo_bytes defaults, repeated for the same reason.
JOURNAL_BYTES = 64 * 1024 * 1024
MEMO_BYTES = 64 * 1024 * 1024


# The batch options: giving one of them with several workers is refused (a job lives in one worker process).
_BATCH_OPTIONS = ("batch_store", "s3_endpoint_url", "batch_timing", "batch_order", "batch_allow_unverified")


def _given(name: str) -> bool:
    return click.get_current_context().get_parameter_source(name) is not click.core.ParameterSource.DEFAULT


@contextlib.contextmanager
def loading(engine: str, models: tuple[str, ...]) -> Iterator[None]:
    """A progress line on stderr while real models load (the built-in and scripted engines load at once)."""
    from ..engines.registry import MODEL_ENGINES

    sources = [engine, *(route.partition("=")[2] for route in models)]
    real = [source for source in sources if source.partition(":")[0] in MODEL_ENGINES]
    if not real:
        yield
        return
    from rich.console import Console

    started = time.perf_counter()
    console = Console(stderr=True)
    with console.status(f"loading {', '.join(real)}"):
        yield
    console.print(f"loaded {', '.join(real)} in {time.perf_counter() - started:.1f} s", highlight=False)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(1, 65535), help="Port to bind.")
@click.option(
    "--engine",
    default="builtin",
    show_default=True,
    help="What answers: builtin, scripted:RULES, llamacpp:FILE.gguf, transformers:DIR, upstream:URL[#KIND], "
    "replay:CASSETTE_DIR.",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="ID=SOURCE",
    help="Answer the Bedrock model ID with the engine SOURCE (e.g. mistral.mistral-7b-instruct-v0:2=llamacpp:m.gguf; "
    "repeatable); --engine answers the others.",
)
@click.option(
    "--auth",
    default="lenient",
    show_default=True,
    help="lenient (any well-formed SigV4 or Bearer), or strict:AKID:SECRET[,…] to verify signatures.",
)
@click.option("--fault", "faults", multiple=True, help="Inject a fault, e.g. throttle:rate=0.3 (repeatable).")
@click.option("--fault-seed", default=0, show_default=True, help="Seed for rate-based faults.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server worker processes.")
@click.option(
    "--count-tokens/--refuse-count-tokens",
    default=True,
    show_default=True,
    help="Answer CountTokens (real Bedrock refuses it for Mistral models).",
)
@click.option("--padding/--no-padding", default=True, show_default=True, help="Pad stream events like Bedrock.")
@click.option(
    "--min-first-byte-ms",
    default=MIN_FIRST_BYTE_MS,
    show_default=True,
    type=click.FloatRange(min=0),
    help="No model response starts sooner than this after its request (the AWS SDK for Go v2 needs it); 0: off.",
)
@click.option(
    "--pace",
    default="off",
    show_default=True,
    type=click.Choice(["off", "bedrock"]),
    help="bedrock: each model's time to first token and tokens per second, as on Bedrock.",
)
@click.option(
    "--region-check/--no-region-check",
    default=True,
    show_default=True,
    help="Refuse models (and profiles) that Bedrock does not serve in the request's signing Region.",
)
@click.option(
    "--window-policy",
    default="refuse",
    show_default=True,
    type=click.Choice(["refuse", "cap"]),
    help="A max_tokens past the context window: refuse it, or cap the output at the room left.",
)
@click.option(
    "--grace",
    default=GRACE_S,
    show_default=True,
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="On SIGINT/SIGTERM, how long open responses may finish before they end with ServiceUnavailableException; "
    "a second signal stops at once.",
)
@click.option(
    "--state-dir",
    default=None,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Keep fault rules and the journal in DIR (SQLite), shared by the workers; the journal outlives a restart. "
    "Default: a temporary directory, removed on exit.",
)
@click.option(
    "--journal-bytes",
    default=JOURNAL_BYTES,
    show_default=True,
    type=click.IntRange(min=0),
    metavar="BYTES",
    help="Request bodies the journal keeps at most (the newest win; a longer body is kept cut to this).",
)
@click.option(
    "--memo-bytes",
    default=MEMO_BYTES,
    show_default=True,
    type=click.IntRange(min=0),
    metavar="BYTES",
    help="Token ids and counts the engines keep for repeated text at most; 0 keeps nothing.",
)
@click.option(
    "--batch-store",
    default=None,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Batch jobs read and write s3://BUCKET/KEY as DIR/BUCKET/KEY. Default: STATE_DIR/batch-store with "
    "--state-dir, else a temporary directory.",
)
@click.option(
    "--s3-endpoint-url",
    default=None,
    metavar="URL",
    help="Batch jobs read and write s3:// URIs on this S3 endpoint (moto's server, MinIO, S3) instead of a directory.",
)
@click.option(
    "--batch-timing",
    default="fast",
    show_default=True,
    metavar="TIMING",
    help="Seconds batch jobs spend in each phase before they run: fast (none), realistic, SECONDS, or "
    "SUBMITTED,VALIDATING,SCHEDULED.",
)
@click.option(
    "--batch-order",
    default="shuffled",
    show_default=True,
    type=click.Choice(["shuffled", "input"]),
    help="Order of batch output lines: shuffled (as Bedrock's) or the input's.",
)
@click.option(
    "--batch-allow-unverified",
    is_flag=True,
    help="Accept batch jobs for models the catalog does not verify as batch-capable (Bedrock refuses unsupported "
    "ones).",
)
@recording_options
@click.option("--allow-insecure-bind", is_flag=True, help="Allow a non-loopback bind without strict auth.")
def command(
    host: str,
    port: int,
    engine: str,
    models: tuple[str, ...],
    auth: str,
    faults: tuple[str, ...],
    fault_seed: int,
    workers: int,
    count_tokens: bool,
    padding: bool,
    min_first_byte_ms: float,
    pace: str,
    region_check: bool,
    window_policy: str,
    grace: float,
    state_dir: str | None,
    journal_bytes: int,
    memo_bytes: int,
    batch_store: str | None,
    s3_endpoint_url: str | None,
    batch_timing: str,
    batch_order: str,
    batch_allow_unverified: bool,
    allow_insecure_bind: bool,
    **cassette: Any,
) -> None:
    """Serve Bedrock's runtime API for Mistral models on HTTP/1.1 and cleartext HTTP/2."""
    from ..engines import build_engine, close_engine
    from ..engines.cassette import ReplayEngine
    from ..errors import MistralBedrockError
    from ..runtime import RuntimeConfig, parse_fault_spec, serve
    from ..runtime.auth import parse_auth_spec
    from ..runtime.batch import check_batch_options
    from ..runtime.server import check_bind, check_port_free
    from ..runtime.store import check_state_dir

    source = click.get_current_context().get_parameter_source("engine")
    if batch_store is not None and s3_endpoint_url is not None:
        raise fail("--batch-store and --s3-endpoint-url both say where batch files are: give one")
    if s3_endpoint_url is not None and not s3_endpoint_url.startswith(("http://", "https://")):
        # Checked here: without its scheme the URL would pass for a directory name.
        raise fail(f"--s3-endpoint-url must be an http:// or https:// URL; got {s3_endpoint_url!r}")

    config = RuntimeConfig(
        engine=engine,
        models=models,
        faults=faults,
        auth=auth,
        count_tokens=count_tokens,
        padding=padding,
        min_first_byte_ms=min_first_byte_ms,
        pace=pace,
        check_region=region_check,
        window_policy=window_policy,
        fault_seed=fault_seed,
        journal_bytes=journal_bytes,
        memo_bytes=memo_bytes,
        state_dir=state_dir,
        batch=workers == 1,
        batch_store=s3_endpoint_url or batch_store,
        batch_timing=batch_timing,
        batch_order=batch_order,
        batch_allow_unverified=batch_allow_unverified,
    )
    # Check every setting here, in the parent, so a mistake is one clear line rather than a worker crash.
    try:
        engine_given = source is not click.core.ParameterSource.DEFAULT
        engine = cassette_spec(engine, CassetteFlags(**cassette), engine_given=engine_given)
        config = dataclasses.replace(config, engine=engine)
        # A real model is loaded here once to check it (its file, its vocabulary against each routed id), then
        # by each worker.
        with loading(engine, models):
            built = build_engine(engine, models)
            close_engine(built)
        if isinstance(built, ReplayEngine) and built.settings.mode.records and workers > 1:
            # Each worker would number its recordings alone, and two could write one file.
            raise ValueError("a cassette that records is written by one process: drop --workers")
        parse_auth_spec(auth)
        for spec in faults:
            parse_fault_spec(spec)
        check_bind(host, auth, allow_insecure_bind)
        check_port_free(host, port)
        if state_dir is not None:
            check_state_dir(state_dir)
        check_batch_options(config, workers, batch_given=any(_given(name) for name in _BATCH_OPTIONS))
    # A model server that cannot be reached is a BedrockError from its engine; an engine without its extra, an
    # ImportError naming the extra.
    except (ImportError, ValueError, OSError, sqlite3.Error, MistralBedrockError) as exc:
        raise fail(exc) from None

    def announce(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()

    def say(line: str) -> None:
        click.echo(line, err=True)

    if isinstance(built, ReplayEngine):
        say(built.describe())
    status = serve(
        config,
        host=host,
        port=port,
        workers=workers,
        grace=grace,
        allow_insecure_bind=allow_insecure_bind,
        announce=announce,
        say=say,
    )
    if status:
        sys.exit(status)
