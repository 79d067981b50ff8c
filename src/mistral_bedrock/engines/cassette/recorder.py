"""Recording: a request sent on to Amazon Bedrock, its answer passed back as it comes, and then written down clean.

The answer reaches the client first and unchanged; only once it is whole is the interaction cleaned and written,
in a worker thread (a 20 MB prompt takes a while to scan and dump, and the event loop serves other requests). What
is written is cleaned in a fixed order: the user's hooks, then the user's patterns over the content (bodies and
frames, never the operation, model or event names that matching and replay read), then the credentials, key ids and
account ids everywhere — by the ``secrets`` policy, redacted or refused — and a last scan of the text itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ...protocol.error_codes import parse_error
from ...protocol.eventstream import EventStreamDecoder
from ..relay import RelayAnswer, RelayRequest
from .bedrock_upstream import BedrockUpstream, UpstreamAnswer
from .interaction import (
    dump,
    file_name,
    header_document,
    later_recordings,
    recorded_body,
    recorded_frame,
    recorded_headers,
    write_interaction,
)
from .matching import match_key
from .secrets import SecretScanner, SecretsFound
from .stream_secrets import stream_findings

__all__ = ["Recorder", "Redactor"]

logger = logging.getLogger("mistral_bedrock.cassette")

#: A body redaction hook: gets an interaction document (``{"request": …, "response": …}``; only ``request`` when
#: an incoming request is redacted for matching) and returns it cleaned.
Redactor = Callable[[dict[str, Any]], dict[str, Any]]

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
# Where a response's content lives, by the shape interaction.py writes it in.
_CONTENT = ("body", "body_text", "payload", "payload_text", "chunk", "chunk_text")


@dataclass
class Recorder:
    """Sends requests to Bedrock and writes their interactions into ``directory``.

    Attributes:
        problems: What could not be recorded, one line each (also logged).
        written: Called with each interaction as written (its file name and document), for the engine to replay it.
    """

    directory: Path
    upstream: BedrockUpstream
    rewrite: bool  # mode all: the first recording of a request replaces every earlier one
    refuse: bool  # secrets policy: refuse to write what holds a secret (else redact it)
    patterns: SecretScanner  # the user's redact patterns, applied to content only
    redactors: Sequence[Redactor] = ()
    written: Callable[[str, dict[str, Any]], None] = lambda name, document: None
    problems: list[str] = field(default_factory=list)
    _recordings: dict[str, int] = field(default_factory=dict)  # file key → recordings made

    async def record(self, request: RelayRequest, body: Any, parameters: dict[str, str]) -> RelayAnswer:
        """``request`` answered by Bedrock; the interaction is written once the answer is whole."""
        started = time.perf_counter()
        answer = await self.upstream.send(request)
        operation = request.operation.name.value
        code = parse_error(answer.headers, answer.body, answer.status)[0] if answer.status in (401, 403) else None
        if code in _CREDENTIAL_ERRORS:
            # Bedrock refused the recording credentials, not the request: replayed, it would refuse every later run
            # whatever the credentials then. The client gets the refusal; the cassette does not.
            self._problem(
                f"{operation} request for {request.model_id} not recorded: Amazon Bedrock refused the recording "
                f"credentials ({code}); check them (AWS_PROFILE, AWS_ACCESS_KEY_ID…) and the Region"
            )
            return RelayAnswer(answer.status, recorded_headers(answer.headers), body=answer.body)
        region = self.upstream.region_for(request)
        document = header_document(region, datetime.now(timezone.utc).isoformat(timespec="seconds"))
        document["request"] = {
            "operation": operation,
            "model": request.model_id,
            "path": request.path,
            **({"parameters": parameters} if parameters else {}),
            "key": match_key(operation, request.model_id, body, (), parameters),
            "body": body,
        }
        response: dict[str, Any] = {"status": answer.status, "headers": recorded_headers(answer.headers)}
        document["response"] = response
        if answer.chunks is None:
            response["t_ms"] = round((time.perf_counter() - started) * 1000, 1)
            response.update(recorded_body(answer.body))
            await self._save(document)
            return RelayAnswer(answer.status, dict(response["headers"]), body=answer.body)
        return RelayAnswer(200, dict(response["headers"]), frames=self._stream(answer, document, started))

    async def _stream(self, answer: UpstreamAnswer, document: dict[str, Any], started: float) -> AsyncIterator[bytes]:
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
            if not complete:
                self._not_recorded(document, "the stream did not reach its end (the client left, or Bedrock broke off)")
        if complete:
            # Before the stream's end reaches the client: a client that has read it finds the file written.
            await self._save(document)

    async def _save(self, document: dict[str, Any]) -> None:
        request = document["request"]
        operation, key = request["operation"], request["key"]
        occurrence = self._recordings[key] = self._recordings.get(key, 0) + 1
        name = file_name(operation, key, occurrence)
        try:
            cleaned = await asyncio.to_thread(self._write, document, name, occurrence)
        except SecretsFound as found:
            self._not_recorded(document, str(found))
            return
        except OSError as exc:
            self._not_recorded(document, f"it could not be written: {exc}")
            return
        logger.info("recorded %s", self.directory / name)
        self.written(name, cleaned)

    def _write(self, document: dict[str, Any], name: str, occurrence: int) -> dict[str, Any]:
        """Clean ``document`` and write it as ``name`` (in a worker thread); the document as written."""
        cleaned = self.clean(document)
        if occurrence == 1 and self.rewrite:
            # A rewrite: this run's recordings of the request replace every earlier one, not just as many.
            for stale in later_recordings(self.directory, cleaned["request"]["operation"], cleaned["request"]["key"]):
                stale.unlink()
        write_interaction(self.directory, name, cleaned)
        return cleaned

    def clean(self, document: dict[str, Any]) -> dict[str, Any]:
        """The document as it may be written (see the module's docstring).

        Raises:
            SecretsFound: The ``refuse`` policy and a secret, or a secret redaction could not take out.
        """
        for redactor in self.redactors:
            document = redactor(document)
        document = deepcopy(document)
        parsed = _parse_texts(document["response"])
        for container, key in _content(document):
            container[key] = self.patterns.redact(container[key])[0]
        creds = self.upstream.credentials()
        secrets = SecretScanner.for_credentials(creds.access_key, creds.secret_key, creds.token)
        if self.refuse:
            events = document["response"].get("events", [])
            found = secrets.find(document) + stream_findings(events, secrets, redact=False)
            if found:
                raise SecretsFound(found)
        else:
            document = secrets.redact(document)[0]
            # A secret streamed a few characters per frame is in no one frame: the joined text is scanned too.
            stream_findings(document["response"].get("events", []), secrets, redact=True)
        _restore_texts(document["response"], parsed)
        left = secrets.find_in_text(dump(document))
        if left:
            raise SecretsFound(left)
        return document

    def _not_recorded(self, document: dict[str, Any], why: str) -> None:
        request = document["request"]
        self._problem(f"{request['operation']} request for {request['model']} not recorded: {why}")

    def _problem(self, message: str) -> None:
        logger.error("%s", message)
        self.problems.append(message)


def _content(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Where the user's patterns apply: the request's body, the response's body and each frame's content."""
    yield document["request"], "body"
    response = document["response"]
    for entry in (response, *response.get("events", [])):
        for key in _CONTENT:
            if key in entry:
                yield entry, key


# A text kept as text, parsed for cleaning: (frame index or None for the response, key, the text, its value).
_Parsed = tuple[int | None, str, str, Any]


def _parse_texts(response: dict[str, Any]) -> list[_Parsed]:
    """A response body or frame kept as text (JSON that compact encoding would not give back byte for byte) parsed
    in place, so that a secret behind ``\\u002F`` or ``\\/`` is seen and redacted like any other."""
    parsed: list[_Parsed] = []
    events = response.get("events", [])
    for index, entry in [(None, response), *enumerate(events)]:
        for text_key in ("body_text", "payload_text", "chunk_text"):
            if text_key in entry:
                try:
                    value = json.loads(entry[text_key])
                except ValueError:
                    continue
                key = text_key.removesuffix("_text")
                entry[key] = value
                parsed.append((index, key, entry.pop(text_key), deepcopy(value)))
    return parsed


def _restore_texts(response: dict[str, Any], parsed: list[_Parsed]) -> None:
    """Each parsed text that cleaning left alone back as it was, byte for byte; a cleaned one stays JSON."""
    events = response.get("events", [])
    for index, key, text, before in parsed:
        entry = response if index is None else events[index]
        if entry.get(key) == before:
            del entry[key]
            entry[f"{key}_text"] = text
