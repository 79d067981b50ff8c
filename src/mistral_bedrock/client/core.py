"""The I/O-free client core: build and validate requests, sign them, parse responses and streams.

The sync and async shells do nothing but move bytes: both call the same core, so they cannot drift. Requests
are validated with the very format code the runtime uses, so a bad request fails before any I/O with
Bedrock's own message.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, TypeVar

from ..catalog import ResolvedModel, for_region
from ..conversation import Message, Params, Tool, Usage
from ..errors import (
    BedrockError,
    MalformedResponseError,
    NonBedrockError,
    ValidationException,
    error_from_code,
)
from ..formats import Format, dialect_for_body, format_for
from ..formats.fields import malformed
from ..formats.messages import MALFORMED
from ..formats.selection import chat_format, converse_format, native_format, text_format
from ..formats.text import TextFormat
from ..protocol.error_codes import parse_error
from ..protocol.operations import OPERATIONS, model_path
from .inputs import MessagesInput, ToolsInput, to_messages, to_tools
from .prepared import Prepared
from .result import Result
from .retry import RETRYABLE_STATUSES
from .signing import Signer
from .stream_state import UNREADABLE, StreamState, guarded

__all__ = ["ENDPOINT_ENVS", "ClientCore", "endpoint_for"]

#: The body a chat call sends, first that the model takes: Mistral's chat body, the OpenAI-style one of newer

_T = TypeVar("_T")
# How much of a non-Bedrock answer's body an error message quotes, in characters.
_SNIPPET_CHARS = 200
ENDPOINT_ENVS = ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL")


def endpoint_for(
    region: str, explicit: str | None, *, host: str = "bedrock-runtime", envs: tuple[str, ...] = ENDPOINT_ENVS
) -> str:
    """Explicit endpoint, else the service-specific and generic env vars, else the service's regional endpoint.

    ``host`` and ``envs`` name the service: bedrock-runtime by default, ``bedrock`` for the batch control plane.
    """
    for candidate in (explicit, *(os.environ.get(name) for name in envs)):
        if candidate:
            return candidate.rstrip("/")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{host}.{region}.{suffix}"


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

    def _build(
        self,
        model: ResolvedModel,
        fmt: Format,
        messages: Sequence[Message],
        params: Params,
        tools: Sequence[Tool] = (),
        tool_choice: str | None = None,
        *,
        stream: bool,
    ) -> Prepared:
        body = fmt.build_body(model.spec, messages, params, tools, tool_choice)
        return self._prepare(model, fmt, body, stream=stream)

    def complete_call(
        self, prompt: MessagesInput, model: str, params: Params, *, raw: bool, stream: bool = False
    ) -> Prepared:
        """The text-completion dialect: a string is one user turn (or, with ``raw``, the prompt verbatim)."""
        resolved = self.resolve(model)
        fmt = text_format(resolved.spec)
        if not raw:
            return self._build(resolved, fmt, to_messages(prompt), params, stream=stream)
        if not isinstance(prompt, str):
            raise TypeError("raw=True takes the prompt as a string")
        return self._prepare(resolved, fmt, TextFormat.body_for_prompt(prompt, params), stream=stream)

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
        fmt = chat_format(resolved.spec)
        return self._build(resolved, fmt, to_messages(messages), params, to_tools(tools), tool_choice, stream=stream)

    def turn_call(self, messages: Sequence[Message], model: str, params: Params, *, stream: bool = False) -> Prepared:
        """A conversation's next turn, in the model's preferred dialect (a rendered prompt for text models)."""
        resolved = self.resolve(model)
        return self._build(resolved, native_format(resolved.spec), messages, params, stream=stream)

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
        history = to_messages(messages)
        if system:
            history = [Message.system(system), *history]
        fmt = converse_format()
        return self._build(resolved, fmt, history, params, to_tools(tools), tool_choice, stream=stream)

    def body_call(self, model: str, body: Mapping[str, Any], *, converse: bool = False) -> Prepared:
        """A body the caller wrote, sent as written: an InvokeModel body in any dialect the model takes (the dialect
        is read from the body, as the runtime reads it), or, with ``converse``, a Converse request without
        ``modelId``. It is validated like every call, so a body Bedrock would refuse fails here with its message."""
        resolved = self.resolve(model)
        fmt = converse_format() if converse else format_for(dialect_for_body(resolved.spec, body))
        return self._prepare(resolved, fmt, body, stream=False)

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
        return Result.of(
            completion,
            prepared,
            headers.get("x-amzn-requestid"),
            response_body=data,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    @staticmethod
    def stream_state(prepared: Prepared, headers: Mapping[str, str], started: float) -> StreamState:
        return StreamState(prepared, headers.get("x-amzn-requestid"), started)
