"""``mistral-bedrock bench engine SOURCE``: a real model through the runtime against the same model used directly.

One engine is loaded once. *Direct* drives its backend as the engine does — the prompt's mistral-common ids in,
ids out, decoded with the project's decoder — on threads of this process. *Runtime* puts the very same engine
behind the embedded runtime and asks it through the client over HTTP, InvokeModelWithResponseStream, as any
AWS SDK would. Both runs use the same distinct prompts, greedy sampling and ``--tokens`` new tokens per answer
(a model that ends earlier is measured on what it wrote), at 1 and at ``--streams`` concurrent streams.

Reported per run: tokens per second (all streams together), the median time to the first token, the ratio
runtime / direct, and whether the greedy answers were identical, id for id, both ways.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import click

from .failures import fail

if TYPE_CHECKING:
    from ..catalog import ModelSpec
    from ..engines.local import LocalEngine

__all__ = ["command"]

_TOPICS = (
    "the tides",
    "a lighthouse keeper",
    "bread baking",
    "the moons of Jupiter",
    "a chess opening",
    "autumn in Kyoto",
    "how bridges carry load",
    "a jazz standard",
)


@dataclass(frozen=True)
class Run:
    """One measured way of asking, at one concurrency."""

    path: str
    streams: int
    tokens: int
    seconds: float
    first_token_ms: float
    texts: tuple[str, ...]

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def _prompts(count: int) -> list[str]:
    return [f"<s>[INST] Write a short paragraph about {_TOPICS[i % len(_TOPICS)]} ({i}). [/INST]" for i in range(count)]


def _direct(engine: LocalEngine, spec: ModelSpec, prompts: Sequence[str], tokens: int) -> Run:
    from ..engines.local import GenerationSettings
    from ..engines.local.decoding import IncrementalDecoder
    from ..prompt import encode_prompt
    from ..prompt.tokenizers import tokenizer_info

    eos = tokenizer_info(spec).eos_id
    settings = GenerationSettings(max_tokens=tokens, temperature=0.0, stop_ids=frozenset({eos}))
    lock = threading.Semaphore(max(1, engine.backend.concurrency))  # what the engine's own pool allows at once
    warm = GenerationSettings(max_tokens=2, temperature=0.0, stop_ids=frozenset({eos}))
    list(engine.backend.generate(encode_prompt(prompts[0], spec).token_ids, warm, threading.Event()))
    started = time.perf_counter()

    def one(prompt: str) -> tuple[int, float, str]:
        ids = encode_prompt(prompt, spec).token_ids
        decoder, count, first, text = IncrementalDecoder(spec), 0, 0.0, []
        with lock:
            for item in engine.backend.generate(ids, settings, threading.Event()):
                count += 1
                first = first or time.perf_counter() - started
                if item != eos:
                    text.append(decoder.feed(item) if isinstance(item, int) else item)
        return count, first, "".join(text) + decoder.flush()

    with ThreadPoolExecutor(len(prompts)) as pool:
        results = list(pool.map(one, prompts))
    seconds = time.perf_counter() - started
    return _run("direct", results, seconds)


def _runtime(engine: LocalEngine, model_id: str, prompts: Sequence[str], tokens: int) -> Run:
    from ..client import MistralBedrock
    from ..client.settings import LOCAL_CREDENTIALS
    from ..runtime import RuntimeConfig, ServerThread, create_app

    # No first-byte floor: it would add its 50 ms to every first token the runtime serves.
    app = create_app(RuntimeConfig(min_first_byte_ms=0), engine=engine)
    with ServerThread(app=app) as server:
        client = MistralBedrock(
            endpoint_url=server.url,
            region="us-east-1",
            aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"],
        )
        # One unmeasured request: connections, the tokenizer and the engine's first-use checks warm up.
        client.complete_text(prompts[0], model=model_id, raw=True, max_tokens=2, temperature=0.0)
        started = time.perf_counter()

        def one(prompt: str) -> tuple[int, float, str]:
            first, text = 0.0, []
            with client.stream_text(prompt, model=model_id, raw=True, max_tokens=tokens, temperature=0.0) as stream:
                for delta in stream:
                    first = first or time.perf_counter() - started
                    text.append(delta.text)
                usage = stream.result().usage
            return (usage.output_tokens if usage else 0), first, "".join(text)

        with ThreadPoolExecutor(len(prompts)) as pool:
            results = list(pool.map(one, prompts))
        seconds = time.perf_counter() - started
        client.close()
    return _run("runtime", results, seconds)


def _run(path: str, results: Sequence[tuple[int, float, str]], seconds: float) -> Run:
    return Run(
        path=path,
        streams=len(results),
        tokens=sum(count for count, _, _ in results),
        seconds=seconds,
        first_token_ms=statistics.median(first for _, first, _ in results) * 1000,
        texts=tuple(text for _, _, text in results),
    )


@click.group("bench")
def command() -> None:
    """Measure this package's parts against a reference measured in the same run."""


@command.command("engine")
@click.argument("source")
@click.option(
    "--model-id",
    default="mistral.mistral-7b-instruct-v0:2",
    show_default=True,
    help="The Bedrock id the runtime answers as (its tokenizer must be the model's vocabulary).",
)
@click.option("--tokens", default=64, show_default=True, type=click.IntRange(1, 4096), help="New tokens per answer.")
@click.option(
    "--streams", default=4, show_default=True, type=click.IntRange(2, 32), help="The concurrent run's streams."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def engine_command(source: str, model_id: str, tokens: int, streams: int, as_json: bool) -> None:
    """Tokens per second and time to first token of SOURCE (llamacpp:FILE, transformers:DIR, upstream:URL) through
    the runtime, against the same engine used directly."""
    from ..catalog import lookup
    from ..engines import create_engine
    from ..engines.local import LocalEngine, VocabularyMismatch

    try:
        spec = lookup(model_id)
        engine = create_engine(source)
        if not isinstance(engine, LocalEngine):
            raise ValueError(f"{source} is not a model engine (llamacpp:, transformers: or upstream:)")
        engine.check(spec)
    except (ValueError, VocabularyMismatch) as exc:
        raise fail(exc) from None
    report: list[dict[str, Any]] = []
    try:
        for count in (1, streams):
            prompts = _prompts(count)
            pair = [_direct(engine, spec, prompts, tokens), _runtime(engine, spec.model_id, prompts, tokens)]
            direct, runtime = pair
            row = {
                "streams": count,
                "direct": _summary(direct),
                "runtime": _summary(runtime),
                "ratio": round(runtime.tokens_per_s / direct.tokens_per_s, 3) if direct.tokens_per_s else None,
                "added_first_token_ms": round(runtime.first_token_ms - direct.first_token_ms, 1),
                "identical": direct.texts == runtime.texts,
            }
            report.append(row)
    finally:
        engine.close()
    _print(report, as_json, click.echo)


def _summary(run: Run) -> dict[str, Any]:
    data = asdict(run)
    del data["texts"]
    return {**data, "tokens_per_s": round(run.tokens_per_s, 1), "first_token_ms": round(run.first_token_ms, 1)}


def _print(report: list[dict[str, Any]], as_json: bool, echo: Callable[[str], None]) -> None:
    if as_json:
        echo(json.dumps(report, indent=2))
        return
    for row in report:
        direct, runtime = row["direct"], row["runtime"]
        echo(
            f"{row['streams']} stream(s): direct {direct['tokens_per_s']} tok/s, runtime {runtime['tokens_per_s']} "
            f"tok/s (x{row['ratio']}); first token {direct['first_token_ms']} -> {runtime['first_token_ms']} ms "
            f"(+{row['added_first_token_ms']} ms); greedy answers identical: {row['identical']}"
        )
