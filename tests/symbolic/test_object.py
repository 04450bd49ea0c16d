"""Tests of `am.Object`: fields, validation, rebind, hooks, copies, equality, inspection."""

# am.Object copies mutable field defaults per instance (RUF012), and the typing spellings
# `Optional`/`Union` are tested on purpose next to `X | None` (UP007, UP045).

from __future__ import annotations

import copy
import pickle
import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, Optional, Union

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import automorph as am
from automorph.symbolic import KeyPath

# --- symbolic classes used by the tests (module level: annotations resolve here) ---


class Base(am.Object):
    a: int
    b: str = "b"


class Derived(Base):
    c: float = 1.0
    b = "override"  # a new default for an inherited field


class Retyped(Base):
    b: Optional[str] = None  # type: ignore[assignment]


class Other(Base):
    pass


class Point(am.Object):
    x: float
    y: float = 0.0


class SameFieldsAsPoint(am.Object):
    x: float
    y: float = 0.0


class Conv(am.Object):
    filters: Annotated[int, am.Bounds(1, 1024)]
    kernel: int = 3
    activation: Literal["relu", "gelu"] = "relu"


class Net(am.Object):
    layers: list[Conv]
    name: str = "net"
    meta: dict[str, int] = {}


class Everything(am.Object):
    i: int = 0
    f: float = 0.5
    s: str = "s"
    flag: bool = False
    opt: Optional[int] = None
    num: Union[int, str] = 1
    either: Union[float, int] = 0
    maybe: float | None = None
    lit: Literal["a", "b", 3] = "a"
    ints: list[int] = [1, 2]
    table: dict[str, float] = {}
    shape: tuple[int, ...] = ()
    pair: tuple[int, str] = (0, "")
    point: Optional[Point] = None
    ratio: Annotated[float, am.Bounds(0.0, 1.0)] = 0.5
    fn: Callable[..., Any] = len
    kind: type[Base] = Base
    anything: Any = None
    counter: ClassVar[int] = 0
    _hidden: int = 7


class Box(am.Object):
    v: Any = None
    w: Any = None


class Rect(am.Object):
    """Keeps `_area` derived from its fields."""

    w: float
    h: float

    def _on_bound(self) -> None:
        self._area = self.w * self.h
        self._bound_calls = getattr(self, "_bound_calls", 0) + 1


class Size(am.Object):
    w: float
    h: float


class Panel(am.Object):
    """Keeps state derived from values deep below it."""

    size: Size
    parts: list[Size] = []

    def _on_bound(self) -> None:
        self._area = self.size.w * self.size.h
        self._parts_area = sum(p.w * p.h for p in self.parts)


CHANGES: list[tuple[str, dict[KeyPath, am.FieldUpdate]]] = []


class Recorder(am.Object):
    """Logs every `_on_change` it receives into `CHANGES`."""

    tag: str
    value: int = 0
    child: Any = None

    def _on_change(self, updates: dict[KeyPath, am.FieldUpdate]) -> None:
        CHANGES.append((self.tag, dict(updates)))


@pytest.fixture(autouse=True)
def _clear_changes() -> None:
    CHANGES.clear()


def make_net() -> Net:
    return Net([Conv(1), Conv(2, kernel=5), Conv(3)], meta={"a": 1})


# --- field declaration -----------------------------------------------------------


def test_fields_follow_declaration_order_with_base_fields_first() -> None:
    assert Base.sym_schema().names == ("a", "b")
    assert Derived.sym_schema().names == ("a", "b", "c")
    assert Everything.sym_schema().names == (
        "i",
        "f",
        "s",
        "flag",
        "opt",
        "num",
        "either",
        "maybe",
        "lit",
        "ints",
        "table",
        "shape",
        "pair",
        "point",
        "ratio",
        "fn",
        "kind",
        "anything",
    )


def test_defaults_fill_missing_values() -> None:
    e = Everything()
    assert (e.i, e.f, e.s, e.flag, e.opt, e.lit) == (0, 0.5, "s", False, None, "a")
    assert e.ints == [1, 2] and isinstance(e.ints, am.List)
    assert e.table == {} and isinstance(e.table, am.Dict)
    assert e.shape == () and e.pair == (0, "")
    assert e.fn is len and e.kind is Base and e.anything is None


def test_subclass_overrides_default_of_inherited_field() -> None:
    assert Derived(1).b == "override"
    assert Base(1).b == "b"
    assert Derived(1, "x", 2).sym_init_args == {"a": 1, "b": "x", "c": 2.0}


def test_subclass_may_retype_inherited_field() -> None:
    assert Retyped(1).b is None
    with pytest.raises(am.FieldTypeError, match=r"expected Optional\[str\], got int \(3\)"):
        Retyped(1, b=3)


def test_class_var_and_private_annotations_are_not_fields() -> None:
    e = Everything()
    assert "counter" not in e.sym_init_args and "_hidden" not in e.sym_init_args
    assert e._hidden == 7 and Everything.counter == 0
    with pytest.raises(am.UnknownFieldError, match="no field 'counter'") as info:
        Everything(counter=1)
    assert info.value.path == "counter"
    with pytest.raises(am.UnknownFieldError, match="no field '_hidden'"):
        Everything(_hidden=1)


def test_default_mutable_values_are_not_shared_between_instances() -> None:
    a, b = Everything(), Everything()
    assert a.ints is not b.ints and a.table is not b.table
    a.ints.append(3)
    a.table["k"] = 1.0
    assert b.ints == [1, 2] and b.table == {}
    assert Everything().ints == [1, 2]


# --- construction ----------------------------------------------------------------


def test_positional_and_keyword_construction() -> None:
    assert Conv(8, 5, "gelu") == Conv(filters=8, kernel=5, activation="gelu")
    assert Conv(8, activation="gelu").sym_init_args == {
        "filters": 8,
        "kernel": 3,
        "activation": "gelu",
    }


def test_int_is_converted_for_float_field() -> None:
    p = Point(1, y=2)
    assert type(p.x) is float and type(p.y) is float
    assert p.x == 1.0
    assert type(Everything(ratio=1).ratio) is float


@pytest.mark.parametrize("field", ["i", "f", "opt", "ratio"])
def test_bool_is_rejected_for_numeric_fields(field: str) -> None:
    with pytest.raises(am.FieldTypeError, match=r"got bool \(True\)") as info:
        Everything(**{field: True})
    assert info.value.path == field
    assert isinstance(info.value, TypeError)


def test_bool_field_takes_bool_only() -> None:
    assert Everything(flag=True).flag is True
    with pytest.raises(am.FieldTypeError, match=r"expected bool, got int \(1\)"):
        Everything(flag=1)


def test_union_keeps_exact_type_before_converting() -> None:
    assert type(Everything(either=1).either) is int
    assert type(Everything(either=1.5).either) is float
    assert Everything(num="x").num == "x" and Everything(num=2).num == 2
    with pytest.raises(am.FieldTypeError, match=r"expected int \| str, got float \(1.5\)"):
        Everything(num=1.5)
    with pytest.raises(am.FieldTypeError, match=r"expected int \| str, got bool"):
        Everything(num=True)


def test_optional_accepts_none_and_the_type() -> None:
    assert Everything(opt=None).opt is None
    assert Everything(opt=3).opt == 3
    assert Everything(point=Point(1)).point == Point(1)
    with pytest.raises(am.FieldTypeError, match=r"expected Optional\[int\], got str \('3'\)"):
        Everything(opt="3")


def test_pep_604_unions_work_like_typing_ones() -> None:
    assert Everything(maybe=None).maybe is None
    assert type(Everything(maybe=2).maybe) is float
    with pytest.raises(am.FieldTypeError, match=r"expected Optional\[float\], got str") as info:
        Everything(maybe="2")
    assert info.value.path == "maybe"


def test_literal_accepts_listed_values_of_the_same_type_only() -> None:
    assert Everything(lit="b").lit == "b"
    assert Everything(lit=3).lit == 3
    for bad in ("c", 3.0, True):
        with pytest.raises(
            am.FieldValueError, match=re.escape("expected one of ['a', 'b', 3], got")
        ) as info:
            Everything(lit=bad)
        assert info.value.path == "lit"
        assert isinstance(info.value, ValueError)


def test_list_and_dict_fields_become_symbolic_containers() -> None:
    e = Everything(ints=[4, 5], table={"lr": 1})
    assert isinstance(e.ints, am.List) and isinstance(e.ints, list)
    assert isinstance(e.table, am.Dict) and isinstance(e.table, dict)
    assert type(e.table["lr"]) is float
    assert e.ints.sym_parent is e and e.ints.sym_path == "ints"


def test_list_field_checks_each_item() -> None:
    with pytest.raises(am.FieldTypeError, match=r"expected int, got str \('x'\)") as info:
        Everything(ints=[1, 2, "x"])
    assert info.value.path == "ints[2]"
    with pytest.raises(am.FieldTypeError, match=r"expected list\[int\], got tuple") as info:
        Everything(ints=(1, 2))
    assert info.value.path == "ints"


def test_dict_field_checks_keys_and_values() -> None:
    with pytest.raises(am.FieldTypeError, match=r"expected float, got str \('x'\)") as info:
        Everything(table={"a": 1.0, "b": "x"})
    assert info.value.path == "table.b"
    with pytest.raises(am.FieldTypeError, match=r"dict keys must be str, got int \(1\)") as info:
        Everything(table={1: 1.0})
    assert info.value.path == "table"


def test_tuple_fields() -> None:
    e = Everything(shape=(1, 2, 3), pair=(1, "x"))
    assert e.shape == (1, 2, 3) and type(e.shape) is tuple
    assert e.pair == (1, "x")
    with pytest.raises(am.FieldTypeError, match=r"expected int, got str \('x'\)") as info:
        Everything(shape=(1, "x"))
    assert info.value.path == "shape[1]"
    with pytest.raises(am.FieldValueError, match=r"expected a tuple of 2 items") as info:
        Everything(pair=(1,))
    assert info.value.path == "pair"
    with pytest.raises(am.FieldTypeError, match=r"expected str, got int \(2\)") as info:
        Everything(pair=(1, 2))
    assert info.value.path == "pair[1]"
    with pytest.raises(am.FieldTypeError, match=r"expected tuple\[int, \.\.\.\], got list"):
        Everything(shape=[1, 2])


def test_bounds_are_inclusive() -> None:
    assert Conv(1).filters == 1 and Conv(1024).filters == 1024
    assert Everything(ratio=0.0).ratio == 0.0 and Everything(ratio=1.0).ratio == 1.0
    for bad in (0, 1025, -5):
        with pytest.raises(
            am.FieldValueError, match=rf"Conv: value {bad} is out of bounds \[1, 1024\]"
        ) as info:
            Conv(bad)
        assert info.value.path == "filters"
    with pytest.raises(am.FieldValueError, match=r"value 1.5 is out of bounds \[0.0, 1.0\]"):
        Everything(ratio=1.5)


def test_bounds_reject_reversed_limits() -> None:
    with pytest.raises(
        am.SchemaError, match=r"`min_value` \(2\) must not exceed `max_value` \(1\)"
    ):
        am.Bounds(2, 1)


def test_callable_class_and_any_fields() -> None:
    e = Everything(fn=lambda v: v, kind=Derived, anything=[1, {"a": 2}])
    assert e.fn(3) == 3 and e.kind is Derived
    assert isinstance(e.anything, am.List) and isinstance(e.anything[1], am.Dict)
    assert e.anything[1].sym_path == "anything[1]"
    with pytest.raises(am.FieldTypeError, match=r"expected Callable, got int \(3\)") as info:
        Everything(fn=3)
    assert info.value.path == "fn"
    with pytest.raises(am.FieldTypeError, match=r"expected type\[Base\], got type") as info:
        Everything(kind=Point)
    assert info.value.path == "kind"
    with pytest.raises(am.FieldTypeError, match=r"expected type\[Base\], got Base"):
        Everything(kind=Base(1))


def test_nested_symbolic_field_checks_class() -> None:
    with pytest.raises(am.FieldTypeError, match=r"Net: expected Conv, got int \(5\)") as info:
        Net([Conv(1), Conv(2), 5])
    assert info.value.path == "layers[2]"
    with pytest.raises(am.FieldTypeError, match=r"expected Conv, got dict") as info:
        Net([{"filters": 1}])
    assert info.value.path == "layers[0]"
    with pytest.raises(am.FieldTypeError, match=r"expected Optional\[Point\], got Conv"):
        Everything(point=Conv(1))


def test_wrong_type_error_names_class_rule_value_and_path() -> None:
    with pytest.raises(
        am.FieldTypeError,
        match=re.escape("Conv: expected int in [1, 1024], got str ('x') at `filters`"),
    ) as info:
        Conv("x")
    assert info.value.path == "filters"
    assert isinstance(info.value, TypeError) and isinstance(info.value, am.AutomorphError)


def test_unknown_field_errors() -> None:
    with pytest.raises(
        am.UnknownFieldError,
        match=re.escape("Conv: no field 'bogus'; the fields are: filters, kernel, activation"),
    ) as info:
        Conv(1, bogus=2)
    assert info.value.path == "bogus"
    with pytest.raises(
        am.UnknownFieldError, match="Conv: takes 3 positional arguments but 4 were given"
    ):
        Conv(1, 2, "relu", 4)
    with pytest.raises(am.UnknownFieldError, match="got multiple values for 'filters'") as info:
        Conv(1, filters=2)
    assert info.value.path == "filters"


def test_missing_required_field() -> None:
    with pytest.raises(am.MissingFieldError, match="Conv: missing a value for 'filters'") as info:
        Conv(kernel=3)
    assert info.value.path == "filters"
    assert isinstance(info.value, TypeError)


# --- schema errors at class definition ---------------------------------------------


def test_invalid_default_is_a_schema_error() -> None:
    with pytest.raises(
        am.SchemaError, match=r"the default of `.*BadDefault\.x` is invalid: expected int, got str"
    ):

        class BadDefault(am.Object):
            x: int = "a"  # type: ignore[assignment]

    with pytest.raises(
        am.SchemaError, match=r"the default of `.*OutOfBounds\.x` is invalid: value 5"
    ):

        class OutOfBounds(am.Object):
            x: Annotated[int, am.Bounds(0, 1)] = 5

    with pytest.raises(am.SchemaError, match=r"the default of `.*BadLiteral\.x` is invalid"):

        class BadLiteral(am.Object):
            x: Literal["a"] = "b"  # type: ignore[assignment]


def test_invalid_overriding_default_in_subclass_is_a_schema_error() -> None:
    with pytest.raises(am.SchemaError, match=r"the default of `.*BadOverride\.b` is invalid"):

        class BadOverride(Base):
            b = 3


@pytest.mark.parametrize("name", ["rebind", "clone", "format", "query", "walk", "sym_path"])
def test_field_clashing_with_object_method_is_a_schema_error(name: str) -> None:
    with pytest.raises(
        am.SchemaError,
        match=rf"field `.*\.{name}` clashes with the method or property `{name}` of am\.Object",
    ):
        type("Clash", (am.Object,), {"__annotations__": {name: int}, "__module__": __name__})


def test_field_clashing_with_own_method_is_a_schema_error() -> None:
    with pytest.raises(am.SchemaError, match=r"field `.*Clash\.x` clashes with a method"):

        class Clash(am.Object):
            x: int

            def x(self) -> int:  # type: ignore[no-redef]
                return 1


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        ("set[int]", r"unsupported type annotation set\[int\] for .*Unsupported\.x"),
        ("dict[int, int]", r"dict keys must be str, not <class 'int'> in .*Unsupported\.x"),
        ("Annotated[str, am.Bounds(0, 1)]", r"Bounds apply to int and float fields, not str"),
    ],
)
def test_unsupported_annotation_is_a_schema_error(annotation: str, message: str) -> None:
    with pytest.raises(am.SchemaError, match=message):
        type(
            "Unsupported",
            (am.Object,),
            {"__annotations__": {"x": annotation}, "__module__": __name__},
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
