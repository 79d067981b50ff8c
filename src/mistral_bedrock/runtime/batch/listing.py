"""ListModelInvocationJobs: its query parameters, checked as Bedrock's front end checks them, and its pages.

The ``nextToken`` is opaque to clients: here the position after the last job of the page, with a digest of the
filters, so a token used with other filters is refused rather than silently skipping jobs [I].
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from mistral_bedrock.batch.limits import BatchLimits
from mistral_bedrock.batch.status import JobStatus
from mistral_bedrock.errors import ValidationException

from .job import Job

__all__ = ["DEFAULT_MAX_RESULTS", "ListQuery", "page"]

#: Jobs per page when ``maxResults`` is not given [I] (Bedrock's default is not documented).
DEFAULT_MAX_RESULTS = 100
_INVALID_TOKEN = "The provided pagination token is invalid."  # [I]: Bedrock's exact words are unknown


def _constraint(name: str, value: str, constraint: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: {constraint}"
    )


def _timestamp(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationException(
            f"Invalid value for parameter {name}: {value!r} is not an ISO 8601 timestamp"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


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

        Raises:
            ValidationException: A value outside its enum or range, or a token from another listing.
        """
        status = params.get("statusEquals")
        if status is not None and status not in {s.value for s in JobStatus}:
            choices = ", ".join(s.value for s in JobStatus)
            raise _constraint("statusEquals", status, f"Member must satisfy enum value set: [{choices}]")
        order = params.get("sortOrder", "Descending")
        if order not in ("Ascending", "Descending"):
            raise _constraint("sortOrder", order, "Member must satisfy enum value set: [Ascending, Descending]")
        sort_by = params.get("sortBy", "CreationTime")
        if sort_by != "CreationTime":
            raise _constraint("sortBy", sort_by, "Member must satisfy enum value set: [CreationTime]")
        name = params.get("nameContains")
        if name is not None and not 1 <= len(name) <= limits.max_job_name:
            raise _constraint(
                "nameContains", name, f"Member must have length less than or equal to {limits.max_job_name}"
            )
        query = cls(
            status=JobStatus(status) if status else None,
            name_contains=name,
            after=_timestamp("submitTimeAfter", params["submitTimeAfter"]) if "submitTimeAfter" in params else None,
            before=_timestamp("submitTimeBefore", params["submitTimeBefore"]) if "submitTimeBefore" in params else None,
            descending=order == "Descending",
            max_results=_max_results(params.get("maxResults"), limits),
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


def _max_results(raw: str | None, limits: BatchLimits) -> int:
    if raw is None:
        return min(DEFAULT_MAX_RESULTS, limits.max_list_results)
    try:
        value = int(raw)
    except ValueError:
        raise ValidationException(f"Invalid value for parameter maxResults: {raw!r} is not an integer") from None
    if value < limits.min_list_results:
        raise _constraint(
            "maxResults", raw, f"Member must have value greater than or equal to {limits.min_list_results}"
        )
    if value > limits.max_list_results:
        raise _constraint("maxResults", raw, f"Member must have value less than or equal to {limits.max_list_results}")
    return value


def page(jobs: Iterable[Job], query: ListQuery) -> tuple[Sequence[Job], str | None]:
    """The page of jobs the query asks for, sorted by submit time, and the next page's token (None on the last page).

    ``jobs`` come in creation order, which the stable sort keeps for equal submit times: pages never overlap.
    """
    found = sorted((job for job in jobs if query.matches(job)), key=lambda job: job.submit_time)
    if query.descending:
        found.reverse()
    end = query.offset + query.max_results
    return found[query.offset : end], query.token(end) if end < len(found) else None
