"""The cassette on disk: a directory with one readable YAML file per recorded request.

One file per interaction keeps a re-record's diff to the files of the requests it made, lets several runs write
side by side, and lets a person read, review and edit a recording. What a file holds, and why:

* the request as Bedrock saw it — operation, resolved model, path, parsed body — and never a header: signatures,
  key ids and tokens live in headers, so none can be written;
* the response's status, an allow-list of headers, and the body parsed as JSON (as text when JSON would not give
  back the same bytes); an event stream as one entry per frame with its arrival time, the ``p`` padding dropped
  (it is random noise that would make every re-record differ) and an InvokeModel chunk's base64 decoded.

Replay encodes the frames anew (valid CRCs, the runtime's own padding), so an edited cassette still plays.
"""

from __future__ import annotations

import base64
import binascii
import gc
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..._version import __version__
from ...protocol.eventstream import EventStreamMessage, encode_event, encode_message
from ...protocol.stream_envelope import StreamEnvelope

__all__ = [
    "FORMAT_VERSION",
    "Interaction",
    "body_bytes",
    "file_name",
    "frame_bytes",
    "later_recordings",
    "load_interactions",
    "recorded_body",
    "recorded_frame",
    "recorded_headers",
    "write_interaction",
]

FORMAT_VERSION = 1

# Response headers worth keeping: they carry meaning a client reads. Everything else (dates, connection, request
# and trace ids, which differ on every call and would make every re-record differ) is left out.
_KEPT_HEADERS = re.compile(r"^(content-type|x-amzn-errortype|x-amzn-bedrock-.*)$")
_NAME = re.compile(r"^(?P<base>[a-z-]+-[0-9a-f]{12})(?:-(?P<n>[0-9]+))?\.(ya?ml|json)$")
_EVENT_HEADERS = (":event-type", ":content-type", ":message-type")
# YAML 1.1's implicit types that JSON does not have (or spells otherwise); :class:`_Loader` reads them as text.
_YAML11_ONLY = frozenset(
    {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML read as JSON reads: only ``true``/``false`` are booleans; no dates, no ``12:30`` as 750, no ``yes``.

    A hand-edited cassette with an unquoted date or ``on`` in a prompt then holds the text that was written. Every
    implicit type here is also one to the YAML 1.1 writer, which quotes any string that would read back as one: so
    what :func:`dump` writes reads back equal (a float needs its dot and a signed exponent, as in YAML 1.1: the
    writer leaves ``2.5e3`` unquoted, a string).
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML11_ONLY]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*))$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


@dataclass(frozen=True)
class Interaction:
    """One recorded request and Bedrock's answer, as read from its file."""

    file: str
    operation: str
    model: str
    body: Any
    response: Mapping[str, Any]
    parameters: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, file: str, data: object) -> Interaction:
        """The interaction a file's document holds.

        Raises:
            ValueError: What is wrong, for the caller to name the file: a missing field, a value of the wrong type.
        """
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise ValueError(f"not a version {FORMAT_VERSION} interaction")
        request, response = data.get("request"), data.get("response")
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise ValueError("needs a 'request' and a 'response' mapping")
        missing = [k for k in ("operation", "model", "body") if k not in request]
        if missing:
            raise ValueError(f"request.{missing[0]} is missing")
        parameters = request.get("parameters") or {}
        if not _strings(parameters):
            raise ValueError("request.parameters must map names to text")
        _check_response(response)
        return cls(file, str(request["operation"]), str(request["model"]), request["body"], response, parameters)


def _strings(mapping: object) -> bool:
    return isinstance(mapping, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())


# A frame's time bound: an hour. A bigger one is a typo that would hang a client replaying with recorded timing.
_MAX_T_MS = 3_600_000.0


def _check_response(response: dict[str, Any]) -> None:
    status = response.get("status")
    if type(status) is not int or not 200 <= status <= 599:
        raise ValueError("response.status must be an HTTP status from 200 to 599")
    if not _strings(response.get("headers") or {}) or any("\n" in v for v in (response.get("headers") or {}).values()):
        raise ValueError("response.headers must map header names to one-line text")
    events = response.get("events")
    if events is not None:
        if status != 200:
            raise ValueError("response.events: a stream is a 200 answer")
        if not isinstance(events, list) or not all(isinstance(frame, dict) for frame in events):
            raise ValueError("response.events must be a list of frames, each a mapping")
    for where, entry in [("response", response), *((f"response.events[{i}]", e) for i, e in enumerate(events or []))]:
        t_ms = entry.get("t_ms", 0.0)
        if type(t_ms) not in (int, float) or not 0 <= t_ms <= _MAX_T_MS:
            raise ValueError(f"{where}.t_ms must be a number of milliseconds from 0 to {_MAX_T_MS:,.0f}")
        if "event" in entry and not isinstance(entry["event"], str):
            raise ValueError(f"{where}.event must be an event name")
        if "headers" in entry and where != "response" and not _strings(entry["headers"]):
            raise ValueError(f"{where}.headers must map header names to text")
        for key in ("body_base64", "payload_base64", "chunk_base64"):
            if key in entry:
                try:
                    base64.b64decode(str(entry[key]), validate=True)
                except binascii.Error:
                    raise ValueError(f"{where}.{key} is not base64") from None


def file_name(operation: str, key: str, occurrence: int) -> str:
    """``converse-stream-3f9c1a2b4c5d.yaml``; the second recording of the same request ends ``-2.yaml``."""
    kebab = re.sub(r"(?<!^)(?=[A-Z])", "-", operation).lower()
    return f"{kebab}-{key[:12]}" + (f"-{occurrence}" if occurrence > 1 else "") + ".yaml"


def later_recordings(directory: Path, operation: str, key: str) -> list[Path]:
    """The files of a request's second and later recordings (``…-2.yaml``, ``…-3.yaml``), which a rewrite replaces."""
    base = file_name(operation, key, 1).removesuffix(".yaml")
    return [path for path in directory.glob(f"{base}-*.yaml") if (match := _NAME.match(path.name)) and match["n"]]


def _order(path: Path) -> tuple[str, int]:
    match = _NAME.match(path.name)
    return (match["base"], int(match["n"] or 1)) if match else (path.stem, 0)


def load_interactions(directory: Path) -> list[Interaction]:
    """Every interaction of a cassette, repeated recordings of one request in the order they were made.

    Raises:
        ValueError: A file that is not an interaction, naming the file and what is wrong.
    """
    # Regular files only: a FIFO or a directory named like a cassette file would hang or fail the read.
    files = sorted(
        (p for p in directory.iterdir() if p.suffix in (".yaml", ".yml", ".json") and p.is_file()), key=_order
    )
    # Reading makes tens of thousands of small objects, none of them garbage: in a process that already holds a
    # large heap (tokenizers, a runtime), the collections they would set off cost more than the reading.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [_read(path) for path in files]
    finally:
        if collecting:
            gc.enable()


def _read(path: Path) -> Interaction:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"cassette file {path}: cannot be read ({exc})") from None
    try:
        return Interaction.of(path.name, data)
    except ValueError as exc:
        raise ValueError(f"cassette file {path}: {exc}") from None


def write_interaction(directory: Path, name: str, document: Mapping[str, Any]) -> Path:
    """Write one interaction's file atomically (a reader never sees half a file) and return its path."""
    text = dump(document)
    directory.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".recording-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a cassette is meant to be read and committed
        target = directory / name
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


class _FrameEntry(dict[str, Any]):
    """A stream frame's entry, written on one line: a stream reads as one line per event."""


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    pass


_Dumper.add_representer(
    _FrameEntry, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)
# A string with a line break, double-quoted with escapes: plain or single-quoted, YAML folds it over several lines,
# and a frame would no longer be one line.
_Dumper.add_representer(
    str,
    lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"' if "\n" in data else None),
)


def dump(document: Mapping[str, Any]) -> str:
    """The YAML text of an interaction: keys in their order, Unicode as is, no line folding, a line per frame."""
    data = dict(document)
    response = data.get("response")
    if isinstance(response, Mapping) and isinstance(response.get("events"), list):
        data["response"] = {**response, "events": [_FrameEntry(entry) for entry in response["events"]]}
    return str(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 30))


def header_document(region: str, at: str) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "recorded": {"tool": f"mistral-bedrock {__version__}", "region": region, "at": at},
    }


def recorded_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed response headers, names lower-cased."""
    return {k.lower(): v for k, v in headers.items() if _KEPT_HEADERS.match(k.lower())}


def _exact_json(raw: bytes) -> tuple[bool, Any]:
    """Whether ``raw`` is JSON that compact encoding gives back byte for byte, and the parsed value."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return False, None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() == raw, value


def recorded_body(raw: bytes, key: str = "body") -> dict[str, Any]:
    """``{key: parsed}`` when that gives the bytes back, else ``{key_text: text}``, else ``{key_base64: …}``."""
    exact, value = _exact_json(raw)
    if exact:
        return {key: value}
    try:
        return {f"{key}_text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {f"{key}_base64": base64.b64encode(raw).decode("ascii")}


def body_bytes(entry: Mapping[str, Any], key: str = "body") -> bytes:
    """The bytes :func:`recorded_body` recorded."""
    if key in entry:
        return json.dumps(entry[key], separators=(",", ":"), ensure_ascii=False).encode()
    if f"{key}_text" in entry:
        return str(entry[f"{key}_text"]).encode("utf-8")
    if f"{key}_base64" in entry:
        return base64.b64decode(str(entry[f"{key}_base64"]))
    return b""


def recorded_frame(message: EventStreamMessage, t_ms: float) -> dict[str, Any]:
    """One frame as a readable entry: an ``event`` and its payload, or (exceptions, errors) its headers."""
    entry: dict[str, Any] = {"t_ms": round(t_ms, 1)}
    headers = {k: str(v) for k, v in message.headers.items()}
    if tuple(headers) != _EVENT_HEADERS or headers[":message-type"] != "event":
        entry["headers"] = headers
        entry.update(recorded_body(message.payload, "payload"))
        return entry
    event = entry["event"] = headers[":event-type"]
    try:
        payload = json.loads(message.payload)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        entry.update(recorded_body(message.payload, "payload"))
        return entry
    # An event is a JSON structure that SDKs parse: its members matter, not its bytes. The padding goes.
    payload.pop("p", None)
    if event == "chunk" and set(payload) == {"bytes"}:
        try:
            # The model's own JSON, which SDKs hand over as bytes: kept byte for byte.
            entry.update(recorded_body(base64.b64decode(str(payload["bytes"]), validate=True), "chunk"))
            return entry
        except binascii.Error:
            pass
    entry["payload"] = payload
    return entry


def frame_bytes(entry: Mapping[str, Any], envelope: StreamEnvelope) -> bytes:
    """The wire frame of a recorded entry, encoded anew (the envelope adds the runtime's padding to events)."""
    event = entry.get("event")
    if not isinstance(event, str):
        headers = {str(k): str(v) for k, v in (entry.get("headers") or {}).items()}
        return encode_message(headers, body_bytes(entry, "payload"))
    if any(key in entry for key in ("chunk", "chunk_text", "chunk_base64")):
        return envelope.chunk_frame(event, body_bytes(entry, "chunk"))
    if isinstance(entry.get("payload"), dict) and not envelope.wraps_chunks:
        return envelope.frame(event, entry["payload"])
    return encode_event(event, body_bytes(entry, "payload"))
