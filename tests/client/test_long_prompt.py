"""Long text-dialect prompts: rendered once, their long contents never tokenized by the client, and the prompt
exactly what mistral-common renders.

``ClientCore``'s text bodies go through :func:`~mistral_bedrock.prompt.prompt_text.prompt_text`, which renders a long
content as a short stand-in and puts the content back into the rendered text. That rests on two facts checked here:
every tokenizer of the catalog decodes what it encodes to the same text (but for U+2581, which SentencePiece
reads as a space), and the result is ``render(...).text`` to the character, for conversations of every shape.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mistral_common.tokens.tokenizers.sentencepiece import SentencePieceTokenizer
from mistral_common.tokens.tokenizers.tekken import Tekkenizer

from mistral_bedrock.catalog import lookup
from mistral_bedrock.client import MistralBedrock
from mistral_bedrock.conversation import Message, Tool
from mistral_bedrock.prompt import TOKENIZER_NAMES, render, tokenizer_info
from mistral_bedrock.prompt.prompt_text import STAND_IN_CHARS, prompt_text
from mistral_bedrock.runtime import ServerThread
from tests.client.client_support import FAST_RETRY

# One model per tokenizer of the catalog: v1, v2, v3 (the text dialect's), v7-mm and tekken.
MODELS = ("mistral-7b", "mistral-large-2402", "mistral-large-2407", "pixtral-large", "mistral-large")
# What tends to break text handling: control-token strings as plain text, whitespace at the edges and in runs,
# NUL, combining marks, astral characters, and lone surrogates (which rendering turns into U+FFFD).
PIECES = (
    *"abc xyz.,;",
    "  ", "\n", "\n\n", "\t", "\r\n", " \u00a0", "é", "e\u0301", "中文", "😀", "\x00", "\ud800", "\udfff", "\\u",
    "[INST]", "[/INST]", "<s>", "</s>", "[SYSTEM_PROMPT]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]", "<unk>", "{\"a\": 1}",
)  # fmt: skip


# Text as a prompt carries it: a runtime (as Bedrock) reads "<s>" or "[INST]" in a prompt as control tokens, which
# mistral-common, rendering a message, spelled as plain text.
PLAIN = tuple(piece for piece in PIECES if not piece.startswith(("<", "[")))


def text_of(rng: random.Random, length: int, pieces: tuple[str, ...] = PIECES) -> str:
    return "".join(rng.choice(pieces) for _ in range(length))


def edged(rng: random.Random, length: int, pieces: tuple[str, ...]) -> str:
    lead, trail = rng.choice(("", " ", "\n", "  \t")), rng.choice(("", " ", "  ", "\n", " \n "))
    return lead + text_of(rng, length, pieces) + trail


def conversation(rng: random.Random, pieces: tuple[str, ...] = PIECES) -> list[Message]:
    """A conversation of system, user and assistant turns, most of them past the stand-in threshold."""
    sizes = (3, STAND_IN_CHARS // 2, STAND_IN_CHARS, 3 * STAND_IN_CHARS)
    messages = [Message.system(edged(rng, rng.choice(sizes), pieces))] if rng.random() < 0.5 else []
    for _ in range(rng.randint(1, 3)):
        messages.append(Message.user(edged(rng, rng.choice(sizes), pieces)))
        messages.append(Message.assistant("answer" + edged(rng, rng.choice(sizes), pieces)))
    messages[-1] = Message.user(edged(rng, rng.choice(sizes), pieces))
    return messages


@pytest.mark.parametrize("name", TOKENIZER_NAMES)
def test_every_tokenizer_decodes_what_it_encodes(name: str) -> None:
    raw = tokenizer_info(name).raw
    every = "".join(chr(point) for point in range(0x110000) if not 0xD800 <= point <= 0xDFFF and point != 0x2581)
    for start in range(0, len(every), 4096):
        chunk = every[start : start + 4096]
        assert raw.decode(raw.encode(chunk, bos=False, eos=False)) == chunk, f"from U+{ord(chunk[0]):04X}"
    spaced = "a\u2581b"
    assert (raw.decode(raw.encode(spaced, bos=False, eos=False)) == spaced) is (name == "v3-tekken")


@pytest.mark.parametrize("model", MODELS)
def test_text_prompt_is_the_rendered_text(model: str) -> None:
    spec = lookup(model)
    rng = random.Random(model)
    tools = [Tool("lookup", "Look a word up.", {"type": "object", "properties": {"word": {"type": "string"}}})]
    for _ in range(12):
        messages = conversation(rng)
        assert prompt_text(messages, spec) == render(messages, spec).text
    with_tools = [Message.user(text_of(rng, 2 * STAND_IN_CHARS))]
    if spec.tokenizer != "v1":  # v1 cannot render tools
        assert prompt_text(with_tools, spec, tools) == render(with_tools, spec, tools).text
    spaced = [Message.user("a\u2581b " * STAND_IN_CHARS)]  # rendered whole: SentencePiece reads U+2581 as a space
    assert prompt_text(spaced, spec) == render(spaced, spec).text


class TokenizerCalls:
    """How much the calling thread asked the tokenizers to encode (characters) and decode (ids).

    The spy wraps the real methods: the runtime, in its own threads of this process, tokenizes too, and is not
    counted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.thread = threading.get_ident()
        self.encoded = 0
        self.decoded = 0
        for cls in (SentencePieceTokenizer, Tekkenizer):
            monkeypatch.setattr(cls, "encode", self._counting(cls.encode, "encoded", len))
            monkeypatch.setattr(cls, "decode", self._counting(cls.decode, "decoded", len))

    def _counting(self, method: Callable[..., Any], tally: str, size: Callable[[Any], int]) -> Callable[..., Any]:
        def spy(tokenizer: Any, what: Any, *args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == self.thread:
                setattr(self, tally, getattr(self, tally) + size(what))
            return method(tokenizer, what, *args, **kwargs)

        return spy


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> TokenizerCalls:
    return TokenizerCalls(monkeypatch)


@pytest.fixture
def long_client(server: ServerThread) -> Iterator[MistralBedrock]:
    with MistralBedrock(
        endpoint_url=server.url,
        region="us-east-1",
        aws_access_key_id="AKID",
        aws_secret_access_key="s",
        retry=FAST_RETRY,
    ) as client:
        yield client


def test_a_long_prompt_is_tokenized_at_most_once(long_client: MistralBedrock, calls: TokenizerCalls) -> None:
    rng = random.Random(7)
    words = ["river", "story", "music", "radio", "station", "city", "history", "science", "market", "garden"]
    text = " ".join(rng.choice(words) for _ in range(20_000))  # ~20k tokens: within mistral-7b's window
    spec = lookup("mistral-7b")

    result = long_client.complete_text(text, model="mistral-7b", max_tokens=8)
    assert calls.encoded <= len(text)  # at most once…
    assert calls.encoded < len(text) // 100  # …and in fact not at all: only the template around it
    assert calls.decoded < len(text) // 100

    expected = render([Message.user(text)], spec)  # outside the count: the reference rendering
    assert result.request_body["prompt"] == expected.text
    assert result.usage is not None
    assert result.usage.input_tokens == expected.count  # the runtime read the tokens mistral-common renders


def test_a_long_chat_for_a_text_model_is_rendered_exactly(long_client: MistralBedrock) -> None:
    rng = random.Random(11)
    messages = conversation(rng, PLAIN)
    spec = lookup("mixtral-8x7b")
    result = long_client.complete_chat(messages, model="mixtral-8x7b", max_tokens=8)
    expected = render(messages, spec)
    assert result.request_body["prompt"] == expected.text
    assert result.usage is not None
    assert result.usage.input_tokens == expected.count
