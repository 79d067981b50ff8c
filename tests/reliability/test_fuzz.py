"""Hypothesis throws arbitrary requests at the runtime: every answer must be Bedrock-shaped and never a 5xx.

Each response is parsed by botocore's own restJson1 parser for the operation it was sent to (and streams by
botocore's event-stream decoder), so "Bedrock-shaped" means what real clients mean by it. The default size runs
in CI; ``--soak`` runs 100,000 cases.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import botocore.session
import httpx
import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.parsers import create_parser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mistral_bedrock.catalog import MODELS
from mistral_bedrock.protocol.operations import OPERATIONS
from mistral_bedrock.runtime import ServerThread

pytestmark = pytest.mark.reliability

SUFFIX_TO_OPERATION = {op.suffix: name.value for name, op in OPERATIONS.items()}
MODEL_IDS = [m.model_id for m in MODELS] + [a for m in MODELS for a in m.aliases]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(
    ["prompt", "messages", "max_tokens", "temperature", "top_p", "top_k", "stop", "stop_sequences", "tools",
     "tool_choice", "system", "inferenceConfig", "toolConfig", "input", "additionalModelRequestFields", "role",
     "content", "text", "toolUse", "toolResult"]
)  # fmt: skip
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "tool", "system", "bogus"])},
    optional={
        "content": st.one_of(
            st.text(max_size=40), st.lists(st.dictionaries(keys, json_values, max_size=3), max_size=3)
        ),
        "tool_call_id": st.text(max_size=12),
        "tool_calls": st.lists(st.dictionaries(keys, json_values, max_size=3), max_size=2),
    },
)
bodies = st.one_of(
    st.dictionaries(keys, json_values, max_size=6),
    st.fixed_dictionaries(
        {"prompt": st.text(max_size=60)}, optional={"max_tokens": st.integers(-5, 10_000), "stop": json_values}
    ),
    st.fixed_dictionaries(
        {"messages": st.lists(message, max_size=4)}, optional={"tool_choice": json_values, "tools": json_values}
    ),
    st.fixed_dictionaries(
        {
            "messages": st.lists(
                st.fixed_dictionaries(
                    {
                        "role": st.sampled_from(["user", "assistant"]),
                        "content": st.lists(st.dictionaries(keys, json_values, max_size=2), max_size=3),
                    }
                ),
                max_size=3,
            )
        },
        optional={
            "inferenceConfig": st.dictionaries(
                st.sampled_from(["maxTokens", "temperature", "topP", "stopSequences"]), json_values
            ),
            "system": json_values,
        },
    ),
    json_values,
)
raw_bodies = st.one_of(bodies.map(lambda b: json.dumps(b).encode()), st.binary(max_size=80))
model_labels = st.one_of(
    st.sampled_from(MODEL_IDS),
    st.sampled_from(MODEL_IDS).map(lambda m: m.replace(":", "%3A")),
    st.sampled_from(
        [f"us.{m.model_id}" for m in MODELS]
        + [f"arn:aws:bedrock:us-east-1::foundation-model/{m.model_id}" for m in MODELS]
    ).map(lambda m: m.replace(":", "%3A").replace("/", "%2F")),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#"), max_size=40),
)
suffixes = st.sampled_from([*SUFFIX_TO_OPERATION, "nope", ""])
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(str.strip)
extra_headers = st.dictionaries(
    st.sampled_from(
        [
            "content-type",
            "accept",
            "x-amzn-bedrock-accept",
            "x-amzn-bedrock-trace",
            "x-amzn-bedrock-guardrailidentifier",
            "x-amzn-bedrock-performanceconfig-latency",
            "authorization",
        ]
    ),
    header_values,
    max_size=3,
)


@pytest.fixture(scope="module")
def runtime() -> Iterator[ServerThread]:
    with ServerThread() as server:
        yield server


@pytest.fixture(scope="module")
def http(runtime: ServerThread) -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    with httpx.Client(base_url=runtime.url, timeout=30, transport=transport) as client:
        yield client


@pytest.fixture(scope="module")
def service_model() -> Any:
    return botocore.session.get_session().get_service_model("bedrock-runtime")


def check_response(service_model: Any, operation: str | None, response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        error_type = response.headers.get("x-amzn-errortype", "")
        assert error_type.endswith(":http://internal.amazon.com/coral/com.amazon.bedrock/"), error_type
        assert set(response.json()) == {"message"}
    if operation is None:
        return
    op_model = service_model.operation_model(operation)
    headers = {k.lower(): v for k, v in response.headers.items()}
    if response.status_code == 200 and op_model.has_event_stream_output:
        buffer = EventStreamBuffer()
        buffer.add_data(response.content)
        frames = list(buffer)
        assert frames
        assert all(f.headers[":message-type"] in ("event", "exception") for f in frames)
        return
    parsed = create_parser("rest-json").parse(
        {"status_code": response.status_code, "headers": headers, "body": response.content},
        op_model.output_shape if response.status_code == 200 else None,
    )
    if response.status_code != 200:
        assert parsed["Error"]["Code"] == error_type.split(":")[0]


def fuzz_settings(soak: bool) -> settings:
    return settings(
        max_examples=100_000 if soak else 2_000,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )


def test_fuzzed_requests_get_bedrock_shaped_answers(http: httpx.Client, service_model: Any, soak: bool) -> None:
    @fuzz_settings(soak)
    @given(label=model_labels, suffix=suffixes, body=raw_bodies, headers=extra_headers, auth=st.booleans())
    def case(label: str, suffix: str, body: bytes, headers: dict[str, str], auth: bool) -> None:
        sent = {"authorization": "Bearer fuzz"} if auth else {}
        sent.update(headers)
        response = http.post(f"/model/{label}/{suffix}", content=body, headers=sent)
        check_response(service_model, SUFFIX_TO_OPERATION.get(suffix), response)

    case()
    assert http.get("/_mistral_bedrock/health").json()["status"] == "ok"  # still up


def test_valid_model_invalid_body_streams(http: httpx.Client, service_model: Any, soak: bool) -> None:
    """The streaming operations specifically, on real model ids, with bodies close to valid."""

    @fuzz_settings(soak)
    @given(
        model=st.sampled_from([m.model_id for m in MODELS if not m.requires_profile]),
        body=bodies,
        converse=st.booleans(),
    )
    def case(model: str, body: Any, converse: bool) -> None:
        suffix = "converse-stream" if converse else "invoke-with-response-stream"
        response = http.post(
            f"/model/{model}/{suffix}", content=json.dumps(body).encode(), headers={"Authorization": "Bearer f"}
        )
        check_response(service_model, SUFFIX_TO_OPERATION[suffix], response)

    case()


def test_methods_and_paths(http: httpx.Client) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        reply = http.request(
            method, "/model/mistral.mistral-7b-instruct-v0:2/invoke", headers={"Authorization": "Bearer x"}
        )
        assert reply.status_code == 404
        assert reply.headers["x-amzn-errortype"].startswith("UnknownOperationException:")
    for path in ("/", "/model", "/model//invoke", "/model/a/b/c/invoke", "/guardrail/x/version/1/apply"):
        assert http.post(path, headers={"Authorization": "Bearer x"}).status_code in (400, 404)
