"""Tests of automorph's JSON: exact round trips, property tests, reading never mutates."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import automorph as am
from tests.symbolic._json_types import (
    FIELD_NAMES,
    FUZZ,
    HERE,
    RESERVED,
    Bag,
    Conv,
    Custom,
    Leaf,
    Net,
    Pair,
    Wrapper,
    assert_same,
    identical_plain,
    round_trips,
    sample_net,
    schedule,
)

# --- round trips of built-in values ------------------------------------------

BUILTIN_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -7,
    2**80,
    -(2**70),
    0.0,
    -0.0,
    1.5,
    -2.25,
    1e308,
    5e-324,
    0.1,
    math.inf,
    -math.inf,
    "",
    "plain",
    'unicode: héllo ☃ 𝄞 中文 \u0000 \n\t "quoted" \\ /',
    [],
    [1, [2, [3, []]]],
    [True, 1, 1.0, "1", None],
    {},
    {"a": 1, "b": {"c": [None]}},
    {"": 0, "with space": 1, "ключ": 2},
    (),
    (1,),
    (1, "two", 3.0),
    (1, (2, (3, ())), [4, (5,)]),
    ((),),
    ([], {}),
    {"k": (None, False)},
    {"_type": "no.such.Type"},
    {"_tuple": [1, 2]},
    {"_float": "nan"},
    {"_dict": {}},
    {"_class": f"{HERE}.Conv"},
    {"_type": 1, "other": 2},
    {"_dict": {"_dict": 1}},
    [{"_tuple": (1,)}, ({"_float": "inf"},)],
    {"a": {"_type": f"{HERE}.Conv"}},
    {"_": 1, "__type": 2, "_types": 3, "type": 4},
]


@pytest.mark.parametrize("value", BUILTIN_VALUES, ids=repr)
def test_builtin_value_round_trips_exactly(value: Any, tmp_path: Path) -> None:
    for back in round_trips(value, tmp_path):
        assert_same(back, value)


@pytest.mark.parametrize(
    "value",
    [math.nan, [math.nan, 1.0], (math.nan,), {"x": math.nan}, Leaf(math.nan), -math.nan],
    ids=repr,
)
def test_nan_round_trips(value: Any, tmp_path: Path) -> None:
    for back in round_trips(value, tmp_path):
        assert_same(back, value)
    assert "NaN" not in am.to_json_str(value)


def test_scalar_types_are_preserved(tmp_path: Path) -> None:
    value = [1, 1.0, True, "1", None, (1, 1.0, True)]
    for back in round_trips(value, tmp_path):
        assert [type(v) for v in back] == [int, float, bool, str, type(None), tuple]
        assert [type(v) for v in back[5]] == [int, float, bool]


def test_negative_zero_keeps_its_sign(tmp_path: Path) -> None:
    for back in round_trips([-0.0, 0.0], tmp_path):
        assert math.copysign(1.0, back[0]) == -1.0
        assert math.copysign(1.0, back[1]) == 1.0


def test_reading_lists_and_dicts_makes_symbolic_containers() -> None:
    back = am.from_json({"a": [1, {"b": 2}]})
    assert type(back) is am.Dict
    assert type(back["a"]) is am.List
    assert type(back["a"][1]) is am.Dict
    assert str(back["a"][1].sym_path) == "a[1]"


def test_json_form_of_special_values() -> None:
    assert am.to_json((1, [2])) == {"_tuple": [1, [2]]}
    assert am.to_json([math.inf, -math.inf]) == [{"_float": "inf"}, {"_float": "-inf"}]
    assert am.to_json(math.nan) == {"_float": "nan"}
    assert am.to_json({"_type": "x"}) == {"_dict": {"_type": "x"}}
    assert am.to_json({"_float": "nan", "a": 1}) == {"_dict": {"_float": "nan", "a": 1}}
    assert am.to_json(Conv) == {"_class": f"{HERE}.Conv"}
    assert am.to_json_str({"a": (1,)}) == '{"a": {"_tuple": [1]}}'


def test_dicts_whose_keys_are_reserved_markers_round_trip(tmp_path: Path) -> None:
    for key in RESERVED:
        for body in ("x", 1, [1], {"a": 1}, None):
            value = {key: body}
            for back in round_trips(value, tmp_path):
                assert_same(back, value)
            assert am.to_json(value) == {"_dict": {key: am.to_json(body)}}


# --- round trips of symbolic objects ------------------------------------------


def test_nested_objects_round_trip_exactly(tmp_path: Path) -> None:
    net = sample_net()
    for back in round_trips(net, tmp_path):
        assert type(back) is Net
        assert am.sym_eq(back, net)
        assert back == net
        assert type(back.layers) is am.List
        assert type(back.layers[1]) is Conv
        assert back.layers[1].activation is None
        assert type(back.rates["lr"]) is float
        assert back.shape == (3, 3)
        assert type(back.shape) is tuple
        assert back.block is Wrapper
        assert str(back.layers[1].sym_path) == "layers[1]"
        assert back.layers[1].sym_parent is back.layers


def test_union_field_round_trips_each_option(tmp_path: Path) -> None:
    for head in (None, "avg", Conv(2)):
        net = Net(layers=[], head=head)
        for back in round_trips(net, tmp_path):
            assert am.sym_eq(back, net)
            assert type(back.head) is type(head)


def test_object_json_form() -> None:
    assert am.to_json(Conv(8)) == {
        "_type": f"{HERE}.Conv",
        "filters": 8,
        "kernel": 3,
        "activation": "relu",
    }
    assert am.to_json(Wrapper(model=Conv, notes=[(1,)])) == {
        "_type": f"{HERE}.Wrapper",
        "model": {"_class": f"{HERE}.Conv"},
        "notes": [{"_tuple": [1]}],
    }


def test_objects_in_any_fields_keep_their_types(tmp_path: Path) -> None:
    value = Wrapper(
        model=Pair(left=(Conv(1), Conv), right={"_type": "not an object", "n": -0.0}),
        notes=[1, 1.0, True, None, "s", Custom(3), {"_tuple": [1]}, math.inf],
    )
    for back in round_trips(value, tmp_path):
        assert_same(back, value)
        assert am.sym_eq(back, value)
        assert type(back.model.right) is am.Dict
        assert back.model.left[1] is Conv


def test_registered_class_in_a_type_field_round_trips(tmp_path: Path) -> None:
    for block in (Conv, Net, Custom, Leaf):
        net = Net(layers=[], block=block)
        for back in round_trips(net, tmp_path):
            assert back.block is block


def test_partially_bound_functor_round_trips(tmp_path: Path) -> None:
    f = schedule.partial(decay=0.1, warmup=2)
    for back in round_trips(Wrapper(model=f), tmp_path):
        assert type(back.model) is schedule
        assert am.sym_eq(back.model, f)
        assert back.model.unbound == ["base"]
        assert back.model(10.0) == f(10.0) == 3.0


def test_custom_type_name_round_trips(tmp_path: Path) -> None:
    for back in round_trips(Custom(5), tmp_path):
        assert type(back) is Custom
        assert back.size == 5


def test_saved_file_is_indented_json_text(tmp_path: Path) -> None:
    target = tmp_path / "net.json"
    am.save(Conv(8), target)
    text = target.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert json.loads(text) == am.to_json(Conv(8))
    assert '\n  "filters": 8' in text


def test_save_accepts_str_paths_and_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "v.json"
    am.save([1], str(target))
    am.save(Conv(2), str(target))
    assert am.load(str(target)) == Conv(2)
    assert os.listdir(tmp_path) == ["v.json"]


# --- property tests: round trips of random trees --------------------------------

finite_or_not = st.floats(allow_nan=True, allow_infinity=True)
scalars = st.none() | st.booleans() | st.integers() | finite_or_not | st.text(max_size=8)
any_key = st.text(max_size=6) | st.sampled_from(RESERVED + FIELD_NAMES)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        st.lists(children, max_size=4)
        | st.dictionaries(any_key, children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.builds(Leaf, children)
        | st.builds(Pair, children, children)
        | st.builds(
            Bag,
            st.lists(children, max_size=3),
            st.dictionaries(any_key, children, max_size=3),
        )
        | st.sampled_from([Conv, Leaf, Custom, Net])
        | st.builds(Conv, st.integers(1, 1024), st.integers(), st.none() | st.text(max_size=4))
    )


trees = st.recursive(scalars, _containers, max_leaves=20)


def _has_nan(value: Any) -> bool:
    return "nan" in am.to_json_str(value)


@FUZZ
@given(trees)
def test_random_trees_round_trip_exactly(tree: Any) -> None:
    text = am.to_json_str(tree)
    back = am.from_json_str(text)
    assert_same(back, tree)
    assert am.to_json_str(back) == text
    assert_same(am.from_json(am.to_json(tree)), tree)
    if not _has_nan(back):
        assert am.sym_eq(am.from_json_str(am.to_json_str(back)), back)


# --- property tests: reading arbitrary (malformed) JSON --------------------------

TYPE_NAMES = sorted(set(am.symbolic.registered_names()) | {"os.system", "no.such.Type", ""})
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(TYPE_NAMES)
    | st.sampled_from(["nan", "inf", "-inf"])
)


def _json_containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        st.lists(children, max_size=4)
        | st.dictionaries(any_key, children, max_size=4)
        | st.dictionaries(st.integers() | st.none() | st.booleans(), children, max_size=2)
        | st.builds(lambda key, body: {key: body}, st.sampled_from(RESERVED), children)
        | st.fixed_dictionaries(
            {"_type": st.sampled_from(TYPE_NAMES) | children},
            optional={name: children for name in FIELD_NAMES[:8] + RESERVED[1:]},
        )
    )


malformed_json = st.recursive(json_scalars, _json_containers, max_leaves=25)


def _reads_or_raises_automorph_error(read: Any, value: Any) -> None:
    try:
        read(value)
    except Exception as e:  # noqa: BLE001 - the property is about every exception
        assert isinstance(e, am.AutomorphError), f"{type(e).__name__}: {e}"
        assert isinstance(e.path, str)


@FUZZ
@given(malformed_json)
def test_arbitrary_json_reads_or_raises_an_automorph_error(value: Any) -> None:
    before = copy.deepcopy(value)
    _reads_or_raises_automorph_error(am.from_json, value)
    assert identical_plain(value, before)


@FUZZ
@given(malformed_json.map(json.dumps))
def test_arbitrary_json_text_reads_or_raises_an_automorph_error(text: str) -> None:
    _reads_or_raises_automorph_error(am.from_json_str, text)


@FUZZ
@given(st.text() | st.binary())
def test_arbitrary_text_and_bytes_read_or_raise_an_automorph_error(text: str | bytes) -> None:
    _reads_or_raises_automorph_error(am.from_json_str, text)


@pytest.mark.parametrize(
    "value",
    [object(), {1, 2}, b"bytes", 1j, Conv(1), (1, object()), {"a": [object()]}],
    ids=repr,
)
def test_non_json_python_values_are_a_serialization_error(value: Any) -> None:
    with pytest.raises(am.SerializationError, match=r"not a JSON value"):
        am.from_json(value)


def test_symbolic_lists_and_dicts_are_read_as_json_arrays_and_objects() -> None:
    value = am.from_json(am.Dict(a=am.List([1, {"_tuple": [2, [3]]}])))
    assert value == {"a": [1, (2, [3])]}
    assert type(value["a"][1][1]) is list  # lists inside a tuple stay plain


# --- reading never mutates its input -----------------------------------------


def test_from_json_does_not_mutate_its_input() -> None:
    data = am.to_json(sample_net())
    data["extra_list"] = [{"_dict": {"_type": "x"}}, {"_tuple": [[1], {"a": 2}]}]
    wrapped = {"_type": f"{HERE}.Wrapper", "model": data["layers"], "notes": [data]}
    before = copy.deepcopy(wrapped)
    with pytest.raises(am.UnknownFieldError):
        am.from_json(wrapped)  # `extra_list` is not a field of Net
    assert identical_plain(wrapped, before)
    del data["extra_list"]
    before = copy.deepcopy(wrapped)
    back = am.from_json(wrapped)
    assert identical_plain(wrapped, before)
    assert type(wrapped["notes"][0]["layers"]) is list
    back.notes[0].layers[0].rebind(filters=99)
    assert wrapped["notes"][0]["layers"][0]["filters"] == 8
