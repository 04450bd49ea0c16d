"""Tests of `am.Object`: field declaration, construction, schema errors."""

# am.Object copies mutable field defaults per instance (RUF012), and the typing spellings
# `Optional`/`Union` are tested on purpose next to `X | None` (UP007, UP045).

from __future__ import annotations

import re
from typing import Annotated, Literal

import pytest

import automorph as am
from tests.symbolic._object_classes import (
    Base,
    Conv,
    Derived,
    Everything,
    Net,
    Point,
    Retyped,
)

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
