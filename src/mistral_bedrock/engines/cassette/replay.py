"""The ``replay:DIR`` engine: Bedrock's recorded answers played back, and (in a record mode) new ones recorded.

A request reaches this engine only after the runtime validated it as Bedrock does. It is matched on operation,
resolved model and canonical body (:mod:`.matching`); several recordings of one request play in the order they
were made, the last one repeating. A request with no recording, when the mode does not record, is answered with a
400 ValidationException naming the nearest recording and the first field that differs — a 400, because SDKs
retry a 5xx and the test would only get slower.

In a record mode the request goes on to Bedrock (:mod:`.bedrock_upstream`), the answer comes back to the client as
it arrives, and once it is whole the interaction is cleaned of secrets (:mod:`.secrets`) and written
(:mod:`.interaction`). What could not be recorded is kept in :attr:`ReplayEngine.problems`, and every miss in
:attr:`ReplayEngine.misses`, for the pytest plugin to report.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from ...errors import ValidationException
from ...protocol.error_codes import parse_error
from ...protocol.eventstream import EventStreamDecoder
from ...protocol.stream_envelope import StreamEnvelope
from ..relay import RelayAnswer, RelayRequest
from .bedrock_upstream import BedrockUpstream, UpstreamAnswer
from .interaction import (
    Interaction,
    body_bytes,
    dump,
    file_name,
    frame_bytes,
    header_document,
    later_recordings,
    load_interactions,
    recorded_body,
    recorded_frame,
    recorded_headers,
    write_interaction,
)
from .matching import drop_fields, match_key, nearest
from .secrets import SecretScanner, SecretsFound
from .settings import RecordMode, ReplaySettings
from .stream_secrets import stream_findings

__all__ = ["Redactor", "ReplayEngine"]

# Refusals of the credentials themselves (signature, key, token), which say nothing of the request.
_CREDENTIAL_ERRORS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignature",
        "MissingAuthenticationTokenException",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
    }
)

logger = logging.getLogger("mistral_bedrock.cassette")

#: A body redaction hook: gets an interaction document (``{"request": …, "response": …}``; only ``request`` when
#: an incoming request is redacted for matching) and returns it cleaned.
Redactor = Callable[[dict[str, Any]], dict[str, Any]]


class ReplayEngine:
    """Answers from a cassette directory; see :class:`~.settings.ReplaySettings` for the modes.

    Args:
        settings: The cassette and how to use it.
        credentials: What record modes sign with (botocore credentials); default the standard AWS chain's. Never
            read in mode ``none``.
        redactors: Hooks that clean each interaction before it is written (and each request before matching).
        sleep: How replay waits, for ``recorded`` or scaled timing (tests pass a recorder of the waits).
        missing_ok: Take a cassette directory that does not exist as an empty cassette (the pytest plugin: a
            test that sends nothing records nothing, and git keeps no empty directory); by default mode ``none``
            refuses it, since a mistyped path would otherwise only show as misses.

    Raises:
        ValueError: Mode ``none`` without the cassette directory, an unreadable cassette file, or a record mode
            without credentials.
    """

    name = "replay"

    def __init__(
        self,
        settings: ReplaySettings,
        *,
        credentials: Any = None,
        redactors: Sequence[Redactor] = (),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        missing_ok: bool = False,
    ) -> None:
        self.settings = settings
        self.misses: list[str] = []
        self.problems: list[str] = []
        self._redactors = tuple(redactors)
        self._sleep = sleep
        directory = settings.directory
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"cassette {directory} is not a directory")
        if settings.mode is RecordMode.NONE and not directory.exists() and not missing_ok:
            raise ValueError(f"cassette {directory} does not exist (record one with a record mode, or serve --record)")
        self._interactions = load_interactions(directory) if directory.is_dir() else []
        self._upstream = (
            BedrockUpstream(region=settings.region, url=settings.upstream_url, credentials=credentials)
            if settings.mode.records
            else None
        )
        # Without credentials: user patterns, AWS key ids and account ids, the same at record and replay time.
        self._patterns = SecretScanner.for_credentials(None, None, None, settings.redact)
        self._recording_all = settings.mode is RecordMode.ALL or (
            settings.mode is RecordMode.ONCE and not self._interactions
        )
        self._by_key: dict[str, list[Interaction]] = {}
        for interaction in self._interactions:
            key = match_key(interaction.operation, interaction.model, interaction.body, settings.ignore)
            self._by_key.setdefault(key, []).append(interaction)
        self._plays: dict[str, int] = {}  # match key → times played
        self._played: set[str] = set()  # files played
        self._recorded: dict[str, int] = {}  # file key → recordings made by this engine

    def describe(self) -> str:
        """One line on what this engine does: what it replays, where it records from."""
        settings = self.settings
        line = f"cassette {settings.directory}: mode {settings.mode.value}, {len(self._interactions)} recordings"
        if self._upstream is not None:
            line += f"; records from {self._upstream.url} (Region {self._upstream.region})"
        return line

    def unused(self) -> list[str]:
        """The cassette's files that no request has played; none while everything is being recorded anew."""
        if self._recording_all:
            return []
        return [i.file for i in self._interactions if i.file not in self._played]

    def reset(self) -> None:
        """Play every recording from its first occurrence again, and forget misses and problems."""
        self._plays.clear()
        self._played.clear()
        self.misses.clear()
        self.problems.clear()

    async def relay(self, request: RelayRequest) -> RelayAnswer:
        operation = request.operation.name.value
        body = self._matchable(json.loads(request.body))
        if not self._recording_all:
            key = match_key(operation, request.model_id, body, self.settings.ignore)
            recordings = self._by_key.get(key)
            if recordings:
                played = self._plays.get(key, 0)
                self._plays[key] = played + 1
                return await self._replay(recordings[min(played, len(recordings) - 1)], request)
            if self._upstream is None or self.settings.mode is RecordMode.ONCE:
                raise self._miss(operation, request.model_id, body)
        return await self._record(request, body)

    # -- replay ------------------------------------------------------------------------------------------------

    async def _replay(self, interaction: Interaction, request: RelayRequest) -> RelayAnswer:
        self._played.add(interaction.file)
        response = interaction.response
        headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
        events = response.get("events")
        if events is not None:
            envelope = StreamEnvelope(request.operation, padding=request.padding)
            return RelayAnswer(200, headers, frames=self._frames(events, envelope))
        await self._wait_until(float(response.get("t_ms", 0.0)), time.perf_counter())
        return RelayAnswer(int(response["status"]), headers, body=body_bytes(response))

    async def _frames(self, events: Sequence[Mapping[str, Any]], envelope: StreamEnvelope) -> AsyncIterator[bytes]:
        started = time.perf_counter()
        for entry in events:
            await self._wait_until(float(entry.get("t_ms", 0.0)), started)
            yield frame_bytes(entry, envelope)

    async def _wait_until(self, t_ms: float, started: float) -> None:
        scale = self.settings.timing.scale
        if scale:
            delay = started + t_ms * scale / 1000 - time.perf_counter()
            if delay > 0:
                await self._sleep(delay)

    def _miss(self, operation: str, model_id: str, body: Any) -> ValidationException:
        where = f"No recording in cassette {self.settings.directory} matches this {operation} request for {model_id}"
        ignore = self.settings.ignore
        candidates = [(i.operation, i.model, drop_fields(i.body, ignore)) for i in self._interactions]
        found = nearest(operation, model_id, drop_fields(body, ignore), candidates)
        if found is None:
            message = f"{where}; the cassette is empty (mode {self.settings.mode.value})."
        else:
            index, difference = found
            near = self._interactions[index]
            if near.operation != operation or near.model != model_id:
                detail = f"it is a {near.operation} request for {near.model}"
            else:
                detail = f"first difference at {difference.describe()}" if difference else "it is the same request"
            message = f"{where} (mode {self.settings.mode.value}). Nearest: {near.file}; {detail}."
        self.misses.append(message)
        return ValidationException(message)

    # -- recording ---------------------------------------------------------------------------------------------

    def _matchable(self, body: Any) -> Any:
        """The request body as it would be written: matching compares cleaned requests with cleaned recordings."""
        document = self._redact_hooks({"request": {"body": body}})
        return self._patterns.redact(document)[0]["request"]["body"]

    def _redact_hooks(self, document: dict[str, Any]) -> dict[str, Any]:
        for redactor in self._redactors:
            document = redactor(document)
        return document

    async def _record(self, request: RelayRequest, body: Any) -> RelayAnswer:
        assert self._upstream is not None
        started = time.perf_counter()
        answer = await self._upstream.send(request)
        operation = request.operation.name.value
        refused = parse_error(answer.headers, answer.body, answer.status)[0] if answer.status in (401, 403) else None
        if refused in _CREDENTIAL_ERRORS:
            # Bedrock refused the recorder's credentials, not the request: replayed, it would refuse every later
            # run, whatever the credentials then. The client gets the refusal; the cassette does not.
            self.problems.append(
                f"{operation} request for {request.model_id} not recorded: Amazon Bedrock refused the recording "
                f"credentials ({refused}); check them (AWS_PROFILE, AWS_ACCESS_KEY_ID…) and the Region"
            )
            return RelayAnswer(answer.status, recorded_headers(answer.headers), body=answer.body)
        document = header_document(self._upstream.region, datetime.now(timezone.utc).isoformat(timespec="seconds"))
        document["request"] = {
            "operation": operation,
            "model": request.model_id,
            "path": request.path,
            "key": match_key(operation, request.model_id, body),
            "body": body,
        }
        response: dict[str, Any] = {"status": answer.status, "headers": recorded_headers(answer.headers)}
        document["response"] = response
        headers = dict(response["headers"])
        if answer.chunks is None:
            response["t_ms"] = round((time.perf_counter() - started) * 1000, 1)
            response.update(recorded_body(answer.body))
            self._save(document)
            return RelayAnswer(answer.status, headers, body=answer.body)
        return RelayAnswer(200, headers, frames=self._recording(answer, document, started))

    async def _recording(
        self, answer: UpstreamAnswer, document: dict[str, Any], started: float
    ) -> AsyncIterator[bytes]:
        """Bedrock's frames passed on as they arrive, and kept; the interaction is written once the stream ends."""
        assert answer.chunks is not None
        decoder = EventStreamDecoder()
        events: list[dict[str, Any]] = []
        document["response"]["events"] = events
        complete = False
        try:
            async for chunk in answer.chunks:
                for message in decoder.feed(chunk):
                    events.append(recorded_frame(message, (time.perf_counter() - started) * 1000))
                    yield message.encode()
            complete = decoder.pending == 0
        finally:
            await answer.chunks.aclose()  # the connection to Bedrock, closed now rather than when collected
            if complete:
                self._save(document)
            else:
                self._problem(document, "the stream did not reach its end (the client left, or Bedrock broke off)")

    def _save(self, document: dict[str, Any]) -> None:
        request = document["request"]
        name_key = (request["operation"], request["key"])
        occurrence = self._recorded.get(name_key[1], 0) + 1
        self._recorded[name_key[1]] = occurrence
        try:
            document = self._clean(self._redact_hooks(document))
        except SecretsFound as found:
            self._problem(document, str(found))
            return
        name = file_name(name_key[0], name_key[1], occurrence)
        try:
            if occurrence == 1 and self.settings.mode is RecordMode.ALL:
                # A rewrite: this run's recordings of the request replace every earlier one, not just as many.
                for stale in later_recordings(self.settings.directory, *name_key):
                    stale.unlink()
            write_interaction(self.settings.directory, name, document)
        except OSError as exc:
            self._problem(document, f"it could not be written: {exc}")
            return
        logger.info("recorded %s", self.settings.directory / name)

    def _clean(self, document: dict[str, Any]) -> dict[str, Any]:
        """The document without secrets, by the ``secrets`` policy; a last check runs on the text to be written."""
        assert self._upstream is not None
        creds = self._upstream.credentials()
        secrets = SecretScanner.for_credentials(creds.access_key, creds.secret_key, creds.token)
        document = self._patterns.redact(document)[0]
        redact = self.settings.secrets == "redact"
        if redact:
            document = secrets.redact(document)[0]
        found = [] if redact else secrets.find(document)
        # A secret streamed a few characters per frame is in no one frame: the frames' joined text is scanned too.
        found += stream_findings(document["response"].get("events", ()), secrets, redact=redact)
        if found and not redact:
            raise SecretsFound(found)
        left = secrets.find_in_text(dump(document))
        if left:
            raise SecretsFound(left)
        return document

    def _problem(self, document: Mapping[str, Any], why: str) -> None:
        request = document["request"]
        message = f"{request['operation']} request for {request['model']} not recorded: {why}"
        logger.error("%s", message)
        self.problems.append(message)
