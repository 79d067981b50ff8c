"""The emulated Amazon Bedrock batch control plane: CreateModelInvocationJob, Get, List and Stop on the runtime's
own port, with jobs that run on the runtime's engine and read and write ``s3://`` URIs on a directory or an S3
endpoint. See ``docs/RUNTIME.md`` ("Batch inference") and ``docs/FIDELITY.md``.

Modules, one concept each: :mod:`.routes` (paths → operations), :mod:`.create` (Create's checks),
:mod:`.registry` (jobs, tokens, names), :mod:`.listing` (List's filters and pages), :mod:`.lifecycle` (statuses,
the job clock, holds), :mod:`.executor` (a job's run), :mod:`.inputs` (the Validating phase),
:mod:`.engine_backend` (records through the runtime's handlers), :mod:`.shapes` (the wire shape),
:mod:`.plane` (all of it for one app), :mod:`.settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .plane import BatchPlane
from .routes import BATCH_CONTROL, BATCH_PATHS, DISABLED_MESSAGE, BatchEndpoint
from .settings import BatchSettings, OutputOrder, PhaseTiming, check_batch_options, parse_timing

if TYPE_CHECKING:
    from ..app import RuntimeState

__all__ = [
    "BATCH_CONTROL",
    "BATCH_PATHS",
    "DISABLED_MESSAGE",
    "BatchEndpoint",
    "BatchPlane",
    "BatchSettings",
    "OutputOrder",
    "PhaseTiming",
    "batch_endpoint",
    "check_batch_options",
    "parse_timing",
]


def batch_endpoint(state: RuntimeState) -> BatchEndpoint:
    """The batch paths of an app: its engine answers the records; its fault rules, auth policy and clock apply.

    Raises:
        ValueError: A bad batch setting in the app's config.
    """
    settings = BatchSettings.from_config(state.config)
    plane = BatchPlane(settings, state.config, state.engine, state.faults) if settings.enabled else None
    return BatchEndpoint(plane, state.auth, lambda: state.clock())
