"""What each format says its body carries is what it builds, for every model of the catalog."""

from __future__ import annotations

import pytest

from mistral_bedrock.catalog import all_models
from mistral_bedrock.conversation import Message, Params
from mistral_bedrock.errors import ValidationException
from mistral_bedrock.formats import format_for

CASES = [
    (spec, dialect)
    for spec in all_models()
    for dialect in spec.dialects  # the native dialects; Converse carries every field
]


@pytest.mark.parametrize(("spec", "dialect"), CASES, ids=lambda value: getattr(value, "value", None) or value.model_id)
@pytest.mark.parametrize(("field", "params"), [("top_k", Params(top_k=5)), ("stop", Params(stop=("X",)))])
def test_a_field_is_built_exactly_when_the_format_carries_it(spec, dialect, field: str, params: Params) -> None:  # type: ignore[no-untyped-def]
    fmt = format_for(dialect)
    if field in fmt.carries(spec):
        fmt.build_body(spec, [Message.user("hi")], params)
    else:
        with pytest.raises(ValidationException):
            fmt.build_body(spec, [Message.user("hi")], params)
