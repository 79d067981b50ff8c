"""The fault-rule parser on its own: ``FaultRule.from_json`` (the control endpoint's JSON) and ``parse_fault_spec``
(``--fault``), called directly, one behaviour per test.

Every refusal is a ``ValueError`` whose message starts with the field it is about (or, for ``--fault``, with
``fault 'SPEC': `` and then the field), so a person can find the mistake without reading the code.
"""

from __future__ import annotations

import math
import re
from dataclasses import fields
from typing import Any

import pytest

from mistral_bedrock.protocol.operations import OPERATIONS
from mistral_bedrock.runtime.fault_specs import parse_fault_spec
from mistral_bedrock.runtime.faults import MAX_INT, FaultRule

SEVEN_B = "mistral.mistral-7b-instruct-v0:2"
# The field of stream-error and drop rules that counts the events sent before the stream breaks.
AFTER = "after_frames"
THROTTLE = {"kind": "error", "code": "ThrottlingException"}
# One valid rule of each kind, with every field its kind allows; the field checks below start from these.
FULL: dict[str, dict[str, Any]] = {
    "error": {**THROTTLE, "message": "slow down"},
    "latency": {"kind": "latency", "first_byte_ms": 200, "per_token_ms": 10},
    "stream-error": {"kind": "stream-error", "code": "ModelStreamErrorException", "message": "broke", AFTER: 3},
    "drop": {"kind": "drop", AFTER: 2},
}
KIND_FIELDS = {kind: set(rule) - {"kind"} for kind, rule in FULL.items()}
OWN_FIELDS = {"code", "message", "first_byte_ms", "per_token_ms", AFTER}
INT_FIELDS = ["count", "first_byte_ms", "per_token_ms", AFTER]
TEXT_FIELDS = ["code", "message", "model", "operation"]
STREAMING = [op.name.value for op in OPERATIONS.values() if op.streaming]
NOT_STREAMING = [op.name.value for op in OPERATIONS.values() if not op.streaming]


def refused(rule: object, words: str) -> str:
    """``rule`` is refused by ``from_json`` with a message starting with ``words``; the message."""
    with pytest.raises(ValueError, match="^" + re.escape(words)) as caught:
        FaultRule.from_json(rule)
    return str(caught.value)


def spec_refused(spec: str, words: str) -> str:
    """``spec`` is refused by ``parse_fault_spec`` with ``fault 'SPEC': `` and then ``words``; the message."""
    with pytest.raises(ValueError, match="^" + re.escape(f"fault {spec!r}: {words}")) as caught:
        parse_fault_spec(spec)
    return str(caught.value)


def owner(name: str) -> dict[str, Any]:
    """A valid rule of a kind that uses field ``name`` (the common fields: any kind)."""
    return next((rule for rule in FULL.values() if name in rule), THROTTLE)


# -- valid rules -------------------------------------------------------------------------------------------------


def test_the_field_list_is_the_one_the_tests_know() -> None:
    # A renamed or added field must be added to the tables above, or its checks would go untested.
    common = {"kind", "rate", "count", "model", "operation"}
    assert {f.name for f in fields(FaultRule)} == common | OWN_FIELDS


@pytest.mark.parametrize("kind", list(FULL))
def test_each_kind_with_all_its_fields_round_trips(kind: str) -> None:
    rule = FaultRule.from_json(FULL[kind])
    assert rule.kind == kind
    assert rule.to_json() == FULL[kind]
    assert FaultRule.from_json(rule.to_json()) == rule


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("ThrottlingException", THROTTLE),
        ("error:code=ThrottlingException", THROTTLE),
        ("latency:first_byte=200,per_token=10", FULL["latency"]),
        ("latency:first_byte_ms=200,per_token_ms=10", FULL["latency"]),
        (f"stream-error:{AFTER}=3,code=ModelStreamErrorException,message=broke", FULL["stream-error"]),
        (f"drop:{AFTER}=2", FULL["drop"]),
    ],
)
def test_each_kind_parses_from_a_spec_as_from_its_json(spec: str, rule: dict[str, Any]) -> None:
    assert parse_fault_spec(spec) == FaultRule.from_json(rule)


@pytest.mark.parametrize("kind", ["stream-error", "drop"])
def test_stream_faults_break_at_the_start_by_default(kind: str) -> None:
    assert getattr(FaultRule.from_json({"kind": kind}), AFTER) == 0


def test_a_stream_error_needs_no_code() -> None:
    assert FaultRule.from_json({"kind": "stream-error"}).code is None


@pytest.mark.parametrize(
    ("alias", "code"),
    [
        ("throttle", "ThrottlingException"),
        ("throttling", "ThrottlingException"),
        ("not-ready", "ModelNotReadyException"),
        ("timeout", "ModelTimeoutException"),
        ("unavailable", "ServiceUnavailableException"),
        ("internal", "InternalServerException"),
    ],
)
def test_short_names_stand_for_their_codes_in_json(alias: str, code: str) -> None:
    assert FaultRule.from_json({"kind": "error", "code": alias}).code == code


@pytest.mark.parametrize("alias", ["throttle", "throttling", "not-ready", "timeout", "unavailable", "internal"])
def test_short_names_make_error_rules_in_specs(alias: str) -> None:
    assert parse_fault_spec(alias) == FaultRule.from_json({"kind": "error", "code": alias})


def test_a_short_name_in_a_stream_error_is_its_code() -> None:
    assert FaultRule.from_json({"kind": "stream-error", "code": "throttle"}).code == "ThrottlingException"


@pytest.mark.parametrize("name", ["rate", "count", "model", "operation"])
def test_an_explicit_null_is_an_absent_common_field(name: str) -> None:
    assert FaultRule.from_json({**THROTTLE, name: None}) == FaultRule.from_json(THROTTLE)


@pytest.mark.parametrize("name", ["first_byte_ms", "per_token_ms", AFTER])
def test_an_explicit_null_is_absent_even_where_the_kind_has_no_such_field(name: str) -> None:
    assert FaultRule.from_json({**THROTTLE, name: None}) == FaultRule.from_json(THROTTLE)


def test_a_model_alias_resolves_to_its_model_id() -> None:
    assert FaultRule.from_json({**THROTTLE, "model": "mistral-7b"}).model == SEVEN_B


@pytest.mark.parametrize("operation", list(OPERATIONS.values()), ids=lambda op: op.name.value)
def test_an_operation_is_named_or_given_by_its_path_suffix(operation: Any) -> None:
    by_name = FaultRule.from_json({**THROTTLE, "operation": operation.name.value})
    by_suffix = FaultRule.from_json({**THROTTLE, "operation": operation.suffix})
    assert by_name.operation == by_suffix.operation == operation.name.value


@pytest.mark.parametrize("kind", ["stream-error", "drop"])
@pytest.mark.parametrize("operation", STREAMING)
def test_stream_faults_take_streaming_operations(kind: str, operation: str) -> None:
    assert FaultRule.from_json({"kind": kind, "operation": operation}).operation == operation


def test_spec_whitespace_and_empty_options_are_ignored() -> None:
    assert parse_fault_spec(" throttle : count = 2 ,, ") == FaultRule.from_json({**THROTTLE, "count": 2})


# -- bounds ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0, 0.0, 0.25, 1, 1.0])
def test_rate_takes_0_to_1(rate: float) -> None:
    assert FaultRule.from_json({**THROTTLE, "rate": rate}).rate == rate


@pytest.mark.parametrize(
    ("rate", "shown"),
    [(-0.01, "-0.01"), (1.01, "1.01"), (2, "2"), (math.inf, "inf"), (-math.inf, "-inf"), (math.nan, "nan")],
)
def test_rate_outside_0_to_1_is_refused(rate: float, shown: str) -> None:
    refused({**THROTTLE, "rate": rate}, f"rate must be a number from 0 to 1, got {shown}")


@pytest.mark.parametrize("name", INT_FIELDS)
@pytest.mark.parametrize("value", [0, 1, 10**6])
def test_integer_fields_take_zero_and_up(name: str, value: int) -> None:
    # The latency rule keeps its other timing, so a zero here still leaves it some latency.
    assert getattr(FaultRule.from_json({**owner(name), name: value}), name) == value


@pytest.mark.parametrize("name", INT_FIELDS)
def test_integer_fields_refuse_negatives(name: str) -> None:
    refused({**owner(name), name: -1}, f"{name} must be a non-negative integer, got -1")


@pytest.mark.parametrize("name", INT_FIELDS)
def test_integer_fields_stop_where_the_shared_store_does(name: str) -> None:
    assert getattr(FaultRule.from_json({**owner(name), name: MAX_INT}), name) == MAX_INT
    refused({**owner(name), name: 10**20}, f"{name} must be at most {MAX_INT}, got {10**20}")


def test_a_latency_fault_needs_some_latency() -> None:
    refused({"kind": "latency", "first_byte_ms": 0, "per_token_ms": 0}, "a latency fault needs first_byte_ms")


@pytest.mark.parametrize("spec", ["throttle:rate=1.5", "throttle:rate=-1", "throttle:rate=nan", "throttle:rate=1e400"])
def test_spec_rate_bounds_are_the_json_ones(spec: str) -> None:
    spec_refused(spec, "rate must be a number from 0 to 1")


# -- wrong types -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", INT_FIELDS)
@pytest.mark.parametrize(
    ("value", "shown"), [("2", '"2"'), (1.5, "1.5"), (True, "true"), (False, "false"), ([1], "[1]")]
)
def test_integer_fields_refuse_other_types(name: str, value: object, shown: str) -> None:
    refused({**owner(name), name: value}, f"{name} must be a non-negative integer, got {shown}")


@pytest.mark.parametrize("name", TEXT_FIELDS)
@pytest.mark.parametrize(("value", "shown"), [(429, "429"), (True, "true"), (["x"], "['x']"), ({}, "{}")])
def test_text_fields_refuse_other_types(name: str, value: object, shown: str) -> None:
    refused({**owner(name), name: value}, f"{name} must be a string, got {shown}")


@pytest.mark.parametrize(("value", "shown"), [("0.5", '"0.5"'), (True, "true"), ([0.5], "[0.5]")])
def test_rate_refuses_other_types(value: object, shown: str) -> None:
    refused({**THROTTLE, "rate": value}, f"rate must be a number from 0 to 1, got {shown}")


@pytest.mark.parametrize(("value", "shown"), [(1, "1"), (True, "true"), (["error"], "['error']"), ("Error", '"Error"')])
def test_kind_of_another_type_or_case_is_refused(value: object, shown: str) -> None:
    refused({"kind": value}, f"kind must be one of error, latency, stream-error, drop, got {shown}")


@pytest.mark.parametrize(("rule", "shown"), [([THROTTLE], "[{"), ("error", '"error"'), (None, "null"), (3, "3")])
def test_a_rule_must_be_an_object(rule: object, shown: str) -> None:
    refused(rule, f"a fault rule must be a JSON object, got {shown}")


@pytest.mark.parametrize(
    ("option", "shown"),
    [("count=x", '"x"'), ("count=1.5", '"1.5"'), ("count=", '""'), ("count=true", '"true"')],
)
def test_spec_integers_that_do_not_parse_are_shown_as_written(option: str, shown: str) -> None:
    spec_refused(f"throttle:{option}", f"count must be a non-negative integer, got {shown}")


def test_spec_rate_that_does_not_parse_is_shown_as_written() -> None:
    spec_refused("throttle:rate=lots", 'rate must be a number from 0 to 1, got "lots"')


# -- unknown kinds and fields ------------------------------------------------------------------------------------


def test_kind_is_required() -> None:
    refused({"code": "ThrottlingException"}, "kind is required")


def test_a_null_kind_is_a_missing_one() -> None:
    refused({"kind": None}, "kind is required")


@pytest.mark.parametrize("kind", ["explode", "errors", "stream_error", ""])
def test_an_unknown_kind_is_refused(kind: str) -> None:
    refused({"kind": kind}, f'kind must be one of error, latency, stream-error, drop, got "{kind}"')


@pytest.mark.parametrize("name", ["colour", "fired", "id", "remaining", "active", "after_ms", "Count"])
def test_an_unknown_field_is_refused_with_the_list_of_fields(name: str) -> None:
    message = refused({**THROTTLE, name: 1}, f"unknown field {name}; a fault rule has ")
    assert message.endswith(", ".join(sorted(f.name for f in fields(FaultRule))))


def test_every_unknown_field_is_named_in_order() -> None:
    refused({**THROTTLE, "zeta": 1, "alpha": 2}, "unknown field alpha, zeta;")


@pytest.mark.parametrize(
    ("kind", "name"), [(kind, name) for kind in FULL for name in sorted(OWN_FIELDS - KIND_FIELDS[kind])]
)
def test_a_field_of_another_kind_is_refused(kind: str, name: str) -> None:
    value = "ThrottlingException" if name == "code" else "x" if name == "message" else 1
    refused({**FULL[kind], name: value}, f"{name} does not apply to {kind} faults")


@pytest.mark.parametrize(
    ("kind", "name", "value"), [("drop", "code", ""), ("latency", AFTER, 0), ("error", "per_token_ms", 0)]
)
def test_a_field_of_another_kind_is_refused_even_when_zero(kind: str, name: str, value: object) -> None:
    # JSON is stricter than the constructor: giving the field a value at all is the mistake (a null is no value).
    refused({**FULL[kind], name: value}, f"{name} does not apply to")


def test_an_error_fault_needs_a_code() -> None:
    refused({"kind": "error"}, "code is required for an error fault")


@pytest.mark.parametrize("code", ["NoSuchException", "throttled", "throttlingexception", ""])
def test_an_unknown_code_is_refused(code: str) -> None:
    refused({"kind": "error", "code": code}, f'code must be an AWS error code of the error table, got "{code}"')


@pytest.mark.parametrize("model", ["gpt-4", "mistral", ""])
def test_an_unknown_model_is_refused(model: str) -> None:
    refused({**THROTTLE, "model": model}, f'model must be a model the catalog knows, got "{model}"')


@pytest.mark.parametrize("operation", ["Invoke", "invokemodel", "/invoke", ""])
def test_an_unknown_operation_is_refused_with_the_list_of_names(operation: str) -> None:
    names = ", ".join(op.name.value for op in OPERATIONS.values())
    refused({**THROTTLE, "operation": operation}, f"operation must be one of {names} (or its path suffix)")


@pytest.mark.parametrize("kind", ["stream-error", "drop"])
@pytest.mark.parametrize("operation", NOT_STREAMING)
def test_stream_faults_refuse_operations_that_do_not_stream(kind: str, operation: str) -> None:
    refused({"kind": kind, "operation": operation}, f"operation {operation} does not stream")


# -- the --fault syntax ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["", " ", ":", ":count=1"])
def test_an_empty_spec_is_refused(spec: str) -> None:
    spec_refused(spec, "it is empty; expected KIND_OR_CODE[:key=value,…]")


@pytest.mark.parametrize("head", ["bogus", "Throttle", "stream_error", "ERROR"])
def test_a_head_that_is_no_kind_or_code_is_refused(head: str) -> None:
    spec_refused(f"{head}:count=1", f"{head!r} is neither a fault kind")


@pytest.mark.parametrize("option", ["count", "count 2", "after:2"])
def test_an_option_without_equals_is_refused(option: str) -> None:
    spec_refused(f"throttle:{option}", f"option {option!r} is not key=value")


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("throttle:count=1,count=2", "count"),
        ("latency:first_byte=1,first_byte_ms=2", "first_byte_ms"),
        ("throttle:code=internal", "code"),
        ("throttle:kind=drop", "kind"),
    ],
)
def test_a_field_given_twice_is_refused(spec: str, name: str) -> None:
    spec_refused(spec, f"{name} is given twice")


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("throttle:colour=red", "unknown field colour"),
        (f"drop:{AFTER}=1,code=ThrottlingException", "code does not apply to drop faults"),
        ("stream-error:operation=converse", "operation Converse does not stream"),
        ("error", "code is required for an error fault"),
        ("latency", "a latency fault needs first_byte_ms or per_token_ms"),
        ("throttle:model=gpt-4", 'model must be a model the catalog knows, got "gpt-4"'),
    ],
)
def test_spec_refusals_are_the_json_ones_prefixed_with_the_spec(spec: str, words: str) -> None:
    message = spec_refused(spec, words)
    assert "\n" not in message
