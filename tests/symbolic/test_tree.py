"""Tests of a symbolic tree as a whole: position, copies, equality, query, format, diff."""

# am.Object copies mutable field defaults per instance (RUF012), and the typing spellings
# `Optional`/`Union` are tested on purpose next to `X | None` (UP007, UP045).

from __future__ import annotations

import copy
import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import automorph as am
from automorph.symbolic import KeyPath
from tests.symbolic._object_classes import (
    Base,
    Box,
    Conv,
    Derived,
    Everything,
    Net,
    Other,
    Point,
    SameFieldsAsPoint,
    make_net,
)

# --- position in the tree ---------------------------------------------------------------


def test_sym_parent_path_and_root() -> None:
    net = make_net()
    conv = net.layers[1]
    assert net.sym_parent is None and net.sym_path == "" and net.sym_root is net
    assert net.layers.sym_parent is net and net.layers.sym_path == "layers"
    assert conv.sym_parent is net.layers and conv.sym_path == "layers[1]"
    assert conv.sym_root is net
    assert net.meta.sym_path == "meta"


def test_placing_a_node_that_has_a_parent_stores_a_copy() -> None:
    first = make_net()
    conv = first.layers[0]
    second = Net([conv])
    assert second.layers[0] == conv and second.layers[0] is not conv
    assert conv.sym_parent is first.layers and conv.sym_path == "layers[0]"
    assert second.layers[0].sym_parent is second.layers
    second.layers[0].filters = 99
    assert conv.filters == 1


def test_rebind_to_a_node_held_elsewhere_stores_a_copy() -> None:
    first, second = make_net(), make_net()
    conv = first.layers[2]
    second.rebind({"layers[0]": conv})
    second.layers[1] = conv
    for stored in (second.layers[0], second.layers[1]):
        assert stored == conv and stored is not conv
    assert conv.sym_root is first and conv.sym_path == "layers[2]"


def test_moving_a_node_within_the_same_tree_copies_it() -> None:
    net = make_net()
    original = net.layers[2]
    net.rebind({"layers[0]": original})
    assert net.layers[0] == original and net.layers[0] is not original
    assert net.layers[2] is original and original.sym_path == "layers[2]"


def test_parentless_node_is_stored_as_is() -> None:
    conv = Conv(5)
    net = Net([conv])
    assert net.layers[0] is conv and conv.sym_path == "layers[0]"
    point = Point(1)
    e = Everything(point=point)
    assert e.point is point and point.sym_parent is e


# --- copies -----------------------------------------------------------------------------


def test_clone_copies_symbolic_nodes_and_detaches_root() -> None:
    net = make_net()
    for other in (net.clone(), net.clone(deep=True), copy.copy(net), copy.deepcopy(net)):
        assert other == net and other is not net
        assert other.sym_parent is None
        assert other.layers is not net.layers and other.layers[0] is not net.layers[0]
        assert other.meta is not net.meta
        assert other.layers[0].sym_parent is other.layers and other.layers.sym_parent is other
        other.layers[0].filters = 50
        other.meta["b"] = 2
        assert net.layers[0].filters == 1 and net.meta == {"a": 1}


def test_clone_of_a_subtree_has_no_parent() -> None:
    net = make_net()
    conv = net.layers[1].clone()
    assert conv.sym_parent is None and conv.sym_path == ""
    assert net.layers[1].sym_parent is net.layers


def test_shallow_clone_shares_mutable_leaves_and_deep_copies_them() -> None:
    box = Box(v=np.arange(3), w={1, 2})
    for shallow in (box.clone(), copy.copy(box)):
        assert shallow.v is box.v and shallow.w is box.w
    for deep in (box.clone(deep=True), copy.deepcopy(box)):
        assert deep.v is not box.v and deep.w is not box.w
        assert np.array_equal(deep.v, box.v) and deep.w == box.w
        deep.w.add(3)
        assert box.w == {1, 2}


def test_deepcopy_keeps_shared_leaves_shared() -> None:
    shared = {1, 2}
    box = Box(v=shared, w=[shared])
    copied = copy.deepcopy(box)
    assert copied.v is copied.w[0]
    assert copied.v is not shared


def test_pickle_round_trip() -> None:
    net = Net([Conv(1), Conv(2, activation="gelu")], name="p", meta={"k": 3})
    restored = pickle.loads(pickle.dumps(net))
    assert restored == net and type(restored) is Net
    assert restored.layers[1].sym_path == "layers[1]" and restored.layers[1].sym_root is restored
    assert isinstance(restored.layers, am.List) and isinstance(restored.meta, am.Dict)
    # The restored tree still validates changes.
    with pytest.raises(am.FieldTypeError) as info:
        restored.layers.append("x")
    assert info.value.path == "layers[2]"
    with pytest.raises(am.FieldTypeError) as info:
        restored.meta["z"] = "x"
    assert info.value.path == "meta.z"


# --- equality and hashing ------------------------------------------------------------------


def test_trees_built_separately_are_equal_and_hash_equal() -> None:
    a, b = make_net(), make_net()
    assert a == b and not (a != b)
    assert hash(a) == hash(b)
    assert am.sym_eq(a, b) and am.sym_hash(a) == am.sym_hash(b)
    assert a.sym_eq(b) and a.sym_hash() == b.sym_hash()
    assert len({a, b}) == 1


@pytest.mark.parametrize(
    "path, value",
    [("layers[0].filters", 9), ("layers[1].activation", "gelu"), ("name", "x"), ("meta.a", 2)],
)
def test_differing_leaf_makes_trees_unequal(path: str, value: Any) -> None:
    a, b = make_net(), make_net()
    b.rebind({path: value})
    assert a != b and not (a == b)
    assert not am.sym_eq(a, b)


def test_extra_list_item_or_dict_key_makes_trees_unequal() -> None:
    a, b = make_net(), make_net()
    b.layers.append(Conv(4))
    assert a != b and not am.sym_eq(a, b)
    c = make_net()
    c.meta["b"] = 2
    assert a != c and not am.sym_eq(a, c)


def test_different_classes_with_the_same_fields_are_unequal() -> None:
    assert Point(1, 2) != SameFieldsAsPoint(1, 2)
    assert not am.sym_eq(Point(1, 2), SameFieldsAsPoint(1, 2))
    assert Base(1) != Other(1)
    assert Point(1) != 1.0 and Point(1) != {"x": 1.0, "y": 0.0}


def test_sym_eq_requires_same_leaf_types_where_eq_does_not() -> None:
    assert Box(1) == Box(1.0)
    assert not am.sym_eq(Box(1), Box(1.0))
    assert am.sym_eq(Box([1, {"a": (1, 2)}]), Box([1, {"a": (1, 2)}]))
    assert am.sym_hash(Box([1, {"a": (1, 2)}])) == am.sym_hash(Box([1, {"a": (1, 2)}]))


def test_sym_hash_handles_unhashable_leaves() -> None:
    shared = {1}
    assert am.sym_hash(Box(shared)) == am.sym_hash(Box(shared))
    assert am.sym_eq(Box(shared), Box(shared))


@given(
    st.integers(min_value=1, max_value=1024),
    st.integers(),
    st.sampled_from(["relu", "gelu"]),
)
def test_equal_fields_give_equal_objects_and_hashes(filters: int, kernel: int, act: str) -> None:
    a = Conv(filters, kernel, act)
    b = Conv(filters=filters, kernel=kernel, activation=act)
    assert a == b and hash(a) == hash(b) and am.sym_hash(a) == am.sym_hash(b)
    assert a == a.clone() == copy.deepcopy(a) == pickle.loads(pickle.dumps(a))


# --- query and walk --------------------------------------------------------------------


def test_walk_is_top_down_in_field_order() -> None:
    net = Net([Conv(1)], meta={"a": 1})
    assert [str(p) for p, _ in net.walk()] == [
        "",
        "layers",
        "layers[0]",
        "layers[0].filters",
        "layers[0].kernel",
        "layers[0].activation",
        "name",
        "meta",
        "meta.a",
    ]
    assert [str(p) for p, _ in net.walk(include_leaves=False)] == [
        "",
        "layers",
        "layers[0]",
        "meta",
    ]
    assert dict(net.walk())[KeyPath.parse("layers[0]")] is net.layers[0]


def test_walk_from_a_subtree_uses_relative_paths() -> None:
    net = make_net()
    assert [str(p) for p, _ in net.layers[1].walk()] == ["", "filters", "kernel", "activation"]


def test_query_by_path_regex() -> None:
    net = make_net()
    found = net.query(path=r"layers\[\d+\]\.filters")
    assert found == {"layers[0].filters": 1, "layers[1].filters": 2, "layers[2].filters": 3}
    assert all(isinstance(k, KeyPath) for k in found)
    # The regex must match the whole path.
    assert net.query(path="layers") == {"layers": net.layers}
    assert net.query(path=r"filters") == {}


def test_query_by_path_predicate_value_and_type() -> None:
    net = make_net()
    assert net.query(path=lambda p: p.key == "kernel") == {
        "layers[0].kernel": 3,
        "layers[1].kernel": 5,
        "layers[2].kernel": 3,
    }
    assert net.query(where=lambda v: v == 5) == {"layers[1].kernel": 5}
    convs = net.query(type=Conv)
    assert list(convs) == ["layers[0]", "layers[1]", "layers[2]"]
    assert convs["layers[1]"] is net.layers[1]
    assert net.query(type=Net) == {"": net}
    assert list(net.query(type=(am.List, am.Dict))) == ["layers", "meta"]


def test_query_combines_tests_and_is_relative_to_receiver() -> None:
    net = make_net()
    found = net.layers.query(path=r"\[\d\]\.filters", where=lambda v: v >= 2)
    assert found == {"[1].filters": 2, "[2].filters": 3}
    assert net.query(type=str, where=lambda v: v == "relu", path=r"layers\[[01]\].*") == {
        "layers[0].activation": "relu",
        "layers[1].activation": "relu",
    }


# --- format -------------------------------------------------------------------------------


def test_compact_format_and_repr() -> None:
    net = Net([Conv(1)], meta={"a": 1})
    expected = (
        "Net(layers=[Conv(filters=1, kernel=3, activation='relu')], name='net', meta={'a': 1})"
    )
    assert net.format(compact=True) == expected
    assert repr(net) == expected


def test_indented_format_and_str() -> None:
    net = Net([Conv(1)])
    expected = (
        "Net(\n"
        "  layers=[\n"
        "    Conv(\n"
        "      filters=1,\n"
        "      kernel=3,\n"
        "      activation='relu',\n"
        "    ),\n"
        "  ],\n"
        "  name='net',\n"
        "  meta={},\n"
        ")"
    )
    assert net.format() == expected
    assert str(net) == expected


def test_format_hide_defaults() -> None:
    net = Net([Conv(1), Conv(2, kernel=5)])
    assert net.format(compact=True, hide_defaults=True) == (
        "Net(layers=[Conv(filters=1), Conv(filters=2, kernel=5)])"
    )
    assert Point(0).format(compact=True, hide_defaults=True) == "Point(x=0.0)"


def test_format_not_verbose_shortens_long_strings_and_lists() -> None:
    box = Box("x" * 50, list(range(12)))
    short = box.format(compact=True, verbose=False)
    assert short == f"Box(v='{'x' * 37}...', w=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... 2 more])"
    full = box.format(compact=True)
    assert "x" * 50 in full and "11]" in full


def test_format_shows_classes_by_name() -> None:
    assert Everything(kind=Derived).format(compact=True, hide_defaults=True) == (
        "Everything(kind=Derived)"
    )


# --- diff -----------------------------------------------------------------------------------


def test_diff_of_equal_trees_is_empty() -> None:
    d = am.diff(make_net(), make_net())
    assert d == {} and not d
    assert str(d) == "no differences"


def test_diff_reports_changed_leaves() -> None:
    a, b = make_net(), make_net()
    b.rebind({"layers[1].kernel": 7, "name": "b"})
    d = am.diff(a, b)
    assert d == {"layers[1].kernel": (5, 7), "name": ("net", "b")}
    assert str(d) == "layers[1].kernel: 5 -> 7\nname: 'net' -> 'b'"


def test_diff_reports_added_and_removed_items_with_missing() -> None:
    a, b = make_net(), make_net()
    b.layers.append(Conv(4))
    del b.meta["a"]
    d = am.diff(a, b)
    assert d == {"layers[3]": (am.MISSING, Conv(4)), "meta.a": (1, am.MISSING)}
    assert d[KeyPath.parse("layers[3]")][0] is am.MISSING
    assert am.diff(b, a)["layers[3]"] == (Conv(4), am.MISSING)


def test_diff_reports_values_of_different_types_whole() -> None:
    d = am.diff(Box(Point(1)), Box(Conv(1)))
    assert d == {"v": (Point(1), Conv(1))}
    assert am.diff(Box(1), Box(1.0)) == {"v": (1, 1.0)}
    root = am.diff(Point(1), SameFieldsAsPoint(1))
    assert list(root) == [""] and str(root).startswith("<root>: Point(x=1.0, y=0.0) -> ")
