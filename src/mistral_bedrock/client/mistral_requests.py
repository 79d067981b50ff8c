"""Mistral's chat keywords read for a Bedrock body: what ``mistralai``'s ``chat.complete`` takes, in this
package's terms, and what a model's body cannot carry refused by name before any request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from typing_extensions import Unpack

from ..catalog import ModelSpec
from ..conversation import Message, Params, Tool
from ..errors import ValidationException
from ..formats.selection import chat_format
from .core import ClientCore
from .inputs import as_mapping, read_message, read_tool
from .prepared import Prepared
from .settings import params

__all__ = [
    "ChatOptions",
    "NeutralRequest",
    "UnsupportedParameterError",
    "neutral_request",
    "prepare_chat",
]


# -- the request ---------------------------------------------------------------------------------------------
class ChatOptions(TypedDict, total=False):
    """The keywords of ``mistralai``'s ``chat.complete`` and ``chat.stream`` besides ``model`` and ``messages``.

    Messages, tools, tool choices and response formats may be dicts or ``mistralai`` objects.
    """

    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    stream: bool | None
    stop: str | Sequence[str] | None
    random_seed: int | None
    metadata: Mapping[str, Any] | None
    response_format: object
    tools: Sequence[object] | None
    tool_choice: object
    presence_penalty: float | None
    frequency_penalty: float | None
    min_tokens: int | None
    repetition_penalty: float | None
    top_k: int | None
    logprobs: bool | None
    top_logprobs: int | None
    prompt_logprobs: bool | None
    top_prompt_logprobs: int | None
    n: int | None
    prediction: object
    parallel_tool_calls: bool | None
    reasoning_effort: str | None
    prompt_mode: str | None
    guardrails: object
    prompt_cache_key: str | None
    service_tier: str | None
    safe_prompt: bool | None
    retries: object
    server_url: str | None
    timeout_ms: int | None
    http_headers: Mapping[str, str] | None


class UnsupportedParameterError(ValidationException):
    """A chat parameter, or a value of one, that the model's Bedrock body cannot carry. Raised before any request.

    Attributes:
        parameter: The keyword (or the place in ``messages``/``tools``) refused.
        model: The model's Bedrock id.
    """

    def __init__(self, parameter: str, spec: ModelSpec, reason: str, *, value: object = None) -> None:
        self.parameter = parameter
        self.model = spec.model_id
        shown = parameter if value is None else f"{parameter}={value!r}"
        super().__init__(f"{shown} cannot be sent to {spec.name} ({spec.model_id}): {reason}.")


_NO_SUCH_KEY = "Bedrock's Mistral bodies have no such parameter"
_ON_THE_CLIENT = "this client sends every call the same way; set retries, the endpoint and timeouts on the client"
# Parameters no Bedrock body carries: the value that asks for what Bedrock does anyway (None: only unset is
# accepted), and why any other is refused.
_NOT_CARRIED: dict[str, tuple[object, str]] = {
    "random_seed": (None, "Bedrock's Mistral bodies have no seed"),
    "metadata": (None, _NO_SUCH_KEY),
    "presence_penalty": (0, _NO_SUCH_KEY),
    "frequency_penalty": (0, _NO_SUCH_KEY),
    "min_tokens": (0, _NO_SUCH_KEY),
    "repetition_penalty": (None, _NO_SUCH_KEY),
    "logprobs": (False, "Bedrock returns no log probabilities"),
    "top_logprobs": (None, "Bedrock returns no log probabilities"),
    "prompt_logprobs": (False, "Bedrock returns no log probabilities"),
    "top_prompt_logprobs": (None, "Bedrock returns no log probabilities"),
    "n": (1, "Bedrock returns one choice per call"),
    "prediction": (None, _NO_SUCH_KEY),
    "parallel_tool_calls": (True, "Bedrock's Mistral bodies cannot turn parallel tool calls off"),
    "reasoning_effort": (None, _NO_SUCH_KEY),
    "prompt_mode": (None, _NO_SUCH_KEY),
    "guardrails": (None, "Mistral's guardrails are not Bedrock's"),
    "prompt_cache_key": (None, _NO_SUCH_KEY),
    "service_tier": (None, "Bedrock chooses the tier by the model identifier, not in the body"),
    "safe_prompt": (False, "Bedrock has no safety-prompt switch; put your own system message in messages"),
    "retries": (None, _ON_THE_CLIENT),
    "server_url": (None, _ON_THE_CLIENT),
    "timeout_ms": (None, _ON_THE_CLIENT),
    "http_headers": (None, _ON_THE_CLIENT),
}
_TOOL_CHOICES = ("auto", "none", "any", "required")


@dataclass(frozen=True)
class NeutralRequest:
    """A Mistral-style chat request in this package's terms, for :meth:`ClientCore.chat_call`."""

    messages: tuple[Message, ...]
    params: Params
    tools: tuple[Tool, ...]
    tool_choice: str | None


def neutral_request(spec: ModelSpec, messages: Iterable[object], **options: Unpack[ChatOptions]) -> NeutralRequest:
    """Read ``mistralai``'s keywords for ``spec``'s chat body (``stream`` is for :class:`Chat` to check).

    Raises:
        UnsupportedParameterError: A parameter or value the model's body cannot carry, or a message part this
            client cannot send (an image, a ``prefix`` turn).
        TypeError: An unknown keyword, or a message or tool that is neither a dict nor a ``mistralai`` object.
    """
    given: Mapping[str, object] = options
    unknown = sorted(set(given) - ChatOptions.__optional_keys__)
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r}")
    for name, (neutral, reason) in _NOT_CARRIED.items():
        value = given.get(name)
        if value is not None and (neutral is None or value != neutral):
            raise UnsupportedParameterError(name, spec, reason, value=value)
    _check_response_format(options.get("response_format"), spec)

    sampling = params(
        max_tokens=options.get("max_tokens"),
        temperature=options.get("temperature"),
        top_p=options.get("top_p"),
        top_k=options.get("top_k"),
        stop=options.get("stop"),
    )
    listed = options.get("tools")
    tools = tuple(_tool(item, f"tools[{i}]", spec) for i, item in enumerate(_listed(listed or [], "tools")))
    tool_choice, tools = _tool_choice(options.get("tool_choice"), tools, spec)
    fmt = chat_format(spec)
    carried = fmt.carries(spec)
    asked = {"stop": sampling.stop, "top_k": sampling.top_k, "tools": tools, "tool_choice": tool_choice}
    for key, value in asked.items():
        if value not in (None, ()) and key not in carried:
            raise UnsupportedParameterError(key, spec, f"its {fmt.dialect.value} body has no {key}")
    turns = tuple(_message(item, f"messages[{i}]", spec) for i, item in enumerate(_listed(messages, "messages")))
    return NeutralRequest(turns, sampling, tools, tool_choice)


def _listed(value: object, name: str) -> Sequence[object]:
    """A list argument as given; a string, a dict or None is a caller's slip, named here rather than iterated."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list, not {type(value).__name__}")
    return value


def _check_response_format(value: object, spec: ModelSpec) -> None:
    if value is None:
        return
    kind = as_mapping(value, "response_format").get("type") or "text"
    if kind != "text":
        reason = "the bodies this client writes carry no response format"
        raise UnsupportedParameterError("response_format", spec, reason, value={"type": kind})


def _text(content: object, where: str, spec: ModelSpec) -> str:
    """Message content: a string, or text chunks joined; other chunks (images, documents) cannot be sent."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, Sequence):
        raise TypeError(f"{where} is {type(content).__name__}, neither a string nor a list of chunks")
    pieces: list[str] = []
    for index, chunk in enumerate(content):
        data = as_mapping(chunk, f"{where}[{index}]")
        if data.get("type", "text") != "text":
            raise UnsupportedParameterError(
                f"{where}[{index}]", spec, f"a {data.get('type')!r} chunk; this client sends text only"
            )
        pieces.append(str(data.get("text") or ""))
    return "".join(pieces)


def _message(item: object, where: str, spec: ModelSpec) -> Message:
    data = as_mapping(item, where)
    if data.get("role") == "assistant" and data.get("prefix"):
        raise UnsupportedParameterError(f"{where}.prefix", spec, "Bedrock's bodies cannot mark an assistant prefix")
    return read_message(data, where, lambda content, at: _text(content, at, spec))


def _tool(item: object, where: str, spec: ModelSpec) -> Tool:
    data = as_mapping(item, where)
    kind = data.get("type") or "function"
    if kind != "function":
        raise UnsupportedParameterError(where, spec, f"Mistral's built-in {kind!r} tool does not run on Bedrock")
    if as_mapping(data.get("function"), f"{where}.function").get("strict"):
        raise UnsupportedParameterError(f"{where}.function.strict", spec, "Bedrock's bodies have no strict tools")
    return read_tool(data, where)


def _tool_choice(value: object, tools: tuple[Tool, ...], spec: ModelSpec) -> tuple[str | None, tuple[Tool, ...]]:
    """The choice to send, and the tools to offer with it (a forced function: that one alone, with ``any``)."""
    if value is None:
        return None, tools
    if isinstance(value, str):
        if value not in _TOOL_CHOICES:
            raise UnsupportedParameterError("tool_choice", spec, "it is not auto, none, any or required", value=value)
        return ("any" if value == "required" else value), tools
    function = as_mapping(as_mapping(value, "tool_choice").get("function"), "tool_choice.function")
    name = function.get("name")
    chosen = tuple(tool for tool in tools if tool.name == name)
    if not chosen:
        raise UnsupportedParameterError("tool_choice", spec, f"it forces {name!r}, which is not among the tools")
    return "any", chosen


def prepare_chat(
    core: ClientCore, model: str, messages: Iterable[object], options: ChatOptions, *, stream: bool
) -> Prepared:
    """The call, built and checked before any I/O. ``stream=`` must agree with the method called."""
    spec = core.resolve(model).spec
    asked = options.get("stream")
    if asked is not None and asked != stream:
        method = "stream" if asked else "complete"
        raise UnsupportedParameterError("stream", spec, f"that is what chat.{method}() is for", value=asked)
    request = neutral_request(spec, messages, **options)
    return core.chat_call(
        list(request.messages), model, request.params, list(request.tools) or None, request.tool_choice, stream=stream
    )
