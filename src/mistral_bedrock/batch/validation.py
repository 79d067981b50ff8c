"""Validation of a batch input before anything is uploaded: every record, streamed, with the runtime's own validators.

Bedrock checks little up front: its Validating phase reads the files, the JSON and the quotas, and "doesn't check if
the modelInput value matches the request body for the model" [D]. A record it cannot answer becomes an error line in a
job that still reports Completed; a whole job of them is the failure users meet most [R]. So each ``modelInput`` goes
through exactly what the runtime runs for one InvokeModel or Converse call (:mod:`mistral_bedrock.formats`), and a
problem carries Bedrock's own message with the record's line and ``recordId``.

Batch-only checks beside them:

* the file name ends ``.jsonl``; every line is a record (:class:`~.records.RecordLineError` otherwise);
* ``recordId`` unique (kept as 64-bit hashes and a bitmap of positional ids: memory stays small at a million);
* no ``modelId`` inside a Converse-type ``modelInput``; a native body's own schema already refuses it, in the words
  used here too (each such record failed on Bedrock, bifrost#4516 [R]);
* no ``toolConfig`` under the Converse type (those records fail with a 400 [D]);
* the model batch-capable per the catalog (unknown: a warning, or an error on request);
* the record count against the per-job floor and the per-file ceiling, the file's size against its quota.

The context window is checked by the runtime's own rule (``fit_window`` in formats/window.py, under the runtime's
default policy, ``refuse``; a test holds the two to the same answers): a prompt that fills the window is refused
with ``Input is too long for requested model.``, and a set ``max_tokens`` that runs past the room left with the
container's message. Tokens are counted
only where a cheap bound says the prompt could come near the window (:func:`_input_token_bound`): exact counting is
some four times slower than the rest of validation.

Where a record's ``max_tokens`` is over the catalog's limit, and the catalog's figure is not documented exactly, the
local runtime refuses the record but Bedrock may not: the problem is a warning as long as the value is within the
largest limit any evidence gives (:data:`EVIDENCED_MAX_OUTPUT`: Bedrock enforces 262,144 for Mistral Large 3 and
Ministral 3 [R]), since refusing what Bedrock accepts is a fidelity bug too. Above that no evidence has Bedrock
accept it, and the runtime refuses it: an error.

A line that repeats one of its own keys (``recordId`` twice) is read as the runtime's JSON reader reads it, the
last value winning, with a warning: which one Bedrock keeps is not documented [I]. A ``modelInput`` that repeats a
key is judged as the runtime judges the same on-demand body, which reads it the same way (last value wins), so
validation passes or refuses it as the runtime does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..catalog import ModelSpec, lookup
from ..errors import MistralBedrockError, ValidationException
from ..formats import Format, ParsedRequest, dialect_for_body, format_for
from ..formats.messages import SchemaViolation, schema_error
from ..formats.selection import converse_format
from ..formats.window import INPUT_TOO_LONG, WindowPolicy, fit_window
from ..prompt import count_prompt_tokens
from ..prompt.input_tokens import count_input_tokens
from .invocation import InvocationType
from .limits import DEFAULT_LIMITS, BatchLimits, batch_support
from .records import InputRecord, RecordLineError, parse_record

__all__ = [
    "CONVERSE_TOOLS_REFUSED",
    "EVIDENCED_MAX_OUTPUT",
    "INPUT_TOO_LONG",
    "Problem",
    "RecordValidator",
    "Severity",
    "ValidationReport",
    "batch_record_refusal",
    "parse_model_input",
    "record_format",
    "repeated_line_keys",
    "request_input_tokens",
    "requested_max_tokens",
    "validate_lines",
    "validate_records",
]

Severity = Literal["error", "warning"]

#: What a Converse-type record with ``toolConfig`` gets: the documented rule, in the docs' words; Bedrock's exact
#: error text for it is not known [I].
CONVERSE_TOOLS_REFUSED = (
    "Batch inference doesn't support tool calling for jobs that use the Converse invocation type. To use tool "
    "calling, use the InvokeModel invocation type and format each modelInput in the model's native request format."
)
# The schema validator's words for an unknown key, as native bodies already answer a modelId inside them.
_MODEL_ID_REFUSED = schema_error([SchemaViolation("#", "extraneous key [modelId] is not permitted")]).message


#: The largest max-tokens limit any evidence has Bedrock enforce for a Mistral model: 262,144 for Mistral Large 3 and
#: Ministral 3 (BATCH-RESEARCH.md §1.6) [R]. Over an inexact catalog limit but within this: a warning; above: an error.
EVIDENCED_MAX_OUTPUT = 262_144

# Tokens a conversation's rendering may add to its text, per message and once more for the whole: control tokens
# (BOS, ``[INST]``, ``[/INST]``, ``</s>``, ``[SYSTEM_PROMPT]``…), a SentencePiece dummy prefix per encoded piece, and
# the ``\n\n`` that joins a system prompt to a user turn. Measured with every tokenizer in use: at most 4.5 per
# message, in v1, whose ``[INST]`` markers are text tokenized as such; 8 leaves room for what was not measured.
_RENDER_SLACK = 8

# Positional ids (``r`` + 11 digits) up to this index are remembered in a bitmap (16 MB at most); others by hash.
_BITMAP_MAX = 1 << 27


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    Attributes:
        line: The record's line, from 1, counting non-blank lines (blank lines are no records); 0 for the file.
        record_id: The record's ``recordId``; None for a line that is no record, and for the file.
        message: What is wrong: for a ``modelInput``, Bedrock's own message.
        severity: ``error`` (Bedrock would refuse the job or fail the record) or ``warning``.
    """

    line: int
    record_id: str | None
    message: str
    severity: Severity = "error"


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating one input.

    Attributes:
        records: Lines read (records, and lines that are no records).
        errors: Problems of severity ``error``, all of them.
        warnings: Problems of severity ``warning``.
        problems: The first ``max_problems`` problems, in input order (file-level ones last).
        input_bytes: Bytes of the lines read, each with its ``\\n`` (0 where records came without their bytes).
    """

    records: int
    errors: int
    warnings: int
    problems: tuple[Problem, ...]
    input_bytes: int

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed)."""
        return self.errors == 0

    @property
    def truncated(self) -> bool:
        """More problems were found than :attr:`problems` lists."""
        return self.errors + self.warnings > len(self.problems)


def record_format(spec: ModelSpec, invocation: InvocationType, body: Mapping[str, Any]) -> Format:
    """The format that reads a record's ``modelInput`` and its ``modelOutput``, as the runtime picks it for the same
    on-demand call (runtime/handlers.py): an InvokeModel body's by its dialect, a Converse request's the Converse
    format."""
    if invocation is InvocationType.CONVERSE:
        return converse_format()
    return format_for(dialect_for_body(spec, body))


def parse_model_input(spec: ModelSpec, invocation: InvocationType, body: Mapping[str, Any]) -> ParsedRequest:
    """A record's ``modelInput`` parsed as the runtime parses the same on-demand call (:func:`record_format`).

    Raises:
        BedrockError: The body is refused, with Bedrock's message.
    """
    return record_format(spec, invocation, body).parse_request(spec, body, stream=False)


class _SeenIds:
    """Which recordIds were seen: a bitmap for positional ids (``r00000000042``), 64-bit hashes for the rest.

    A hash collision (about 3e-8 for a million distinct ids) would report a false duplicate; a set of the strings
    would cost ~100 MB per million ids [M].
    """

    def __init__(self) -> None:
        self._bits = bytearray()
        self._hashes: set[int] = set()

    def add(self, record_id: str) -> bool:
        """Remember ``record_id``; False if it was seen before."""
        if len(record_id) == 12 and record_id[0] == "r" and record_id[1:].isdigit() and record_id[1:].isascii():
            index = int(record_id[1:])
            if index < _BITMAP_MAX:
                byte, bit = index >> 3, 1 << (index & 7)
                if byte >= len(self._bits):
                    self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits))))
                if self._bits[byte] & bit:
                    return False
                self._bits[byte] |= bit
                return True
        key = hash(record_id)
        if key in self._hashes:
            return False
        self._hashes.add(key)
        return True


def _input_token_bound(request: ParsedRequest) -> int | None:
    """An upper bound on the request's input tokens, or None where only counting can tell (tools, tool calls and
    tool results are rendered as JSON, whose escapes and spacing may outgrow the body's text).

    Why text bytes bound tokens: in every tokenizer the catalog uses, a token of text covers at least one byte of
    it. Tekken (v3-tekken) is byte-level BPE: each ordinary token is one or more bytes, and control-token strings
    in text are encoded as ordinary bytes. SentencePiece (v1, v2, v3, v7-mm) has no normalization that
    expands text in these models and falls back to one token per byte for what its vocabulary lacks, so a piece
    is at least one byte, plus one dummy-prefix ``▁`` per encoded piece; a control-token string in a raw prompt
    (``<s>``, ``[INST]``, three bytes or more) becomes one token. What rendering adds is in ``_RENDER_SLACK``.
    ``test_the_token_bound_holds_for_every_tokenizer`` checks this on adversarial text for each tokenizer.
    """
    if request.prompt is not None:
        return _utf8_bytes(request.prompt) + _RENDER_SLACK
    if request.tools or any(message.tool_calls or message.role == "tool" for message in request.messages):
        return None
    return sum(_utf8_bytes(message.content) for message in request.messages) + _RENDER_SLACK * (
        len(request.messages) + 1
    )


def _utf8_bytes(text: str) -> int:
    # ``surrogatepass``: a lone surrogate is tokenized as U+FFFD, three bytes either way.
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def repeated_line_keys(line: bytes) -> list[str]:
    """The record's own keys (``recordId``, ``modelInput``) that a line repeats: the runtime's reader keeps the last
    value of each, and which one Bedrock keeps is not documented [I].

    Only a line that holds one of the keys twice somewhere is parsed again, with a hook that sees the outermost
    object's pairs: the rest of the input costs one substring count each.
    """
    if line.count(b'"recordId"') < 2 and line.count(b'"modelInput"') < 2:
        return []
    outermost: list[list[tuple[str, Any]]] = []

    def pairs_of(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        outermost[:] = [pairs]  # objects close inside out: the outermost one is the last seen
        return dict(pairs)

    try:
        json.loads(line, object_pairs_hook=pairs_of)
    except ValueError:
        return []  # not JSON: the line's error says so
    keys = [key for key, _ in outermost[0]] if outermost else []
    return [key for key in ("recordId", "modelInput") if keys.count(key) > 1]


def _repeated_keys_warning(keys: list[str]) -> str:
    named = " and ".join(repr(key) for key in keys)
    return (
        f"the line repeats {named}: the last value is used here, as the runtime reads it, but which one Bedrock "
        "keeps is not documented; write each key once"
    )


def _max_tokens_of(model_input: Mapping[str, Any], invocation: InvocationType) -> tuple[Mapping[str, Any], str] | None:
    """Where a record's max tokens sit: (the object holding it, its key)."""
    if invocation is InvocationType.CONVERSE:
        config = model_input.get("inferenceConfig")
        return (config, "maxTokens") if isinstance(config, Mapping) else None
    return model_input, "max_tokens"


def requested_max_tokens(invocation: InvocationType, body: Mapping[str, Any]) -> int | None:
    """A record's own max tokens (``max_tokens``, or Converse's ``inferenceConfig.maxTokens``), None when unset."""
    where = _max_tokens_of(body, invocation)
    value = where[0].get(where[1]) if where is not None else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def request_input_tokens(request: ParsedRequest, limit: int | None = None) -> int:
    """The input tokens of a parsed request, as the runtime reports them: a raw prompt tokenized as sent, a
    conversation (with its tools) rendered by mistral-common.

    ``limit``: counting a raw prompt may stop once the count reaches it (what a context-window check needs).
    """
    if request.prompt is not None:
        return count_prompt_tokens(request.prompt, request.spec, limit)
    return count_input_tokens(request.messages, request.spec, request.tools)


def _catalog_limit_is_exact(spec: ModelSpec) -> bool:
    """Whether the catalog's ``max_output`` is documented exactly ([D], not a rounded card or third-party figure)."""
    return spec.evidence.get("max_output", "").startswith(("[D]", "[R]"))


def batch_record_refusal(invocation: InvocationType, body: Mapping[str, Any]) -> str | None:
    """The message of a rule only batch applies to a record's ``modelInput``, or None.

    One place for both sides: :class:`RecordValidator` predicts with it, and the runtime's jobs refuse with it. A
    Converse-type body is the Converse request *minus* ``modelId`` [R]; one that carries it is refused as a native
    body's schema refuses an unknown key (bifrost#4516 saw such records fail per record [R]; the words are [I]). A
    ``toolConfig`` fails the record with a 400 [D]; a null one is absent, as Coral reads it [I].
    """
    if invocation is not InvocationType.CONVERSE:
        return None
    if "modelId" in body:
        return _MODEL_ID_REFUSED
    if body.get("toolConfig") is not None:
        return CONVERSE_TOOLS_REFUSED
    return None


class RecordValidator:
    """Validates records one at a time; :func:`validate_records` and :func:`validate_lines` drive it.

    Use it directly to validate while doing something else with each record (estimating, writing)::

        validator = RecordValidator(model="mistral-large-3", invocation=InvocationType.INVOKE_MODEL)
        for record in records:
            validator.add(record)
        report = validator.report()

    Raises:
        ValidationException: At construction, for a model the catalog does not know.
    """

    def __init__(
        self,
        *,
        model: str,
        invocation: InvocationType,
        limits: BatchLimits = DEFAULT_LIMITS,
        region: str | None = None,
        file_name: str | None = None,
        max_problems: int = 100,
        unknown_batch: Severity = "warning",
    ) -> None:
        self.spec = lookup(model)
        self.invocation = InvocationType(invocation)
        self.limits = limits
        self.region = region
        self.file_name = file_name
        self.max_problems = max_problems
        self.unknown_batch = unknown_batch
        self.records = 0
        self.errors = 0
        self.warnings = 0
        self.input_bytes = 0
        self._problems: list[Problem] = []
        self._seen = _SeenIds()
        self._exact_limit = _catalog_limit_is_exact(self.spec)
        self._report: ValidationReport | None = None

    # -- recording -------------------------------------------------------------------------------------------
    def _problem(self, line: int, record_id: str | None, message: str, severity: Severity = "error") -> None:
        if severity == "error":
            self.errors += 1
        else:
            self.warnings += 1
        if len(self._problems) < self.max_problems:
            self._problems.append(Problem(line, record_id, message, severity))

    # -- records ---------------------------------------------------------------------------------------------
    def add_line_error(self, error: RecordLineError, size: int = 0) -> None:
        """Count a line that is not a record (not JSON, not an object, no ``modelInput``…)."""
        self.records += 1
        self.input_bytes += size
        self._problem(error.index + 1, None, error.reason)

    def add(self, record: InputRecord, size: int = 0, repeated_keys: list[str] | None = None) -> None:
        """Validate one record; ``size`` is its line's bytes with the ``\\n`` (for the size quotas), and
        ``repeated_keys`` the record's own keys its line repeats (:func:`repeated_line_keys`), for a warning."""
        problem = self.check_model_input(record.model_input)
        self._add_checked(record.index, record.record_id, size, problem, repeated_keys or [])

    def _add_checked(
        self, index: int, record_id: str, size: int, problem: tuple[Severity, str] | None, repeated_keys: list[str]
    ) -> None:
        """Count a record whose ``modelInput`` is already checked (here, or in a worker process)."""
        self.records += 1
        self.input_bytes += size
        line = index + 1
        if repeated_keys:
            self._problem(line, record_id, _repeated_keys_warning(repeated_keys), "warning")
        if not self._seen.add(record_id):
            self._problem(line, record_id, f"recordId {record_id!r} is used by an earlier record")
        if problem is not None:
            severity, text = problem
            self._problem(line, record_id, text, severity)

    def check_model_input(self, body: Mapping[str, Any]) -> tuple[Severity, str] | None:
        """The record's problem, if any: what Bedrock would answer the same body on demand, or a batch-only rule."""
        if (refusal := batch_record_refusal(self.invocation, body)) is not None:
            return "error", refusal
        try:
            request = self._parse(body)
        except MistralBedrockError as exc:
            message = getattr(exc, "message", str(exc))
            return self._over_catalog_limit(body, message) or ("error", message)
        return self._window_problem(request)

    def _parse(self, body: Mapping[str, Any]) -> ParsedRequest:
        return parse_model_input(self.spec, self.invocation, body)

    def _window_problem(self, request: ParsedRequest) -> tuple[Severity, str] | None:
        """The runtime's context-window refusal of a parsed request (its default policy, ``refuse``), if any.

        The prompt is counted only where its bound reaches what the window allows: the whole window, or the room
        a set ``max_tokens`` leaves. Counting stops at the window, as the runtime's does.
        """
        window = self.spec.context_window
        bound = _input_token_bound(request)
        requested = request.params.max_tokens
        if bound is not None and bound < window and bound + (requested or 0) <= window:
            return None
        count = request_input_tokens(request, window)
        try:
            fit_window(request, count, WindowPolicy.REFUSE)  # the runtime's own rule, under its default policy
        except ValidationException as exc:
            return "error", exc.message
        return None

    def _over_catalog_limit(self, body: Mapping[str, Any], message: str) -> tuple[Severity, str] | None:
        """A warning instead of an error where only the catalog's inexact ``max_output`` refuses the record."""
        if self._exact_limit:
            return None
        where = _max_tokens_of(body, self.invocation)
        if where is None:
            return None
        holder, key = where
        value = holder.get(key)
        limit = self.spec.max_output
        if not isinstance(value, int) or isinstance(value, bool) or value <= limit or value > EVIDENCED_MAX_OUTPUT:
            return None
        clamped = {**holder, key: limit}
        retry = clamped if holder is body else {**body, "inferenceConfig": clamped}
        try:
            self._parse(retry)
        except MistralBedrockError:
            return None
        evidence = self.spec.evidence.get("max_output", "[I]")
        return "warning", (
            f"max tokens {value} is over this catalog's limit of {limit} for {self.spec.model_id} ({evidence}): the "
            f"local runtime refuses the record, with: {message} Bedrock's own limit may be higher (it enforces up to "
            f"{EVIDENCED_MAX_OUTPUT:,} for some Mistral models [R])."
        )

    # -- the whole input -------------------------------------------------------------------------------------
    def report(self) -> ValidationReport:
        """The report, with the file-level checks (name, batch support, record count, size) added: once all the
        records are in (a second call gives the same report)."""
        if self._report is not None:
            return self._report
        limits = self.limits
        spec = self.spec
        if self.file_name is not None and not self.file_name.endswith(".jsonl"):
            self._problem(0, None, f"{self.file_name}: Bedrock reads only input files whose names end in .jsonl")
        support = batch_support(spec)
        if support == "unknown":
            self._problem(
                0,
                None,
                f"{spec.model_id}: batch support is not verified in this catalog; Bedrock may answer the job "
                "'Batch inference is not supported for the requested model.'",
                self.unknown_batch,
            )
        elif spec.batch is not None and self.invocation.value not in spec.batch.invocation_types:
            self._problem(0, None, f"{spec.model_id}: batch jobs of type {self.invocation.value} are not supported")
        if self.region is not None and not (self.region in spec.regions or spec.profile_for(self.region)):
            self._problem(0, None, f"{spec.model_id} is not served in {self.region} per this catalog", "warning")
        if self.records < limits.min_records_per_job:
            self._problem(
                0,
                None,
                f"{self.records} records: a Bedrock batch job needs at least {limits.min_records_per_job} "
                "(not adjustable); run them on demand instead (mistral-bedrock batch run)",
            )
        if self.records > limits.records_per_file:
            self._problem(
                0,
                None,
                f"{self.records} records: over the quota of {limits.records_per_file} records per input file; "
                "split the file (e.g. split -l 50000) or raise the quota",
            )
        if self.input_bytes > limits.bytes_per_file:
            self._problem(
                0,
                None,
                f"{self.input_bytes} bytes: over the quota of {limits.bytes_per_file} bytes per input file; "
                "split the file (e.g. split -C 1000000000, which keeps lines whole) or raise the quota",
            )
        self._report = ValidationReport(
            records=self.records,
            errors=self.errors,
            warnings=self.warnings,
            problems=tuple(self._problems),
            input_bytes=self.input_bytes,
        )
        return self._report


def validate_records(
    records: Iterable[InputRecord],
    *,
    model: str,
    invocation: InvocationType,
    limits: BatchLimits = DEFAULT_LIMITS,
    region: str | None = None,
    file_name: str | None = None,
    max_problems: int = 100,
    unknown_batch: Severity = "warning",
) -> ValidationReport:
    """Validate parsed records (streamed: memory stays flat). ``input_bytes`` is 0: records carry no sizes; use
    :func:`validate_lines` for the size quota.

    Args:
        model: A model id, ARN, inference profile or alias (the catalog's :func:`~mistral_bedrock.catalog.lookup`).
        invocation: The job's ``modelInvocationType``.
        limits: The account's quotas.
        region: The job's Region: a warning where the catalog does not list the model there.
        file_name: The input file's name, for the ``.jsonl`` check.
        max_problems: How many problems the report lists (all are counted).
        unknown_batch: Severity of "the catalog does not verify batch support for this model".

    Raises:
        ValidationException: The catalog does not know the model.
    """
    validator = RecordValidator(
        model=model,
        invocation=invocation,
        limits=limits,
        region=region,
        file_name=file_name,
        max_problems=max_problems,
        unknown_batch=unknown_batch,
    )
    for record in records:
        validator.add(record)
    return validator.report()


def validate_lines(
    lines: Iterable[bytes],
    *,
    model: str,
    invocation: InvocationType,
    limits: BatchLimits = DEFAULT_LIMITS,
    region: str | None = None,
    file_name: str | None = None,
    max_problems: int = 100,
    unknown_batch: Severity = "warning",
    workers: int = 1,
) -> ValidationReport:
    """Validate raw lines (from :func:`~.records.split_lines`): a line that is no record is a problem, not a stop.

    Sizes count each line plus its ``\\n``. Arguments as :func:`validate_records`, and:

    Args:
        workers: Processes that check records (``os.cpu_count()`` for a large file); 1 checks them here. The
            report is the same either way; workers pay off from some tens of thousands of records (each starts
            in about half a second).
    """
    validator = RecordValidator(
        model=model,
        invocation=invocation,
        limits=limits,
        region=region,
        file_name=file_name,
        max_problems=max_problems,
        unknown_batch=unknown_batch,
    )
    if workers > 1:
        _validate_in_workers(validator, lines, workers)
        return validator.report()
    for index, line in enumerate(lines):
        try:
            record = parse_record(index, line)
        except RecordLineError as exc:
            validator.add_line_error(exc, len(line) + 1)
        else:
            validator.add(record, len(line) + 1, repeated_line_keys(line))
    return validator.report()


# -- validating in worker processes ----------------------------------------------------------------------------

_BATCH_LINES = 4096  # lines per task: about a megabyte of short chat records
# A task's answer: each line's recordId (None for a line that is no record), its problems by offset, and the
# record keys each line repeats, by offset.
_Checked = tuple[list[str | None], dict[int, tuple[Severity, str]], dict[int, list[str]]]


def _check_lines(model: str, invocation: str, start: int, lines: list[bytes]) -> _Checked:
    """A worker's task: parse and check a run of lines (no recordId bookkeeping: the parent keeps that)."""
    checker = RecordValidator(model=model, invocation=InvocationType(invocation))
    ids: list[str | None] = []
    problems: dict[int, tuple[Severity, str]] = {}
    repeated: dict[int, list[str]] = {}
    for offset, line in enumerate(lines):
        try:
            record = parse_record(start + offset, line)
        except RecordLineError as exc:
            ids.append(None)
            problems[offset] = ("error", exc.reason)
            continue
        ids.append(record.record_id)
        problem = checker.check_model_input(record.model_input)
        if problem is not None:
            problems[offset] = problem
        if keys := repeated_line_keys(line):
            repeated[offset] = keys
    return ids, problems, repeated


def _validate_in_workers(validator: RecordValidator, lines: Iterable[bytes], workers: int) -> None:
    """Check runs of lines in ``workers`` processes, at most two runs each in flight (memory stays bounded), and
    count them here in input order. Workers are spawned, never forked (a forked multi-threaded parent may
    deadlock), so a script that calls this must guard its top level with ``if __name__ == "__main__":``."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor
    from itertools import islice

    model, invocation = validator.spec.model_id, validator.invocation.value
    pending: deque[tuple[int, list[int], Future[_Checked]]] = deque()
    iterator = iter(lines)

    def settle() -> None:
        start, sizes, future = pending.popleft()
        ids, problems, repeated = future.result()
        for offset, (record_id, size) in enumerate(zip(ids, sizes, strict=True)):
            problem = problems.get(offset)
            if record_id is None:
                assert problem is not None
                validator.add_line_error(RecordLineError(start + offset, problem[1]), size)
            else:
                validator._add_checked(start + offset, record_id, size, problem, repeated.get(offset, []))

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        start = 0
        while batch := list(islice(iterator, _BATCH_LINES)):
            sizes = [len(line) + 1 for line in batch]
            pending.append((start, sizes, pool.submit(_check_lines, model, invocation, start, batch)))
            start += len(batch)
            if len(pending) >= 2 * workers:
                settle()
        while pending:
            settle()
