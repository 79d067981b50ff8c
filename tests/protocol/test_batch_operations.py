"""The table of the ``bedrock`` batch operations, checked against botocore's own ``bedrock`` service model, and its
paths against what botocore's serializer sends."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.model import ServiceModel
from botocore.serialize import create_serializer

from mistral_bedrock.protocol.batch_operations import (
    BATCH_OPERATIONS,
    BatchOperationName,
    batch_path,
    match_batch_path,
)
from mistral_bedrock.protocol.operations import split_model_path

ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghijkl"


@pytest.fixture(scope="module")
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("bedrock")


def _sent_path(service_model: ServiceModel, name: BatchOperationName, params: dict[str, Any]) -> tuple[str, str]:
    """The method and raw path botocore's serializer puts on the wire for these parameters."""
    operation = service_model.operation_model(name.value)
    request = create_serializer(service_model.metadata["protocol"]).serialize_to_request(params, operation)
    return request["method"], request["url_path"]


@pytest.mark.parametrize("name", list(BatchOperationName))
def test_each_row_matches_the_service_model(service_model: ServiceModel, name: BatchOperationName) -> None:
    ours = BATCH_OPERATIONS[name]
    theirs = service_model.operation_model(name.value)
    assert (theirs.http["method"], theirs.http["requestUri"]) == (ours.method, ours.uri_template)
    assert {shape.name for shape in theirs.error_shapes} == ours.errors


def test_the_table_covers_every_model_invocation_job_operation(service_model: ServiceModel) -> None:
    modelled = {name for name in service_model.operation_names if "ModelInvocationJob" in name}
    assert modelled == {name.value for name in BatchOperationName}


@pytest.mark.parametrize("identifier", ["abcdefghijkl", ARN])
@pytest.mark.parametrize("name", [BatchOperationName.GET, BatchOperationName.STOP])
def test_paths_are_what_botocore_sends(service_model: ServiceModel, name: BatchOperationName, identifier: str) -> None:
    method, path = _sent_path(service_model, name, {"jobIdentifier": identifier})
    assert path == batch_path(name, identifier)
    matched = match_batch_path(method, path)
    assert matched is not None
    assert (matched[0].name, matched[1]) == (name, identifier)


def test_an_arn_travels_as_one_segment() -> None:
    path = batch_path(BatchOperationName.GET, ARN)
    assert path == (
        "/model-invocation-job/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Amodel-invocation-job%2Fabcdefghijkl"
    )


def test_create_and_list_paths(service_model: ServiceModel) -> None:
    create = {
        "jobName": "j",
        "roleArn": "arn:aws:iam::123456789012:role/r",
        "modelId": "m",
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://in/x.jsonl"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://out/"}},
    }
    for name, params in ((BatchOperationName.CREATE, create), (BatchOperationName.LIST, {"maxResults": 5})):
        method, path = _sent_path(service_model, name, params)
        matched = match_batch_path(method, path)
        assert matched is not None and matched[0].name is name and matched[1] is None


def test_wrong_methods_and_other_paths_are_no_operation() -> None:
    assert match_batch_path("GET", "/model-invocation-job") is None  # Create's path, Get's method
    assert match_batch_path("DELETE", "/model-invocation-job/abcdefghijkl") is None
    assert match_batch_path("POST", "/model-invocation-job/a/b/stop") is None
    assert match_batch_path("POST", "/model/mistral.mistral-large-3-675b-instruct/invoke") is None


def test_batch_paths_never_look_like_model_paths() -> None:
    # The runtime routes /model/{id}/{operation} and /model-invocation-job… side by side on one port.
    for name in BatchOperationName:
        assert split_model_path(batch_path(name, ARN)) is None
    with pytest.raises(ValueError, match="needs a job identifier"):
        batch_path(BatchOperationName.STOP)
