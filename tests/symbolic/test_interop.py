"""Symbolic values meeting the rest of Python: numpy, local classes, built-in errors."""

from __future__ import annotations

import math
import os
import stat
from dataclasses import KW_ONLY
from pathlib import Path
from typing import Annotated

import numpy as np
import pytest

import automorph as am
from automorph.symbolic import registered_names


class Hyper(am.Object):
    units: int
    rate: Annotated[float, am.Bounds(0.0, 1.0)] = 0.5
    name: str = "layer"


class Holder(am.Object):
    data: object = None


def test_numpy_scalars_are_stored_as_builtin_numbers() -> None:
    h = Hyper(np.int64(8), rate=np.float32(0.25), name=np.str_("dense"))
    assert (type(h.units), type(h.rate), type(h.name)) == (int, float, str)
    assert am.from_json_str(h.to_json_str()) == h
    h.rate = np.float64(0.75)
    assert type(h.rate) is float


def test_numpy_values_of_the_wrong_kind_are_rejected() -> None:
    with pytest.raises(am.FieldTypeError, match=r"expected int, got float64") as info:
        Hyper(np.float64(8.0))
    assert info.value.path == "units"
    with pytest.raises(am.FieldTypeError, match=r"expected int, got bool \(np.True_\)"):
        Hyper(np.bool_(True))


def test_nan_is_out_of_any_bounds() -> None:
    with pytest.raises(am.FieldValueError, match=r"value nan is out of bounds \[0.0, 1.0\]"):
        Hyper(1, rate=math.nan)


def test_sym_eq_and_sym_hash_compare_arrays_by_value() -> None:
    a = Holder(np.arange(4.0))
    b = a.clone(deep=True)
    assert b.data is not a.data
    assert am.sym_eq(a, b)
    assert am.sym_hash(a) == am.sym_hash(b)
    b.data[0] = 9.0
    assert not am.sym_eq(a, b)
    assert not am.sym_eq(Holder(np.zeros(2)), Holder(np.zeros(3)))


def test_missing_paths_are_also_key_and_index_errors() -> None:
    xs = am.List([1, 2])
    with pytest.raises(IndexError, match=r"no index 5 in a list of 2 items"):
        xs[5] = 3
    with pytest.raises(KeyError, match=r"no field 'width'") as info:
        Hyper(1).rebind({"width.x": 2})
    assert str(info.value).startswith("Hyper has no field")  # not quoted like KeyError


def test_classes_local_to_a_function_resolve_their_annotations() -> None:
    class Leaf(am.Object):
        value: int

    class Tree(am.Object):
        leaves: list[Leaf]
        best: Leaf | None = None

    tree = Tree([Leaf(1), Leaf(2)])
    assert tree.leaves[1].sym_path == "leaves[1]"
    with pytest.raises(am.FieldTypeError, match=r"expected Optional\[Leaf\]"):
        tree.best = 3

    @am.symbolize
    def grow(tree: Tree, extra: Leaf) -> int:
        return len(tree.leaves) + extra.value

    assert grow(tree, Leaf(10))() == 12


def test_a_class_with_invalid_fields_is_not_registered() -> None:
    with pytest.raises(am.SchemaError, match=r"the default of `.*Broken.size` is invalid"):

        class Broken(am.Object):
            size: int = "big"  # type: ignore[assignment]

    assert not any(name.endswith(".Broken") for name in registered_names())


def test_lambdas_need_a_type_name() -> None:
    with pytest.raises(am.SchemaError, match=r"needs a `type_name` for a lambda"):
        am.symbolize(lambda x: x)
    double = am.symbolize(lambda x: 2 * x, type_name="tests.double")
    assert double(x=4)() == 8


def test_a_function_parameter_named_self_is_a_field() -> None:
    def method_like(self: int, other: int) -> int:
        return self - other

    f = am.symbolize(method_like, type_name="tests.method_like")
    assert f(5, 3)() == 2
    assert f(self=5, other=3).sym_init_args == {"self": 5, "other": 3}


def test_save_keeps_the_permissions_of_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "h.json"
    target.write_text("{}")
    os.chmod(target, 0o640)
    am.save(Hyper(3), target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert am.load(target) == Hyper(3)
    fresh = tmp_path / "fresh.json"
    am.save(Hyper(4), fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) & 0o044  # readable as files usually are


def test_overlapping_updates_are_found_however_they_are_spelled() -> None:
    owner = Holder(am.List([Hyper(1), Hyper(2), Hyper(3)]))
    with pytest.raises(
        am.KeyPathError, match=r"conflicting updates: `data\[-1\]` and `data\[2\].units`"
    ):
        owner.rebind({"data[-1]": Hyper(7), "data[2].units": 9})
    with pytest.raises(am.KeyPathError, match=r"conflicting updates"):
        owner.rebind({"data[-1].units": 7, "data[2]": Hyper(9)})
    assert owner.data[2] == Hyper(3)


def test_classes_built_in_new_are_refused() -> None:
    from fractions import Fraction

    with pytest.raises(am.SchemaError, match=r"Fraction symbolic: it is constructed in `__new__`"):
        am.symbolize(Fraction)


class Net(am.Object):
    layers: list[Hyper]
    name: str = "net"


class Either(am.Object):
    value: list[int] | list[str]
    nodes: list[list[Hyper]] | list[Hyper] = []


def test_a_failed_construction_leaves_the_given_nodes_unadopted() -> None:
    layer = Hyper(1)
    with pytest.raises(am.FieldTypeError, match=r"expected str, got int"):
        Net([layer], name=3)  # type: ignore[arg-type]
    assert layer.sym_parent is None
    net = Net([layer])
    assert net.layers[0] is layer  # adopted, not copied


def test_a_failed_rebind_leaves_the_given_nodes_unadopted() -> None:
    net = Net([Hyper(1)])
    layer = Hyper(2)
    with pytest.raises(am.FieldTypeError):
        net.rebind({"layers": [layer], "name": 3})
    assert layer.sym_parent is None
    assert net.layers == [Hyper(1)]


def test_union_tries_every_option_and_undoes_failed_attempts() -> None:
    assert Either(["a", "b"]).value == ["a", "b"]  # list[int] fits the shape, not the items
    leaf = Hyper(5)
    either = Either([1], nodes=[leaf])  # list[list[Hyper]] fails on `leaf`, list[Hyper] fits
    assert either.nodes[0] is leaf
    with pytest.raises(am.FieldTypeError, match=r"expected list\[int\] \| list\[str\]"):
        Either([1.5])


class Options(am.Object):
    _: KW_ONLY
    verbose: bool = False


class Command(Options):
    target: str
    retries: int = 0


def test_fields_after_kw_only_are_keyword_only() -> None:
    command = Command("build", 2, verbose=True)
    assert (command.target, command.retries, command.verbose) == ("build", 2, True)
    assert Command.sym_schema().names == ("verbose", "target", "retries")
    with pytest.raises(am.UnknownFieldError, match=r"takes 2 positional arguments but 3"):
        Command("build", 2, True)


class Range(am.Object):
    low: int
    high: int

    def _on_bound(self) -> None:
        if self.low > self.high:
            raise am.FieldValueError(f"`low` ({self.low}) must not exceed `high` ({self.high})")
        self._span = self.high - self.low


def test_a_change_refused_by_on_bound_is_rolled_back() -> None:
    owner = am.Dict(r=Range(1, 5))
    with pytest.raises(am.FieldValueError, match=r"`low` \(9\) must not exceed `high` \(5\)"):
        owner.rebind({"r.low": 9})
    assert (owner["r"].low, owner["r"]._span) == (1, 4)
    with pytest.raises(am.FieldValueError):
        owner["r"].low = 7
    assert owner["r"].low == 1
    owner.rebind({"r.low": 2})
    assert owner["r"]._span == 3
