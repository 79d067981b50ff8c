"""The local batch runner: a Bedrock batch input file answered on demand, written in Bedrock's output format.

:func:`run_records` streams the records through a bounded pool of workers to a :class:`~..outcome.Backend` (the
runtime's engine, or an HTTP endpoint: the runtime or Bedrock itself), under the on-demand quotas
(:mod:`.limiter`), retrying throttling and 5xx failures, and appends each answer to ``<input>.jsonl.out``. A run
that is killed resumes where it stopped (:mod:`.resume`); :func:`write_manifest` writes ``manifest.json.out``.
"""

from .limiter import Limiter
from .manifest import write_manifest
from .progress import Progress
from .resume import ResumeError, index_path, rebuild_index
from .run import RunReport, run_records
from .settings import RunSettings

__all__ = [
    "Limiter",
    "Progress",
    "ResumeError",
    "RunReport",
    "RunSettings",
    "index_path",
    "rebuild_index",
    "run_records",
    "write_manifest",
]
