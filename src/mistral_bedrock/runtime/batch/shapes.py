"""A job in the wire shape of GetModelInvocationJob and ListModelInvocationJobs' summaries.

The shape itself is :meth:`mistral_bedrock.batch.jobs.BatchJob.to_json`, the one the client parses: the runtime
builds that value from its job, so what it answers and what the client reads cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from mistral_bedrock.batch.jobs import BatchJob

from .job import Job

__all__ = ["job_shape"]


def job_shape(job: Job) -> dict[str, Any]:
    """The job as Get answers it; a List summary has the same members (``ModelInvocationJobSummary``).

    The record counts appear once validation has counted the records, and move while the job runs [I]: Bedrock
    shows them "for newer jobs" [D] without saying when they are first set.
    """
    request = job.request
    s3_input = request.input_config["s3InputDataConfig"]
    s3_output = request.output_config["s3OutputDataConfig"]
    counts = job.counts
    return BatchJob(
        job_arn=job.arn,
        job_name=request.name,
        model_id=request.model_id,
        role_arn=request.role_arn,
        status=job.status,
        submit_time=job.submit_time,
        input_uri=s3_input["s3Uri"],
        output_uri=s3_output["s3Uri"],
        message=job.message,
        last_modified_time=job.last_modified or job.submit_time,
        end_time=job.end_time,
        job_expiration_time=job.expiration,
        timeout_hours=request.timeout_hours,
        invocation=request.invocation,
        total_records=counts.total if counts else None,
        processed_records=counts.processed if counts else None,
        success_records=counts.success if counts else None,
        error_records=counts.errors if counts else None,
        client_request_token=request.client_token,
        input_bucket_owner=s3_input.get("s3BucketOwner"),
        input_format=s3_input.get("s3InputFormat"),
        output_bucket_owner=s3_output.get("s3BucketOwner"),
        output_kms_key_id=s3_output.get("s3EncryptionKeyId"),
        vpc_config=request.vpc_config,
    ).to_json()
