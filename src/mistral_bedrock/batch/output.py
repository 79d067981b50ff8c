"""Bedrock's batch output format: ``<input file>.out`` lines and ``manifest.json.out`` [D].

Each output line echoes ``recordId`` and ``modelInput`` and carries either ``modelOutput`` or ``error``. Non-ASCII
characters are written raw, as Bedrock writes them [R].
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .outcome import RecordOutcome
from .records import InputRecord

__all__ = ["MANIFEST_NAME", "Manifest", "output_line", "output_name"]

MANIFEST_NAME = "manifest.json.out"


def output_name(input_name: str) -> str:
    """``input.jsonl`` → ``input.jsonl.out``: one output file per input file, under ``{outputUri}/{jobId}/``."""
    return f"{input_name}.out"


def output_line(record: InputRecord, outcome: RecordOutcome) -> bytes:
    """One output line, ``\\n``-terminated."""
    line: dict[str, object] = {"recordId": record.record_id, "modelInput": record.model_input}
    if outcome.error is not None:
        line["error"] = outcome.error.to_json()
    else:
        line["modelOutput"] = outcome.output
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@dataclass
class Manifest:
    """``manifest.json.out``: the job's counts and token totals."""

    total: int = 0
    processed: int = 0
    success: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, outcome: RecordOutcome) -> None:
        """Count one written record."""
        self.processed += 1
        if outcome.ok:
            self.success += 1
        else:
            self.errors += 1
        self.input_tokens += outcome.input_tokens
        self.output_tokens += outcome.output_tokens

    def to_json(self) -> dict[str, int]:
        return {
            "totalRecordCount": self.total,
            "processedRecordCount": self.processed,
            "successRecordCount": self.success,
            "errorRecordCount": self.errors,
            "inputTokenCount": self.input_tokens,
            "outputTokenCount": self.output_tokens,
        }

    @classmethod
    def from_json(cls, data: dict[str, int]) -> Manifest:
        return cls(
            total=data.get("totalRecordCount", 0),
            processed=data.get("processedRecordCount", 0),
            success=data.get("successRecordCount", 0),
            errors=data.get("errorRecordCount", 0),
            input_tokens=data.get("inputTokenCount", 0),
            output_tokens=data.get("outputTokenCount", 0),
        )
