"""Derived values: `same_as`, `ValueReference` (PyGlove's name) and
`DerivedValue`, values that follow other decisions and make none (issue 20)."""

from __future__ import annotations

from typing import Any

import pytest

import automorph as am
from automorph.hyper import DerivedValue, ValueReference, same_as


class Layer(am.Object, type_name="tests.hyper.derived.Layer"):
    units: int
    act: str = "relu"


class Sum(DerivedValue, type_name="tests.hyper.derived.Sum"):
    def derive(self, *values: Any) -> Any:
        return sum(values)


# --- derived values ---------------------------------------------------------------------


def test_value_reference_follows_another_decision_and_makes_none() -> None:
    space = am.Dict(a=am.oneof([1, 2]), b=am.hyper.ValueReference(["a"]))
    assert am.dna_spec(space).size == 2
    assert list(am.iterate(space)) == [{"a": 1, "b": 1}, {"a": 2, "b": 2}]
    assert am.materialize(space, am.DNA({"a": 1})) == {"a": 2, "b": 2}
    assert am.encode(space, am.Dict(a=2, b=2)) == am.DNA({"a": 1})
    with pytest.raises(am.SearchSpaceError, match="differs from what it derives"):
        am.encode(space, am.Dict(a=2, b=1))


def test_references_resolve_from_the_nearest_ancestor_and_into_typed_fields() -> None:
    space = am.Dict(
        width=am.oneof([16, 32]),
        encoder=Layer(units=same_as("width")),
        decoder=am.Dict(inner=Layer(units=am.intv(1, 2)), units=same_as("inner.units")),
    )
    programs = list(am.iterate(space))
    assert [(p["encoder"].units, p["decoder"]["units"]) for p in programs] == [
        (16, 1),
        (16, 2),
        (32, 1),
        (32, 2),
    ]
    assert isinstance(space["encoder"].units, ValueReference)  # the space is unchanged


def test_a_reference_to_a_symbolic_value_gets_a_copy() -> None:
    space = am.Dict(a=am.oneof([Layer(units=1), Layer(units=2)]), b=same_as("a"))
    program = am.materialize(space, am.DNA({"a": 1}))
    assert program["b"] == Layer(units=2) and program["b"] is not program["a"]


def test_derived_values_combine_several_decisions() -> None:
    space = am.Dict(a=am.oneof([1, 2]), b=am.oneof([10, 20]), total=Sum(["a", "b"]))
    assert [p["total"] for p in am.iterate(space)] == [11, 21, 12, 22]
    assert am.from_json(am.to_json(space)) == space  # a derived value is symbolic


def test_derived_value_errors() -> None:
    with pytest.raises(am.SearchSpaceError, match="follows exactly one path, got 2"):
        ValueReference(["a", "b"])
    with pytest.raises(am.SearchSpaceError, match="the reference 'zz' is found from no node"):
        am.materialize(am.Dict(a=am.oneof([1, 2]), b=same_as("zz")), am.DNA({"a": 0}))
    chained = am.Dict(a=am.oneof([1, 2]), b=same_as("a"), c=same_as("b"))
    with pytest.raises(am.SearchSpaceError, match="leads to another derived value"):
        am.materialize(chained, am.DNA({"a": 0}))
    with pytest.raises(am.FieldTypeError):
        am.materialize(am.Dict(a=am.oneof(["x"]), l=Layer(units=same_as("a"))), {"a": 0})
    with pytest.raises(NotImplementedError, match="must implement `derive`"):
        am.materialize(am.Dict(a=am.oneof([1]), d=DerivedValue(["a"])), {"a": 0})
