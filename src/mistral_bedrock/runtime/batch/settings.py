"""How the emulated batch control plane behaves: one value object built from :class:`RuntimeConfig`.

Every choice the emulation makes where Bedrock's behaviour is not known exactly is a setting here, so a test or a
user can move it; each carries its evidence grade ([D] docs, [R] a real capture, [I] inference).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace
from pathlib import Path

from mistral_bedrock.batch.limits import DEFAULT_LIMITS, BatchLimits
from mistral_bedrock.batch.status import JobStatus

from ..config import RuntimeConfig

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_REGION",
    "BatchSettings",
    "OutputOrder",
    "PhaseTiming",
    "check_batch_options",
    "parse_timing",
]

#: The account in job ARNs when the role ARN names none [I]: Bedrock's own comes from the caller's credentials,
#: which the runtime does not map to accounts.
DEFAULT_ACCOUNT = "123456789012"
#: The Region of job ARNs for bearer-token callers, whose requests name none.
DEFAULT_REGION = "us-east-1"


class OutputOrder(str, enum.Enum):
    """The order of an output file's lines: shuffled (as Bedrock's are [R]) or the input's."""

    SHUFFLED = "shuffled"
    INPUT = "input"


@dataclass(frozen=True)
class PhaseTiming:
    """Seconds a job spends in each phase before it runs (on top of the work the phase does).

    Attributes:
        submitted: In ``Submitted``.
        validating: In ``Validating`` (after reading the input).
        scheduled: In ``Scheduled``.
    """

    submitted: float = 0.0
    validating: float = 0.0
    scheduled: float = 0.0

    def seconds(self, phase: JobStatus) -> float:
        """The wait of one waiting phase."""
        return {
            JobStatus.SUBMITTED: self.submitted,
            JobStatus.VALIDATING: self.validating,
            JobStatus.SCHEDULED: self.scheduled,
        }[phase]


# Named timings. ``realistic`` is the ~5-minute queueing floor real jobs show before they run [R]; ``fast`` has no
# artificial wait at all.
TIMINGS = {
    "fast": PhaseTiming(),
    "realistic": PhaseTiming(submitted=5.0, validating=10.0, scheduled=300.0),
}


def parse_timing(spec: str) -> PhaseTiming:
    """``fast``, ``realistic``, ``S`` (seconds in each of the three phases) or ``S1,S2,S3``.

    Raises:
        ValueError: Anything else, or a negative or non-finite number.
    """
    if spec in TIMINGS:
        return TIMINGS[spec]
    parts = spec.split(",")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 3) or not all(math.isfinite(v) and v >= 0 for v in values):
        names = ", ".join(TIMINGS)
        raise ValueError(
            f"batch timing must be one of {names}, SECONDS or SUBMITTED,VALIDATING,SCHEDULED seconds; got {spec!r}"
        )
    if len(values) == 1:
        values *= 3
    return PhaseTiming(*values)


@dataclass(frozen=True)
class BatchSettings:
    """The batch control plane's settings.

    Attributes:
        enabled: Whether the batch operations are served; ``serve --workers N`` (N > 1) turns them off, since each
            worker process would hold jobs the others cannot see.
        store: Where ``s3://`` URIs point: a directory or an S3 endpoint URL; None: a temporary directory.
        timing: Seconds spent in each phase before a job runs.
        order: The output line order.
        seed: Seed of the shuffle (with the job id, so each job's order differs and repeats).
        allow_unverified: Accept models the catalog does not record as batch-capable (Bedrock refuses models that
            are not [R]; the catalog knows only those it verified).
        limits: Bedrock's batch quotas (record floor and ceilings, the in-progress cap per model, list bounds).
        concurrency: Records a job answers at once.
        default_timeout_hours: ``timeoutDurationInHours`` when Create omits it [I].
    """

    enabled: bool = True
    store: str | None = None
    timing: PhaseTiming = PhaseTiming()
    order: OutputOrder = OutputOrder.SHUFFLED
    seed: int = 0
    allow_unverified: bool = False
    limits: BatchLimits = DEFAULT_LIMITS
    concurrency: int = 8
    default_timeout_hours: int = 24

    @classmethod
    def from_config(cls, config: RuntimeConfig) -> BatchSettings:
        """The settings a :class:`RuntimeConfig` asks for.

        Raises:
            ValueError: A bad timing, order or cap.
        """
        if config.batch_in_progress_cap < 1:
            raise ValueError(f"the batch in-progress cap must be 1 or more; got {config.batch_in_progress_cap}")
        try:
            order = OutputOrder(config.batch_order)
        except ValueError:
            choices = ", ".join(o.value for o in OutputOrder)
            raise ValueError(f"batch order must be one of {choices}; got {config.batch_order!r}") from None
        return cls(
            enabled=config.batch,
            store=config.batch_store,
            timing=parse_timing(config.batch_timing),
            order=order,
            seed=config.batch_seed,
            allow_unverified=config.batch_allow_unverified,
            limits=replace(DEFAULT_LIMITS, in_progress_jobs_per_model=config.batch_in_progress_cap),
        )


def check_batch_options(config: RuntimeConfig, workers: int, *, batch_given: bool) -> None:
    """Check ``serve``'s batch settings before any worker starts, so that a mistake is one clear line.

    Args:
        config: The settings ``serve`` built.
        workers: Worker processes.
        batch_given: Whether a batch option was given on the command line.

    Raises:
        ValueError: A bad timing, order or endpoint; batch options with several workers.
        OSError: A store directory that cannot be made.
        ImportError: An S3 endpoint without boto3 (the ``[batch]`` extra).
    """
    if workers > 1 and batch_given:
        raise ValueError("batch jobs live in the worker process that accepted them: the batch options need --workers 1")
    settings = BatchSettings.from_config(config)
    store = settings.store
    if store is None:
        return
    if "://" in store:
        if not store.startswith(("http://", "https://")):
            raise ValueError(f"the S3 endpoint must be an http:// or https:// URL; got {store!r}")
        import boto3  # noqa: F401  (the [batch] extra; an ImportError names it)
    else:
        Path(store).mkdir(parents=True, exist_ok=True)
