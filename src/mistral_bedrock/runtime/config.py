"""Runtime settings: one value object, passed to the app factory, and through the environment to workers.

Server worker processes build their own app by calling :func:`mistral_bedrock.runtime.app.app_from_env`, so
the settings travel as JSON in ``MISTRAL_BEDROCK_RUNTIME`` rather than through module state.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

__all__ = ["ENV_VAR", "RuntimeConfig"]

ENV_VAR = "MISTRAL_BEDROCK_RUNTIME"


@dataclass(frozen=True)
class RuntimeConfig:
    """How a runtime behaves.

    Attributes:
        engine: Engine spec, ``NAME`` or ``NAME:ARG`` (``builtin``, ``scripted:rules.yaml``).
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
            :mod:`mistral_bedrock.runtime.limits`.
        fault_seed: Seed of the generator that decides rate-based faults, so runs repeat.
        journal_size: How many requests the journal keeps.
        freeze_gc: Move long-lived objects (tokenizers, catalogs, schemas) out of the garbage collector's reach
            once they are loaded (``gc.freeze``), which saves ~20% of CPU per request. Only for a process that is
            nothing but the runtime (``serve`` sets it): frozen objects are never collected.
    """

    engine: str = "builtin"
    faults: tuple[str, ...] = field(default_factory=tuple)
    auth: str = "lenient"
    count_tokens: bool = True
    padding: bool = True
    check_region: bool = True
    window_policy: str = "refuse"
    fault_seed: int = 0
    journal_size: int = 1000
    freeze_gc: bool = False

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> RuntimeConfig:
        raw = (environ if environ is not None else os.environ).get(ENV_VAR)
        if not raw:
            return cls()
        data = json.loads(raw)
        data["faults"] = tuple(data.get("faults") or ())
        return cls(**data)
