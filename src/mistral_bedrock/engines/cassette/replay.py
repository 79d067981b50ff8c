"""The ``replay:DIR`` engine: Bedrock's recorded answers played back, and (in a record mode) new ones recorded.

A request reaches this engine only after the runtime validated it as Bedrock does. It is matched on operation,
resolved model, Bedrock's header parameters and canonical body (:mod:`.matching`); several recordings of one request
play in the order they were made, the last one repeating. A request with no recording, when the mode does not
record, is answered with a 400 ValidationException naming the nearest recording and the first field that differs —
a 400, because SDKs retry a 5xx and the test would only get slower.

In a record mode the request goes on to Bedrock through a :class:`~.recorder.Recorder`, which writes the interaction
down once the answer is whole. What could not be recorded is kept in :attr:`ReplayEngine.problems`, and every miss in
:attr:`ReplayEngine.misses`, for the pytest plugin to report. Play order is this engine's: with ``serve --workers N``
each worker process keeps its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from ...errors import ValidationException
from ...protocol.stream_envelope import StreamEnvelope
from ..relay import RelayAnswer, RelayRequest
from .bedrock_upstream import BedrockUpstream
from .interaction import Interaction, body_bytes, frame_bytes, load_interactions
from .matching import drop_fields, match_key, nearest, parameters_of, request_body
from .recorder import Recorder, Redactor
from .secrets import SecretScanner
from .settings import RecordMode, ReplaySettings

__all__ = ["Redactor", "ReplayEngine"]

# Bodies larger than this are matched in a worker thread (the runtime's handlers draw the same line).
_OFFLOAD_BYTES = 16 * 1024


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
        self._redactors = tuple(redactors)
        self._sleep = sleep
        directory = settings.directory
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"cassette {directory} is not a directory")
        if settings.mode is RecordMode.NONE and not directory.exists() and not missing_ok:
            raise ValueError(f"cassette {directory} does not exist (record one with a record mode, or serve --record)")
        self._interactions = load_interactions(directory) if directory.is_dir() else []
        # The user's patterns apply to content only; AWS key ids and account ids are cleaned without credentials,
        # so that an incoming request is cleaned as its recording was.
        self._patterns = SecretScanner.for_credentials(None, None, None, settings.redact, builtin=False)
        self._builtin = SecretScanner.for_credentials(None, None, None)
        self._recording_all = settings.mode is RecordMode.ALL or (
            settings.mode is RecordMode.ONCE and not self._interactions
        )
        self._recorder: Recorder | None = None
        if self._recording_all or settings.mode is RecordMode.NEW_EPISODES:  # credentials only when it will record
            self._recorder = Recorder(
                directory,
                BedrockUpstream(region=settings.region, url=settings.upstream_url, credentials=credentials),
                rewrite=settings.mode is RecordMode.ALL,
                refuse=settings.secrets == "refuse",
                patterns=self._patterns,
                redactors=self._redactors,
                written=self._written,
            )
        self._by_key: dict[str, list[Interaction]] = {}
        for interaction in self._interactions:
            self._add(interaction)
        self._plays: dict[str, int] = {}  # match key → times played
        self._played: set[str] = set()  # files played

    @property
    def problems(self) -> list[str]:
        """What could not be recorded, one line each."""
        return self._recorder.problems if self._recorder is not None else []

    def _add(self, interaction: Interaction) -> None:
        key = match_key(
            interaction.operation, interaction.model, interaction.body, self.settings.ignore, interaction.parameters
        )
        self._by_key.setdefault(key, []).append(interaction)

    def _written(self, name: str, document: dict[str, Any]) -> None:
        """A new episode is replayed from now on, like any recording (mode new_episodes)."""
        if self.settings.mode is RecordMode.NEW_EPISODES:
            interaction = Interaction.of(name, document)
            self._interactions.append(interaction)
            self._played.add(name)
            self._add(interaction)

    def describe(self) -> str:
        """One line on what this engine does: what it replays, where it records from."""
        settings = self.settings
        line = f"cassette {settings.directory}: mode {settings.mode.value}, {len(self._interactions)} recordings"
        if self._recorder is not None:
            line += f"; records from {self._recorder.upstream.describe()}"
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
        parameters = parameters_of(request.headers)
        if len(request.body) > _OFFLOAD_BYTES:
            body = await asyncio.to_thread(self._matchable, operation, request.body)
        else:
            body = self._matchable(operation, request.body)
        if not self._recording_all:
            key = match_key(operation, request.model_id, body, self.settings.ignore, parameters)
            recordings = self._by_key.get(key)
            if recordings:
                played = self._plays.get(key, 0)
                self._plays[key] = played + 1
                return await self._replay(recordings[min(played, len(recordings) - 1)], request)
            if self._recorder is None:
                raise self._miss(operation, request.model_id, body)
        assert self._recorder is not None
        return await self._recorder.record(request, body, parameters)

    def _matchable(self, operation: str, raw: bytes) -> Any:
        """The request body as it would be written: matching compares cleaned requests with cleaned recordings."""
        document: dict[str, Any] = {"request": {"body": request_body(operation, raw)}}
        for redactor in self._redactors:
            document = redactor(document)
        return self._builtin.redact(self._patterns.redact(document["request"]["body"])[0])[0]

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
