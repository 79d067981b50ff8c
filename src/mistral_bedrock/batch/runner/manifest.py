"""Writing ``manifest.json.out``: whole or not at all."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..output import Manifest

__all__ = ["manifest_bytes", "write_manifest"]


def manifest_bytes(manifest: Manifest) -> bytes:
    """The bytes of ``manifest.json.out``, wherever it is written (a local file, or a job's output prefix)."""
    return json.dumps(manifest.to_json()).encode()


def write_manifest(path: Path, manifest: Manifest) -> None:
    """Write ``manifest`` to ``path`` atomically: a reader (or a kill) never sees half a manifest.

    The JSON goes to a temporary file beside ``path``, is flushed to disk, then renamed over it.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as stream:
            stream.write(manifest_bytes(manifest))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
