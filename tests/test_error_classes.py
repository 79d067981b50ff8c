"""The exception tree: one class per AWS code, chosen by code, never by status."""

from __future__ import annotations

import mistral_bedrock.errors as errors
from mistral_bedrock.protocol.error_codes import ERROR_CODES


def test_every_table_code_has_its_class() -> None:
    for code, row in ERROR_CODES.items():
        cls = errors.error_class(code)
        assert cls.__name__ == code
        assert cls is getattr(errors, code)
        error = errors.error_from_code(code, "m", request_id="rid")
        assert isinstance(error, errors.BedrockError)
        assert isinstance(error, errors.MistralBedrockError)
        assert (error.error_code, error.status, error.retryable, error.request_id) == (
            code,
            row.status,
            row.retryable,
            "rid",
        )


def test_unknown_codes_keep_their_code() -> None:
    error = errors.error_from_code("SomethingNewException", "boom", status=418)
    assert type(error) is errors.BedrockError
    assert error.error_code == "SomethingNewException"
    assert error.status == 418
    assert str(error) == "SomethingNewException: boom"


def test_stream_members_map_to_classes() -> None:
    assert isinstance(errors.error_from_stream_member("throttlingException", "m"), errors.ThrottlingException)
    assert isinstance(
        errors.error_from_stream_member("modelStreamErrorException", "m"), errors.ModelStreamErrorException
    )


def test_all_is_sorted_and_complete() -> None:
    assert errors.__all__ == sorted(errors.__all__)
    public = {
        name
        for name, value in vars(errors).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == errors.__name__
    }
    assert public == set(errors.__all__)
