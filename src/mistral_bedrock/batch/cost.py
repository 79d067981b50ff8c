"""What a batch input will cost: exact input tokens, an upper bound on output tokens, on-demand and batch prices.

* Input tokens are counted as the runtime counts a request's usage: a raw ``prompt`` tokenized as sent, a
  conversation rendered by mistral-common (:mod:`mistral_bedrock.prompt`). ``sample=N`` counts N evenly spread
  records and scales the total, and says so: exact counting runs at some thousands of records a second.
* Output tokens are bounded by each record's ``max_tokens`` (``inferenceConfig.maxTokens`` for Converse). Where a
  record leaves it unset, the model's maximum is reserved, as Bedrock's quota reserves it [D].
* Prices: on demand from the catalog (``ModelSpec.cost``), batch from its batch record (``ModelSpec.batch``; 50 % of
  on demand where the Price List shows it). Where the catalog has no batch price, the batch cost is None with the
  reason: never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..catalog import lookup
from ..errors import MistralBedrockError
from .invocation import InvocationType
from .records import InputRecord
from .validation import parse_model_input, request_input_tokens, requested_max_tokens

__all__ = ["Estimate", "estimate", "request_input_tokens", "requested_max_tokens"]


@dataclass(frozen=True)
class Estimate:
    """The cost of a batch input.

    Attributes:
        model_id: The model.
        invocation: The job's invocation type.
        records: Records read.
        counted: Valid records whose input tokens were counted (every valid one unless sampled).
        invalid: Records that the model's format refuses: Bedrock bills nothing for them, so they add no tokens and
            no cost; never among :attr:`counted`.
        input_tokens: Input tokens of the valid records: exact when :attr:`exact`, else scaled from the sample.
        output_tokens_max: Upper bound on output tokens: the sum of every valid record's max tokens.
        unset_max_tokens: Records without a max tokens of their own (the model's maximum is counted for them).
        on_demand_cost: USD at on-demand prices, for the input and the output bound.
        batch_cost: USD at the catalog's batch prices; None when the catalog has none.
        batch_note: The batch price's evidence, or why there is no batch cost.
        exact: Every record's input was counted.
        notes: What the figures rest on (sampling, reservations), for the user.
    """

    model_id: str
    invocation: InvocationType
    records: int
    counted: int
    invalid: int
    input_tokens: int
    output_tokens_max: int
    unset_max_tokens: int
    on_demand_cost: float
    batch_cost: float | None
    batch_note: str
    exact: bool
    notes: tuple[str, ...]

    @property
    def saving(self) -> float | None:
        """On demand minus batch, in USD; None without a batch price."""
        return None if self.batch_cost is None else self.on_demand_cost - self.batch_cost


class _Sampler:
    """Which valid records to count: every ``stride``-th record read. With a known total the stride is fixed at
    ``total // sample`` (so between N and 2N are counted); otherwise it doubles whenever twice the wanted sample is
    held, dropping the counts off the new stride. :meth:`chosen` then keeps exactly N of them, evenly spread, so the
    figure the note gives is the number of records the scaling rests on."""

    def __init__(self, sample: int, total: int | None) -> None:
        self.sample = sample
        self.stride = 1 if total is None else max(1, total // sample)
        self.adaptive = total is None
        self.counts: dict[int, int] = {}  # index → input tokens, valid records only

    def wants(self, index: int) -> bool:
        return index % self.stride == 0

    def keep(self, index: int, tokens: int) -> None:
        self.counts[index] = tokens
        if self.adaptive and len(self.counts) >= 2 * self.sample:
            self.stride *= 2
            self.counts = {i: n for i, n in self.counts.items() if i % self.stride == 0}

    def chosen(self) -> list[int]:
        """The counts of exactly ``min(sample, held)`` records, evenly spread over those held."""
        held = [self.counts[i] for i in sorted(self.counts)]
        if len(held) <= self.sample:
            return held
        return [held[k * len(held) // self.sample] for k in range(self.sample)]


def estimate(
    records: Iterable[InputRecord],
    *,
    model: str,
    invocation: InvocationType,
    sample: int | None = None,
    total: int | None = None,
) -> Estimate:
    """Estimate the cost of a batch input (streamed: memory stays flat, or O(sample)).

    Every record is parsed as the runtime parses it; one the model's format refuses is billed nothing, so it adds
    neither input nor output tokens (it is in :attr:`Estimate.invalid`, never in :attr:`Estimate.counted`).

    Args:
        records: The input's records.
        model: A model id, ARN, inference profile or alias.
        invocation: The job's invocation type.
        sample: Count the input tokens of exactly this many evenly spread valid records (all of them when there are
            fewer) and scale to every valid record; None counts every record.
        total: The number of records, when known (a sequence's length is used otherwise): the sample's stride is
            then fixed, so fewer records are tokenized on the way.

    Raises:
        ValidationException: The catalog does not know the model.
        ValueError: ``sample`` is not positive.
    """
    if sample is not None and sample < 1:
        raise ValueError("sample must be at least 1")
    spec = lookup(model)
    invocation = InvocationType(invocation)
    if total is None and sample is not None and hasattr(records, "__len__"):
        total = len(records)  # type: ignore[arg-type]
    sampler = _Sampler(sample, total) if sample is not None else None
    seen = invalid = output_max = unset = exact_input = 0
    for record in records:
        index = seen
        seen += 1
        try:
            request = parse_model_input(spec, invocation, record.model_input)
        except MistralBedrockError:
            invalid += 1
            continue
        requested = requested_max_tokens(invocation, record.model_input)
        if requested is None:
            unset += 1
            requested = spec.max_output
        output_max += requested
        if sampler is None:
            exact_input += request_input_tokens(request)
        elif sampler.wants(index):
            sampler.keep(index, request_input_tokens(request))
    valid = seen - invalid
    notes: list[str] = []
    if sampler is None:
        counted = valid
        input_tokens = exact_input
    else:
        chosen = sampler.chosen()
        counted = len(chosen)
        input_tokens = round(sum(chosen) / counted * valid) if counted else 0
        if counted < valid:
            notes.append(
                f"input tokens counted on {counted} of {valid} valid records, evenly spread, and scaled to all of them"
            )
    exact = counted == valid
    if unset:
        notes.append(
            f"{_records(unset)} no max tokens of {'its' if unset == 1 else 'their'} own: the model's maximum "
            f"({spec.max_output}) is counted for each, as Bedrock reserves it [D]"
        )
    if invalid:
        notes.append(
            f"{_records(invalid, 'is', 'are')} refused by the model's format: Bedrock bills nothing for "
            f"{'it' if invalid == 1 else 'them'}, so neither {'its' if invalid == 1 else 'their'} input nor "
            f"{'its' if invalid == 1 else 'their'} max tokens is counted"
        )
    on_demand = spec.cost(input_tokens, output_max)
    if spec.batch is not None:
        batch_cost: float | None = spec.batch.cost(input_tokens, output_max)
        batch_note = spec.batch.evidence
    else:
        batch_cost = None
        batch_note = (
            f"no batch price for {spec.model_id} in the catalog (its batch support is unverified): not guessed; "
            "Bedrock's batch price is 50 % of on demand for the models it lists [D]"
        )
    return Estimate(
        model_id=spec.model_id,
        invocation=invocation,
        records=seen,
        counted=counted,
        invalid=invalid,
        input_tokens=input_tokens,
        output_tokens_max=output_max,
        unset_max_tokens=unset,
        on_demand_cost=on_demand,
        batch_cost=batch_cost,
        batch_note=batch_note,
        exact=exact,
        notes=tuple(notes),
    )


def _records(n: int, singular: str = "sets", plural: str = "set") -> str:
    """``1 record sets`` / ``3 records set``: a count with its noun and verb agreed."""
    return f"1 record {singular}" if n == 1 else f"{n:,} records {plural}"
