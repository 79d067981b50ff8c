"""Runtime settings: one value object, passed to the app factory, and through the environment to workers.

Server worker processes build their own app by calling :func:`mistral_bedrock.runtime.app.app_from_env`, so
the settings travel as JSON in ``MISTRAL_BEDROCK_RUNTIME`` rather than through module state.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

__all__ = ["DEFAULT_MIN_FIRST_BYTE_MS", "ENV_VAR", "RuntimeConfig"]

ENV_VAR = "MISTRAL_BEDROCK_RUNTIME"
# The AWS SDK for Go v2 truncates streams that start within microseconds of the request; see runtime.pacing,
# and docs/RUNTIME.md for the measurement this value comes from.
DEFAULT_MIN_FIRST_BYTE_MS = 50.0


@dataclass(frozen=True)
class RuntimeConfig:
    """How a runtime behaves.

    Attributes:
        engine: Engine spec, ``NAME`` or ``NAME:ARG`` (``builtin``, ``scripted:rules.yaml``, ``llamacpp:m.gguf``).
        models: ``ID=SOURCE`` routes: the Bedrock model ``ID`` answered by the engine ``SOURCE``; ``engine`` answers
            the rest.
        faults: ``--fault`` specs active from the start.
        auth: ``--auth`` spec (``lenient`` by default).
        count_tokens: Answer CountTokens with the model's tokenizer. Real Bedrock refuses CountTokens for Mistral
            models with a ValidationException; set False to get exactly that.
        padding: Add the ``"p"`` padding field real Bedrock puts on stream events.
        check_region: Refuse a model (or inference profile) that Bedrock does not serve in the Region a SigV4
            request is signed for, as Bedrock does, with ``The provided model identifier is invalid.`` Turn it
            off where the catalog's Region data lag Bedrock's.
        window_policy: What a request whose ``max_tokens`` runs past the context window gets: ``refuse`` (a
            ValidationException) or ``cap`` (output stops when the window is full). See
            :mod:`mistral_bedrock.formats.window`.
        min_first_byte_ms: No model response (streamed or whole) starts sooner than this many milliseconds after
            its request arrived; engine time counts toward it. 0 turns the floor off (benchmarks). See
            :mod:`mistral_bedrock.runtime.pacing`.
        pace: ``off`` (answer as fast as the engine allows, above the floor) or ``bedrock`` (each model's time to
            first token and output tokens per second from :mod:`mistral_bedrock.catalog.pace`).
        fault_seed: Seed of the generator that decides rate-based faults, so runs repeat.
        journal_size: How many requests the journal keeps.
        journal_bytes: How many bytes of request bodies the journal keeps; the newest entries win, and a body
            longer than this is kept cut to it (marked ``body_truncated``). See :mod:`mistral_bedrock.runtime.journal`.
        state_dir: Where fault rules and the journal live: a directory holding a SQLite database that every worker
            process opens, so they share them. None keeps them in this process's memory. ``serve`` uses one with
            several workers (a temporary directory unless ``--state-dir`` names one) or with ``--state-dir``; one
            worker without it keeps them in memory. See :mod:`mistral_bedrock.runtime.store`.
        freeze_gc: Move long-lived objects (tokenizers, catalogs, schemas) out of the garbage collector's reach
            once they are loaded (``gc.freeze``), which saves ~20% of CPU per request. Only for a process that is
            nothing but the runtime (``serve`` sets it): frozen objects are never collected.
        memo_bytes: The byte budget of the engines' memo (token ids, pieces and counts kept per tokenizer and
            text, all maps together; 0 keeps nothing). Keys and values are charged what they hold: a prompt used
            as a key counts its length. Process-wide: the last app created sets it. See
            :mod:`mistral_bedrock.engines.memo`.
        memo_entry_bytes: The largest memo entry kept (a prompt of ~60k tokens and its count); a bigger one is
            recomputed each time rather than kept among transient allocations of its size, where it would pin as
            much memory again in the allocator's free lists.
        batch: Serve the batch control plane (CreateModelInvocationJob and the rest). ``serve`` turns it off with
            several workers: jobs live in the process that runs them. See :mod:`mistral_bedrock.runtime.batch`.
        batch_store: Where batch jobs' ``s3://`` URIs point: a directory (``DIR/bucket/key``) or an S3 endpoint
            URL (moto's server, MinIO, S3 itself). None: ``STATE_DIR/batch-store`` with ``state_dir``, else a
            temporary directory.
        batch_timing: Seconds batch jobs spend in each phase before they run: ``fast`` (none), ``realistic``,
            ``S`` or ``S1,S2,S3`` (Submitted, Validating, Scheduled).
        batch_order: Output line order: ``shuffled`` (as Bedrock's) or ``input``.
        batch_seed: Seed of the output shuffle.
        batch_allow_unverified: Accept batch jobs for models the catalog does not verify as batch-capable.
        batch_in_progress_cap: Jobs per model that may be submitted or in progress at once.
    """

    engine: str = "builtin"
    models: tuple[str, ...] = field(default_factory=tuple)
    faults: tuple[str, ...] = field(default_factory=tuple)
    auth: str = "lenient"
    count_tokens: bool = True
    padding: bool = True
    check_region: bool = True
    window_policy: str = "refuse"
    min_first_byte_ms: float = DEFAULT_MIN_FIRST_BYTE_MS
    pace: str = "off"
    fault_seed: int = 0
    journal_size: int = 1000
    journal_bytes: int = 64 * 1024 * 1024
    state_dir: str | None = None
    freeze_gc: bool = False
    memo_bytes: int = 64 * 1024 * 1024
    memo_entry_bytes: int = 256 * 1024
    batch: bool = True
    batch_store: str | None = None
    batch_timing: str = "fast"
    batch_order: str = "shuffled"
    batch_seed: int = 0
    batch_allow_unverified: bool = False
    batch_in_progress_cap: int = 10

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> RuntimeConfig:
        raw = (environ if environ is not None else os.environ).get(ENV_VAR)
        if not raw:
            return cls()
        data = json.loads(raw)
        data["faults"] = tuple(data.get("faults") or ())
        data["models"] = tuple(data.get("models") or ())
        return cls(**data)
