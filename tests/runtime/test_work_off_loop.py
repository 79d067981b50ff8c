"""Large requests are worked on off the event loop, each prompt is tokenized once, and an oversize prompt only as
far as the context window.

The handlers run on a real event loop with the real engine and tokenizers; what is observed is which thread does
the work and how often (by wrapping the counting function), never how long anything takes. A large request's
counting is held on a threading.Event until a small request has been answered: that can only happen if the large
request's work is off the loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mistral_bedrock.catalog import ModelSpec, resolve
from mistral_bedrock.engines import counting as engine_tokens
from mistral_bedrock.engines import create_engine, memo
from mistral_bedrock.engines.counting import carry_input_tokens, input_tokens
from mistral_bedrock.errors import ValidationException
from mistral_bedrock.formats import ParsedRequest
from mistral_bedrock.prompt import encode_prompt
from mistral_bedrock.prompt import pieces as pieces_module
from mistral_bedrock.protocol.operations import OPERATIONS, OperationName, model_path
from mistral_bedrock.runtime.faults import Faults
from mistral_bedrock.runtime.handlers import HANDLERS, OFFLOAD_BYTES, Call
from mistral_bedrock.runtime.pacing import Pacing
from mistral_bedrock.runtime.responses import JSONBytesResponse

MODEL = "mistral.mistral-large-2407-v1:0"
INVOKE = OperationName.INVOKE_MODEL
SMALL = {"prompt": "<s>[INST] Hello [/INST]"}
LONG = {"prompt": "<s>[INST] " + "the river runs past the mountain " * 3_000 + "[/INST]"}  # ~100 KB, 18k tokens


def make_call(body: dict[str, Any], operation: OperationName = INVOKE) -> Call:
    return Call(
        request_id="test",
        operation=OPERATIONS[operation],
        model=resolve(MODEL),
        path=model_path(MODEL, operation),
        region=None,
        body=json.dumps(body).encode(),
        headers={},
        faults=Faults(),
        engine=create_engine("builtin"),
        padding=True,
        count_tokens=True,
        started=time.perf_counter(),
        pacing=Pacing(min_first_byte_ms=0),
    )


def answer(call: Call) -> JSONBytesResponse:
    response = asyncio.run(HANDLERS[call.operation.name](call))
    assert isinstance(response, JSONBytesResponse)
    return response


@pytest.fixture(autouse=True)
def _no_memo() -> Iterator[None]:
    # Nothing remembered between requests: what is tokenized is what this request costs.
    memo.configure(0, 0)
    yield
    memo.configure()


def _record_counts(monkeypatch: pytest.MonkeyPatch, hook: Callable[[str], None] = lambda prompt: None) -> list[bool]:
    """Wrap the prompt counter: each call records whether it ran on the main (event-loop) thread."""
    threads: list[bool] = []
    real = engine_tokens.count_prompt_tokens

    def counting(prompt: str, spec: ModelSpec, limit: int | None = None) -> int:
        threads.append(threading.current_thread() is threading.main_thread())
        hook(prompt)
        return real(prompt, spec, limit)

    monkeypatch.setattr(engine_tokens, "count_prompt_tokens", counting)
    return threads


def test_the_input_is_tokenized_once_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    threads = _record_counts(monkeypatch)
    response = answer(make_call(LONG))
    expected = encode_prompt(LONG["prompt"], resolve(MODEL).spec).count
    assert response.headers["X-Amzn-Bedrock-Input-Token-Count"] == str(expected)  # the engine's usage
    assert threads == [False]  # counted once, for the window check, in a worker thread


def test_a_small_request_is_worked_on_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    threads = _record_counts(monkeypatch)
    answer(make_call(SMALL))
    assert threads == [True]  # on the loop: no thread hop for a small request
    assert len(json.dumps(SMALL)) < OFFLOAD_BYTES < len(json.dumps(LONG))


def test_an_oversize_prompt_is_refused_after_tokenizing_about_a_window(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded: list[int] = []
    real = pieces_module.encode_plain

    def counting(info: Any, text: str) -> list[int]:
        encoded.append(len(text))
        return real(info, text)

    monkeypatch.setattr(pieces_module, "encode_plain", counting)
    prompt = "<s>[INST] " + "the river runs past the mountain " * 100_000 + "[/INST]"  # 3.3 MB, ~600k tokens
    with pytest.raises(ValidationException, match="Input is too long"):
        answer(make_call({"prompt": prompt}))
    assert sum(encoded) < len(prompt) / 3  # about the window's 128k tokens, not the prompt's 600k


def test_a_small_request_is_answered_while_a_large_one_is_worked_on(monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()

    def hold(prompt: str) -> None:
        if len(prompt) > OFFLOAD_BYTES:
            entered.set()
            # Held until the small request below has its answer: if this ran on the loop, it never would.
            if not release.wait(60):
                raise AssertionError("the small request was not answered while the large one was counted")

    _record_counts(monkeypatch, hold)

    async def scenario() -> tuple[int, int]:
        large = asyncio.ensure_future(HANDLERS[INVOKE](make_call(LONG)))
        assert await asyncio.to_thread(entered.wait, 60)
        small = await HANDLERS[INVOKE](make_call(SMALL))
        assert not large.done()
        release.set()
        done = await large
        assert isinstance(small, JSONBytesResponse) and isinstance(done, JSONBytesResponse)
        return small.status, done.status

    assert asyncio.run(scenario()) == (200, 200)


def test_the_builtin_engine_shapes_a_large_answer_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from mistral_bedrock.engines import builtin

    threads: list[bool] = []
    real = builtin.shape

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(builtin, "shape", recording)
    answer(make_call(LONG))
    answer(make_call(SMALL))
    assert threads == [False, True]


def test_a_carried_count_serves_only_its_own_request() -> None:
    spec = resolve(MODEL).spec
    request = ParsedRequest(spec=spec, dialect=resolve(MODEL).spec.dialects[0], prompt="<s>[INST] Hi [/INST]")
    twin = ParsedRequest(spec=spec, dialect=request.dialect, prompt="<s>[INST] Hi [/INST]".replace("Hi", "Ho"))

    async def run() -> tuple[int, int, int]:
        carry_input_tokens(request, 12345)
        in_thread = await asyncio.to_thread(input_tokens, request)  # threads started from the task see it too
        return input_tokens(request), in_thread, input_tokens(twin)

    mine, in_thread, other = asyncio.run(run())
    assert mine == in_thread == 12345
    assert other == encode_prompt(twin.prompt or "", spec).count
    assert input_tokens(request) == encode_prompt(request.prompt or "", spec).count  # outside that task: counted
