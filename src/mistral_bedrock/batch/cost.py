"""What a batch input will cost: exact input tokens, an upper bound on output tokens, on-demand and batch prices.

* Input tokens are counted as the runtime counts a request's usage: a raw ``prompt`` tokenized as sent, a
  conversation rendered by mistral-common (:mod:`mistral_bedrock.prompt`). ``sample=N`` counts about N evenly spread
  records and scales the total, and says so: exact counting runs at some thousands of records a second.
* Output tokens are bounded by each record's ``max_tokens`` (``inferenceConfig.maxTokens`` for Converse). Where a
  record leaves it unset, the model's maximum is reserved, as Bedrock's quota reserves it [D].
* Prices: on demand from the catalog (``ModelSpec.cost``), batch from its batch record (``ModelSpec.batch``; 50 % of
  on demand where the Price List shows it). Where the catalog has no batch price, the batch cost is None with the
  reason: never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..catalog import lookup
from ..errors import MistralBedrockError
from ..formats import ParsedRequest
from ..prompt import count_prompt_tokens
from ..prompt.input_tokens import count_input_tokens
from .invocation import InvocationType
from .records import InputRecord
from .validation import parse_model_input

__all__ = ["Estimate", "estimate", "request_input_tokens", "requested_max_tokens"]


@dataclass(frozen=True)
class Estimate:
    """The cost of a batch input.

    Attributes:
        model_id: The model.
        invocation: The job's invocation type.
        records: Records read.
        counted: Records whose input tokens were counted (all of them unless sampled; invalid ones not).
        invalid: Counted records that the model's format refuses (Bedrock bills nothing for them; not counted).
        input_tokens: Input tokens: exact when :attr:`exact`, else scaled from the sample.
        output_tokens_max: Upper bound on output tokens: the sum of every record's max tokens.
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


def request_input_tokens(request: ParsedRequest) -> int:
    """The input tokens of a parsed request, as the runtime reports them: a raw prompt tokenized as sent, a
    conversation (with its tools) rendered by mistral-common."""
    if request.prompt is not None:
        return count_prompt_tokens(request.prompt, request.spec)
    return count_input_tokens(request.messages, request.spec, request.tools)


def requested_max_tokens(invocation: InvocationType, body: Mapping[str, Any]) -> int | None:
    """A record's own max tokens (``max_tokens``, or Converse's ``inferenceConfig.maxTokens``), None when unset."""
    if invocation is InvocationType.CONVERSE:
        config = body.get("inferenceConfig")
        value = config.get("maxTokens") if isinstance(config, Mapping) else None
    else:
        value = body.get("max_tokens")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


class _Sampler:
    """Which records to count: every ``stride``-th one. With a known total the stride is fixed; otherwise it doubles
    whenever twice the wanted sample is held, dropping the counts off the new stride (so about N to 2N stay)."""

    def __init__(self, sample: int | None, total: int | None) -> None:
        self.sample = sample
        self.stride = 1 if sample is None or total is None else max(1, math.ceil(total / sample))
        self.adaptive = sample is not None and total is None
        self.counts: dict[int, int] = {}  # index → input tokens (sampled mode only)
        self.exact_total = 0
        self.invalid: set[int] = set()

    def wants(self, index: int) -> bool:
        return index % self.stride == 0

    def keep(self, index: int, tokens: int | None) -> None:
        if self.sample is None:
            if tokens is None:
                self.invalid.add(index)
            else:
                self.exact_total += tokens
            return
        if tokens is None:
            self.invalid.add(index)
            tokens = -1
        self.counts[index] = tokens
        if self.adaptive and len(self.counts) >= 2 * self.sample:
            self.stride *= 2
            self.counts = {i: n for i, n in self.counts.items() if i % self.stride == 0}
            self.invalid = {i for i in self.invalid if i % self.stride == 0}


def estimate(
    records: Iterable[InputRecord],
    *,
    model: str,
    invocation: InvocationType,
    sample: int | None = None,
    total: int | None = None,
) -> Estimate:
    """Estimate the cost of a batch input (streamed: memory stays flat, or O(sample)).

    Args:
        records: The input's records.
        model: A model id, ARN, inference profile or alias.
        invocation: The job's invocation type.
        sample: Count about this many evenly spread records and scale; None counts every record.
        total: The number of records, when known (a sequence's length is used otherwise): the sample's stride is
            then fixed, so exactly ``ceil(total / stride)`` records are counted.

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
    sampler = _Sampler(sample, total)
    seen = output_max = unset = 0
    for record in records:
        index = seen
        seen += 1
        requested = requested_max_tokens(invocation, record.model_input)
        if requested is None:
            unset += 1
            requested = spec.max_output
        output_max += requested
        if sampler.wants(index):
            try:
                tokens: int | None = request_input_tokens(parse_model_input(spec, invocation, record.model_input))
            except MistralBedrockError:
                tokens = None
            sampler.keep(index, tokens)
    notes: list[str] = []
    if sample is None:
        counted = seen - len(sampler.invalid)
        input_tokens = sampler.exact_total
    else:
        valid = [n for n in sampler.counts.values() if n >= 0]
        counted = len(valid)
        per_record = sum(valid) / counted if counted else 0.0
        valid_share = counted / len(sampler.counts) if sampler.counts else 0.0
        input_tokens = round(per_record * seen * valid_share)
        notes.append(
            f"input tokens counted on {counted} of {seen} records (1 in {sampler.stride}) and scaled to all of them"
        )
    exact = sample is None or counted + len(sampler.invalid) >= seen
    if unset:
        notes.append(
            f"{unset} records set no max tokens: the model's maximum ({spec.max_output}) is counted for each, as "
            "Bedrock reserves it [D]"
        )
    if sampler.invalid:
        notes.append(f"{len(sampler.invalid)} counted records are refused by the model's format: not counted")
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
        invalid=len(sampler.invalid),
        input_tokens=input_tokens,
        output_tokens_max=output_max,
        unset_max_tokens=unset,
        on_demand_cost=on_demand,
        batch_cost=batch_cost,
        batch_note=batch_note,
        exact=exact,
        notes=tuple(notes),
    )
