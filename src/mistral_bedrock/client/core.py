"""The I/O-free client core: build and validate requests, sign them, parse responses and streams.

The sync and async shells do nothing but move bytes: both call the same core, so they cannot drift. Requests
are validated with the very format code the runtime uses, so a bad request fails before any I/O with
Bedrock's own message.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from http import HTTPStatus
from typing import Any, TypeVar

from ..catalog import Dialect, ModelSpec, ResolvedModel, for_region
from ..conversation import Message, Params, Tool, Usage
from ..errors import (
    BedrockError,
    MalformedResponseError,
    NonBedrockError,
    ValidationException,
    error_from_code,
)
from ..formats import Format, format_for
from ..formats.fields import malformed
from ..formats.messages import MALFORMED
from ..formats.text import TextFormat
from ..protocol.error_codes import parse_error
from ..protocol.operations import OPERATIONS, model_path
from .inputs import MessagesInput, ToolsInput, to_messages, to_tools
from .prepared import Prepared
from .result import Result
from .retry import RETRYABLE_STATUSES
from .signing import Signer
from .stream_state import UNREADABLE, StreamState, guarded

__all__ = ["CHAT_ORDER", "ENDPOINT_ENVS", "STAND_IN_CHARS", "ClientCore", "endpoint_for", "text_prompt"]

#: The body a chat call sends, first that the model takes: Mistral's chat body, the OpenAI-style one of newer
#: models, else the text body with the conversation rendered tokenizer-exactly.
CHAT_ORDER = (Dialect.CHAT, Dialect.CHAT_OPENAI, Dialect.TEXT)

_T = TypeVar("_T")
#: Message contents at least this long are rendered through a stand-in (see :func:`text_prompt`).
STAND_IN_CHARS = 1024
# How much of a non-Bedrock answer's body an error message quotes, in characters.
_SNIPPET_CHARS = 200
ENDPOINT_ENVS = ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL")


def endpoint_for(region: str, explicit: str | None) -> str:
    """Explicit endpoint, else the service-specific and generic env vars, else Bedrock's regional endpoint."""
    for candidate in (explicit, *(os.environ.get(name) for name in ENDPOINT_ENVS)):
        if candidate:
            return candidate.rstrip("/")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://bedrock-runtime.{region}.{suffix}"


def _payload(body: Mapping[str, Any]) -> bytes:
    """A request body's bytes: UTF-8 JSON, as the runtime and Bedrock read it."""
    try:
        # Python writes NaN and Infinity as bare tokens that are not JSON; no Bedrock parser takes them.
        escaped = json.dumps(body, allow_nan=False)
    except ValueError as exc:
        if not str(exc).startswith("Out of range float values"):
            raise
        raise ValidationException(
            "The request body holds NaN or Infinity, which JSON cannot carry; send a finite number."
        ) from None
    if "\\u" not in escaped:
        # Nothing needed a \u escape, so these are already the UTF-8 bytes; the ASCII encoder writes them twice as
        # fast (a 100k-token prompt: 1 ms rather than 2, beside a server that refuses it in 35).
        return escaped.encode()
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
    except UnicodeEncodeError:
        # A lone surrogate ("\ud800", or an undecodable byte of a command-line argument) has no UTF-8 form; as a
        # JSON escape it is valid JSON, the bytes boto3 would send for the same string. The runtime reads it as
        # U+FFFD, as the client's own tokenizer does (docs/FIDELITY.md) [I].
        return escaped.encode()


# What json.loads raises for bytes that are not JSON; RecursionError for JSON nested deeper than it can follow
# ('[' * 100000), which is as unreadable as any other malformed answer.
def text_prompt(messages: Sequence[Message], spec: ModelSpec, tools: Sequence[Tool] = ()) -> str:
    """The text-completion prompt of a conversation, ``render(messages, spec, tools).text``, with each long message
    content tokenized not even once.

    Rendering encodes the conversation with mistral-common, which decodes the ids back to text, and the prompt text
    is decoded from them once more: three passes over a 100k-token message (a quarter of a second), for ids that a
    text body does not even send. Every tokenizer of the catalog decodes what it encodes to the same text, except
    that SentencePiece reads U+2581 as a space (a test checks both on every code point). So each long content
    without U+2581 is rendered as a short stand-in, its surrounding whitespace kept (mistral-common trims trailing
    spaces of an answer), and put back in place in the rendered text, made tokenizable as rendering would have
    made it. The template itself — BOS, ``[INST]``, where the system prompt goes, ``</s>`` — is mistral-common's,
    and so are its checks. A stand-in that does not come back exactly once, in order, means the whole conversation
    is rendered as it is.
    """
    from ..prompt import render  # mistral-common loads only when a prompt is rendered
    from ..prompt.sanitize import tokenizable

    marker = f"SI{secrets.token_hex(8)}"
    cores: list[str] = []
    stood_in: list[Message] = []
    for message in messages:
        content = message.content
        core = content.strip()
        if len(core) < STAND_IN_CHARS or "\u2581" in core:
            stood_in.append(message)
            continue
        start = len(content) - len(content.lstrip())
        stand_in = f"{marker}N{len(cores)}X"
        stood_in.append(replace(message, content=content[:start] + stand_in + content[start + len(core) :]))
        cores.append(core)
    if not cores:
        return render(messages, spec, tools or None).text
    rendered = render(stood_in, spec, tools or None).text
    parts: list[str] = []
    position = 0
    for index, core in enumerate(cores):
        stand_in = f"{marker}N{index}X"
        at = rendered.find(stand_in, position)
        if at < 0 or rendered.find(stand_in, at + len(stand_in)) >= 0:
            return render(messages, spec, tools or None).text
        parts += (rendered[position:at], tokenizable(core))
        position = at + len(stand_in)
    parts.append(rendered[position:])
    return "".join(parts)


def _non_bedrock(status: int, body: bytes, message: str, request_id: str | None) -> NonBedrockError:
    """``501: Not Implemented, with no AWS error code; the body begins '<html>…'…``."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:  # a status outside the registry has no phrase
        reason = "An error status"
    if message:
        said = f"; it says {message!r}"
    elif text := " ".join(body[: _SNIPPET_CHARS * 4].decode("utf-8", "replace").split()):
        said = f"; the body begins {text[:_SNIPPET_CHARS] + ('…' if len(text) > _SNIPPET_CHARS else '')!r}"
    else:
        said = " and an empty body"
    return NonBedrockError(
        f"{reason}, with no AWS error code{said}: the server that answered is not "
        "Bedrock (check the endpoint URL, and any proxy on the way).",
        status=status,
        retryable=status in RETRYABLE_STATUSES,
        body=body,
        request_id=request_id,
    )


def _header_count(headers: Mapping[str, str], name: str) -> int:
    """A token count header; Bedrock sends the input and output counts together, as whole numbers."""
    raw = headers.get(name)
    if raw is None:
        raise malformed(f"the {name} header", "is missing")
    if not raw.isdigit():  # also refuses a sign: a count is never negative
        raise malformed(f"the {name} header", f"is {raw!r}, not a whole number")
    return int(raw)


class ClientCore:
    """Everything the client does that is not I/O.

    Text with a lone surrogate (``"\\ud800"``, or an undecodable byte of a command-line argument read with
    ``surrogateescape``) is sent, not refused: it has no UTF-8 form, so the body carries it as the JSON escape
    boto3 would send for the same string, which Bedrock and the runtime read as U+FFFD; a prompt the client renders
    has U+FFFD in its place too (:mod:`mistral_bedrock.prompt.sanitize`). No method raises ``UnicodeEncodeError``
    for it.

    Args:
        region: Signing region.
        endpoint_url: Where requests go.
        signer: Signs each attempt.
    """

    def __init__(self, *, region: str, endpoint_url: str, signer: Signer) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self.signer = signer

    # -- building -----------------------------------------------------------------------------------
    def resolve(self, model: str) -> ResolvedModel:
        """The identifier this client sends for ``model``: aliases become the id (or profile) its Region serves."""
        return for_region(model, self.region)

    def _prepare(self, model: ResolvedModel, fmt: Format, body: Mapping[str, Any], *, stream: bool) -> Prepared:
        name = fmt.operations[stream]
        operation = OPERATIONS[name]
        try:
            # Validate with the runtime's own code: bad input fails here, before I/O, with Bedrock's message.
            fmt.parse_request(model.spec, body, stream=operation.streaming)
            payload = _payload(body)
        except RecursionError:
            # Nested deeper than the checks (or the encoder) can walk: the runtime answers such a body as
            # malformed, so the client does too, before any I/O.
            raise ValidationException(MALFORMED) from None
        return Prepared(operation, model, fmt, body, payload, model_path(model.identifier, name))

    @staticmethod
    def _native(model: ResolvedModel, wanted: Sequence[Dialect]) -> Format:
        for dialect in wanted:
            if dialect in model.spec.dialects:
                return format_for(dialect)
        names = ", ".join(d.value for d in wanted)
        raise ValidationException(
            f"{model.spec.name} ({model.spec.model_id}) does not accept the {names} body; it speaks "
            + ", ".join(d.value for d in model.spec.dialects)
            + " (and Converse)."
        )

    def complete_call(
        self, prompt: MessagesInput, model: str, params: Params, *, raw: bool, stream: bool = False
    ) -> Prepared:
        """The text-completion dialect: a string is one user turn (or, with ``raw``, the prompt verbatim)."""
        resolved = self.resolve(model)
        fmt = self._native(resolved, [Dialect.TEXT])
        body: Mapping[str, Any]
        if raw:
            if not isinstance(prompt, str):
                raise TypeError("raw=True takes the prompt as a string")
            body = TextFormat.body_for_prompt(prompt, params)
        else:
            body = TextFormat.body_for_prompt(text_prompt(to_messages(prompt), resolved.spec), params)
        return self._prepare(resolved, fmt, body, stream=stream)

    def chat_call(
        self,
        messages: MessagesInput,
        model: str,
        params: Params,
        tools: ToolsInput | None,
        tool_choice: str | None,
        *,
        stream: bool = False,
    ) -> Prepared:
        """Mistral's chat dialect (or the OpenAI-style one of newer models; text-only models get a rendered prompt)."""
        resolved = self.resolve(model)
        fmt = self._native(resolved, CHAT_ORDER)
        history, definitions = to_messages(messages), to_tools(tools)
        body: Mapping[str, Any]
        if fmt.dialect is Dialect.TEXT:
            body = TextFormat.body_for_prompt(text_prompt(history, resolved.spec, definitions), params)
        else:
            body = fmt.build_body(resolved.spec, history, params, definitions, tool_choice)
        return self._prepare(resolved, fmt, body, stream=stream)

    def converse_call(
        self,
        messages: MessagesInput,
        model: str,
        params: Params,
        system: str | None,
        tools: ToolsInput | None,
        tool_choice: str | None,
        *,
        stream: bool = False,
    ) -> Prepared:
        """Converse, with Mistral's rules applied as the body is built."""
        resolved = self.resolve(model)
        fmt = format_for(Dialect.CONVERSE)
        history = to_messages(messages)
        if system:
            history = [Message.system(system), *history]
        body = fmt.build_body(resolved.spec, history, params, to_tools(tools), tool_choice)
        return self._prepare(resolved, fmt, body, stream=stream)

    # -- the wire -----------------------------------------------------------------------------------
    def url(self, prepared: Prepared) -> str:
        return self.endpoint_url + prepared.path

    def headers(self, prepared: Prepared) -> dict[str, str]:
        """Signed headers for one attempt."""
        base = {"Content-Type": "application/json", prepared.operation.accept_header: "application/json"}
        return self.signer.sign("POST", self.url(prepared), base, prepared.payload)

    @staticmethod
    def error(status: int, headers: Mapping[str, str], body: bytes) -> BedrockError:
        """The typed error of a non-200 response, chosen by its AWS code.

        An answer without one (no ``x-amzn-ErrorType``, no code in the body) did not come from Bedrock: it becomes a
        :class:`NonBedrockError` that says the status, its standard reason phrase and how the body begins.
        """
        code, message = parse_error(headers, body, status)
        request_id = headers.get("x-amzn-requestid")
        if code != str(status):
            return error_from_code(code, message, status=status, request_id=request_id)
        return _non_bedrock(status, body, message, request_id)

    def result(self, prepared: Prepared, headers: Mapping[str, str], body: bytes, started: float) -> Result:
        """Parse a whole response. Native dialects report usage in headers; Converse in the body.

        Raises:
            MalformedResponseError: The body is not JSON, or lacks what its dialect requires (the bytes attached).
        """
        request_id = headers.get("x-amzn-requestid")
        try:
            data = json.loads(body)
        except UNREADABLE as exc:
            raise MalformedResponseError(
                f"Malformed response: the body is not valid JSON ({exc}).", body=body, request_id=request_id
            ) from exc
        try:
            usage = None
            if "x-amzn-bedrock-input-token-count" in headers:
                usage = Usage(
                    _header_count(headers, "x-amzn-bedrock-input-token-count"),
                    _header_count(headers, "x-amzn-bedrock-output-token-count"),
                )
            completion = guarded(prepared.fmt.parse_response, data, usage)
        except MalformedResponseError as exc:
            exc.received(body, request_id)
            raise
        usage = completion.usage
        spec = prepared.model.spec
        return Result(
            text=completion.text,
            stop_reason=completion.stop_reason,
            tool_calls=completion.tool_calls,
            usage=usage,
            cost=spec.cost(usage.input_tokens, usage.output_tokens) if usage else None,
            model_id=prepared.model.identifier,
            dialect=prepared.fmt.dialect,
            request_id=headers.get("x-amzn-requestid"),
            request_body=prepared.body,
            response_body=data,
            latency_ms=(time.perf_counter() - started) * 1000,
            raw_stop_reason=completion.raw_stop_reason,
        )

    @staticmethod
    def stream_state(prepared: Prepared, headers: Mapping[str, str], started: float) -> StreamState:
        return StreamState(prepared, headers.get("x-amzn-requestid"), started)
