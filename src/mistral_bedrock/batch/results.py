"""Reading a batch job's output: ``<input>.jsonl.out`` lines and ``manifest.json.out``, joined back to the input.

What real output holds, and what this module does about it [R]:

* Lines are split on ``\\n`` only (:func:`~.records.split_lines`): Bedrock writes non-ASCII raw, and a U+0085 or
  U+2028 inside a string cuts a record in two under ``str.splitlines()``.
* Lines come back shuffled: results are joined to inputs by ``recordId`` (:func:`join`), never by position.
* ``manifest.json.out`` sits beside the output files; a reader of the whole prefix meets it, and must not take it
  for a (failed) record: :func:`is_manifest`, and :func:`read_output` skips a manifest-shaped line.
* Converse-type output lists every member of the content-block union, ``null`` where unset, and both spellings of
  the cache counters; the live path (botocore) strips unset members. :func:`strip_nulls` gives the live shape,
  :func:`with_converse_nulls` the batch one (for writers that must be faithful).
* Mistral's native InvokeModel bodies (text ``outputs``, the chat body's ``choices``) carry no usage: on demand it is
  in headers, which a file has not. :func:`normalise` recounts those with the model's tokenizer.
* Counts are reconciled between the job, the manifest and the lines (:func:`reconcile`): any disagreement is an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..catalog import lookup
from ..conversation import ToolCall, Usage
from ..errors import MalformedResponseError, MistralBedrockError
from ..prompt import encode_text
from .cost import request_input_tokens
from .invocation import InvocationType
from .jobs import BatchJob
from .outcome import RecordError
from .output import MANIFEST_NAME, Manifest
from .records import InputRecord, split_lines
from .status import JobStatus
from .validation import parse_model_input, record_format

__all__ = [
    "CONVERSE_BLOCK_MEMBERS",
    "CONVERSE_NULL_USAGE",
    "JoinReport",
    "NormalisedResult",
    "OutputCounts",
    "OutputLineError",
    "OutputRecord",
    "is_manifest",
    "join",
    "normalise",
    "parse_output_line",
    "read_manifest",
    "read_output",
    "reconcile",
    "strip_nulls",
    "with_converse_nulls",
]

#: The content-block union members real Converse-type batch output lists on every block, in its order [R].
CONVERSE_BLOCK_MEMBERS = (
    "audio",
    "cachePoint",
    "citationsContent",
    "document",
    "guardContent",
    "image",
    "reasoningContent",
    "searchResult",
    "text",
    "toolResult",
    "toolUse",
    "video",
)
#: The cache counters in both spellings, null, on a Converse-type output's usage: the read pair is captured [R],
#: the write pair by analogy [I].
CONVERSE_NULL_USAGE = (
    "cacheReadInputTokenCount",
    "cacheReadInputTokens",
    "cacheWriteInputTokenCount",
    "cacheWriteInputTokens",
)


class OutputLineError(ValueError):
    """A line of an output file that is not an output record."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"line {index + 1}: {message}")
        self.index = index
        self.reason = message


@dataclass(frozen=True)
class OutputRecord:
    """One output line: the echoed input and either ``modelOutput`` or ``error``.

    Attributes:
        record_id: Its ``recordId``.
        model_input: The echoed ``modelInput``.
        output: The ``modelOutput`` (InvokeModel response body, or Converse response), as written; None on error.
        error: The record's error; None on success.
        index: The line's position in its file, from 0 (the order means nothing: output is shuffled).
    """

    record_id: str
    model_input: Mapping[str, Any]
    output: Mapping[str, Any] | None
    error: RecordError | None
    index: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def is_manifest(name: str) -> bool:
    """Whether an object name or URI is the job's ``manifest.json.out``."""
    return name.rsplit("/", 1)[-1] == MANIFEST_NAME


def _looks_like_manifest(data: Mapping[str, Any]) -> bool:
    return "recordId" not in data and "modelInput" not in data and "totalRecordCount" in data


def parse_output_line(index: int, line: bytes) -> OutputRecord | None:
    """One output line as a record; None for a manifest's line (a reader of a whole prefix may feed it one).

    Raises:
        OutputLineError: The line is neither.
    """
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OutputLineError(index, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise OutputLineError(index, "not a JSON object")
    if _looks_like_manifest(data):
        return None
    record_id = data.get("recordId")
    if not isinstance(record_id, str) or not record_id:
        raise OutputLineError(index, "has no recordId")
    model_input = data.get("modelInput")
    if not isinstance(model_input, dict):
        model_input = {}
    error = data.get("error")
    output = data.get("modelOutput")
    if isinstance(error, dict):
        try:
            code = int(error.get("errorCode") or 0)
        except (TypeError, ValueError):
            code = 0
        return OutputRecord(
            record_id, model_input, None, RecordError(code, str(error.get("errorMessage") or "")), index
        )
    if not isinstance(output, dict):
        raise OutputLineError(index, "has neither a modelOutput object nor an error")
    return OutputRecord(record_id, model_input, output, None, index)


def read_output(chunks: Iterable[bytes]) -> Iterator[OutputRecord]:
    """The records of an output file's bytes, streamed; a manifest line is skipped, never read as a record.

    Raises:
        OutputLineError: At the first line that is no output record.
    """
    for index, line in enumerate(split_lines(chunks)):
        record = parse_output_line(index, line)
        if record is not None:
            yield record


def read_manifest(chunks: Iterable[bytes]) -> Manifest:
    """``manifest.json.out``'s counts (extra members, such as the cache counters, are ignored).

    Raises:
        ValueError: It is not a manifest.
    """
    data = json.loads(b"".join(chunks))
    if not isinstance(data, dict) or not _looks_like_manifest(data):
        raise ValueError("not a batch manifest")
    return Manifest.from_json({key: int(value or 0) for key, value in data.items() if isinstance(value, (int, float))})


# -- null members ----------------------------------------------------------------------------------------------


def strip_nulls(value: Any) -> Any:
    """``value`` without null members, at every depth: the shape botocore gives on the live path."""
    if isinstance(value, Mapping):
        return {key: strip_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [strip_nulls(item) for item in value]
    return value


def with_converse_nulls(output: Mapping[str, Any]) -> dict[str, Any]:
    """A Converse response as Converse-type batch output writes it: every content block lists every union member
    (:data:`CONVERSE_BLOCK_MEMBERS`, null where unset) and ``usage`` the null cache counters. ``output`` is not
    changed."""
    result = dict(output)
    message = (result.get("output") or {}).get("message")
    if isinstance(message, Mapping) and isinstance(message.get("content"), list):
        blocks = []
        for block in message["content"]:
            if isinstance(block, Mapping):
                full = {member: block.get(member) for member in CONVERSE_BLOCK_MEMBERS}
                full.update({key: item for key, item in block.items() if key not in full})
                blocks.append(full)
            else:
                blocks.append(block)
        result["output"] = {**result["output"], "message": {**message, "content": blocks}}
    usage = result.get("usage")
    if isinstance(usage, Mapping):
        result["usage"] = {**usage, **{key: usage.get(key) for key in CONVERSE_NULL_USAGE}}
    return result


# -- joining and reconciling -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinReport:
    """Inputs joined to outputs by ``recordId``.

    Attributes:
        pairs: Each input with its output, in input order (inputs without an output are left out).
        missing: Input recordIds with no output.
        extra: Output recordIds with no input.
        duplicate_inputs: recordIds that more than one input uses.
        duplicate_outputs: recordIds that more than one output line carries.
    """

    pairs: tuple[tuple[InputRecord, OutputRecord], ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    duplicate_inputs: tuple[str, ...]
    duplicate_outputs: tuple[str, ...]

    @property
    def errors(self) -> list[str]:
        """Every disagreement, one sentence each (empty when the join is clean)."""
        out = []
        for ids, one, many in (
            (self.missing, "input has no output", "inputs have no output"),
            (self.extra, "output matches no input", "outputs match no input"),
            (
                self.duplicate_inputs,
                "recordId is used by more than one input",
                "recordIds are used by more than one input",
            ),
            (
                self.duplicate_outputs,
                "recordId appears on more than one output line",
                "recordIds appear on more than one output line",
            ),
        ):
            if ids:
                shown = ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")
                out.append(f"{len(ids)} {one if len(ids) == 1 else many}: {shown}")
        return out

    @property
    def ok(self) -> bool:
        return not self.errors


def join(inputs: Iterable[InputRecord], outputs: Iterable[OutputRecord]) -> JoinReport:
    """Join by ``recordId`` (output order is shuffled [R]). Holds the outputs in memory, keyed by id."""
    by_id: dict[str, OutputRecord] = {}
    duplicate_outputs: dict[str, None] = {}
    for record in outputs:
        if record.record_id in by_id:
            duplicate_outputs[record.record_id] = None
        else:
            by_id[record.record_id] = record
    pairs: list[tuple[InputRecord, OutputRecord]] = []
    missing: list[str] = []
    seen: set[str] = set()
    duplicate_inputs: dict[str, None] = {}
    for item in inputs:
        if item.record_id in seen:
            duplicate_inputs[item.record_id] = None
            continue
        seen.add(item.record_id)
        found = by_id.get(item.record_id)
        if found is None:
            missing.append(item.record_id)
        else:
            pairs.append((item, found))
    extra = tuple(record_id for record_id in by_id if record_id not in seen)
    return JoinReport(tuple(pairs), tuple(missing), extra, tuple(duplicate_inputs), tuple(duplicate_outputs))


@dataclass(frozen=True)
class OutputCounts:
    """What the output lines themselves show."""

    records: int = 0
    success: int = 0
    errors: int = 0

    @classmethod
    def of(cls, records: Iterable[OutputRecord]) -> OutputCounts:
        total = success = 0
        for record in records:
            total += 1
            success += record.ok
        return cls(total, success, total - success)


def reconcile(manifest: Manifest, job: BatchJob | None, outputs_seen: OutputCounts) -> list[str]:
    """Disagreements between the manifest, the job's counts (newer jobs carry them [D]) and the lines read: each is
    an error [R]. Empty when all agree."""
    out: list[str] = []
    if manifest.success + manifest.errors != manifest.processed:
        out.append(
            f"manifest: {manifest.success} successes + {manifest.errors} errors != {manifest.processed} processed"
        )
    if manifest.processed > manifest.total:
        out.append(f"manifest: {manifest.processed} processed > {manifest.total} total")
    for name, mine, seen in (
        ("records", manifest.processed, outputs_seen.records),
        ("successes", manifest.success, outputs_seen.success),
        ("errors", manifest.errors, outputs_seen.errors),
    ):
        if mine != seen:
            out.append(f"{name}: the manifest says {mine}, the output lines show {seen}")
    if job is not None:
        for name, theirs, mine in (
            ("totalRecordCount", job.total_records, manifest.total),
            ("processedRecordCount", job.processed_records, manifest.processed),
            ("successRecordCount", job.success_records, manifest.success),
            ("errorRecordCount", job.error_records, manifest.errors),
        ):
            if theirs is not None and theirs != mine:
                out.append(f"{name}: the job says {theirs}, the manifest {mine}")
        if job.status is JobStatus.COMPLETED and manifest.processed != manifest.total:
            out.append(f"the job is Completed but the manifest has {manifest.processed} of {manifest.total} processed")
    return out


# -- normalising -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NormalisedResult:
    """One record's answer in the same terms for every dialect.

    Attributes:
        record_id: Its ``recordId``.
        text: The answer's text ("" on error).
        stop_reason: The neutral stop reason; None on error.
        raw_stop_reason: As the dialect spelled it.
        tool_calls: Tool calls the model made.
        usage: Token usage: the body's, else recounted with the model's tokenizer; None on error or when the
            input cannot be recounted.
        usage_source: ``body`` or ``recount``; None without usage.
        error: The record's error line.
        malformed: Why a ``modelOutput`` could not be read as the dialect's response (then no text).
    """

    record_id: str
    text: str = ""
    stop_reason: str | None = None
    raw_stop_reason: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    usage_source: Literal["body", "recount"] | None = None
    error: RecordError | None = None
    malformed: str | None = None

    def to_json(self) -> dict[str, Any]:
        """One line of a normalised results file."""
        line: dict[str, Any] = {"recordId": self.record_id}
        if self.error is not None:
            line["error"] = self.error.to_json()
            return line
        if self.malformed is not None:
            line["malformed"] = self.malformed
            return line
        line["text"] = self.text
        line["stopReason"] = self.stop_reason
        if self.tool_calls:
            line["toolCalls"] = [{"id": c.id, "name": c.name, "arguments": dict(c.arguments)} for c in self.tool_calls]
        if self.usage is not None:
            line["usage"] = {"inputTokens": self.usage.input_tokens, "outputTokens": self.usage.output_tokens}
            line["usageSource"] = self.usage_source
        return line


def normalise(record: OutputRecord, *, model: str, invocation: InvocationType) -> NormalisedResult:
    """One output record read by its dialect's own response parser (``Format.parse_response``), as the client reads
    an on-demand answer.

    Raises:
        ValidationException: The catalog does not know the model.
    """
    if record.error is not None or record.output is None:
        return NormalisedResult(record.record_id, error=record.error)
    spec = lookup(model)
    invocation = InvocationType(invocation)
    fmt = record_format(spec, invocation, record.model_input)
    body = strip_nulls(record.output) if invocation is InvocationType.CONVERSE else record.output
    try:
        completion = fmt.parse_response(body, None)
    except (MalformedResponseError, LookupError, TypeError, AttributeError, ValueError) as exc:
        return NormalisedResult(record.record_id, malformed=str(exc))
    usage = completion.usage
    source: Literal["body", "recount"] | None = "body" if usage is not None else None
    if usage is None:
        try:
            request = parse_model_input(spec, invocation, record.model_input)
        except MistralBedrockError:
            request = None
        if request is not None:
            output_tokens = len(encode_text(completion.text, spec)) if completion.text else 0
            output_tokens += sum(len(encode_text(call.arguments_json, spec)) for call in completion.tool_calls)
            usage = Usage(request_input_tokens(request), output_tokens)
            source = "recount"
    return NormalisedResult(
        record.record_id,
        text=completion.text,
        stop_reason=completion.stop_reason,
        raw_stop_reason=completion.raw_stop_reason,
        tool_calls=completion.tool_calls,
        usage=usage,
        usage_source=source,
    )
