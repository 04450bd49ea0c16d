"""Tests of `am.List` and `am.Dict`: list/dict behaviour, paths, validation, notification."""

# am.Object copies mutable field defaults per instance, so `xs: list[int] = []` is safe.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import automorph as am


class Item(am.Object):
    v: int = 0


class Holder(am.Object):
    """Typed containers whose contents feed derived state."""

    xs: list[int] = []
    items: list[Item] = []
    table: dict[str, int] = {}
    nodes: dict[str, Item] = {}
    anything: Any = None

    def _on_bound(self) -> None:
        self._total = (
            sum(self.xs)
            + sum(i.v for i in self.items)
            + sum(self.table.values())
            + sum(n.v for n in self.nodes.values())
        )
        self._calls = getattr(self, "_calls", 0) + 1


class Watcher(am.Object):
    """Logs the updates each change reports."""

    xs: list[int] = []
    table: dict[str, int] = {}

    def _on_bound(self) -> None:
        self._log: list[dict[am.KeyPath, am.FieldUpdate]] = []

    def _on_change(self, updates: dict[am.KeyPath, am.FieldUpdate]) -> None:
        self._log.append(updates)


def holder() -> Holder:
    return Holder(
        xs=[1, 2],
        items=[Item(1), Item(2), Item(3)],
        table={"a": 1, "b": 2},
        nodes={"p": Item(10), "q": Item(20)},
    )


def assert_linked(container: am.List | am.Dict) -> None:
    """Every symbolic child points back at `container`, under its current key."""
    keys = range(len(container)) if isinstance(container, list) else list(container)
    for key in keys:
        child = container[key]
        if isinstance(child, am.Symbolic):
            assert child.sym_parent is container
            assert child.sym_path == container.sym_path.child(key)


def total(h: Holder) -> int:
    return (
        sum(h.xs)
        + sum(i.v for i in h.items)
        + sum(h.table.values())
        + sum(n.v for n in h.nodes.values())
    )


# --- behaving like list and dict ----------------------------------------------------------


def test_list_behaves_like_a_list() -> None:
    xs = am.List([3, 1, 2])
    assert isinstance(xs, list) and isinstance(xs, am.Symbolic)
    assert xs == [3, 1, 2] and [3, 1, 2] == xs
    assert xs != [3, 1]
    assert len(xs) == 3 and list(xs) == [3, 1, 2] and xs[-1] == 2 and xs[1:] == [1, 2]
    assert 1 in xs and xs.index(2) == 2 and xs.count(3) == 1
    assert sorted(xs) == [1, 2, 3]
    assert am.List() == [] and not am.List()


def test_dict_behaves_like_a_dict() -> None:
    d = am.Dict({"a": 1}, b=2)
    assert isinstance(d, dict) and isinstance(d, am.Symbolic)
    assert d == {"a": 1, "b": 2} and {"b": 2, "a": 1} == d
    assert len(d) == 2 and list(d) == ["a", "b"]
    assert list(d.items()) == [("a", 1), ("b", 2)] and list(d.values()) == [1, 2]
    assert d["a"] == 1 and d.get("z") is None and "b" in d
    assert am.Dict([("x", 1)]) == {"x": 1}
    with pytest.raises(KeyError):
        d["z"]


def test_untyped_containers_convert_nested_plain_containers() -> None:
    xs = am.List([[1, 2], {"a": [3]}])
    assert isinstance(xs[0], am.List) and isinstance(xs[1], am.Dict)
    assert isinstance(xs[1]["a"], am.List)
    assert xs[1]["a"].sym_path == "[1].a" and xs[1]["a"].sym_root is xs
    xs.append({"b": 1})
    assert isinstance(xs[2], am.Dict) and xs[2].sym_path == "[2]"


@pytest.mark.parametrize("bad_key", [1, None, ("a",), 1.5])
def test_dict_rejects_non_str_keys(bad_key: Any) -> None:
    message = rf"dict keys must be str, got {type(bad_key).__name__}"
    with pytest.raises(am.FieldTypeError, match=message):
        am.Dict({bad_key: 1})
    d = am.Dict(a=1)
    with pytest.raises(am.FieldTypeError, match=message):
        d[bad_key] = 1
    with pytest.raises(am.FieldTypeError, match=message):
        d.update({bad_key: 1})
    with pytest.raises(am.FieldTypeError, match=message):
        d.setdefault(bad_key, 1)
    with pytest.raises(am.FieldTypeError, match=message):
        d |= {bad_key: 1}
    assert d == {"a": 1}


def test_dict_in_a_field_rejects_non_str_keys_naming_the_field() -> None:
    h = holder()
    with pytest.raises(am.FieldTypeError, match=r"dict keys must be str, got int \(3\)") as info:
        h.table[3] = 1  # type: ignore[index]
    assert info.value.path == "table"
    with pytest.raises(am.FieldTypeError, match="dict keys must be str") as info:
        h.table.update({"ok": 1, 3: 1})
    assert info.value.path == "table"
    assert h.table == {"a": 1, "b": 2}


# --- list mutators: paths ------------------------------------------------------------------


def _items() -> tuple[Holder, Item, Item, Item]:
    h = holder()
    a, b, c = h.items
    return h, a, b, c


def test_insert_rekeys_following_items() -> None:
    h, a, b, c = _items()
    new = Item(9)
    h.items.insert(0, new)
    assert h.items == [Item(9), a, b, c]
    assert h.items[0] is new and new.sym_path == "items[0]"
    assert (a.sym_path, b.sym_path, c.sym_path) == ("items[1]", "items[2]", "items[3]")
    assert_linked(h.items)


def test_pop_detaches_and_rekeys() -> None:
    h, a, b, c = _items()
    assert h.items.pop(0) is a
    assert a.sym_parent is None and a.sym_path == ""
    assert (b.sym_path, c.sym_path) == ("items[0]", "items[1]")
    assert h.items.pop() is c and c.sym_parent is None
    assert list(h.items) == [b]
    assert_linked(h.items)
    h.items.clear()
    with pytest.raises(IndexError):
        h.items.pop()


def test_remove_and_del_rekey() -> None:
    h, a, b, c = _items()
    h.items.remove(Item(2))
    assert b.sym_parent is None and c.sym_path == "items[1]"
    with pytest.raises(ValueError):
        h.items.remove(Item(99))
    h.items.insert(1, Item(5))
    del h.items[0]
    assert a.sym_parent is None
    assert [i.v for i in h.items] == [5, 3] and c.sym_path == "items[1]"
    assert_linked(h.items)


def test_del_slice_rekeys() -> None:
    h, a, b, c = _items()
    del h.items[:2]
    assert a.sym_parent is None and b.sym_parent is None
    assert list(h.items) == [c] and c.sym_path == "items[0]"


def test_clear_detaches_every_item() -> None:
    h, a, b, c = _items()
    h.items.clear()
    assert h.items == [] and all(i.sym_parent is None for i in (a, b, c))


def test_sort_and_reverse_rekey() -> None:
    h, a, b, c = _items()
    h.items.sort(key=lambda i: -i.v)
    assert list(h.items) == [c, b, a] and a.sym_path == "items[2]" and c.sym_path == "items[0]"
    h.items.reverse()
    assert list(h.items) == [a, b, c] and a.sym_path == "items[0]"
    h.items.sort(key=lambda i: i.v, reverse=True)
    assert [i.v for i in h.items] == [3, 2, 1]
    assert_linked(h.items)
    h.xs.extend([0, 5])
    h.xs.sort()
    assert h.xs == [0, 1, 2, 5]


def test_extend_and_iadd_append_linked_items() -> None:
    h, a, _, _ = _items()
    items = h.items
    h.items.extend([Item(4)])
    h.items += [Item(5), Item(6)]
    assert h.items is items
    assert [i.v for i in h.items] == [1, 2, 3, 4, 5, 6]
    assert a.sym_parent is items and h.items[5].sym_path == "items[5]"
    assert_linked(h.items)


def test_iadd_on_a_field_keeps_the_same_list_and_items() -> None:
    h, a, _, _ = _items()
    xs, items = h.xs, h.items
    h.xs += [3]
    h.items += [Item(4)]
    assert h.xs is xs and xs.sym_parent is h
    assert h.items is items and h.items[0] is a and a.sym_parent is items
    a.v = 100
    assert h._total == total(h)


def test_imul_copies_repeated_nodes() -> None:
    h, a, _, _ = _items()
    h.items *= 2
    assert [i.v for i in h.items] == [1, 2, 3, 1, 2, 3]
    assert h.items[0] is a and h.items[3] is not a and h.items[3] == a
    assert len({id(i) for i in h.items}) == 6
    assert_linked(h.items)
    h.items *= 0
    assert h.items == [] and a.sym_parent is None


def test_slice_assignment_rekeys_and_detaches() -> None:
    h, a, b, c = _items()
    h.items[0:2] = [Item(7), Item(8), Item(9)]
    assert [i.v for i in h.items] == [7, 8, 9, 3]
    assert a.sym_parent is None and b.sym_parent is None
    assert c.sym_path == "items[3]"
    assert_linked(h.items)
    h.items[::2] = [Item(0), Item(0)]
    assert [i.v for i in h.items] == [0, 8, 0, 3]
    assert_linked(h.items)


def test_item_assignment_links_and_detaches() -> None:
    h, _, b, c = _items()
    h.items[1] = Item(42)
    assert b.sym_parent is None and h.items[1].sym_path == "items[1]"
    h.items[-1] = Item(43)
    assert c.sym_parent is None and h.items[2].v == 43
    assert_linked(h.items)
    with pytest.raises(LookupError):
        h.items[5] = Item(1)
    assert len(h.items) == 3


def test_appending_a_node_held_elsewhere_stores_a_copy() -> None:
    h = holder()
    other = holder()
    elsewhere = other.items[0]
    for place in (
        lambda n: h.items.append(n),
        lambda n: h.items.extend([n]),
        lambda n: h.items.insert(0, n),
        lambda n: h.items.__setitem__(slice(0, 1), [n]),
        lambda n: h.nodes.__setitem__("new", n),
        lambda n: h.nodes.update(other=n),
    ):
        place(elsewhere)
        assert elsewhere.sym_parent is other.items and elsewhere.sym_path == "items[0]"
        assert all(i is not elsewhere for i in h.items)
        assert all(n is not elsewhere for n in h.nodes.values())
        assert_linked(h.items)
        assert_linked(h.nodes)


def test_appending_the_same_node_twice_stores_a_copy_the_second_time() -> None:
    xs = am.List()
    node = Item(1)
    xs.append(node)
    xs.append(node)
    assert xs[0] is node and xs[1] is not node and xs[1] == node
    assert node.sym_path == "[0]" and xs[1].sym_path == "[1]"


# --- list mutators: validation ----------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda xs: xs.append("x"), "xs[2]"),
        (lambda xs: xs.extend([3, "x"]), "xs[3]"),
        (lambda xs: xs.insert(0, "x"), "xs[0]"),
        (lambda xs: xs.__setitem__(1, "x"), "xs[1]"),
        (lambda xs: xs.__setitem__(-1, "x"), "xs[1]"),
        (lambda xs: xs.__setitem__(slice(0, 1), [5, "x"]), "xs[1]"),
        (lambda xs: xs.__iadd__(["x"]), "xs[2]"),
        (lambda xs: xs.append(True), "xs[2]"),
        (lambda xs: xs.append(1.0), "xs[2]"),
    ],
)
def test_typed_list_validates_every_mutation(mutate: Callable[[am.List], Any], path: str) -> None:
    h = holder()
    calls = h._calls
    with pytest.raises(am.FieldTypeError, match=r"expected int, got") as info:
        mutate(h.xs)
    assert info.value.path == path
    assert h.xs == [1, 2] and h._calls == calls


def test_list_of_objects_rejects_other_values() -> None:
    h = holder()
    with pytest.raises(am.FieldTypeError, match=r"expected Item, got int \(3\)") as info:
        h.items.append(3)
    assert info.value.path == "items[3]"
    with pytest.raises(am.FieldTypeError, match=r"expected Item, got dict") as info:
        h.items.insert(1, {"v": 1})
    assert info.value.path == "items[1]"
    assert len(h.items) == 3


def test_validation_error_path_follows_the_list_position_in_the_tree() -> None:
    outer = am.List([am.Dict(inner=Holder())])
    with pytest.raises(am.FieldTypeError) as info:
        outer[0]["inner"].xs.append("x")
    assert info.value.path == "[0].inner.xs[0]"


def test_nested_field_change_through_list_is_validated() -> None:
    h = holder()
    with pytest.raises(am.FieldTypeError, match=r"expected int, got str") as info:
        h.items[2].v = "x"
    assert info.value.path == "items[2].v"


# --- dict mutators ---------------------------------------------------------------------------


def test_dict_setitem_links_and_replaces() -> None:
    h = holder()
    p = h.nodes["p"]
    h.nodes["r"] = Item(30)
    assert h.nodes["r"].sym_path == "nodes.r"
    h.nodes["p"] = Item(11)
    assert p.sym_parent is None and h.nodes["p"].sym_path == "nodes.p"
    assert list(h.nodes) == ["p", "q", "r"]
    h.nodes["a b"] = Item(1)
    assert h.nodes["a b"].sym_path == "nodes['a b']"
    assert_linked(h.nodes)


def test_dict_update_and_ior() -> None:
    h = holder()
    nodes = h.nodes
    h.nodes.update({"r": Item(1)}, s=Item(2))
    h.nodes.update([("t", Item(3))])
    h.nodes |= {"u": Item(4)}
    assert h.nodes is nodes
    assert list(h.nodes) == ["p", "q", "r", "s", "t", "u"]
    assert_linked(h.nodes)
    h.table |= {"c": 3}
    assert h.table == {"a": 1, "b": 2, "c": 3} and h.table.sym_parent is h


def test_dict_pop_popitem_del_and_clear_detach() -> None:
    h = holder()
    p, q = h.nodes["p"], h.nodes["q"]
    assert h.nodes.pop("p") is p and p.sym_parent is None
    assert h.nodes.pop("missing", None) is None
    with pytest.raises(KeyError):
        h.nodes.pop("missing")
    h.nodes["r"] = Item(3)
    key, value = h.nodes.popitem()
    assert key == "r" and value.sym_parent is None
    del h.nodes["q"]
    assert q.sym_parent is None and h.nodes == {}
    with pytest.raises(KeyError):
        del h.nodes["q"]
    with pytest.raises(KeyError, match="dictionary is empty"):
        h.nodes.popitem()
    h.nodes.update(a=Item(), b=Item())
    a = h.nodes["a"]
    h.nodes.clear()
    assert h.nodes == {} and a.sym_parent is None


def test_dict_setdefault() -> None:
    h = holder()
    assert h.table.setdefault("a", 100) == 1
    assert h.table.setdefault("z", 5) == 5
    assert h.table == {"a": 1, "b": 2, "z": 5}
    node = h.nodes.setdefault("n", Item(7))
    assert node.sym_path == "nodes.n" and node is h.nodes["n"]


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d.__setitem__("c", "x"), "table.c"),
        (lambda d: d.__setitem__("a", 1.5), "table.a"),
        (lambda d: d.update({"c": 3, "d": "x"}), "table.d"),
        (lambda d: d.update(c=3, d=None), "table.d"),
        (lambda d: d.setdefault("c", "x"), "table.c"),
        (lambda d: d.__ior__({"c": "x"}), "table.c"),
    ],
)
def test_typed_dict_validates_every_mutation(mutate: Callable[[am.Dict], Any], path: str) -> None:
    h = holder()
    calls = h._calls
    with pytest.raises(am.FieldTypeError, match=r"expected int, got") as info:
        mutate(h.table)
    assert info.value.path == path
    assert h.table == {"a": 1, "b": 2} and h._calls == calls


def test_dict_of_objects_rejects_other_values() -> None:
    h = holder()
    with pytest.raises(am.FieldTypeError, match=r"expected Item, got int \(1\)") as info:
        h.nodes["x"] = 1
    assert info.value.path == "nodes.x"
    assert list(h.nodes) == ["p", "q"]


# --- notification of the owning object -------------------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h.xs.append(5),
        lambda h: h.xs.extend([5, 6]),
        lambda h: h.xs.insert(0, 5),
        lambda h: h.xs.pop(),
        lambda h: h.xs.remove(1),
        lambda h: h.xs.clear(),
        lambda h: h.xs.__setitem__(0, 9),
        lambda h: h.xs.__setitem__(slice(0, 2), [7]),
        lambda h: h.xs.__delitem__(0),
        lambda h: h.xs.__iadd__([4]),
        lambda h: h.xs.__imul__(3),
        lambda h: h.items.append(Item(7)),
        lambda h: h.items.pop(1),
        lambda h: h.items[0].rebind(v=50),
        lambda h: setattr(h.items[2], "v", 60),
        lambda h: h.table.__setitem__("c", 3),
        lambda h: h.table.update(a=10),
        lambda h: h.table.pop("a"),
        lambda h: h.table.popitem(),
        lambda h: h.table.setdefault("z", 9),
        lambda h: h.table.clear(),
        lambda h: h.table.__delitem__("b"),
        lambda h: h.table.__ior__({"a": 7}),
        lambda h: h.nodes["p"].rebind(v=0),
        lambda h: h.nodes.pop("q"),
    ],
)
def test_mutations_keep_owner_derived_state_current(mutate: Callable[[Holder], Any]) -> None:
    h = holder()
    calls = h._calls
    mutate(h)
    assert h._calls > calls
    assert h._total == total(h)


def test_sort_and_reverse_notify_owner() -> None:
    h = holder()
    calls = h._calls
    h.xs.reverse()
    assert h.xs == [2, 1] and h._calls == calls + 1
    h.xs.sort()
    assert h._calls == calls + 2


def test_container_in_an_any_field_notifies_owner() -> None:
    h = Holder(anything={"deep": [1, 2]})
    calls = h._calls
    h.anything["deep"].append(3)
    assert h._calls == calls + 1
    assert h.anything["deep"][2] == 3 and h.anything["deep"].sym_path == "anything.deep"


def test_on_change_gets_container_updates_relative_to_owner() -> None:
    w = Watcher(xs=[1, 2], table={"a": 1})
    w.xs.append(3)
    ((path, update),) = w._log[-1].items()
    assert path == "xs[2]" and update.target is w.xs and update.key == 2
    assert update.old_value is am.MISSING and update.new_value == 3
    w.xs.pop(0)
    assert {str(p): (u.old_value, u.new_value) for p, u in w._log[-1].items()} == {
        "xs[0]": (1, 2),
        "xs[1]": (2, 3),
        "xs[2]": (3, am.MISSING),
    }
    w.table["b"] = 2
    assert {str(p): (u.old_value, u.new_value) for p, u in w._log[-1].items()} == {
        "table.b": (am.MISSING, 2),
    }
    del w.table["a"]
    assert {str(p): (u.old_value, u.new_value) for p, u in w._log[-1].items()} == {
        "table.a": (1, am.MISSING),
    }
    assert len(w._log) == 4


def test_mutating_a_detached_container_does_not_notify_former_owner() -> None:
    h = holder()
    old = h.xs
    h.xs = [5]
    calls = h._calls
    old.append(100)
    assert old.sym_parent is None and h._calls == calls and h._total == total(h)


# --- MISSING means "no value" (PyGlove's behaviour) ------------------------------------


def test_missing_in_a_dict_leaves_the_key_out() -> None:
    d = am.Dict(x=1, y=am.MISSING)
    assert dict(d) == {"x": 1} and "y" not in d
    assert d.to_json() == {"x": 1}
    assert am.Dict({"a": am.MISSING, "b": am.List([am.MISSING])}) == {"b": []}


def test_missing_in_a_list_leaves_the_item_out() -> None:
    items = am.List([1, am.MISSING, 2])
    assert list(items) == [1, 2] and items.to_json() == [1, 2]
    items.append(am.MISSING)
    items.extend([am.MISSING, 3])
    items.insert(0, am.MISSING)
    assert list(items) == [1, 2, 3]
    assert [items[i].__class__ for i in range(3)] == [int, int, int]


# --- == and hash with leaves whose == gives an array (numpy) ----------------------------


class Holds(am.Object):
    value: Any = None


def test_equality_and_hash_of_objects_holding_numpy_arrays() -> None:
    np = pytest.importorskip("numpy")
    a, b, c = Holds(np.array([1, 2])), Holds(np.array([1, 2])), Holds(np.array([1, 3]))
    assert a == b and not (a != b) and hash(a) == hash(b)
    assert a != c and not (a == c)
    assert (a == b) == am.sym_eq(a, b) and (a == c) == am.sym_eq(a, c)
    assert Holds(np.zeros(3)) != Holds(np.zeros(2))
    nested = Holds(am.Dict(w=np.ones(2), xs=am.List([np.zeros(2)])))
    twin = nested.clone(deep=True)
    assert nested == twin and hash(nested) == hash(twin)
    assert {nested, twin} == {nested}


def test_equality_and_hash_of_containers_holding_numpy_arrays() -> None:
    np = pytest.importorskip("numpy")
    assert am.List([np.zeros(2)]) == am.List([np.zeros(2)])
    assert am.List([np.zeros(2)]) != am.List([np.ones(2)])
    assert am.List([np.zeros(2)]) == [np.zeros(2)]
    assert hash(am.List([np.zeros(2)])) == hash(am.List([np.zeros(2)]))
    assert am.Dict(a=np.zeros(2)) == am.Dict(a=np.zeros(2))
    assert am.Dict(a=np.zeros(2)) != am.Dict(a=np.ones(2))
    assert hash(am.Dict(a=np.zeros(2))) == hash(am.Dict(a=np.zeros(2)))
    # Plain values keep Python's rules.
    assert am.List([1]) == [1.0] and am.Dict(a=1) == {"a": 1} and am.List([1]) != am.List([2])
