"""ListModelInvocationJobs: filters, order, pages through boto3's own paginator, and the front end's refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.runtime.batch.conftest import Jobs, bedrock_client, control_client, records


@pytest.fixture(scope="module")
def listed(batch_store: Any, bedrock: Any, batch_runtime: Any) -> list[str]:
    """Seven finished jobs named ``listing-N`` (one Failed), created in order."""
    with control_client(batch_runtime.url) as control:
        jobs = Jobs(batch_store, bedrock, control)
        good = jobs.write("listing/input.jsonl", records(100))
        arns = [jobs.create(good, jobName=f"listing-{i}") for i in range(6)]
        arns.append(jobs.create(jobs.write("listing/short.jsonl", records(3)), jobName="listing-6"))
        for arn in arns:
            jobs.settle(arn)
    return arns


def test_the_paginator_walks_every_page(bedrock: Any, listed: list[str]) -> None:
    pages = list(
        bedrock.get_paginator("list_model_invocation_jobs").paginate(
            nameContains="listing-", PaginationConfig={"PageSize": 3}
        )
    )
    assert [len(page["invocationJobSummaries"]) for page in pages] == [3, 3, 1]
    arns = [s["jobArn"] for page in pages for s in page["invocationJobSummaries"]]
    assert arns == list(reversed(listed))  # newest first by default [I]


def test_filters(bedrock: Any, listed: list[str]) -> None:
    failed = bedrock.list_model_invocation_jobs(nameContains="listing-", statusEquals="Failed")
    assert [s["jobArn"] for s in failed["invocationJobSummaries"]] == [listed[-1]]
    ascending = bedrock.list_model_invocation_jobs(nameContains="listing-", sortOrder="Ascending", maxResults=2)
    assert [s["jobArn"] for s in ascending["invocationJobSummaries"]] == listed[:2]
    assert "nextToken" in ascending
    first = bedrock.get_model_invocation_job(jobIdentifier=listed[0])["submitTime"]
    last = bedrock.get_model_invocation_job(jobIdentifier=listed[-1])["submitTime"]
    window = bedrock.list_model_invocation_jobs(
        nameContains="listing-", submitTimeAfter=first - timedelta(seconds=1), submitTimeBefore=last
    )
    assert listed[0] in {s["jobArn"] for s in window["invocationJobSummaries"]}
    assert listed[-1] not in {s["jobArn"] for s in window["invocationJobSummaries"]}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"maxResults": 1001}, "Member must have value less than or equal to 1000"),
        ({"statusEquals": "Done"}, "Member must satisfy enum value set"),
        ({"nextToken": "garbage"}, "pagination token"),
        ({"nameContains": "my_job"}, "Value 'my_job' at 'nameContains' failed to satisfy constraint: Member must"),
        ({"nameContains": "a b"}, "at 'nameContains' failed to satisfy constraint: Member must satisfy regular"),
        ({"nameContains": ""}, "at 'nameContains' failed to satisfy constraint: Member must have length greater"),
        ({"nextToken": ""}, "at 'nextToken' failed to satisfy constraint: Member must have length greater"),
        ({"nextToken": "a b"}, "at 'nextToken' failed to satisfy constraint: Member must satisfy regular"),
        ({"nextToken": "x" * 2049}, "at 'nextToken' failed to satisfy constraint: Member must have length less"),
    ],
)
def test_bad_parameters_are_validation_errors(batch_runtime: Any, params: dict[str, Any], fragment: str) -> None:
    unchecked = bedrock_client(batch_runtime.url, parameter_validation=False)  # boto3 would refuse some itself
    with pytest.raises(ClientError) as excinfo:
        unchecked.list_model_invocation_jobs(**params)
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert fragment in excinfo.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("maxResults=%205", "maxResults: ' 5' is not an integer"),
        ("maxResults=1.5", "maxResults: '1.5' is not an integer"),
        ("maxResults=1_0", "maxResults: '1_0' is not an integer"),
        ("submitTimeAfter=2024-01-01", "submitTimeAfter: '2024-01-01' is not an ISO 8601"),
        ("submitTimeBefore=20240101T000000Z", "submitTimeBefore: '20240101T000000Z' is not an ISO 8601"),
    ],
)
def test_values_that_are_no_number_or_date_time_are_refused(batch_runtime: Any, query: str, fragment: str) -> None:
    reply = httpx.get(f"{batch_runtime.url}/model-invocation-jobs?{query}", headers={"Authorization": "Bearer t"})
    assert (reply.status_code, reply.headers["x-amzn-ErrorType"].split(":")[0]) == (400, "ValidationException")
    assert fragment in reply.json()["message"]
