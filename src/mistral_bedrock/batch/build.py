"""Building batch input: conversations → ``{"recordId", "modelInput"}`` records, with the bodies the formats build.

* InvokeModel type: the model's native body (:func:`~mistral_bedrock.formats.selection.native_format`): the text
  body for 7B and Mixtral (the conversation rendered as a prompt), Mistral's chat body for Large 24.02/24.07, the
  OpenAI-style chat body for the newer models. With tools, the chat format (:func:`~.selection.chat_format`): a
  record is one request, with no tool loop.
* Converse type: the Converse request (:func:`~.selection.converse_format`), which has no ``modelId``. Tools are
  refused: Converse-type records with ``toolConfig`` fail [D].

Each body is checked as :mod:`.validation` checks a record (the runtime's parse, the context window, the batch-only
rules) as it is built: a body it finds a problem with raises :class:`RecordBuildError` before it is yielded, so a
writer that stops on it has written no record the runtime refuses.

Records get positional ids (:func:`~.records.positional_id`), so a join and a resume are O(1) by position.

:func:`read_conversations` reads prompts from a ``.txt`` (one per line), a ``.jsonl`` (one conversation per line:
``{"messages": [...]}`` or a bare list of messages) or a ``.json`` conversation as the CLI's ``/save`` writes it
(``{"model", "messages"}``, or a bare list of messages). Messages are in Mistral's chat shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..catalog import for_region, lookup
from ..conversation import Message, Params, Tool
from ..errors import ValidationException
from ..formats.chat_wire import message_from_wire
from ..formats.selection import chat_format, converse_format, native_format
from .invocation import InvocationType
from .records import positional_id, split_lines
from .validation import RecordValidator

__all__ = ["ConversationFileError", "RecordBuildError", "build_records", "conversation_from_json", "read_conversations"]


class RecordBuildError(ValueError):
    """A built body that Bedrock would refuse: the options given make every record (or this conversation's) fail.

    Attributes:
        index: The conversation's position in the input, from 0 (its record's id is ``positional_id(index)``).
        reason: Bedrock's message for the body, as validation reports it.
    """

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"conversation {index + 1}: the record's body would be refused: {reason}")
        self.index = index
        self.reason = reason


_ROLES = frozenset({"system", "user", "assistant", "tool"})


def build_records(
    conversations: Iterable[Sequence[Message]],
    *,
    model: str,
    invocation: InvocationType,
    params: Params,
    tools: Sequence[Tool] = (),
    tool_choice: str | None = None,
    region: str | None = None,
) -> Iterator[dict[str, Any]]:
    """One record per conversation, ``{"recordId": positional_id(i), "modelInput": body}``, streamed.

    Args:
        model: A model id, ARN, inference profile or alias.
        invocation: The job's invocation type: which body each record carries.
        params: Inference parameters for every record.
        tools: Tools offered in every record (InvokeModel type only).
        tool_choice: ``auto``, ``any``, ``none`` or a tool's name.
        region: The job's Region: an alias must be served there (the catalog's :func:`for_region`).

    Raises:
        ValidationException: Tools under the Converse type; a body the format cannot build (its message says why).
        RecordBuildError: A built body that validation finds a problem with (a parameter out of range, a prompt
            past the context window, a max tokens the local runtime refuses), at the first one: no later record is
            built.
        ModelNotServedError: ``region`` does not serve the model.
    """
    spec = for_region(model, region).spec if region is not None else lookup(model)
    invocation = InvocationType(invocation)
    if invocation is InvocationType.CONVERSE:
        if tools:
            raise ValidationException(
                "Converse-type batch jobs do not support tool calling (records with toolConfig fail); use the "
                "InvokeModel invocation type for tools."
            )
        fmt = converse_format()
    else:
        fmt = chat_format(spec) if tools else native_format(spec)
    validator = RecordValidator(model=spec.model_id, invocation=invocation)
    for index, messages in enumerate(conversations):
        body = dict(fmt.build_body(spec, messages, params, tools, tool_choice))
        problem = validator.check_model_input(body)
        # A warning stops the build too: the only one a body can get is a max tokens over an inexact catalog
        # limit, which Bedrock may accept but the local runtime (and so ``batch run``) refuses; its message says
        # both, and the user who wants it for Bedrock can still write it by hand.
        if problem is not None:
            raise RecordBuildError(index, problem[1])
        yield {"recordId": positional_id(index), "modelInput": body}


class ConversationFileError(ValueError):
    """A conversation file, or one of its lines, that holds no conversation."""


def conversation_from_json(data: object, where: str = "conversation") -> list[Message]:
    """A conversation from JSON: ``{"messages": [...]}`` (the ``/save`` format, whose ``model`` is ignored) or a bare
    list of messages in Mistral's chat shape.

    Raises:
        ConversationFileError: It is neither.
    """
    items = data.get("messages") if isinstance(data, Mapping) else data
    if not isinstance(items, list) or not items or not all(isinstance(item, Mapping) for item in items):
        raise ConversationFileError(f"{where}: no list of messages")
    roles = {str(item.get("role")) for item in items} - _ROLES
    if roles:
        raise ConversationFileError(f"{where}: unknown roles {', '.join(sorted(roles))}")
    try:
        return [message_from_wire(_text_content(item)) for item in items]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConversationFileError(f"{where}: a message not in Mistral's chat shape ({exc})") from None


def _text_content(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """A message whose content is a list of text parts (the OpenAI shape) with the parts joined."""
    content = item.get("content")
    if isinstance(content, list):
        texts = [str(part.get("text") or "") for part in content if isinstance(part, Mapping)]
        return {**item, "content": "".join(texts)}
    return item


def read_conversations(path: str | Path, *, chunk_bytes: int = 1 << 20) -> Iterator[list[Message]]:
    """The conversations of a file, streamed (by its suffix: ``.txt``, ``.jsonl``, ``.json``).

    Raises:
        ConversationFileError: An unknown suffix, or a line or document that holds no conversation.
        OSError: The file cannot be read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_bytes())
        except ValueError as exc:
            raise ConversationFileError(f"{path}: not valid JSON ({exc})") from None
        yield conversation_from_json(data, str(path))
        return
    if suffix not in (".txt", ".jsonl"):
        raise ConversationFileError(f"{path}: expected a .txt, .jsonl or .json file")
    with path.open("rb") as stream:
        chunks = iter(lambda: stream.read(chunk_bytes), b"")
        for number, line in enumerate(split_lines(chunks), 1):
            if suffix == ".txt":
                try:
                    prompt = line.decode("utf-8").strip()
                except UnicodeDecodeError as exc:
                    raise ConversationFileError(f"{path}, line {number}: not UTF-8 text ({exc})") from None
                yield [Message.user(prompt)]
                continue
            try:
                data = json.loads(line)
            except ValueError as exc:
                raise ConversationFileError(f"{path}, line {number}: not valid JSON ({exc})") from None
            yield conversation_from_json(data, f"{path}, line {number}")
