"""Matching a request to a recording: :func:`match_key` (canonical, so key order does not matter, while operation,
model and every value do), :func:`drop_fields` (nested paths, ``*`` over lists and maps, absent paths, never in
place), :func:`first_difference` (in the sent body's order, then the recording's extra fields; the count),
:func:`nearest` (same operation, then model, then fewest differences) and :meth:`Difference.describe`."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mistral_bedrock.engines.cassette.matching import Difference, drop_fields, first_difference, match_key, nearest

CONVERSE = "Converse"
LARGE = "mistral.mistral-large-2407-v1:0"
SMALL = "mistral.mistral-small-2402-v1:0"


def body(text: str = "Hello", temperature: float = 0.5, **extra: Any) -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": [{"text": text}]}],
        "inferenceConfig": {"maxTokens": 100, "temperature": temperature},
        **extra,
    }


# -- match_key ---------------------------------------------------------------------------------------------------------


def test_the_key_is_a_sha256_hex_digest() -> None:
    key = match_key(CONVERSE, LARGE, body())
    assert len(key) == 64 and int(key, 16) >= 0
    assert key == match_key(CONVERSE, LARGE, body())


def test_reordered_keys_give_the_same_key() -> None:
    sent = {"inferenceConfig": {"temperature": 0.5, "maxTokens": 100}, "messages": body()["messages"]}
    assert list(sent) != list(body()) and match_key(CONVERSE, LARGE, sent) == match_key(CONVERSE, LARGE, body())


@pytest.mark.parametrize(
    ("operation", "model", "changed"),
    [
        (CONVERSE, LARGE, body(text="Hello!")),
        (CONVERSE, LARGE, body(temperature=0.6)),
        (CONVERSE, LARGE, body(system=[{"text": "Be brief."}])),
        (CONVERSE, LARGE, {**body(), "messages": [*body()["messages"], *body()["messages"]]}),
        ("ConverseStream", LARGE, body()),
        (CONVERSE, SMALL, body()),
    ],
    ids=["text", "temperature", "an-added-field", "a-list-item", "operation", "model"],
)
def test_a_changed_value_operation_or_model_gives_another_key(operation: str, model: str, changed: Any) -> None:
    assert match_key(operation, model, changed) != match_key(CONVERSE, LARGE, body())


def test_list_order_matters() -> None:
    two = {"messages": [{"role": "user", "content": [{"text": "a"}, {"text": "b"}]}]}
    swapped = {"messages": [{"role": "user", "content": [{"text": "b"}, {"text": "a"}]}]}
    assert match_key(CONVERSE, LARGE, two) != match_key(CONVERSE, LARGE, swapped)


def test_ignored_fields_do_not_change_the_key() -> None:
    ignore = ["inferenceConfig.temperature"]
    assert match_key(CONVERSE, LARGE, body(temperature=0.1), ignore) == match_key(
        CONVERSE, LARGE, body(temperature=0.9), ignore
    )
    assert match_key(CONVERSE, LARGE, body(text="a"), ignore) != match_key(CONVERSE, LARGE, body(text="b"), ignore)


def test_unicode_is_keyed_as_text() -> None:
    assert match_key(CONVERSE, LARGE, body(text="café")) != match_key(CONVERSE, LARGE, body(text="cafe"))
    assert match_key(CONVERSE, LARGE, {"t": "é"}) == match_key(CONVERSE, LARGE, json.loads('{"t": "\\u00e9"}'))


# -- drop_fields -------------------------------------------------------------------------------------------------------


def test_a_nested_path_drops_one_field() -> None:
    assert drop_fields(body(), ["inferenceConfig.temperature"]) == {
        "messages": body()["messages"],
        "inferenceConfig": {"maxTokens": 100},
    }


def test_a_top_level_field_drops_whole() -> None:
    assert drop_fields(body(), ["inferenceConfig"]) == {"messages": body()["messages"]}


def test_a_star_walks_every_list_item() -> None:
    sent = {
        "messages": [
            {"role": "user", "content": [{"text": "a"}]},
            {"role": "assistant", "content": [{"text": "b"}]},
        ]
    }
    assert drop_fields(sent, ["messages.*.content"]) == {"messages": [{"role": "user"}, {"role": "assistant"}]}
    assert drop_fields(sent, ["messages.*.content.*.text"]) == {
        "messages": [{"role": "user", "content": [{}]}, {"role": "assistant", "content": [{}]}]
    }


def test_a_star_walks_every_map_value() -> None:
    sent = {"tools": {"weather": {"description": "w", "schema": 1}, "time": {"description": "t", "schema": 2}}}
    assert drop_fields(sent, ["tools.*.description"]) == {"tools": {"weather": {"schema": 1}, "time": {"schema": 2}}}


def test_a_final_star_empties_the_list_or_map() -> None:
    assert drop_fields({"stop": ["a", "b"], "keep": 1}, ["stop.*"]) == {"stop": [], "keep": 1}
    assert drop_fields({"meta": {"a": 1, "b": 2}}, ["meta.*"]) == {"meta": {}}
    assert drop_fields({"a": 1, "b": 2}, ["*"]) == {}


@pytest.mark.parametrize(
    "path",
    ["absent", "inferenceConfig.absent", "inferenceConfig.temperature.deeper", "messages.absent", "messages.*.x.*.y"],
)
def test_a_path_that_does_not_exist_changes_nothing(path: str) -> None:
    assert drop_fields(body(), [path]) == body()


def test_several_paths_all_drop() -> None:
    assert drop_fields(body(system=[{"text": "s"}]), ["system", "inferenceConfig.maxTokens", "messages.*.role"]) == {
        "messages": [{"content": [{"text": "Hello"}]}],
        "inferenceConfig": {"temperature": 0.5},
    }


def test_a_body_that_is_not_a_map_is_left_alone() -> None:
    assert drop_fields("text", ["a"]) == "text"
    assert drop_fields([1, 2], ["a"]) == [1, 2]
    assert drop_fields(None, ["a.b"]) is None


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=12,
)
_PATHS = st.lists(
    st.lists(st.sampled_from(["a", "b", "c", "*"]), min_size=1, max_size=3).map(".".join), min_size=1, max_size=3
)


@given(_JSON, _PATHS)
def test_dropping_never_mutates_its_input(document: Any, paths: list[str]) -> None:
    before = copy.deepcopy(document)
    dropped = drop_fields(document, paths)
    assert document == before
    # And dropping again changes nothing more.
    assert drop_fields(dropped, paths) == dropped


# -- first_difference --------------------------------------------------------------------------------------------------


def test_equal_bodies_have_no_difference() -> None:
    assert first_difference(body(), body()) is None
    reordered = {"inferenceConfig": {"temperature": 0.5, "maxTokens": 100}, "messages": body()["messages"]}
    assert first_difference(body(), reordered) is None


def test_the_first_difference_is_in_the_sent_body_order() -> None:
    sent = {"z": 1, "a": 2, "m": 3}
    recorded = {"a": 20, "m": 30, "z": 10}
    assert first_difference(sent, recorded) == Difference("z", 1, 10, 3)
    assert first_difference({"a": 2, "m": 3, "z": 1}, recorded) == Difference("a", 2, 20, 3)


def test_leaf_paths_name_list_indexes() -> None:
    difference = first_difference(body(text="Hi"), body(text="Hello"))
    assert difference == Difference("messages[0].content[0].text", "Hi", "Hello", 1)


def test_fields_only_the_recording_has_come_after_the_sent_ones() -> None:
    sent = {"a": 1, "b": 2}
    recorded = {"extra": 0, "a": 1, "b": 3}
    difference = first_difference(sent, recorded)
    assert difference is not None
    assert (difference.path, difference.sent, difference.recorded, difference.count) == ("b", 2, 3, 2)
    only_extra = first_difference({"a": 1}, {"extra": 0, "a": 1})
    assert only_extra is not None and only_extra.path == "extra" and only_extra.count == 1
    assert only_extra.describe() == "extra: sent nothing, recorded 0"


def test_a_field_only_the_request_has_is_a_difference() -> None:
    difference = first_difference(body(system=[{"text": "s"}]), body())
    assert difference is not None
    assert difference.path == "system[0].text" and difference.count == 1
    assert difference.describe() == 'system[0].text: sent "s", recorded nothing'


def test_the_count_is_every_differing_leaf() -> None:
    difference = first_difference(body(text="x", temperature=0.9), body(text="y", temperature=0.1, topP=1))
    assert difference is not None and difference.count == 3
    assert difference.path == "messages[0].content[0].text"


def test_an_empty_list_against_a_full_one() -> None:
    difference = first_difference({"stop": []}, {"stop": ["END"]})
    assert difference is not None
    assert difference.path == "stop" and difference.count == 2
    assert difference.describe() == "stop: sent [], recorded nothing"


def test_whole_bodies_that_are_not_maps() -> None:
    assert first_difference(1, 2) == Difference("(body)", 1, 2, 1)
    assert first_difference("same", "same") is None


@pytest.mark.parametrize(("sent", "recorded"), [(1, True), (0, False), (1, "1")])
def test_values_json_tells_apart_are_a_difference(sent: Any, recorded: Any) -> None:
    assert match_key(CONVERSE, LARGE, {"t": sent}) != match_key(CONVERSE, LARGE, {"t": recorded})
    assert first_difference({"t": sent}, {"t": recorded}) is not None


def test_an_integral_float_matches_its_integer() -> None:
    # boto3 and the Java SDK write 1.0 where the JS and Go SDKs write 1: one number, one request.
    assert match_key(CONVERSE, LARGE, body(temperature=1.0)) == match_key(CONVERSE, LARGE, body(temperature=1))
    assert first_difference(body(temperature=1.0), body(temperature=1)) is None


def test_a_dotted_key_is_not_a_nested_field() -> None:
    assert first_difference({"a.b": 1}, {"a": {"b": 1}}) is not None


# Leaves that Python's == and JSON agree on (no 1 beside True; see the tests above).
_LEAF_JSON = st.recursive(
    st.sampled_from([None, True, 0, 2, 0.5, "", "a", "b"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
    max_leaves=10,
)


@given(_LEAF_JSON, _LEAF_JSON)
def test_no_difference_exactly_when_the_keys_agree(sent: Any, recorded: Any) -> None:
    same_key = match_key(CONVERSE, LARGE, sent) == match_key(CONVERSE, LARGE, recorded)
    assert (first_difference(sent, recorded) is None) == same_key


# -- nearest -----------------------------------------------------------------------------------------------------------


def test_no_candidates_is_none() -> None:
    assert nearest(CONVERSE, LARGE, body(), []) is None


def test_the_same_operation_wins_over_the_same_body() -> None:
    candidates = [
        ("ConverseStream", LARGE, body()),  # the same body, another operation
        (CONVERSE, SMALL, body()),  # the same body, another model
        (CONVERSE, LARGE, body(text="other", temperature=0.1, topP=1)),  # three differences
    ]
    found = nearest(CONVERSE, LARGE, body(), candidates)
    assert found is not None
    index, difference = found
    assert index == 2
    assert difference == first_difference(body(), candidates[2][2])


def test_the_same_model_comes_next() -> None:
    candidates = [("ConverseStream", LARGE, body()), (CONVERSE, SMALL, body(text="far", temperature=0.0))]
    assert nearest(CONVERSE, LARGE, body(), candidates) == (1, first_difference(body(), candidates[1][2]))
    assert nearest(CONVERSE, LARGE, body(), [(CONVERSE, SMALL, body()), ("ConverseStream", LARGE, body())]) == (
        0,
        None,
    )


def test_then_the_fewest_differences() -> None:
    candidates = [
        (CONVERSE, LARGE, body(text="x", temperature=0.1)),
        (CONVERSE, LARGE, body(temperature=0.1)),
        (CONVERSE, LARGE, body(text="x", temperature=0.1, topP=1)),
    ]
    assert nearest(CONVERSE, LARGE, body(), candidates) == (1, Difference("inferenceConfig.temperature", 0.5, 0.1, 1))


def test_an_identical_recording_has_no_difference() -> None:
    candidates = [(CONVERSE, LARGE, body(text="x")), (CONVERSE, LARGE, body())]
    assert nearest(CONVERSE, LARGE, body(), candidates) == (1, None)


def test_a_tie_goes_to_the_first_candidate() -> None:
    candidates = [(CONVERSE, LARGE, body(text="x")), (CONVERSE, LARGE, body(text="y"))]
    found = nearest(CONVERSE, LARGE, body(), candidates)
    assert found is not None and found[0] == 0


# -- Difference.describe -----------------------------------------------------------------------------------------------


def test_describe_shows_json_values() -> None:
    assert Difference("a.b", "é", 2, 1).describe() == 'a.b: sent "é", recorded 2'
    assert Difference("c", None, [1, True], 1).describe() == "c: sent null, recorded [1, true]"


def test_describe_cuts_long_values_to_80_characters() -> None:
    long_text = "x" * 200
    described = Difference("messages[0].content[0].text", long_text, "short", 1).describe()
    shown = '"' + "x" * 76 + "..."
    assert described == f'messages[0].content[0].text: sent {shown}, recorded "short"'
    assert len(shown) == 80


def test_describe_keeps_a_value_of_exactly_80_characters() -> None:
    exact = "y" * 78  # 80 with its quotes
    assert Difference("p", exact, 1, 1).describe() == f'p: sent "{exact}", recorded 1'
    over = "y" * 79
    assert Difference("p", over, 1, 1).describe() == f'p: sent "{"y" * 76}..., recorded 1'
