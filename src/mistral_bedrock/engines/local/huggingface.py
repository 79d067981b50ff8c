"""A Hugging Face checkpoint as a :class:`~.token_backend.TokenBackend`: ``transformers`` in process, on the CPU.

The model reads mistral-common's ids as they are (``model.generate(input_ids=…)``): no chat template, no
Hugging Face tokenizer, so it sees exactly the ids Bedrock's own deployment reads. Ids come back one at a time
through a streamer that puts them into a queue; :meth:`TransformersBackend.generate` yields from that queue.

Why a thread of its own: ``model.generate`` only returns at the end, so it runs in a thread the backend starts,
and the engine's worker thread (the one iterating :meth:`~TransformersBackend.generate`) waits on the queue. A
``StoppingCriteria`` reads the request's ``cancelled`` flag and a private stop flag, which is how generation ends
early (a stop sequence, a client gone, a consumer that stops iterating). That thread is always joined before
:meth:`~TransformersBackend.generate` returns or raises: a generate thread still running when the interpreter exits
aborted the process ("terminate called without an active exception").

Ids, never text: ``TextIteratorStreamer`` decodes with the Hugging Face tokenizer, which returns SentencePiece
markers (``▁Hello▁world``) for Mistral's v1 and v3 vocabularies; the engine decodes with mistral-common instead.

torch and transformers are optional (``pip install 'mistral-bedrock[transformers]'``; torch is not pinned by the
project, so the build for the machine — CPU or CUDA — is the user's choice). They are imported when a backend is
built, through :func:`importlib.import_module`, so that they are :data:`~typing.Any` here: mypy does not type-check
against their partial annotations, and works whether they are installed or not.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import queue
import threading
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

from .token_backend import GenerationSettings, Vocabulary

__all__ = ["TransformersBackend"]

#: The name of the threads that run ``model.generate`` (tests look for leftovers by it).
GENERATE_THREAD_NAME = "transformers-generate"

_INSTALL_HINT = (
    "pip install 'mistral-bedrock[transformers]' (and a torch build for this machine: the project does not pin torch)"
)

_DTYPES = ("auto", "float32", "float16", "bfloat16")


class _Done:
    """Queued by the generate thread when it ends; carries its exception, if any."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class _QueueStreamer:
    """Receives ids from ``model.generate``: first the whole prompt (skipped), then each new id.

    It has ``BaseStreamer``'s two methods; transformers only calls them (it never checks the class), and a plain
    class keeps torch's and transformers' types out of this module. The end of generation is signalled by the
    thread itself, not by :meth:`end`, because ``generate`` does not call ``end`` when it raises.
    """

    def __init__(self, ids: queue.SimpleQueue[int | _Done]) -> None:
        self._ids = ids
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        for token_id in value.reshape(-1).tolist():
            self._ids.put(int(token_id))

    def end(self) -> None:
        pass


class _FlagCriteria:
    """A ``StoppingCriteria`` that ends generation as soon as any of its flags is set (checked after every id)."""

    def __init__(self, torch: Any, *flags: threading.Event) -> None:
        self._torch = torch
        self._flags = flags

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        done = any(flag.is_set() for flag in self._flags)
        return self._torch.full((input_ids.shape[0],), done, dtype=self._torch.bool, device=input_ids.device)


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"The transformers backend needs {module}, which cannot be imported ({exc}): {_INSTALL_HINT}"
        ) from exc


def _tokenizer_pieces(directory: Path) -> dict[int, str]:
    """Id → piece of the special (control) ids, from the tokenizer file the checkpoint ships, if any.

    Mistral's own files first (``tekken.json``, ``tokenizer.model.v3``…, read with mistral-common, as the engine
    does), then Hugging Face's ``tokenizer.json`` and ``tokenizer_config.json`` (their special added tokens).
    """
    from mistral_common.tokens.tokenizers.sentencepiece import SentencePieceTokenizer
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    tekken = directory / "tekken.json"
    if tekken.is_file():
        tokenizer: Any = Tekkenizer.from_file(tekken)
        return {token_id: tokenizer.id_to_piece(token_id) for token_id in sorted(tokenizer.special_ids)}
    sentencepiece = sorted(directory.glob("tokenizer.model*"))
    if sentencepiece:
        tokenizer = SentencePieceTokenizer(sentencepiece[-1])
        return {token_id: tokenizer.id_to_piece(token_id) for token_id in sorted(tokenizer.special_ids)}
    hf_tokenizer = directory / "tokenizer.json"
    if hf_tokenizer.is_file():
        added = json.loads(hf_tokenizer.read_text(encoding="utf-8")).get("added_tokens") or []
        return {int(token["id"]): str(token["content"]) for token in added if token.get("special")}
    hf_config = directory / "tokenizer_config.json"
    if hf_config.is_file():
        decoder = json.loads(hf_config.read_text(encoding="utf-8")).get("added_tokens_decoder") or {}
        return {int(key): str(token["content"]) for key, token in decoder.items() if token.get("special")}
    return {}


class TransformersBackend:
    """A Hugging Face causal-LM checkpoint, loaded with ``AutoModelForCausalLM`` from a local directory.

    Args:
        directory: The checkpoint (``config.json`` and weights); nothing is downloaded.
        threads: torch's intra-op threads (process-wide in torch). None: the cores less one, leaving one for the
            event loop.
        dtype: ``"float32"``, ``"bfloat16"``, ``"float16"`` or ``"auto"`` (the checkpoint's). None: transformers'
            default.

    Raises:
        ValueError: If ``directory`` is missing or is not a checkpoint transformers can load, or ``dtype`` is unknown.
        ImportError: If torch or transformers is not installed.

    Attributes:
        name: ``transformers:DIRECTORY``.
        concurrency: 1 — one model, one sequence at a time (batching requests is not implemented).
    """

    concurrency = 1

    def __init__(self, directory: str, *, threads: int | None = None, dtype: str | None = None) -> None:
        self.name = f"transformers:{directory}"
        self._directory = Path(directory)
        if not self._directory.is_dir():
            raise ValueError(f"No Hugging Face checkpoint at {directory!r}: not a directory")
        if not (self._directory / "config.json").is_file():
            raise ValueError(f"{directory!r} is not a Hugging Face checkpoint: it has no config.json")
        if dtype is not None and dtype not in _DTYPES:
            raise ValueError(f"Unknown dtype {dtype!r} for {directory!r}; expected one of {', '.join(_DTYPES)}")
        torch = _import("torch")
        transformers = _import("transformers")
        self._torch = torch
        self._threads = threads or max(1, (os.cpu_count() or 1) - 1)
        torch.set_num_threads(self._threads)
        options: dict[str, Any] = {"local_files_only": True}
        if dtype is not None:
            # transformers 4.56 renamed torch_dtype to dtype (the old name is deprecated in 5).
            release = tuple(int(part) for part in transformers.__version__.split(".")[:2] if part.isdigit())
            options["dtype" if release >= (4, 56) else "torch_dtype"] = (
                dtype if dtype == "auto" else getattr(torch, dtype)
            )
        try:
            model = transformers.AutoModelForCausalLM.from_pretrained(str(self._directory), **options)
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"Cannot load the Hugging Face checkpoint {directory!r}: {exc}") from exc
        model.eval()
        model.requires_grad_(False)
        # Only the request's settings apply: the checkpoint's generation_config.json (a temperature, a top_p, its
        # own EOS ids) would otherwise fill every setting the request leaves unset.
        model.generation_config = transformers.GenerationConfig()
        self._model: Any = model
        self._stopping_list: Any = transformers.StoppingCriteriaList
        self._vocabulary: Vocabulary | None = None
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._threads_running: set[threading.Thread] = set()

    def vocabulary(self) -> Vocabulary:
        """The size from the model's config; the control pieces from the checkpoint's tokenizer file, if it has one."""
        if self._vocabulary is None:
            config = self._live_model().config
            text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
            size = getattr(text_config, "vocab_size", None)
            self._vocabulary = Vocabulary(
                size=int(size) if size is not None else None, pieces=_tokenizer_pieces(self._directory)
            )
        return self._vocabulary

    def generate(
        self, prompt_ids: Sequence[int], settings: GenerationSettings, cancelled: threading.Event
    ) -> Generator[int, None, None]:
        """Yield the ids ``model.generate`` produces, from its own thread, until it ends or ``cancelled`` is set.

        Once ``cancelled`` is set (or :meth:`close` called) nothing more is yielded, even ids already produced.
        Stopping the iteration early (closing the generator) stops generation too; either way the thread is joined
        before this returns.

        Raises:
            ValueError: If ``prompt_ids`` is empty (the engine always sends at least ``<s>``).
            RuntimeError: After :meth:`close`.
            Exception: Whatever ``model.generate`` raised, re-raised here.
        """
        model = self._live_model()
        if not prompt_ids:
            raise ValueError("The transformers backend needs at least one prompt id")
        if settings.max_tokens <= 0:
            return
        ids: queue.SimpleQueue[int | _Done] = queue.SimpleQueue()
        stop = threading.Event()
        thread = threading.Thread(
            target=self._run,
            args=(model, list(prompt_ids), settings, ids, (cancelled, stop, self._closing)),
            name=GENERATE_THREAD_NAME,
        )
        with self._lock:
            self._threads_running.add(thread)
        try:
            thread.start()
            while True:
                item = ids.get()
                if isinstance(item, _Done):
                    if item.error is not None:
                        raise item.error
                    return
                if cancelled.is_set() or self._closing.is_set():
                    return
                yield item
        finally:
            stop.set()
            thread.join()
            with self._lock:
                self._threads_running.discard(thread)

    def close(self) -> None:
        """Stop any generation still running, join its thread and drop the model."""
        self._closing.set()
        with self._lock:
            running = list(self._threads_running)
        for thread in running:
            if thread.is_alive():
                thread.join()
        self._model = None

    def _live_model(self) -> Any:
        if self._model is None:
            raise RuntimeError(f"{self.name} is closed")
        return self._model

    def _run(
        self,
        model: Any,
        prompt_ids: list[int],
        settings: GenerationSettings,
        ids: queue.SimpleQueue[int | _Done],
        flags: tuple[threading.Event, ...],
    ) -> None:
        """The generate thread: ``model.generate`` streaming into ``ids``, then a :class:`_Done`, whatever happens."""
        torch = self._torch
        error: BaseException | None = None
        try:
            # Grad mode and (with OpenMP) the thread count are per thread in torch: set them in this one.
            torch.set_num_threads(self._threads)
            device = model.device
            input_ids = torch.tensor([prompt_ids], dtype=torch.long, device=device)
            options = self._options(model, settings)
            criteria = self._stopping_list([_FlagCriteria(torch, *flags)])
            with contextlib.ExitStack() as scope:
                scope.enter_context(torch.inference_mode())
                if settings.seed is not None:
                    # generate() takes no generator: fork torch's global one (restored on exit) and seed it, so
                    # the seed holds for this call only. Safe while one call runs at a time (concurrency 1).
                    scope.enter_context(
                        torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else [])
                    )
                    torch.manual_seed(settings.seed)
                model.generate(
                    input_ids=input_ids,
                    attention_mask=torch.ones_like(input_ids),
                    streamer=_QueueStreamer(ids),
                    stopping_criteria=criteria,
                    **options,
                )
        except BaseException as exc:
            error = exc
        finally:
            ids.put(_Done(error))

    @staticmethod
    def _options(model: Any, settings: GenerationSettings) -> dict[str, Any]:
        """``generate``'s sampling arguments: each one explicit, so no default of transformers' applies (top_k 50)."""
        stop_ids = sorted(settings.stop_ids)
        pad_id = getattr(model.config, "pad_token_id", None)
        if pad_id is None and stop_ids:
            pad_id = stop_ids[0]
        options: dict[str, Any] = {
            "max_new_tokens": settings.max_tokens,
            "eos_token_id": stop_ids or None,
            "pad_token_id": pad_id,
        }
        if settings.temperature:
            options.update(
                do_sample=True,
                temperature=settings.temperature,
                top_p=settings.top_p if settings.top_p is not None else 1.0,
                top_k=settings.top_k or 0,
            )
        else:
            options["do_sample"] = False
        return options
