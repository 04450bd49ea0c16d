"""Dicts, lists and objects as PyGlove users write them (issue 20, build item 1).

Each test here failed on the code before this work (branch `i20-bugs`); the
behaviour follows PyGlove 0.4.5 where a probe showed what PyGlove does.
"""

from __future__ import annotations

import copy
import typing
from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph.symbolic import FieldUpdate


class Opt(am.Object):
    lr: float
    momentum: float = 0.9


class Net(am.Object):
    opt: Opt
    layers: list[int] = [8]


class Open(am.Object):
    x: int
    __kwargs__: int


class Frozen(am.Object):
    version: typing.Final[int] = 2
    name: str = "a"


# --- attribute access on am.Dict ---------------------------------------------


def test_dict_keys_read_as_attributes() -> None:
    cfg = am.Dict(opt=am.Dict(lr=0.1), epochs=3)
    assert cfg.opt.lr == 0.1
    assert cfg.epochs == 3


def test_dict_attribute_assignment_sets_a_key_validated_and_notified() -> None:
    cfg = am.Dict(opt=am.Dict(lr=0.1))
    cfg.x = 1
    cfg.opt.lr = 0.2
    assert cfg == {"opt": {"lr": 0.2}, "x": 1}
    assert str(cfg.opt.sym_path) == "opt"


def test_dict_attribute_delete_removes_the_key() -> None:
    cfg = am.Dict(x=1, y=2)
    del cfg.x
    assert cfg == {"y": 2}
    with pytest.raises(am.PathNotFoundError, match="no key 'x' in the dict to delete"):
        del cfg.x
    with pytest.raises(KeyError):  # as PyGlove raises
        del cfg.x


def test_dict_missing_attribute_is_an_attribute_error() -> None:
    cfg = am.Dict(x=1)
    with pytest.raises(AttributeError, match="no attribute or key 'y'; its keys are: x"):
        _ = cfg.y
    assert not hasattr(cfg, "y")
    assert getattr(cfg, "_private", None) is None


def test_dict_keys_named_like_methods_keep_the_method() -> None:
    cfg = am.Dict(keys=1, rebind=2)
    assert callable(cfg.keys) and callable(cfg.rebind)
    assert cfg["keys"] == 1 and cfg["rebind"] == 2
    cfg.keys = 3  # an assignment sets the key (as PyGlove does); reading keeps the method
    assert cfg["keys"] == 3 and callable(cfg.keys)


# --- copies and operators ------------------------------------------------------


def test_dict_copy_is_a_symbolic_dict() -> None:
    cfg = am.Dict(a=am.Dict(b=1))
    other = cfg.copy()
    assert type(other) is am.Dict and other == cfg
    assert other["a"] is not cfg["a"] and other["a"].sym_parent is other


def test_list_copy_add_and_mul_are_symbolic_lists() -> None:
    xs = am.List([am.Dict(a=1), 2])
    for result in (xs.copy(), xs + [3], xs * 2, 2 * xs):  # noqa: RUF005 - `+` is tested
        assert type(result) is am.List
        assert result[0] is not xs[0] and result[0].sym_parent is result
    assert xs + [3] == [{"a": 1}, 2, 3]  # noqa: RUF005
    assert xs * 2 == [{"a": 1}, 2, {"a": 1}, 2]
    assert (xs * 2)[2].sym_path == "[2]"
    assert xs.sym_parent is None and xs[0].sym_parent is xs


def test_plain_list_plus_symbolic_list_is_a_plain_list() -> None:
    # As with any list subclass without __radd__ (and as in PyGlove).
    assert type([0] + am.List([1])) is list  # noqa: RUF005


def test_list_add_keeps_the_item_spec() -> None:
    net = Net(Opt(0.1), layers=[8, 16])
    more = net.layers + [32]  # noqa: RUF005
    with pytest.raises(am.FieldTypeError, match="expected int"):
        net.layers + ["x"]  # noqa: RUF005
    assert more == [8, 16, 32]


# --- onchange_callback -----------------------------------------------------------


def test_dict_onchange_callback_receives_the_updates() -> None:
    seen: list[dict[am.KeyPath, FieldUpdate]] = []
    cfg = am.Dict(a=1, b=am.Dict(c=2), onchange_callback=seen.append)
    assert "onchange_callback" not in cfg
    cfg.a = 5
    cfg.rebind({"b.c": 3})
    assert [list(u) for u in seen] == [["a"], ["b.c"]]
    assert seen[0]["a"].old_value == 1 and seen[0]["a"].new_value == 5
    assert seen[1]["b.c"].target is cfg["b"]


def test_list_onchange_callback_receives_the_updates() -> None:
    seen: list[dict[am.KeyPath, FieldUpdate]] = []
    xs = am.List([1], onchange_callback=seen.append)
    xs.append(3)
    xs[0] = 5
    assert [(str(p), u.old_value, u.new_value) for u in seen for p, u in u.items()] == [
        ("[1]", am.MISSING, 3),
        ("[0]", 1, 5),
    ]


def test_onchange_callback_must_be_callable() -> None:
    with pytest.raises(am.FieldTypeError, match="`onchange_callback` must be a function"):
        am.Dict(onchange_callback=1)


# --- partial objects ---------------------------------------------------------------


def test_partial_object_lacks_required_values_until_rebound() -> None:
    opt = Opt.partial(momentum=0.5)
    assert opt.sym_partial and opt.is_partial
    assert opt.missing_values() == {"lr": am.MISSING}
    assert am.Dict(o=opt).missing_values() == {"o.lr": am.MISSING}
    assert am.Dict(o=opt).sym_partial
    opt.rebind(lr=0.1)
    assert not opt.sym_partial and opt.missing_values() == {}
    assert opt == Opt(0.1, 0.5)


def test_partial_object_may_unbind_a_required_field_again() -> None:
    opt = Opt.partial(lr=0.1)
    assert not opt.sym_partial
    opt.rebind(lr=am.MISSING)
    assert opt.missing_values() == {"lr": am.MISSING}


def test_partial_object_clones_and_writes_json_without_the_missing_field() -> None:
    opt = Opt.partial()
    assert opt.clone().sym_partial
    assert am.to_json(opt) == {"_type": Opt._sym_type_name, "momentum": 0.9}


def test_a_complete_object_refuses_missing_required_values() -> None:
    with pytest.raises(am.MissingFieldError, match=r"missing a value for 'lr' \(`.partial"):
        Opt()
    with pytest.raises(am.MissingFieldError, match=r"only a partial object, from Opt.partial"):
        Opt(0.1).rebind(lr=am.MISSING)


def test_partial_object_does_not_run_on_bound() -> None:
    calls: list[float] = []

    class Scaled(am.Object):
        lr: float

        def _on_bound(self) -> None:
            calls.append(self.lr * 2)

    s = Scaled.partial()
    assert calls == [] and s.sym_abstract
    s.rebind(lr=1.0)
    assert calls == [2.0]


# --- non_default_values, sym_has, sym_ancestor --------------------------------------


def test_non_default_values_flat_and_nested() -> None:
    tree = am.Dict(a=Opt(0.1, momentum=0.5), b=1, c=Opt(0.2))
    assert tree.non_default_values() == {"a.lr": 0.1, "a.momentum": 0.5, "b": 1, "c.lr": 0.2}
    assert tree.non_default_values(flatten=False) == {
        "a": {"lr": 0.1, "momentum": 0.5},
        "b": 1,
        "c": {"lr": 0.2},
    }
    assert Net(Opt(0.1)).non_default_values() == {"opt.lr": 0.1}


def test_sym_has() -> None:
    tree = am.Dict(opt=am.Dict(lr=0.1), xs=am.List([1, 2]))
    assert tree.sym_has("opt.lr") and tree.sym_has("xs[-1]") and tree.sym_has("xs")
    assert not tree.sym_has("opt.zz") and not tree.sym_has("xs[2]")
    assert not tree.sym_has("opt.lr.deeper")
    with pytest.raises(am.KeyPathError, match="malformed key path"):
        tree.sym_has("opt..lr")


def test_sym_ancestor() -> None:
    tree = am.Dict(a=am.Dict(b=Opt(0.1)))
    opt = tree["a"]["b"]
    assert opt.sym_ancestor() is tree["a"]
    assert opt.sym_ancestor(lambda node: "a" in node) is tree
    assert opt.sym_ancestor(lambda node: False) is None
    assert tree.sym_ancestor() is None


# --- seal ------------------------------------------------------------------------------


def test_sealed_object_refuses_writes_until_unsealed() -> None:
    opt = Opt(0.1).seal()
    assert opt.sym_sealed and opt.is_sealed
    with pytest.raises(am.WritePermissionError, match="cannot change `lr`: the Opt is sealed"):
        opt.rebind(lr=0.2)
    with pytest.raises(am.WritePermissionError, match="seal\\(False\\) to unseal"):
        opt.lr = 0.2
    assert opt.lr == 0.1
    opt.seal(False)
    assert opt.rebind(lr=0.2).lr == 0.2


def test_seal_covers_the_whole_subtree_and_every_mutator() -> None:
    tree = am.Dict(a=am.Dict(b=1), xs=am.List([1])).seal()
    assert tree["a"].sym_sealed
    with pytest.raises(am.WritePermissionError, match="the Dict is sealed"):
        tree["a"].rebind(b=2)
    with pytest.raises(am.WritePermissionError):
        tree["c"] = 1
    with pytest.raises(am.WritePermissionError):
        tree.rebind({"a.b": 3})
    with pytest.raises(am.WritePermissionError, match="cannot append to the list"):
        tree["xs"].append(2)
    with pytest.raises(am.WritePermissionError, match="cannot change the list"):
        tree["xs"].extend([2])
    assert tree == {"a": {"b": 1}, "xs": [1]}
    assert not tree.clone().sym_sealed  # a copy is not sealed
    tree.seal(False)
    tree["xs"].append(2)
    assert tree["xs"] == [1, 2]


# --- notify_parents, _on_parent_change, _on_path_change ---------------------------------


def test_rebind_without_notifying_parents() -> None:
    log: list[str] = []

    class Inner(am.Object):
        x: int = 0

        def _on_change(self, updates: dict[am.KeyPath, FieldUpdate]) -> None:
            log.append("inner " + ",".join(map(str, updates)))

    class Outer(am.Object):
        inner: Inner

        def _on_change(self, updates: dict[am.KeyPath, FieldUpdate]) -> None:
            log.append("outer " + ",".join(map(str, updates)))

    outer = Outer(Inner())
    outer.inner.rebind(x=1, notify_parents=False)
    assert log == ["inner x"]
    outer.inner.rebind(x=2)
    assert log == ["inner x", "inner x", "outer inner.x"]


def test_parent_and_path_change_hooks() -> None:
    log: list[tuple[str, str, str]] = []

    class Tracked(am.Object):
        x: int = 0

        def _on_parent_change(self, old: am.Symbolic | None, new: am.Symbolic | None) -> None:
            log.append(("parent", type(old).__name__, type(new).__name__))

        def _on_path_change(self, old: am.KeyPath, new: am.KeyPath) -> None:
            log.append(("path", str(old), str(new)))

    t = Tracked()
    d = am.Dict(k=t)
    assert log == [("parent", "NoneType", "Dict"), ("path", "", "k")]
    log.clear()
    outer = am.Dict()
    outer["z"] = d  # an ancestor moved: only the path changes
    assert log == [("path", "k", "z.k")]
    log.clear()
    del d["k"]
    assert log == [("parent", "Dict", "NoneType"), ("path", "z.k", "")]
    log.clear()
    xs = am.List([Tracked()])
    log.clear()
    xs.insert(0, t)
    assert ("path", "[0]", "[1]") in log and ("parent", "NoneType", "List") in log


# --- open keyword fields, typing.Final, properties ---------------------------------------


def test_open_keyword_fields_are_fields() -> None:
    o = Open(1, z=2)
    assert o.z == 2 and o.sym_init_args == {"x": 1, "z": 2}
    assert o.rebind(z=3, q=4).sym_init_args == {"x": 1, "z": 3, "q": 4}
    o.w = 5
    assert o.w == 5
    o.rebind(z=am.MISSING)
    del o.w
    assert o.sym_init_args == {"x": 1, "q": 4} and not hasattr(o, "z")
    assert am.from_json(am.to_json(o)) == o
    assert o.clone() == o and repr(o) == "Open(x=1, q=4)"


def test_open_keyword_fields_are_validated() -> None:
    with pytest.raises(am.FieldTypeError, match="expected int"):
        Open(1, z="s")
    with pytest.raises(am.UnknownFieldError, match="'rebind' cannot be an extra keyword field"):
        Open(1, rebind=2)
    with pytest.raises(am.FieldTypeError, match="expected int"):
        Open(1).rebind(z="s")


def test_final_field_keeps_its_value() -> None:
    f = Frozen()
    assert f.version == 2 and f.sym_init_args == {"name": "a"}
    with pytest.raises(am.FieldValueError, match=r"'version' is declared typing\.Final"):
        Frozen(version=3)
    with pytest.raises(ValueError, match=r"typing\.Final"):  # as PyGlove raises
        f.rebind(version=3)
    with pytest.raises(am.FieldValueError, match=r"typing\.Final"):
        f.version = 3


def test_final_field_needs_a_default() -> None:
    with pytest.raises(am.SchemaError, match=r"typing\.Final but has no default"):

        class NoDefault(am.Object):
            version: typing.Final[int]


def test_property_over_a_field_is_refused_and_other_properties_work() -> None:
    with pytest.raises(am.SchemaError, match="clashes with a method"):  # PyGlove refuses it too

        class Shadow(am.Object):
            x: int

            @property  # type: ignore[no-redef]
            def x(self) -> int:
                return 1

    class Derived(am.Object):
        x: int

        @property
        def double(self) -> int:
            return self.x * 2

    assert Derived(2).double == 4


# --- clone, JSON without defaults -------------------------------------------------------


def test_clone_any_value() -> None:
    plain = {"a": [1, 2]}
    deep = am.clone(plain, deep=True)
    shallow = am.clone(plain)
    assert deep == plain and deep["a"] is not plain["a"]
    assert shallow == plain and shallow is not plain and shallow["a"] is plain["a"]
    tree = am.Dict(a=Opt(0.1))
    assert am.clone(tree, deep=True) == tree and am.clone(tree)["a"] is not tree["a"]
    assert am.clone(3) == 3


def test_to_json_hides_default_values_and_round_trips() -> None:
    tree = am.Dict(a=Opt(0.1), b=Opt(0.2, momentum=0.5), c=[Opt(0.3)])
    hidden = tree.to_json(hide_default_values=True)
    name = Opt._sym_type_name
    assert hidden == {
        "a": {"_type": name, "lr": 0.1},
        "b": {"_type": name, "lr": 0.2, "momentum": 0.5},
        "c": [{"_type": name, "lr": 0.3}],
    }
    assert am.to_json([Opt(0.1)], hide_default_values=True) == [{"_type": name, "lr": 0.1}]
    assert am.from_json(hidden) == tree
    assert tree.to_json() != hidden  # the default is written by default


# --- sym_lt, sym_eq with a leaf's own sym_eq -----------------------------------------------


def test_sym_lt_orders_across_types() -> None:
    ordered = [am.MISSING, None, False, 1, 1.5, "a", "b", [1], [1, 2], (1,), {"a": 1}, Opt(0.1)]
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            assert am.sym_lt(a, b) and not am.sym_lt(b, a), (a, b)


def test_sym_lt_orders_containers_and_objects_by_first_difference() -> None:
    assert am.sym_lt(["a", "b", "c"], ["b"])
    assert am.sym_lt({"x": 1}, {"x": 2}) and am.sym_lt({"x": 1}, {"y": 1})
    assert am.sym_lt(Opt(0.1), Opt(0.2)) and am.sym_lt(Opt(0.1, 0.5), Opt(0.1))
    assert am.sym_lt(am.Dict(a=Opt(0.1)), am.Dict(a=Opt(0.2)))


def test_sym_lt_is_consistent_with_sym_eq() -> None:
    values: list[Any] = [1, 1.0, True, am.List([1]), [1], am.Dict(a=1), {"a": 1}, Opt(0.1)]
    values += [Opt(0.1), am.Dict(b=2, a=1), am.Dict(a=1, b=2), (1,), "1"]
    for a in values:
        for b in values:
            before, after = am.sym_lt(a, b), am.sym_lt(b, a)
            assert not (before and after), (a, b)
            assert (not before and not after) == am.sym_eq(a, b), (a, b)
    assert sorted([3, "a", None, 1.5], key=_sym_key) == [None, 1.5, 3, "a"]


def _sym_key(value: Any) -> Any:
    import functools

    return functools.cmp_to_key(lambda a, b: -1 if am.sym_lt(a, b) else int(am.sym_lt(b, a)))(value)


class Mod10:
    """A leaf that defines its own symbolic equality, order and hash."""

    def __init__(self, v: int) -> None:
        self.v = v

    def sym_eq(self, other: Any) -> bool:
        return isinstance(other, Mod10) and self.v % 10 == other.v % 10

    def sym_hash(self) -> int:
        return self.v % 10

    def sym_lt(self, other: Mod10) -> bool:
        return self.v % 10 < other.v % 10


def test_sym_eq_respects_a_leafs_own_sym_eq() -> None:
    assert am.sym_eq(am.Dict(a=Mod10(1)), am.Dict(a=Mod10(11)))
    assert not am.sym_eq(am.Dict(a=Mod10(1)), am.Dict(a=Mod10(2)))
    assert am.sym_eq(Mod10(3), Mod10(13))
    assert am.sym_hash(am.List([Mod10(1)])) == am.sym_hash(am.List([Mod10(21)]))
    assert am.sym_lt(Mod10(12), Mod10(5)) and not am.sym_lt(Mod10(5), Mod10(15))


# --- query ----------------------------------------------------------------------------------


def test_query_where_takes_value_and_parent() -> None:
    tree = am.Dict(a=Opt(0.5), b=am.Dict(lr=0.5), c=0.5)
    found = tree.query(where=lambda value, parent: value == 0.5 and isinstance(parent, Opt))
    assert found == {"a.lr": 0.5}
    roots = tree.query(where=lambda value, parent: parent is None)
    assert list(roots) == [""]
    assert am.query(tree, where=lambda v: v == 0.5) == {"a.lr": 0.5, "b.lr": 0.5, "c": 0.5}


def test_query_enter_selected() -> None:
    tree = am.Dict(a=am.Dict(x=am.Dict(y=1)))

    def is_dict(value: Any) -> bool:
        return isinstance(value, dict)

    assert list(tree.query(where=is_dict, enter_selected=False)) == [""]
    assert list(tree.query(where=is_dict)) == ["", "a", "a.x"]
    assert list(am.query(tree, where=is_dict, enter_selected=False)) == [""]


def test_query_plain_values() -> None:
    value = {"a": [np.int64(1), 2], "b": (2,)}
    assert am.query(value, where=lambda v: isinstance(v, int) and v == 2) == {
        "a[1]": 2,
        "b[0]": 2,
    }


# --- built-in exception classes as PyGlove raises them ---------------------------------------


def test_errors_derive_from_the_builtins_pyglove_raises() -> None:
    opt = Opt(0.1)
    with pytest.raises(KeyError):  # a bad key path in rebind
        am.Dict(a=1).rebind({"b.c": 1})
    with pytest.raises(KeyError):  # ... and in sym_get
        opt.sym_get("zz")
    with pytest.raises(KeyError, match="malformed key path"):  # a malformed one too
        am.Dict(a=1).rebind({"a..b": 1})
    with pytest.raises(KeyError):  # an unknown field in rebind (PyGlove: KeyError)
        opt.rebind(zz=1)
    with pytest.raises(TypeError):  # an unknown field in a call (PyGlove: TypeError)
        Opt(0.1, zz=1)
    with pytest.raises(TypeError):  # a wrong type
        Opt("x")
    with pytest.raises(TypeError):  # a missing required field in a call
        Opt()
    with pytest.raises(ValueError):  # a required field rebound to MISSING (PyGlove: ValueError)
        opt.rebind(lr=am.MISSING)
    with pytest.raises(am.UnknownFieldError, match="no field 'zz'"):
        opt.rebind(zz=1)


def test_copy_module_still_works_on_dicts_with_attribute_access() -> None:
    cfg = am.Dict(a=am.Dict(b=1))
    assert copy.copy(cfg) == cfg and copy.deepcopy(cfg) == cfg
