"""Fault rules are checked field by field on the way in, and drawn per request as documented."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mistral_bedrock.runtime.fault_specs import parse_fault_spec
from mistral_bedrock.runtime.faults import FaultController, FaultRule, Faults
from mistral_bedrock.runtime.store import MemoryStore

SEVEN_B = "mistral.mistral-7b-instruct-v0:2"


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (
            {"kind": "error", "code": "ThrottlingException", "count": "2"},
            'count must be a non-negative integer, got "2"',
        ),
        ({"kind": "error", "code": "ThrottlingException", "count": -1}, "count must be a non-negative integer, got -1"),
        (
            {"kind": "error", "code": "ThrottlingException", "count": True},
            "count must be a non-negative integer, got true",
        ),
        (
            {"kind": "error", "code": "ThrottlingException", "count": 1.5},
            "count must be a non-negative integer, got 1.5",
        ),
        ({"kind": "error", "code": "ThrottlingException", "rate": 2}, "rate must be a number from 0 to 1, got 2"),
        (
            {"kind": "error", "code": "ThrottlingException", "rate": "0.5"},
            'rate must be a number from 0 to 1, got "0.5"',
        ),
        ({"kind": "error", "code": "ThrottlingException", "rate": float("nan")}, "rate must be a number from 0 to 1"),
        ({"kind": "latency", "first_byte_ms": -5}, "first_byte_ms must be a non-negative integer, got -5"),
        ({"kind": "drop", "after_frames": -1}, "after_frames must be a non-negative integer, got -1"),
        (
            {"kind": "error", "code": "NoSuchException"},
            'code must be an AWS error code of the error table, got "NoSuchException"',
        ),
        ({"kind": "error"}, "code is required for an error fault"),
        ({"kind": "error", "code": 429}, "code must be a string, got 429"),
        ({"kind": "explode"}, 'kind must be one of error, latency, stream-error, drop, got "explode"'),
        ({"code": "ThrottlingException"}, "kind is required"),
        ({"kind": "error", "code": "ThrottlingException", "fired": 0}, "unknown field fired"),
        ({"kind": "error", "code": "ThrottlingException", "colour": "red"}, "unknown field colour"),
        ({"kind": "drop", "after_frames": 1, "code": "ThrottlingException"}, "code does not apply to drop faults"),
        (
            {"kind": "error", "code": "ThrottlingException", "after_frames": 2},
            "after_frames does not apply to error faults",
        ),
        ({"kind": "latency"}, "a latency fault needs first_byte_ms or per_token_ms"),
        (
            {"kind": "error", "code": "ThrottlingException", "operation": "Invoke"},
            "operation must be one of InvokeModel",
        ),
        ({"kind": "drop", "operation": "Converse"}, "operation Converse does not stream"),
        (
            {"kind": "error", "code": "ThrottlingException", "model": "gpt-4"},
            'model must be a model the catalog knows, got "gpt-4"',
        ),
        (["not", "an", "object"], "a fault rule must be a JSON object"),
    ],
)
def test_bad_json_rules_are_refused_naming_the_field(rule: Any, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        FaultRule.from_json(rule)


def test_operation_names_and_path_suffixes_both_work() -> None:
    assert FaultRule.from_json({"kind": "drop", "operation": "converse-stream"}).operation == "ConverseStream"
    assert FaultRule.from_json({"kind": "drop", "operation": "ConverseStream"}).operation == "ConverseStream"


def test_json_form_round_trips_with_only_the_kinds_fields() -> None:
    rule = FaultRule.from_json({"kind": "error", "code": "throttle", "count": 2, "model": "mistral-7b"})
    assert rule.to_json() == {"kind": "error", "code": "ThrottlingException", "count": 2, "model": SEVEN_B}
    assert FaultRule.from_json(rule.to_json()) == rule


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("throttle:count=x", 'count must be a non-negative integer, got "x"'),
        ("throttle:count=-2", "count must be a non-negative integer, got -2"),
        ("throttle:rate=lots", 'rate must be a number from 0 to 1, got "lots"'),
        ("throttle:colour=red", "unknown field colour"),
        ("throttle:operation=Nope", "operation must be one of InvokeModel"),
        ("drop:code=ThrottlingException", "code does not apply to drop faults"),
        ("bogus", "'bogus' is neither a fault kind"),
        ("throttle:count", "option 'count' is not key=value"),
        ("throttle:count=1,count=2", "count is given twice"),
    ],
)
def test_bad_fault_specs_are_refused_naming_the_field(spec: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)) as caught:
        parse_fault_spec(spec)
    message = str(caught.value)
    assert message.startswith(f"fault {spec!r}: ")
    assert "\n" not in message


def test_specs_read_like_their_json() -> None:
    assert parse_fault_spec("latency:first_byte=200,per_token=10") == FaultRule(
        "latency", first_byte_ms=200, per_token_ms=10
    )
    assert parse_fault_spec("ModelNotReadyException:count=2,model=mistral-7b,operation=invoke") == FaultRule(
        "error", code="ModelNotReadyException", count=2, model=SEVEN_B, operation="InvokeModel"
    )


def controller(*rules: FaultRule) -> FaultController:
    control = FaultController(MemoryStore())
    control.add_all(rules)
    return control


def test_stream_faults_are_not_used_up_by_operations_they_cannot_break() -> None:
    control = controller(FaultRule("drop", after_frames=1, count=1))
    assert control.decide(SEVEN_B, "InvokeModel") == Faults()
    assert control.decide(SEVEN_B, "InvokeModelWithResponseStream").drop_after_frames == 1
    assert control.decide(SEVEN_B, "InvokeModelWithResponseStream") == Faults()


def test_an_error_wins_and_draws_nothing_else() -> None:
    control = controller(
        FaultRule("latency", first_byte_ms=5, count=1),
        FaultRule("error", code="ThrottlingException", count=1),
    )
    faults = control.decide(SEVEN_B, "InvokeModel")
    assert faults.error is not None and faults.first_byte_ms == 0
    assert control.decide(SEVEN_B, "InvokeModel").first_byte_ms == 5  # the latency count was left for later


def test_one_stream_breaking_fault_per_request() -> None:
    control = controller(FaultRule("stream-error", after_frames=2, count=1), FaultRule("drop", after_frames=1, count=1))
    first = control.decide(SEVEN_B, "ConverseStream")
    assert first.stream_error is not None and first.drop_after_frames is None
    second = control.decide(SEVEN_B, "ConverseStream")
    assert second.stream_error is None and second.drop_after_frames == 1


def test_rate_with_count_fires_on_at_most_count_requests() -> None:
    control = controller(FaultRule("error", code="ThrottlingException", rate=0.5, count=4))
    fired = [control.decide(SEVEN_B, "InvokeModel").error is not None for _ in range(200)]
    assert fired.count(True) == 4


def test_model_and_operation_narrow_a_rule() -> None:
    control = controller(
        FaultRule("error", code="ThrottlingException", model="mistral-large-2402", operation="converse")
    )
    assert control.decide(SEVEN_B, "Converse") == Faults()
    assert control.decide("mistral.mistral-large-2402-v1:0", "InvokeModel") == Faults()
    assert control.decide("mistral.mistral-large-2402-v1:0", "Converse").error is not None


def test_applied_lists_what_took_effect() -> None:
    rule = FaultRule("stream-error", after_frames=2, code="ThrottlingException")
    faults = Faults(first_byte_ms=3, stream_error=rule)
    assert faults.applied(events=2, exception="ThrottlingException") == [
        {"kind": "latency", "first_byte_ms": 3, "per_token_ms": 0},
        {"kind": "stream-error", "after_frames": 2, "code": "ThrottlingException"},
    ]
    # The stream ended (or an engine failed) before the fault's place: it did not take effect.
    assert faults.applied(events=1, exception="InternalServerException") == [
        {"kind": "latency", "first_byte_ms": 3, "per_token_ms": 0}
    ]
    assert Faults(drop_after_frames=0).applied(events=0, dropped=True) == [{"kind": "drop", "after_frames": 0}]
    assert Faults(drop_after_frames=5).applied(events=3) == []
