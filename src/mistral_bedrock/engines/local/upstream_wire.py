"""What goes to an upstream model server and what comes back: request bodies, streamed chunks, error texts.

vLLM and llama-server stream server-sent events carrying token ids; Ollama streams JSON lines carrying text. The
readers here turn each into ids or text pieces, and raise the Bedrock error a chunk reports; the HTTP exchange
itself is :mod:`.upstream`'s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ...errors import ModelErrorException, ValidationException
from .token_backend import GenerationSettings

__all__ = [
    "CONTEXT_OVERFLOW",
    "INPUT_TOO_LONG",
    "describe",
    "error_detail",
    "int_ending",
    "int_or_none",
    "llama_server_body",
    "llama_server_ids",
    "ollama_pieces",
    "read_chunk",
    "read_ids",
    "sampling",
    "sse_data",
    "vllm_ids",
]

#: Bedrock's words for a prompt longer than the model's context window.
INPUT_TOO_LONG = "Input is too long for requested model."


# What vLLM, llama-server and Ollama say when a prompt (plus max_tokens) does not fit the context: vLLM "This
# model's maximum context length is 2048 tokens…", "…longer than the maximum model length…"; llama-server
# "exceed_context_size_error", "the request exceeds the available context size"; Ollama "input length exceeds
# the context length".
CONTEXT_OVERFLOW = re.compile(
    r"context[ _](length|size|window)|maximum model length|max_model_len|exceed_context_size|prompt is too long",
    re.IGNORECASE,
)


def sampling(settings: GenerationSettings, *, no_top_k: int) -> dict[str, Any]:
    """The request's sampling, with neutral values for what it leaves open (temperature 1 leaves the model's
    distribution as it is; ``no_top_k`` is the server's "all candidates"). No seed: the server's own random one."""
    sampling: dict[str, Any] = {
        "temperature": 1.0 if settings.temperature is None else settings.temperature,
        "top_p": 1.0 if settings.top_p is None else settings.top_p,
        "top_k": no_top_k if settings.top_k is None else settings.top_k,
    }
    if settings.seed is not None:
        sampling["seed"] = settings.seed
    return sampling


def llama_server_body(ids: list[int], settings: GenerationSettings) -> dict[str, Any]:
    return {
        "prompt": ids,
        "n_predict": settings.max_tokens,
        **sampling(settings, no_top_k=0),
        # llama-server's own samplers, at values that turn them off (its defaults, and --min-p, --repeat-penalty,
        # --dry-multiplier… on its command line, would otherwise apply).
        "min_p": 0.0,
        "repeat_penalty": 1.0,
        "typical_p": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "dry_multiplier": 0.0,
        "xtc_probability": 0.0,
        "mirostat": 0,
        "ignore_eos": False,
        "stream": True,
        "return_tokens": True,
        "cache_prompt": True,
    }


def sse_data(lines: Iterable[str]) -> Iterator[str]:
    """The data of each server-sent event. vLLM and llama-server send one ``data:`` line per event; comments
    (llama-server's pings) and other fields are skipped. An older llama-server reports a failure as an ``error:``
    line, passed on as ``{"error": …}``."""
    for line in lines:
        if line.startswith("data:"):
            yield line[5:].strip()
        elif line.startswith("error:"):
            yield f'{{"error": {line[6:].strip() or "null"}}}'


def vllm_ids(events: Iterable[str]) -> Iterator[list[int]]:
    """Each chunk's ``choices[0].token_ids``, until ``[DONE]``."""
    for data in events:
        if data == "[DONE]":
            return
        chunk = read_chunk(data)
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            ids = choice.get("token_ids")
            if ids is None:
                if choice.get("text"):
                    raise ModelErrorException(
                        "The upstream vLLM sent text without token ids: it needs return_token_ids (vLLM 0.10.2+)."
                    )
                continue
            yield read_ids(ids)


def llama_server_ids(events: Iterable[str]) -> Iterator[list[int]]:
    """Each chunk's ``tokens``, until the chunk with ``stop: true``."""
    for data in events:
        chunk = read_chunk(data)
        ids = chunk.get("tokens")
        if ids is None and chunk.get("content"):
            raise ModelErrorException("The upstream llama-server sent text without token ids (return_tokens).")
        if ids:
            yield read_ids(ids)
        if chunk.get("stop") is True:
            return


def ollama_pieces(lines: Iterable[str], stop_ids: frozenset[int]) -> Iterator[int | str]:
    """Each NDJSON object's ``response`` text, until the one with ``done: true``; then, when the model ended its
    answer itself (``done_reason: stop``), the end-of-sequence id its text never shows (``length`` yields none)."""
    for line in lines:
        if not line.strip():
            continue
        chunk = read_chunk(line)
        piece = chunk.get("response")
        if isinstance(piece, str):
            yield piece
        if chunk.get("done") is True:
            if chunk.get("done_reason", "stop") == "stop" and stop_ids:
                yield min(stop_ids)
            return


def read_chunk(data: str) -> dict[str, Any]:
    """One streamed JSON object; an error the server reports inside the stream is raised."""
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise ModelErrorException(f"The upstream model server sent a chunk that is not JSON: {data[:200]!r}") from exc
    if not isinstance(chunk, dict):
        raise ModelErrorException(f"The upstream model server sent a chunk that is not an object: {data[:200]!r}")
    if chunk.get("error") is not None:
        detail = describe(chunk)
        if CONTEXT_OVERFLOW.search(detail):
            raise ValidationException(INPUT_TOO_LONG)
        raise ModelErrorException(f"The upstream model server failed: {detail}")
    return chunk


def read_ids(value: object) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(item, int) for item in value):
        raise ModelErrorException(f"The upstream model server sent token ids that are not integers: {value!r:.200}")
    return value


def error_detail(body: bytes) -> str:
    """The message of an error answer: vLLM's ``{"error": {"message"}}`` (or, older, ``{"message"}``),
    llama-server's ``{"error": {"message", "type"}}``, Ollama's ``{"error": "…"}``; else the body's start."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        answer = json.loads(text)
    except ValueError:
        return text[:500] or "no details"
    return describe(answer) if isinstance(answer, dict) else text[:500]


def describe(answer: dict[str, Any]) -> str:
    error = answer.get("error", answer)
    if isinstance(error, dict):
        parts = [str(error[key]) for key in ("message", "type") if error.get(key)]
        return " ".join(parts) or json.dumps(error)[:500]
    return str(error)[:500]


def int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def int_ending(info: dict[str, Any], suffix: str) -> int | None:
    """Ollama's ``model_info`` names keys by architecture (``llama.vocab_size``): the first ending in ``suffix``."""
    return next((int_or_none(value) for key, value in info.items() if key.endswith(suffix)), None)
