"""llama.cpp in process: a GGUF model behind the runtime, fed mistral-common's token ids.

The prompt goes in as ids, never as text. Text would be tokenized again by llama.cpp, which reads control strings
typed by a user (``[INST]``, ``</s>``) as control tokens — prompt injection, measured on v3 and Tekken vocabularies
— and a GGUF's own chat template is not Mistral's. Ids are what Bedrock's own Mistral deployment reads, so the
model sees exactly the prompt it would see there.

llama.cpp's sampler chain adds extras of its own by default (top-k 40, top-p 0.95, min-p 0.05, repetition
penalties); every one of them is neutralised here, so greedy output is the model's argmax and sampling uses only
what the request asked for. Each generation evaluates its prompt from scratch (no KV-cache prefix reuse between
requests), so the same request gives the same ids whatever was generated before it.

``llama_cpp`` (the ``llamacpp`` extra) is imported by the constructor, not by this module: importing the package
costs nothing without it. It is untyped at this boundary (``Any``); what crosses it is plain ints and strings.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ...errors import ValidationException
from .token_backend import GenerationSettings, Vocabulary

__all__ = ["LlamaCppBackend", "default_threads"]

#: The first four bytes of every GGUF file.
_GGUF_MAGIC = b"GGUF"
_INSTALL_HINT = "pip install 'mistral-bedrock[llamacpp]'"
# llama.cpp seeds are 32-bit; this value asks it for a random seed.
_RANDOM_SEED = 0xFFFFFFFF


def default_threads() -> int:
    """Threads for llama.cpp when none are given: the CPUs this process may use, less one.

    The spare core is for the runtime: with every core given to llama.cpp, its spin-waiting OpenMP threads were
    descheduled whenever the server or a client ran, and generation behind the runtime got 1.5 times slower than with
    one thread fewer (measured on two cores).
    """
    try:
        cpus = len(os.sched_getaffinity(0))  # respects CPU sets (containers, taskset)
    except AttributeError:  # not on every platform
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


def _check_gguf(path: Path) -> None:
    """Fail with the path in the message before llama.cpp does, whose own errors are printed to a silenced stderr."""
    try:
        with path.open("rb") as file:
            magic = file.read(len(_GGUF_MAGIC))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such GGUF model file") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read the model file ({error.strerror or error})") from error
    if magic != _GGUF_MAGIC:
        raise ValueError(f"{path}: not a GGUF model file (llama.cpp reads GGUF only; convert the model first)")


def _import_llama_cpp() -> Any:
    # importlib rather than ``import llama_cpp``: the type checker then needs neither the extra nor its stubs.
    try:
        return importlib.import_module("llama_cpp")
    except ImportError as error:
        raise ImportError(f"The llamacpp engine needs llama-cpp-python: {_INSTALL_HINT}") from error


class LlamaCppBackend:
    """A GGUF model run by llama.cpp (llama-cpp-python) in this process: a :class:`~.token_backend.TokenBackend`.

    One llama.cpp context holds one sequence, so :attr:`concurrency` is 1: the engine runs one :meth:`generate`
    at a time.

    Args:
        path: The ``.gguf`` file.
        threads: llama.cpp's threads, for prompt evaluation and generation alike. None: :func:`default_threads`.
        context: The context size in tokens (prompt and output together), which llama.cpp rounds up to a
            multiple of 256. None: the size the model was trained with (``<arch>.context_length`` in the GGUF);
            its KV cache is allocated up front, so a smaller value saves memory on models with long contexts.

    Raises:
        ValueError: The file is missing, unreadable or not a GGUF, llama.cpp cannot load it, or ``threads`` or
            ``context`` is not positive.
        ImportError: llama-cpp-python is not installed.

    Attributes:
        name: ``llamacpp:PATH``.
        concurrency: 1.
        path: The model file.
        threads: The threads llama.cpp uses.
        context: The context size, in tokens, as llama.cpp allocated it.
    """

    concurrency = 1

    def __init__(self, path: str, *, threads: int | None = None, context: int | None = None) -> None:
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, not {threads}")
        if context is not None and context < 1:
            raise ValueError(f"context must be at least 1 token, not {context}")
        self.path = Path(path)
        _check_gguf(self.path)
        self._lib = _import_llama_cpp()
        self.name = f"llamacpp:{path}"
        self.threads = threads or default_threads()
        try:
            self._llama: Any = self._lib.Llama(
                model_path=str(self.path),
                n_threads=self.threads,
                n_threads_batch=self.threads,  # llama-cpp-python would take every core for prompts
                n_ctx=context or 0,  # 0: the model's training context
                logits_all=False,  # logits of the last position only: sampling needs no more
                verbose=False,
            )
        except ValueError as error:
            raise ValueError(f"{self.path}: llama.cpp could not load the model ({error})") from error
        self.context: int = self._llama.n_ctx()
        # Each step of a generation holds it, and close() too: the model is never freed under a running step.
        self._lock = threading.Lock()
        self._vocabulary: Vocabulary | None = None

    def vocabulary(self) -> Vocabulary:
        """The GGUF's vocabulary: its size, and the text of every control token (``<s>``, ``[INST]``…) by id.

        Control tokens are those llama.cpp marks as such, which for a GGUF converted from Mistral's tokenizer
        files are exactly mistral-common's special ids. Read once, then cached.
        """
        if self._vocabulary is None:
            with self._lock:
                lib = self._lib
                vocab = lib.llama_model_get_vocab(self._open().model)
                size = int(lib.llama_vocab_n_tokens(vocab))
                control = int(lib.LLAMA_TOKEN_ATTR_CONTROL)
                pieces = {
                    token: bytes(lib.llama_vocab_get_text(vocab, token)).decode("utf-8", errors="replace")
                    for token in range(size)
                    if int(lib.llama_vocab_get_attr(vocab, token)) & control
                }
            self._vocabulary = Vocabulary(size=size, pieces=pieces)
        return self._vocabulary

    def generate(
        self, prompt_ids: Sequence[int], settings: GenerationSettings, cancelled: threading.Event
    ) -> Iterator[int]:
        """Yield ids after ``prompt_ids`` until ``settings.max_tokens``, a stop id (yielded last), or ``cancelled``.

        Temperature None or 0 is greedy: the argmax of the model's logits. Otherwise only the request's own top-k
        and top-p apply; ``settings.seed`` makes the draw repeatable (None: a random seed).

        The prompt must leave room in the context. Output that would run past the context ends where it does
        (the runtime has already fitted ``max_tokens`` to the catalog's window; this bites only when the model was
        loaded with a smaller context than the catalog's).

        Raises:
            ValidationException: The prompt fills the context.
            ValueError: The prompt is empty (llama.cpp has nothing to continue).
        """
        prompt = [int(token) for token in prompt_ids]
        if not prompt:
            raise ValueError("llama.cpp cannot continue an empty prompt (it needs at least <s>)")
        room = self.context - len(prompt)
        if room <= 0:
            raise ValidationException(
                f"Input is too long for requested model. (The prompt's {len(prompt)} tokens fill the "
                f"{self.context}-token context {self.name} was loaded with.)"
            )
        limit = min(settings.max_tokens, room)
        greedy = settings.temperature is None or settings.temperature <= 0
        with self._lock:
            llama = self._open()
            llama.reset()  # evaluate from scratch: no prefix reuse, so the output never depends on the last request
            llama.set_seed(_RANDOM_SEED if settings.seed is None else settings.seed % _RANDOM_SEED)
            stream = llama.generate(
                prompt,
                temp=0.0 if greedy else settings.temperature,
                top_k=settings.top_k if settings.top_k is not None else 0,  # 0: no top-k
                top_p=settings.top_p if settings.top_p is not None else 1.0,
                min_p=0.0,
                typical_p=1.0,
                repeat_penalty=1.0,
                frequency_penalty=0.0,
                presence_penalty=0.0,
                mirostat_mode=0,
                reset=True,
            )
        try:
            produced = 0
            # Checked before each step: a cancelled request costs at most the step already running.
            while produced < limit and not cancelled.is_set():
                with self._lock:
                    self._open()
                    token = int(next(stream))
                produced += 1
                yield token
                if token in settings.stop_ids:
                    return
        finally:
            stream.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` freed the model."""
        return self._llama is None

    def close(self) -> None:
        """Free the model and its context; waits for a generation step in progress. Safe to call twice."""
        with self._lock:
            llama, self._llama = self._llama, None
            if llama is not None:
                llama.close()

    def _open(self) -> Any:
        if self._llama is None:
            raise RuntimeError(f"{self.name} is closed")
        return self._llama
