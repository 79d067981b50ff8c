"""What a real model must do to answer behind the runtime: continue a prompt of token ids, one id at a time.

A :class:`TokenBackend` is the model itself — llama.cpp in process, a Hugging Face checkpoint, or a server that
takes token ids. It never sees a chat template, a dialect or HTTP: :class:`~.local_engine.LocalEngine` renders
the prompt with mistral-common (the ids Bedrock's own Mistral deployment reads), hands the ids over, and turns
what comes back into text deltas, tool calls, stop reasons and usage, the same way for every backend.

:meth:`TokenBackend.generate` runs in a worker thread, never on the event loop, and one call at a time per
backend unless the backend says it can take more (:attr:`TokenBackend.concurrency`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["GenerationSettings", "TokenBackend", "Vocabulary"]


@dataclass(frozen=True)
class GenerationSettings:
    """How to sample, as the request asked (None: the backend's neutral choice, never its own extras).

    Attributes:
        max_tokens: The most ids to generate; the backend may stop earlier only at its end-of-sequence id.
        temperature: 0 is greedy.
        top_p: Nucleus mass.
        top_k: Candidates kept.
        seed: For repeatable sampling.
        stop_ids: Ids that end generation (the tokenizer's ``</s>``); the id that stopped it is yielded last.
    """

    max_tokens: int
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    stop_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Vocabulary:
    """What a backend's model says its vocabulary is, for the check against the catalog's tokenizer at load.

    Attributes:
        size: The number of ids.
        pieces: Id → token text, for the ids the check compares (the control tokens at least: ``<s>``, ``</s>``,
            ``[INST]``…). An empty mapping: the backend cannot say (an upstream server), and only ``size`` is checked,
            when known.
    """

    size: int | None
    pieces: dict[int, str]


@runtime_checkable
class TokenBackend(Protocol):
    """A model that continues token ids. Implementations: llama.cpp, transformers, upstream servers."""

    #: What the runtime's logs and the journal call it (``llamacpp:tiny.gguf``).
    name: str
    #: How many :meth:`generate` calls may run at once (1: one sequence per model context; a server: more).
    concurrency: int

    def vocabulary(self) -> Vocabulary:
        """The model's own vocabulary, for :func:`~.vocabulary.check_vocabulary`."""
        ...

    def generate(
        self, prompt_ids: Sequence[int], settings: GenerationSettings, cancelled: threading.Event
    ) -> Iterator[int | str]:
        """Yield generated ids, one at a time, until ``settings.max_tokens``, a stop id, or ``cancelled`` is set.

        A text-only upstream (one that takes and returns text, such as Ollama with ``raw``) yields text pieces
        instead; the engine counts them with the model's tokenizer.

        Runs in a worker thread. Raising :class:`~mistral_bedrock.errors.BedrockError` fails the request with that
        error (before its first id: an HTTP error; after: an in-stream exception); any other exception is the
        backend's failure and becomes a ``ModelErrorException``.
        """
        ...

    def close(self) -> None:
        """Free the model (join threads, release contexts and connections). Called once, at shutdown."""
        ...
