"""The shape of a catalog entry: frozen values, no behaviour beyond small lookups."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["BatchSpec", "ConverseFeatures", "Dialect", "ModelSpec", "ParamSpec"]


class Dialect(str, enum.Enum):
    """A request/response body dialect, one format module each."""

    TEXT = "text"  # {"prompt": …} → {"outputs": [{"text", "stop_reason"}]}
    CHAT = "chat"  # Mistral's chat completion: {"messages": …} → {"choices": [{"message", "stop_reason"}]}
    CHAT_OPENAI = "chat-openai"  # OpenAI-style chat (Pixtral and newer): finish_reason, usage, delta streams
    CONVERSE = "converse"  # the Bedrock Converse API


@dataclass(frozen=True)
class ParamSpec:
    """Default and inclusive range of one inference parameter. ``default=None``: unset/disabled."""

    default: float | int | None
    minimum: float | int
    maximum: float | int


@dataclass(frozen=True)
class ConverseFeatures:
    """What Converse accepts for a model (AWS "supported models and model features" table)."""

    system: bool
    tools: bool
    tool_choice: frozenset[str]  # subset of {"auto", "any", "tool"}
    streaming_tools: bool
    documents: bool
    images: bool
    audio: bool = False


@dataclass(frozen=True)
class BatchSpec:
    """What is known of a model's Bedrock batch inference (CreateModelInvocationJob).

    A model whose :attr:`ModelSpec.batch` is None is *unknown*: nothing read confirms or rules out batch support.

    Attributes:
        price_input: USD per 1,000 input tokens at the batch price.
        price_output: USD per 1,000 output tokens at the batch price.
        invocation_types: The ``modelInvocationType`` values a job may use (``InvokeModel``, ``Converse``).
        verified: How support was established: ``"price-list"`` (AWS Price List batch rows), ``"probe"`` (a
            CreateModelInvocationJob probe), ``"doc"`` (the user guide's table), or None (not verified).
        evidence: The grade and source, as in :attr:`ModelSpec.evidence`.
    """

    price_input: float
    price_output: float
    invocation_types: frozenset[str]
    verified: str | None
    evidence: str

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """Batch cost in USD."""
        return (input_tokens * self.price_input + output_tokens * self.price_output) / 1000


@dataclass(frozen=True)
class ModelSpec:
    """One Mistral model on Bedrock.

    Attributes:
        model_id: The foundation-model id, e.g. ``mistral.mistral-7b-instruct-v0:2``.
        name: Human name.
        aliases: Short names that resolve to this model.
        dialects: Native InvokeModel dialects accepted, the preferred one first. Converse is always accepted.
        tokenizer: The mistral-common tokenizer (``v1``, ``v2``, ``v3``, ``v7``, ``v7-mm``, ``v3-tekken``).
        tokenizer_exact: False where the model's own tokenizer does not ship with mistral-common and the
            nearest shipped one stands in (counts are then estimates).
        context_window: Tokens of context.
        max_output: Largest ``max_tokens`` accepted.
        params: Native parameter defaults and ranges, keyed by the native body's key.
        max_stop: Most stop sequences accepted in a native text body.
        converse: Converse feature flags.
        price_input: USD per 1,000 input tokens, on demand.
        price_output: USD per 1,000 output tokens, on demand.
        regions: Regions that serve the model on demand under its plain id ("In-Region").
        profiles: Cross-region inference profiles: geography prefix (``us``, ``eu``…) → the source Regions
            from which that profile may be called. Empty for every model that has none.
        evidence: Each field's evidence grade and source (``"[D] AWS model card"``), keyed by field name;
            ``price`` covers both prices. Grades as in the wire spec: [D] AWS documentation, [D~] AWS text
            through a copy, [R] real traffic, [S] third-party data, [I] inference.
        released: Release tag, used to order "newest" aliases.
        batch: Batch inference support and prices; None where unknown.
    """

    model_id: str
    name: str
    aliases: tuple[str, ...]
    dialects: tuple[Dialect, ...]
    tokenizer: str
    tokenizer_exact: bool
    context_window: int
    max_output: int
    params: Mapping[str, ParamSpec]
    max_stop: int
    converse: ConverseFeatures
    price_input: float
    price_output: float
    regions: frozenset[str]
    profiles: Mapping[str, frozenset[str]]
    evidence: Mapping[str, str]
    released: str = ""
    batch: BatchSpec | None = None

    @property
    def requires_profile(self) -> bool:
        """Served only through inference profiles: no Region serves the plain id on demand."""
        return not self.regions and bool(self.profiles)

    def served_in(self, region: str, profile: str | None) -> bool:
        """Whether a call signed for ``region`` reaches this model, by plain id (``profile=None``) or profile."""
        if profile is None:
            return region in self.regions
        return region in self.profiles.get(profile, frozenset())

    def profile_for(self, region: str) -> str | None:
        """The geography whose inference profile serves this model from ``region``, if any."""
        return next((geo for geo, sources in sorted(self.profiles.items()) if region in sources), None)

    @property
    def native_dialect(self) -> Dialect:
        """The dialect a client should speak over InvokeModel by default."""
        return self.dialects[0]

    @property
    def has_text_body(self) -> bool:
        """Whether the model takes the text-completion body (``prompt`` → ``outputs``) over InvokeModel."""
        return Dialect.TEXT in self.dialects

    def accepts(self, dialect: Dialect) -> bool:
        return dialect is Dialect.CONVERSE or dialect in self.dialects

    def default(self, param: str) -> float | int | None:
        spec = self.params.get(param)
        return spec.default if spec else None

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """On-demand cost in USD."""
        return (input_tokens * self.price_input + output_tokens * self.price_output) / 1000
