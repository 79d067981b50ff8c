"""Engines that answer at the wire level: a recorded or a real Bedrock response, byte for byte.

An :class:`~.engine.Engine` yields model events and the runtime writes them in the operation's shape. A replayed
cassette or a recording proxy has no model events: it has Bedrock's own answer — its status, its error message, its
stream frames — and the point is to give exactly that back. Such an engine is a :class:`Relay`. The runtime still
routes, authenticates and validates every request as Bedrock does first (so a request Bedrock would refuse never
reaches Bedrock, nor a cassette), then hands the request as received to :meth:`Relay.relay`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..protocol.operations import Operation

__all__ = ["Relay", "RelayAnswer", "RelayRequest"]


@dataclass(frozen=True)
class RelayRequest:
    """A validated request, as it arrived.

    Attributes:
        operation: The operation the path names.
        model_id: The model the label resolves to (an alias, a profile or an ARN resolved to its model id).
        path: The raw path, still percent-encoded, as the client sent it.
        region: The Region the client signed for (SigV4), None for a bearer token: a recording asks Bedrock there.
        body: The body's bytes.
        headers: The request's headers, names lower-cased (signatures included: a relay forwards only what it must).
        padding: Whether stream events the relay encodes itself carry Bedrock's ``p`` padding.
    """

    operation: Operation
    model_id: str
    path: str
    region: str | None
    body: bytes
    headers: Mapping[str, str]
    padding: bool = True


@dataclass
class RelayAnswer:
    """Bedrock's answer: a whole body, or (a 200 event stream) its encoded frames as they come.

    Attributes:
        status: The HTTP status.
        headers: Response headers to send besides the runtime's own (content type, request id).
        body: The whole body, for a whole response or an error.
        frames: The stream's frames, each a complete encoded event-stream message, for a streaming 200.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    frames: AsyncIterator[bytes] | None = None


@runtime_checkable
class Relay(Protocol):
    """Something that answers validated requests with Bedrock's own wire answer."""

    name: str

    async def relay(self, request: RelayRequest) -> RelayAnswer:
        """The answer to ``request``.

        Raises:
            BedrockError: The request cannot be answered (a cassette miss): the runtime sends Bedrock's error.
        """
        ...
