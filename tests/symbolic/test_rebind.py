"""Tests of `rebind` and change notification on symbolic trees."""

# am.Object copies mutable field defaults per instance (RUF012), and the typing spellings
# `Optional`/`Union` are tested on purpose next to `X | None` (UP007, UP045).

from __future__ import annotations

import copy
import pickle
import re
from typing import Any

import pytest

import automorph as am
from automorph.symbolic import KeyPath
from tests.symbolic._object_classes import (
    CHANGES,
    Conv,
    Net,
    Panel,
    Point,
    Recorder,
    Rect,
    Size,
    make_net,
)

# --- rebind ------------------------------------------------------------------------


def test_rebind_by_paths_and_kwargs() -> None:
    net = make_net()
    assert net.rebind({"layers[1].filters": 16, "meta.b": 2}, name="new") is net
    assert net.layers[1].filters == 16
    assert net.meta == {"a": 1, "b": 2}
    assert net.name == "new"
    net.rebind({KeyPath(["layers", -1, "kernel"]): 7})
    assert net.layers[2].kernel == 7


def test_rebind_replaces_subtree_and_links_it() -> None:
    net = make_net()
    old = net.layers[0]
    net.rebind({"layers[0]": Conv(9)})
    assert net.layers[0] == Conv(9)
    assert net.layers[0].sym_parent is net.layers and net.layers[0].sym_path == "layers[0]"
    assert old.sym_parent is None


def test_rebind_with_function_over_the_tree() -> None:
    net = make_net()
    seen: list[tuple[str, Any, Any]] = []

    def double_filters(path: KeyPath, value: Any, parent: am.Symbolic) -> Any:
        seen.append((str(path), value, parent))
        if path.key == "filters":
            return value * 2
        return value

    net.rebind(double_filters)
    assert [c.filters for c in net.layers] == [2, 4, 6]
    visited = {p: parent for p, _, parent in seen}
    assert visited["layers[1].filters"] is net.layers[1]
    assert visited["layers"] is net
    # Top-down order: a node before its children.
    order = [p for p, _, _ in seen]
    assert order.index("layers") < order.index("layers[0]") < order.index("layers[0].filters")


def test_rebind_function_does_not_visit_below_a_replaced_value() -> None:
    net = make_net()
    seen: list[str] = []

    def replace(path: KeyPath, value: Any, parent: am.Symbolic) -> Any:
        seen.append(str(path))
        return Conv(100) if path == "layers[0]" else value

    net.rebind(replace)
    assert net.layers[0] == Conv(100)
    assert "layers[0].filters" not in seen
    assert "layers[1].filters" in seen


@pytest.mark.parametrize(
    ("updates", "error", "message", "path"),
    [
        (
            {"layers[2].filters": 0},
            am.FieldValueError,
            r"value 0 is out of bounds",
            "layers[2].filters",
        ),
        (
            {"layers[2].filters": "x"},
            am.FieldTypeError,
            r"expected int in \[1, 1024\], got str",
            "layers[2].filters",
        ),
        (
            {"layers[2].nope": 1},
            am.UnknownFieldError,
            r"Conv has no field 'nope'",
            "layers[2].nope",
        ),
        (
            {"layers[7].filters": 1},
            am.PathNotFoundError,
            r"no index 7 in a list of 3 items",
            "layers[7]",
        ),
        ({"layers[3]": Conv(1)}, am.PathNotFoundError, r"use append or insert", "layers[3]"),
        ({"name.x": 1}, am.PathNotFoundError, r"cannot go into the str at `name`", "name.x"),
        (
            {"layers[0].activation": "tanh"},
            am.FieldValueError,
            r"expected one of \['relu', 'gelu'\]",
            "layers[0].activation",
        ),
        ({"meta.a": 1.5}, am.FieldTypeError, r"expected int, got float", "meta.a"),
        (
            {"layers[0].filters": am.MISSING},
            am.MissingFieldError,
            r"field 'filters' of Conv has no default to reset to",
            "layers[0].filters",
        ),
        (
            {"layers[0]": am.MISSING},
            am.PathNotFoundError,
            r"cannot be rebound to MISSING",
            "layers[0]",
        ),
        (
            {"meta.zz": am.MISSING},
            am.PathNotFoundError,
            r"no key 'zz' in the dict to remove",
            "meta.zz",
        ),
    ],
)
def test_rebind_errors_name_the_path(
    updates: dict[str, Any], error: type[Exception], message: str, path: str
) -> None:
    net = make_net()
    before = net.clone()
    with pytest.raises(error, match=message) as info:
        net.rebind(updates)
    assert info.value.path == path  # type: ignore[attr-defined]
    assert net == before


def test_rebind_on_a_subtree_names_the_full_path_in_errors() -> None:
    net = make_net()
    with pytest.raises(am.FieldValueError, match="out of bounds") as info:
        net.layers[2].rebind(filters=0)
    assert info.value.path == "layers[2].filters"


def test_rebind_with_unknown_kwarg() -> None:
    net = make_net()
    with pytest.raises(am.UnknownFieldError, match="Net has no field 'nope'") as info:
        net.rebind(nope=1)
    assert info.value.path == "nope"


def test_rebind_with_malformed_path() -> None:
    with pytest.raises(am.KeyPathError, match=r"malformed key path 'layers\[0\]\.\.x'"):
        make_net().rebind({"layers[0]..x": 1})
    with pytest.raises(am.KeyPathError, match="rebind needs a path to a child"):
        make_net().rebind({"": 1})


def test_rebind_is_all_or_nothing() -> None:
    net = make_net()
    before = net.clone(deep=True)
    with pytest.raises(am.FieldValueError):
        net.rebind({"name": "changed", "layers[0].kernel": 9, "layers[1].filters": 0})
    assert net == before
    assert net.name == "net" and net.layers[0].kernel == 3


def test_failed_rebind_does_not_notify() -> None:
    rect = Rect(2, 3)
    calls = rect._bound_calls
    with pytest.raises(am.FieldTypeError):
        rect.rebind(w=5, h="x")
    assert rect.w == 2.0 and rect._area == 6.0 and rect._bound_calls == calls


@pytest.mark.parametrize(
    "paths",
    [
        ["layers", "layers[0]"],
        ["layers[1].filters", "layers[1]"],
        ["meta", "meta.a"],
    ],
)
def test_rebind_rejects_overlapping_paths(paths: list[str]) -> None:
    net = make_net()
    before = net.clone()
    first, second = sorted(KeyPath.parse(p) for p in paths)
    with pytest.raises(
        am.KeyPathError, match=re.escape(f"conflicting updates: `{first}` and `{second}`")
    ):
        net.rebind({p: None for p in paths})
    assert net == before


def test_rebind_missing_resets_field_to_default() -> None:
    net = Net([Conv(1, kernel=7, activation="gelu")], name="x", meta={"a": 1})
    net.rebind({"name": am.MISSING, "layers[0].kernel": am.MISSING, "meta": am.MISSING})
    assert net.name == "net" and net.layers[0].kernel == 3 and net.meta == {}
    assert net.meta.sym_parent is net


def test_rebind_missing_removes_dict_key() -> None:
    net = make_net()
    net.rebind({"meta.a": am.MISSING})
    assert net.meta == {} and "a" not in net.meta


def test_rebind_adds_dict_key() -> None:
    net = make_net()
    net.rebind({"meta['new key']": 5})
    assert net.meta["new key"] == 5


def test_rebind_without_notify_skips_hooks() -> None:
    rect = Rect(2, 3)
    rect.rebind(w=10, notify=False)
    assert rect.w == 10.0 and rect._area == 6.0


def test_attribute_assignment_is_validated() -> None:
    net = make_net()
    net.name = "other"
    assert net.name == "other" and net.sym_init_args["name"] == "other"
    net.layers[1].filters = 64
    assert net.layers[1].filters == 64
    with pytest.raises(am.FieldTypeError, match=r"expected int, got str \('x'\)") as info:
        net.layers[1].kernel = "x"
    assert info.value.path == "layers[1].kernel"
    assert net.layers[1].kernel == 5
    with pytest.raises(am.FieldValueError, match="out of bounds") as info:
        net.layers[0].filters = 2000
    assert info.value.path == "layers[0].filters"


def test_attribute_assignment_converts_like_construction() -> None:
    p = Point(1)
    p.y = 3
    assert type(p.y) is float
    net = make_net()
    net.meta = {"z": 1}
    assert isinstance(net.meta, am.Dict) and net.meta.sym_path == "meta"


def test_setting_unknown_public_attribute_errors() -> None:
    net = make_net()
    with pytest.raises(
        am.UnknownFieldError,
        match=re.escape("Net has no field 'nmae'; its fields are: layers, name, meta"),
    ) as info:
        net.nmae = "typo"
    assert info.value.path == "nmae"
    with pytest.raises(am.UnknownFieldError) as info:
        net.layers[0].units = 3
    assert info.value.path == "layers[0].units"
    assert not hasattr(net, "nmae")


def test_private_attributes_are_free() -> None:
    net = make_net()
    net._cache = {"anything": object()}
    assert "anything" in net._cache
    assert "_cache" not in net.sym_init_args
    del net._cache
    assert not hasattr(net, "_cache")


def test_deleting_a_field_errors() -> None:
    net = make_net()
    with pytest.raises(am.UnknownFieldError, match="cannot delete field 'name' of Net") as info:
        del net.name
    assert info.value.path == "name"
    assert net.name == "net"


# --- change notification ---------------------------------------------------------------


def test_on_bound_runs_after_construction_and_every_change() -> None:
    rect = Rect(2, 3)
    assert rect._area == 6.0
    rect.rebind(w=4)
    assert rect._area == 12.0
    rect.h = 0.5
    assert rect._area == 2.0
    rect.rebind({"h": 10})
    assert rect._area == 40.0


def test_on_bound_state_survives_clone_copy_and_pickle() -> None:
    rect = Rect(2, 3)
    for other in (
        rect.clone(),
        rect.clone(deep=True),
        copy.copy(rect),
        copy.deepcopy(rect),
        pickle.loads(pickle.dumps(rect)),
    ):
        assert other._area == 6.0
        other.w = 1
        assert other._area == 3.0
        assert rect._area == 6.0


def test_ancestor_is_notified_of_changes_deep_below_it() -> None:
    panel = Panel(Size(2, 3), parts=[Size(1, 1)])
    assert (panel._area, panel._parts_area) == (6.0, 1.0)
    panel.size.w = 4
    assert panel._area == 12.0
    panel.size.rebind(h=1)
    assert panel._area == 4.0
    panel.parts[0].rebind(w=5)
    assert panel._parts_area == 5.0
    panel.rebind({"parts[0].h": 2})
    assert panel._parts_area == 10.0
    panel.size = Size(1, 1)
    assert panel._area == 1.0


def test_node_removed_from_tree_no_longer_notifies_old_ancestor() -> None:
    panel = Panel(Size(2, 3))
    old = panel.size
    panel.size = Size(1, 1)
    old.w = 100
    assert panel._area == 1.0
    assert old.sym_parent is None


def test_on_change_receives_updates_keyed_relative_to_receiver() -> None:
    leaf = Recorder("leaf")
    root = Recorder("root", child=Recorder("mid", child=leaf))
    leaf = root.child.child
    CHANGES.clear()
    root.rebind({"child.child.value": 5, "value": 1})
    assert [tag for tag, _ in CHANGES] == ["leaf", "mid", "root"]
    by_tag = dict(CHANGES)
    assert list(by_tag["leaf"]) == ["value"]
    assert list(by_tag["mid"]) == ["child.value"]
    assert sorted(map(str, by_tag["root"])) == ["child.child.value", "value"]
    update = by_tag["root"][KeyPath.parse("child.child.value")]
    assert isinstance(update, am.FieldUpdate)
    assert update.path == "child.child.value"
    assert update.target is leaf and update.key == "value"
    assert (update.old_value, update.new_value) == (0, 5)
    assert by_tag["leaf"]["value"].path == "value"


def test_on_change_reports_added_and_removed_values_as_missing() -> None:
    root = Recorder("root", child={"a": 1})
    CHANGES.clear()
    root.rebind({"child.b": 2})
    ((_, updates),) = CHANGES
    assert updates["child.b"].old_value is am.MISSING and updates["child.b"].new_value == 2
    CHANGES.clear()
    root.rebind({"child.a": am.MISSING})
    ((_, updates),) = CHANGES
    assert updates["child.a"].old_value == 1 and updates["child.a"].new_value is am.MISSING


def test_unchanged_value_does_not_notify() -> None:
    root = Recorder("root", value=3)
    CHANGES.clear()
    root.rebind(value=3)
    root.value = 3
    assert CHANGES == []


def test_deepest_node_is_notified_first_for_separate_branches() -> None:
    root = Recorder("root", child=[Recorder("a"), Recorder("b", child=Recorder("deep"))])
    CHANGES.clear()
    root.rebind({"child[0].value": 1, "child[1].child.value": 2})
    tags = [tag for tag, _ in CHANGES]
    assert tags.index("deep") < tags.index("b") < tags.index("root")
    assert tags.index("a") < tags.index("root")
    assert sorted(tags) == ["a", "b", "deep", "root"]


@pytest.mark.parametrize("updates", [1, "a", [("a", 1)], 2.5])
def test_rebind_with_something_other_than_updates_says_what_it_takes(updates: Any) -> None:
    d = am.Dict(a=1)
    with pytest.raises(am.RebindError, match=r"`rebind` takes a mapping of key paths") as info:
        d.rebind(updates)
    # Ports from PyGlove, which raises ValueError here, and reads as a type error.
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    assert d == {"a": 1}
