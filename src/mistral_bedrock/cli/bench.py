"""``mistral-bedrock bench engine SOURCE``: a real model through the runtime against the same model used directly.

*Direct* loads the engine in this process and drives its backend as the engine does — the prompt's mistral-common
ids in, ids out, decoded with the project's decoder. *Runtime* starts ``mistral-bedrock serve --engine SOURCE`` in
its own process, as it is deployed, and asks it through the client over HTTP (ConverseStream, or with ``--api
invoke`` InvokeModelWithResponseStream), as any AWS SDK would. Both runs use the same distinct prompts, greedy
sampling and ``--tokens`` new tokens per answer (a model that ends earlier is measured on what it wrote), at 1 and
at ``--streams`` concurrent streams.

Reported per run: tokens per second (all streams together), the median time to the first token and the first
stream's, the ratio runtime / direct, and whether the greedy answers were identical, id for id, both ways.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
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
    earliest_first_token_ms: float
    texts: tuple[str, ...]

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def _questions(count: int, start: int = 0) -> list[str]:
    return [f"Write a short paragraph about {_TOPICS[i % len(_TOPICS)]} ({i})." for i in range(start, start + count)]


def _prompt(question: str) -> str:
    """The question as the text body's prompt: the very ids a one-turn conversation renders to (v1 tokenizers)."""
    return f"<s>[INST] {question} [/INST]"


def _direct(engine: LocalEngine, spec: ModelSpec, rounds: Sequence[Sequence[str]], tokens: int) -> Run:
    from ..engines.local import GenerationSettings
    from ..engines.local.decoding import IncrementalDecoder
    from ..prompt import encode_prompt
    from ..prompt.tokenizers import tokenizer_info

    eos = tokenizer_info(spec).eos_id
    settings = GenerationSettings(max_tokens=tokens, temperature=0.0, stop_ids=frozenset({eos}))
    lock = threading.Semaphore(max(1, engine.backend.concurrency))  # what the engine's own pool allows at once
    warm = GenerationSettings(max_tokens=2, temperature=0.0, stop_ids=frozenset({eos}))
    list(engine.backend.generate(encode_prompt(_prompt(rounds[0][0]), spec).token_ids, warm, threading.Event()))

    def one(question: str, started: float) -> tuple[int, float, str]:
        ids = encode_prompt(_prompt(question), spec).token_ids
        decoder, count, first, text = IncrementalDecoder(spec), 0, 0.0, []
        with lock:
            for item in engine.backend.generate(ids, settings, threading.Event()):
                count += 1
                first = first or time.perf_counter() - started
                if item != eos:
                    text.append(decoder.feed(item) if isinstance(item, int) else item)
        return count, first, "".join(text) + decoder.flush()

    return _run("direct", *_in_rounds(one, rounds))


@contextlib.contextmanager
def _serve(source: str) -> Iterator[str]:
    """``mistral-bedrock serve --engine SOURCE`` in its own process, as it is deployed; its URL once it listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # No first-byte floor: it would add its 50 ms to every first token the runtime serves.
    command = [sys.executable, "-m", "mistral_bedrock.cli", "serve", "--engine", source, "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--min-first-byte-ms", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        announced = process.stdout.readline()  # one line, once it accepts connections
        if "listening on" not in announced:
            raise click.ClickException(f"serve --engine {source} did not start (exit status {process.wait()})")
        yield announced.rsplit(" ", 1)[1].strip()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _runtime(source: str, spec: ModelSpec, rounds: Sequence[Sequence[str]], tokens: int, api: str) -> Run:
    from ..client import MistralBedrock
    from ..client.settings import LOCAL_CREDENTIALS

    with _serve(source) as url:
        client = MistralBedrock(
            endpoint_url=url,
            region=sorted(spec.regions)[0] if spec.regions else "us-east-1",
            aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"],
        )

        def stream(question: str, limit: int) -> Any:
            if api == "converse":
                return client.converse_stream(question, model=spec.model_id, max_tokens=limit, temperature=0.0)
            return client.stream_text(
                _prompt(question), model=spec.model_id, raw=True, max_tokens=limit, temperature=0.0
            )

        # One unmeasured request: connections, the tokenizer and the engine's first-use checks warm up.
        with stream(rounds[0][0], 2) as warm:
            warm.result()

        def one(question: str, started: float) -> tuple[int, float, str]:
            first, text = 0.0, []
            with stream(question, tokens) as answer:
                for delta in answer:
                    first = first or time.perf_counter() - started
                    text.append(delta.text)
                usage = answer.result().usage
            return (usage.output_tokens if usage else 0), first, "".join(text)

        results = _in_rounds(one, rounds)
        client.close()
    return _run("runtime", *results)


def _in_rounds(
    one: Callable[[str, float], tuple[int, float, str]], rounds: Sequence[Sequence[str]]
) -> tuple[list[tuple[int, float, str]], float, int]:
    """Each round's questions asked at once, one round after another; first tokens timed from their round's start."""
    results: list[tuple[int, float, str]] = []
    seconds = 0.0
    for questions in rounds:
        started = time.perf_counter()
        with ThreadPoolExecutor(len(questions)) as pool:
            results += pool.map(one, questions, [started] * len(questions))
        seconds += time.perf_counter() - started
    return results, seconds, len(rounds[0])


def _run(path: str, results: Sequence[tuple[int, float, str]], seconds: float, streams: int) -> Run:
    return Run(
        path=path,
        streams=streams,
        tokens=sum(count for count, _, _ in results),
        seconds=seconds,
        first_token_ms=statistics.median(first for _, first, _ in results) * 1000,
        # The first stream served in each round, as a median over the rounds.
        earliest_first_token_ms=statistics.median(
            min(first for _, first, _ in results[i : i + streams]) for i in range(0, len(results), streams)
        )
        * 1000,
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
@click.option(
    "--api",
    default="converse",
    show_default=True,
    type=click.Choice(["converse", "invoke"]),
    help="ConverseStream, or InvokeModelWithResponseStream with the text body (whose first chunk waits for the "
    "second token: the final chunk carries text, as on Bedrock).",
)
@click.option(
    "--rounds",
    default=3,
    show_default=True,
    type=click.IntRange(1, 20),
    help="Rounds of streams per run (distinct prompts each); first tokens are medians over all of them.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def engine_command(source: str, model_id: str, tokens: int, streams: int, api: str, rounds: int, as_json: bool) -> None:
    """Tokens per second and time to first token of SOURCE (llamacpp:FILE, transformers:DIR, upstream:URL) through
    the runtime, against the same engine used directly."""
    from ..catalog import lookup
    from ..engines import create_engine
    from ..engines.local import LocalEngine, VocabularyMismatch
    from ..errors import MistralBedrockError

    try:
        spec = lookup(model_id)
        engine = create_engine(source)
        if not isinstance(engine, LocalEngine):
            raise ValueError(f"{source} is not a model engine (llamacpp:, transformers: or upstream:)")
        if getattr(engine.backend, "text_mode", False):
            engine.close()
            raise ValueError(f"{source} takes text, not token ids: the direct path it is compared with needs ids")
        engine.check(spec)
    except (ImportError, ValueError, VocabularyMismatch, MistralBedrockError) as exc:
        raise fail(exc) from None
    report: list[dict[str, Any]] = []
    try:
        for count in (1, streams):
            asked = [_questions(count, start=index * count) for index in range(rounds)]
            direct = _direct(engine, spec, asked, tokens)
            runtime = _runtime(source, spec, asked, tokens, api)
            row = {
                "streams": count,
                "direct": _summary(direct),
                "runtime": _summary(runtime),
                "ratio": round(runtime.tokens_per_s / direct.tokens_per_s, 3) if direct.tokens_per_s else None,
                "added_first_token_ms": round(runtime.first_token_ms - direct.first_token_ms, 1),
                # With more streams than the model runs at once, later streams' first tokens wait for earlier
                # answers: the first stream served shows what the runtime adds.
                "added_earliest_first_token_ms": round(
                    runtime.earliest_first_token_ms - direct.earliest_first_token_ms, 1
                ),
                # Converse answers without the leading space a text completion keeps; the ids are the same.
                "identical": [text.lstrip(" ") for text in direct.texts] == [t.lstrip(" ") for t in runtime.texts],
            }
            report.append(row)
    finally:
        engine.close()
    _print(report, as_json, click.echo)


def _summary(run: Run) -> dict[str, Any]:
    data = asdict(run)
    del data["texts"]
    return {
        **data,
        "tokens_per_s": round(run.tokens_per_s, 1),
        "first_token_ms": round(run.first_token_ms, 1),
        "earliest_first_token_ms": round(run.earliest_first_token_ms, 1),
    }


def _print(report: list[dict[str, Any]], as_json: bool, echo: Callable[[str], None]) -> None:
    if as_json:
        echo(json.dumps(report, indent=2))
        return
    for row in report:
        direct, runtime = row["direct"], row["runtime"]
        echo(
            f"{row['streams']} stream(s): direct {direct['tokens_per_s']} tok/s, runtime {runtime['tokens_per_s']} "
            f"tok/s (x{row['ratio']}); first token {direct['first_token_ms']} -> {runtime['first_token_ms']} ms "
            f"(+{row['added_first_token_ms']} ms; first stream +{row['added_earliest_first_token_ms']} ms); "
            f"greedy answers identical: {row['identical']}"
        )
