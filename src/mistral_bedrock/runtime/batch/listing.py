"""ListModelInvocationJobs: its query parameters, checked as Bedrock's front end checks them, and its pages.

The ``nextToken`` is opaque to clients: here the position after the last job of the page, with a digest of the
filters, so a token used with other filters is refused rather than silently skipping jobs [I].
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from mistral_bedrock.batch.limits import BatchLimits
from mistral_bedrock.batch.status import JobStatus
from mistral_bedrock.errors import ValidationException
from mistral_bedrock.formats.messages import coral_error
from mistral_bedrock.formats.service_constraints import ConstraintWalk
from mistral_bedrock.formats.service_model import Shape

from .job import Job

__all__ = ["DEFAULT_MAX_RESULTS", "ListQuery", "page"]

#: Jobs per page when ``maxResults`` is not given [I] (Bedrock's default is not documented).
DEFAULT_MAX_RESULTS = 100
_INVALID_TOKEN = "The provided pagination token is invalid."  # [I]: Bedrock's exact words are unknown


# restJson1 query timestamps are RFC 3339 date-times [D] (Smithy's default for a query-bound timestamp).
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
# A Java int's text, as the front end parses an Integer query member: no blanks, fractions or underscores [I].
_INTEGER = re.compile(r"[+-]?\d{1,10}")


def _unreadable(name: str, value: str, expected: str) -> ValidationException:
    # [I]: how the front end words a query value it cannot convert is not known.
    return ValidationException(f"Invalid value for parameter {name}: {value!r} is not {expected}")


def _timestamp(name: str, value: str) -> datetime:
    if not _TIMESTAMP.fullmatch(value):
        raise _unreadable(name, value, "an ISO 8601 (RFC 3339) date-time")
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:  # a month 13, a day 32
        raise _unreadable(name, value, "an ISO 8601 (RFC 3339) date-time") from None


@functools.lru_cache(maxsize=8)
def _query_shape(limits: BatchLimits) -> Shape:
    """ListModelInvocationJobsRequest's string members, in the model's order, as the front end checks them."""
    members = (
        ("statusEquals", Shape("ModelInvocationJobStatus", "string", enum=tuple(s.value for s in JobStatus))),
        (
            "nameContains",
            Shape(
                "ModelInvocationJobName",
                "string",
                min=limits.min_job_name,
                max=limits.max_job_name,
                pattern=re.compile(limits.job_name_pattern),
            ),
        ),
        ("maxResults", Shape("MaxResults", "integer", min=limits.min_list_results, max=limits.max_list_results)),
        ("nextToken", Shape("PaginationToken", "string", min=1, max=2048, pattern=re.compile(r"\S*"))),
        ("sortBy", Shape("SortJobsBy", "string", enum=("CreationTime",))),
        ("sortOrder", Shape("SortOrder", "string", enum=("Ascending", "Descending"))),
    )
    shape = Shape("ListModelInvocationJobsRequest", "structure")
    shape.members = members
    shape.body_members = {name: (order, member) for order, (name, member) in enumerate(members)}
    return shape


def _checked(params: Mapping[str, str], limits: BatchLimits) -> dict[str, str | int]:
    """The parameters, ``maxResults`` as a number, after every constraint the front end checks (one message)."""
    values: dict[str, str | int] = dict(params)
    raw = params.get("maxResults")
    if raw is not None:
        if not _INTEGER.fullmatch(raw):
            raise _unreadable("maxResults", raw, "an integer")
        values["maxResults"] = int(raw)
    walk = ConstraintWalk()
    walk.structure(_query_shape(limits), values, "", False)
    if walk.problems:
        raise coral_error(walk.problems)
    return values


@dataclass(frozen=True)
class ListQuery:
    """The filters and page of one List request.

    Attributes:
        status: ``statusEquals``.
        name_contains: ``nameContains``.
        after: ``submitTimeAfter`` (exclusive) [I].
        before: ``submitTimeBefore`` (exclusive) [I].
        descending: ``sortOrder`` (``Descending`` by default [I]).
        max_results: ``maxResults``.
        offset: Where the page starts (from ``nextToken``).
    """

    status: JobStatus | None = None
    name_contains: str | None = None
    after: datetime | None = None
    before: datetime | None = None
    descending: bool = True
    max_results: int = DEFAULT_MAX_RESULTS
    offset: int = 0

    @classmethod
    def parse(cls, params: Mapping[str, str], limits: BatchLimits) -> ListQuery:
        """The query from the request's query parameters.

        Every parameter arrives as text (blank ones kept: a blank ``nameContains`` breaks its minimum length, as it
        does at the front end); the constraints are the service model's, in the front end's words [D].

        Raises:
            ValidationException: A value outside its enum, range, length or pattern, a value that is no number or
                date-time, or a token from another listing.
        """
        values = _checked(params, limits)
        status, name = params.get("statusEquals"), params.get("nameContains")
        query = cls(
            status=JobStatus(status) if status else None,
            name_contains=name,
            after=_timestamp("submitTimeAfter", params["submitTimeAfter"]) if "submitTimeAfter" in params else None,
            before=_timestamp("submitTimeBefore", params["submitTimeBefore"]) if "submitTimeBefore" in params else None,
            descending=params.get("sortOrder", "Descending") == "Descending",
            max_results=int(values.get("maxResults", min(DEFAULT_MAX_RESULTS, limits.max_list_results))),
        )
        token = params.get("nextToken")
        return query if token is None else query.resumed(token)

    def _digest(self) -> str:
        filters = [self.status, self.name_contains, self.after, self.before, self.descending]
        return hashlib.sha256(repr(filters).encode()).hexdigest()[:16]

    def token(self, offset: int) -> str:
        """The ``nextToken`` of the page that starts at ``offset``."""
        raw = json.dumps({"o": offset, "f": self._digest()}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode()

    def resumed(self, token: str) -> ListQuery:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            offset, digest = int(data["o"]), data["f"]
        except (ValueError, TypeError, KeyError, UnicodeDecodeError):
            raise ValidationException(_INVALID_TOKEN) from None
        if digest != self._digest() or offset < 0:
            raise ValidationException(_INVALID_TOKEN)
        return replace(self, offset=offset)

    def matches(self, job: Job) -> bool:
        return (
            (self.status is None or job.status is self.status)
            and (self.name_contains is None or self.name_contains in job.request.name)
            and (self.after is None or job.submit_time > self.after)
            and (self.before is None or job.submit_time < self.before)
        )


def page(jobs: Iterable[Job], query: ListQuery) -> tuple[Sequence[Job], str | None]:
    """The page of jobs the query asks for, sorted by submit time, and the next page's token (None on the last page).

    ``jobs`` come in creation order, which the stable sort keeps for equal submit times: pages never overlap.
    """
    found = sorted((job for job in jobs if query.matches(job)), key=lambda job: job.submit_time)
    if query.descending:
        found.reverse()
    end = query.offset + query.max_results
    return found[query.offset : end], query.token(end) if end < len(found) else None
