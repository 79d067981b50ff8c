"""A STAND-IN model for the engine tests: a :class:`TokenBackend` that answers with ids a test scripts.

Random-weight models never call tools or end on cue, so the engine's reading of ids — ``[TOOL_CALLS]``, ``</s>``,
stop sequences, ``max_tokens`` — is tested with ids chosen by the test. Everything else about a real backend
(threads, cancellation) behaves as the real ones do.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from mistral_bedrock.catalog import lookup
from mistral_bedrock.engines.local import GenerationSettings, Vocabulary
from mistral_bedrock.prompt import encode_text
from mistral_bedrock.prompt.tokenizers import tokenizer_info


class ScriptedIds:
    """Yields ``ids`` (then stops), recording what it was asked; ``vocab`` names the tokenizer it claims."""

    concurrency = 1

    def __init__(
        self,
        ids: Sequence[int],
        *,
        vocab_model: str = "mistral-7b",
        fail_after: int | None = None,
        pause_after: int | None = None,
    ) -> None:
        self.name = "scripted-ids"
        self.ids = list(ids)
        self.fail_after = fail_after
        # After this many ids the model waits until the engine cancels it: what a test of cancellation needs
        # (a real model is slower than its reader; this one would otherwise finish before any cancel).
        self.pause_after = pause_after
        self.calls: list[tuple[tuple[int, ...], GenerationSettings]] = []
        self.yielded = 0
        self.cancel_seen = threading.Event()  # the generation was stopped before its end
        self.closed = False
        info = tokenizer_info(lookup(vocab_model))
        self._vocabulary = Vocabulary(info.raw.n_words, {i: info.raw.id_to_piece(i) for i in info.control_ids})

    def vocabulary(self) -> Vocabulary:
        return self._vocabulary

    def generate(
        self, prompt_ids: Sequence[int], settings: GenerationSettings, cancelled: threading.Event
    ) -> Iterator[int | str]:
        self.calls.append((tuple(prompt_ids), settings))
        finished = False
        try:
            for index, token in enumerate(self.ids[: settings.max_tokens]):
                if index == self.pause_after:
                    cancelled.wait(timeout=30)
                if cancelled.is_set():
                    return
                if self.fail_after is not None and index == self.fail_after:
                    raise RuntimeError("the model ran out of memory")
                self.yielded += 1
                yield token
                if token in settings.stop_ids:
                    break
            finished = True
        finally:
            if not finished:  # cancelled, or closed by the engine before its end
                self.cancel_seen.set()

    def close(self) -> None:
        self.closed = True


def ids_of(text: str, model: str = "mistral-7b") -> list[int]:
    """The ids a model emits for ``text`` after a prompt: its first word starts a word (``▁My``), no BOS."""
    return list(encode_text(" " + text, lookup(model)))
