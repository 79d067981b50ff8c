"""CreateModelInvocationJob's checks, in Bedrock's order, up to the job's request.

1. The input shape (:func:`~mistral_bedrock.batch.jobs.check_create_request`, shared with the client): every
   constraint in the front end's words [D]. The role ARN's form is one of them; ``iam:PassRole`` is not evaluated
   (a no-op that always passes [I]).
2. The model: an identifier the catalog does not know, or a model ARN naming another Region than the signing one,
   gets the runtime's usual ``The provided model identifier is invalid.`` [I] (what InvokeModel answers for the same
   identifier here); a known model without verified batch support (or outside the signing Region, or without the
   invocation type) gets ``Batch inference is not supported for the requested model.`` [R], unless unverified
   models are allowed.

A body that does not parse (bad JSON, bad encoding, nesting deeper than the parser allows) is refused as the
on-demand Converse route refuses one: ``SerializationException`` (both APIs are restJson1 services). A null member
is an absent one, as the front end reads it [I]: the defaults apply.

The idempotency token, the job name and the in-progress cap need the other jobs: :mod:`.registry` checks them.
"""

from __future__ import annotations

from typing import Any

from mistral_bedrock.batch.invocation import InvocationType
from mistral_bedrock.batch.jobs import BATCH_NOT_SUPPORTED, check_create_request
from mistral_bedrock.batch.limits import batch_support
from mistral_bedrock.catalog import INVALID_MODEL_MESSAGE, resolve
from mistral_bedrock.errors import SerializationException, ValidationException
from mistral_bedrock.formats.json_body import load_json

from .job import JobRequest
from .settings import BatchSettings

__all__ = ["json_object", "parse_create"]


def json_object(raw: bytes) -> dict[str, Any]:
    """A batch request's body as restJson1 reads it: empty is ``{}``; anything but a JSON object is refused.

    Raises:
        SerializationException: Not JSON, or JSON that is not an object.
    """
    try:
        body = load_json(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise SerializationException("Could not parse the request body as JSON.") from None
    if not isinstance(body, dict):
        raise SerializationException("Start of list found where not expected")
    return body


def _catalog_id(model_id: str, invocation: InvocationType, region: str | None, settings: BatchSettings) -> str:
    # Batch runs on no on-demand throughput, so a model Bedrock serves only through a profile is not refused for
    # being named by its plain id here [I].
    resolved = resolve(model_id, enforce_profile=False)
    if region is not None and resolved.region not in (None, region):
        # A foundation-model or profile ARN names its Region; the model endpoint refuses one naming another [I].
        raise ValidationException(INVALID_MODEL_MESSAGE)
    spec = resolved.spec
    if settings.allow_unverified:
        return spec.model_id
    supported = (
        batch_support(spec) == "verified"
        and spec.batch is not None
        and invocation.value in spec.batch.invocation_types
        and (region is None or spec.served_in(region, resolved.profile))
    )
    if not supported:
        raise ValidationException(BATCH_NOT_SUPPORTED)
    return spec.model_id


def parse_create(raw: bytes, region: str | None, settings: BatchSettings) -> JobRequest:
    """The job a Create body asks for, after the checks that need no other job.

    Args:
        raw: The request body.
        region: The Region the request was signed for (None for a bearer token: no Region check).
        settings: The control plane's settings (limits, unverified models).

    Raises:
        SerializationException: The body is not a JSON object, or a member has the wrong JSON type.
        ValidationException: A shape constraint, or a model Bedrock would refuse for batch.
    """
    body = json_object(raw)
    check_create_request(body, settings.limits)
    invocation = InvocationType(body.get("modelInvocationType") or InvocationType.INVOKE_MODEL.value)
    timeout = body.get("timeoutDurationInHours")
    catalog_id = _catalog_id(body["modelId"], invocation, region, settings)
    # The data configs are unions whose one member is S3: the shape check has refused any other.
    return JobRequest(
        name=body["jobName"],
        role_arn=body["roleArn"],
        model_id=body["modelId"],
        catalog_id=catalog_id,
        input_config=body["inputDataConfig"],
        output_config=body["outputDataConfig"],
        invocation=invocation,
        # An Integer member given 100.0 holds 100 (the shape check refused a fraction): echoed as the integer.
        timeout_hours=settings.default_timeout_hours if timeout is None else int(timeout),
        client_token=body.get("clientRequestToken"),
        vpc_config=body.get("vpcConfig"),
        tags=tuple(body.get("tags") or ()),
    )
