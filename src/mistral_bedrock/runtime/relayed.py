"""A request answered by a :class:`~mistral_bedrock.engines.relay.Relay`: Bedrock's own answer, sent on as it is.

The handlers validate the request first, exactly as for a model engine. What the relay gives back goes out
unchanged but for what the runtime owns on every answer: its request id, the first-byte floor of streams (the
AWS SDK for Go needs it, see :mod:`.pacing`), and stream faults, which cut or break a relayed stream after N frames
as they do a generated one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from mistral_bedrock.engines.relay import Relay, RelayAnswer, RelayRequest
from mistral_bedrock.errors import BedrockError

from .responses import EventStreamResponse, JSONBytesResponse, exception_frame

if TYPE_CHECKING:
    from .handlers import Call, Response

__all__ = ["relayed"]

# Headers the runtime writes itself on every answer.
_OWN_HEADERS = frozenset({"content-length", "x-amzn-requestid", "transfer-encoding", "connection", "date"})


async def relayed(call: Call, relay: Relay) -> Response:
    """``call`` answered by ``relay``."""
    request = RelayRequest(
        operation=call.operation,
        model_id=call.model.model_id,
        path=call.path,
        region=call.region,
        body=call.body,
        headers=call.headers,
        padding=call.padding,
    )
    answer = await relay.relay(request)
    if answer.frames is None:
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in _OWN_HEADERS}
        headers["x-amzn-RequestId"] = call.request_id
        return JSONBytesResponse(answer.status, answer.body, headers)
    await call.pacing.response(call.model.spec, call.started, call.faults).first_byte()
    return EventStreamResponse(_with_faults(call, answer), call.request_id)


async def _with_faults(call: Call, answer: RelayAnswer) -> AsyncIterator[bytes]:
    assert answer.frames is not None
    sent = 0
    frames = answer.frames
    try:
        async for frame in frames:
            broken = call.faults.before_frame(sent)
            if broken is not None:
                yield exception_frame(call.operation, broken)
                return
            sent += 1
            yield frame
    except BedrockError as error:  # the relay's source broke off mid-stream
        yield exception_frame(call.operation, error)
    finally:
        close = getattr(frames, "aclose", None)
        if close is not None:
            await close()
