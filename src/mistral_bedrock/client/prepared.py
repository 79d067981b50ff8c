"""A request built and checked, ready to send: what both shells hand to the network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..catalog import ResolvedModel
from ..formats import Format
from ..protocol.operations import Operation

__all__ = ["Prepared"]


@dataclass(frozen=True)
class Prepared:
    """One call, ready to send: the operation, the model, the format and the body."""

    operation: Operation
    model: ResolvedModel
    fmt: Format
    body: Mapping[str, Any]
    payload: bytes
    path: str

    @property
    def streaming(self) -> bool:
        return self.operation.streaming
