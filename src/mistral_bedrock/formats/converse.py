"""The Converse API (Converse / ConverseStream) for Mistral models.

Requests are Bedrock's own JSON; the service renders them into the model's prompt template. Mistral's rules
for Converse are enforced on the runtime side (see :mod:`.converse_rules`) and *applied* on the client side
when building a body (see :mod:`.converse_request`); the answer, whole or streamed, is :mod:`.converse_response`
and :mod:`.converse_stream`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..catalog import Dialect, ModelSpec
from ..conversation import Completion, Messages, Params, Tools, Usage
from ..protocol.operations import OperationName
from .body_types import ConverseRequest, ConverseResponse
from .converse_request import body_for, request_from_body
from .converse_response import STOPS, completion_from_response, converse_stop_reason, response_for
from .converse_stream import ConverseStreamReader, ConverseStreamWriter
from .format import Format, Metrics, ParsedRequest, StreamReader, StreamWriter, request_seed

__all__ = ["STOPS", "ConverseFormat", "converse_stop_reason"]


class ConverseFormat(Format):
    """Bedrock's Converse request and response."""

    dialect = Dialect.CONVERSE
    operations = (OperationName.CONVERSE, OperationName.CONVERSE_STREAM)

    def build_body(
        self, spec: ModelSpec, messages: Messages, params: Params, tools: Tools = (), tool_choice: str | None = None
    ) -> ConverseRequest:
        return body_for(spec, messages, params, tools, tool_choice)

    def parse_response(self, body: Mapping[str, Any], usage: Usage | None = None) -> Completion:
        return completion_from_response(body)

    def stream_reader(self) -> StreamReader:
        return ConverseStreamReader()

    def parse_request(self, spec: ModelSpec, body: object, *, stream: bool) -> ParsedRequest:
        return request_from_body(spec, body, self.dialect, stream=stream)

    def build_response(self, request: ParsedRequest, completion: Completion, metrics: Metrics) -> ConverseResponse:
        return response_for(request, completion, metrics)

    def stream_writer(self, request: ParsedRequest) -> StreamWriter:
        return ConverseStreamWriter(request_seed(request))
