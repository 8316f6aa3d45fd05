"""How each kind of annotation in `stripe.params` becomes a schema node, and how
each kind of node checks a value (no server).

The TypedDicts below are small stand-ins written the way the SDK writes its own
(``NotRequired``, ``Literal``, forward references in strings, unions with
``Literal['']``), so this module does not use ``from __future__ import annotations``.
"""

from typing import Dict, List, Literal, Optional  # noqa: UP035 - the SDK's spelling

import pytest
from typing_extensions import NotRequired, TypedDict  # noqa: UP035 - as the SDK imports them

from stripe_sandbox.errors import StripeError
from stripe_sandbox.wire.params import ANY, BOOL, DECIMAL, EMPTY, INT, STR, object_schema, validate

MANY = Literal[
    "a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09", "a10", "a11", "a12", "a13"
]


class Address(TypedDict):
    line1: str
    city: NotRequired[str]


class Kinds(TypedDict):
    name: NotRequired[str]
    count: NotRequired[int]
    flag: NotRequired[bool]
    rate: NotRequired[float]
    mode: NotRequired[Literal["fast", "slow"]]
    many: NotRequired[MANY]
    free_text: NotRequired["Literal['hint']|str"]
    unset: NotRequired[Literal[""]]
    maybe: NotRequired[Optional[int]]  # noqa: UP045 - the SDK's spelling
    tags: NotRequired[List[str]]  # noqa: UP006
    amounts: NotRequired[List[int]]  # noqa: UP006
    labels: NotRequired[Dict[str, str]]  # noqa: UP006
    address: NotRequired[Address]
    address_or_unset: NotRequired["Literal['']|Address"]
    count_or_word: NotRequired["int|Literal['auto']"]
    whatever: NotRequired[object]


def node(field: str):
    return object_schema(Kinds).fields[field].resolve()


def error_of(params: dict) -> dict:
    with pytest.raises(StripeError) as info:
        validate(Kinds, params)
    assert info.value.status == 400
    return info.value.error


@pytest.mark.parametrize(
    ("field", "expected"),
    [("name", STR), ("count", INT), ("flag", BOOL), ("rate", DECIMAL), ("unset", EMPTY)],
)
def test_scalar_annotations_are_shared_nodes(field, expected):
    assert node(field) is expected


def test_other_annotations_become_their_kind():
    assert (node("mode").kind, node("mode").values) == ("enum", frozenset({"fast", "slow"}))
    # `Literal[...] | str` documents common values; any string goes.
    assert node("free_text") is STR
    # Optional is only nullability: the node is the inner type's.
    assert node("maybe") is INT
    assert (node("tags").kind, node("tags").item) == ("list", STR)
    assert (node("labels").kind, node("labels").item) == ("map", STR)
    assert (node("address").kind, node("address").typed_dict) == ("object", Address)
    union = node("address_or_unset")
    assert union.kind == "union"
    assert [option.kind for option in union.options] == ["empty", "object"]
    assert node("whatever") is ANY


def test_required_fields_come_from_the_typed_dict():
    assert object_schema(Address).required == frozenset({"line1"})
    assert error_of({"address": {"city": "Paris"}})["param"] == "address[line1]"


def test_scalars_are_coerced_from_strings():
    assert validate(
        Kinds,
        {"name": "x", "count": "-12", "flag": "false", "rate": "1.25", "mode": "slow"},
    ) == {"name": "x", "count": -12, "flag": False, "rate": "1.25", "mode": "slow"}


@pytest.mark.parametrize(
    ("params", "message", "code"),
    [
        ({"count": "1.5"}, "Invalid integer: 1.5", "parameter_invalid_integer"),
        ({"count": "9" * 20}, f"Invalid integer: {'9' * 20}", "parameter_invalid_integer"),
        ({"flag": "yes"}, "Invalid boolean: yes", "parameter_invalid_boolean"),
        ({"rate": "1."}, "Invalid decimal: 1.", None),
        ({"mode": "medium"}, "Invalid mode: must be one of fast, slow", None),
        ({"unset": "x"}, "Invalid unset: must be an empty string", None),
        ({"name": {"a": "1"}}, "Invalid str: name must not be a hash", None),
        ({"count": ["1"]}, "Invalid int: count must not be a array", "parameter_invalid_integer"),
        ({"tags": "x"}, "Invalid array: tags", "parameter_invalid"),
        ({"labels": "x"}, "Invalid hash: labels", None),
        ({"address": "x"}, "Invalid object: address", "parameter_invalid"),
        ({"amounts": ["1", "x"]}, "Invalid integer: x", "parameter_invalid_integer"),
    ],
)
def test_each_kind_has_stripes_error(params, message, code):
    error = error_of(params)
    assert error["message"] == message
    assert error.get("code") == code


def test_long_enums_are_cut_short_in_the_message():
    message = error_of({"many": "b"})["message"]
    assert message.endswith("a10, a11, a12, … (13 values)")


def test_error_names_the_nested_parameter():
    assert error_of({"amounts": {"0": "1", "1": "x"}})["param"] == "amounts[1]"
    assert error_of({"address": {"line1": "1", "zip": "2"}})["param"] == "address[zip]"


def test_empty_string_unsets_only_where_the_sdk_allows_it():
    assert validate(Kinds, {"unset": "", "address_or_unset": ""}) == {
        "unset": "",
        "address_or_unset": "",
    }
    assert validate(Kinds, {"labels": {"a": ""}}) == {"labels": {"a": ""}}
    for field in ("name", "count", "tags", "address"):
        error = error_of({field: ""})
        assert (error["code"], error["param"]) == ("parameter_invalid_empty", field)


def test_arrays_come_as_brackets_or_indexes():
    assert validate(Kinds, {"tags": ["a", "b"]}) == {"tags": ["a", "b"]}
    assert validate(Kinds, {"tags": {"1": "b", "0": "a"}}) == {"tags": ["a", "b"]}


def test_a_union_takes_the_first_alternative_that_fits():
    assert validate(Kinds, {"count_or_word": "7"}) == {"count_or_word": 7}
    assert validate(Kinds, {"count_or_word": "auto"}) == {"count_or_word": "auto"}
    # Nothing fits: the first alternative's error is the one reported.
    assert error_of({"count_or_word": "many"})["message"] == "Invalid integer: many"


def test_any_keeps_the_value_as_sent():
    assert validate(Kinds, {"whatever": {"a": ["1"]}}) == {"whatever": {"a": ["1"]}}
