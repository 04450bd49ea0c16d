"""Tests of the hyper-values (`oneof`, `manyof`, `permutate`, `floatv`, `intv`,
`custom`): accepted wherever a value of their candidates' type is, rejected
with errors that name the path otherwise, and ill-defined ones refused."""

from __future__ import annotations

import math
from typing import Annotated, Any, Optional

import pytest

import automorph as am
from automorph.hyper import CustomHyper, FloatValue, IntValue, ManyOf, OneOf
from automorph.testing import BitString

# --- module-level symbolic classes ----------------------------------------------


class Conv(am.Object):
    filters: int
    kernel: Annotated[int, am.Bounds(1, 7)] = 3


class Pool(am.Object):
    size: int = 2


class Net(am.Object):
    layers: list[Conv]
    lr: Annotated[float, am.Bounds(0.0, 1.0)] = 0.1
    tags: list[str] = []
    head: Conv | Pool | None = None
    widths: Optional[list[int]] = None
    name: str = "net"
    notes: Any = None


class Grid(am.Object):
    shape: tuple[int, int] = (1, 1)


# --- accepted --------------------------------------------------------------------


def test_hyper_values_stand_where_their_candidates_fit() -> None:
    net = Net(
        layers=[Conv(am.oneof([16, 32]), kernel=am.intv(1, 7)), Conv(8)],
        lr=am.floatv(1e-4, 1.0, scale="log"),
        tags=am.manyof(2, ["a", "b", "c"]),
        head=am.oneof([Conv(4), Pool(), None]),
        widths=am.permutate([8, 16, 32]),
        name=am.oneof(["x", "y"]),
        notes=am.oneof([1, "anything", Conv(1)]),
    )
    assert isinstance(net.layers[0].filters, OneOf)
    assert isinstance(net.layers[0].kernel, IntValue)
    assert isinstance(net.lr, FloatValue)
    assert isinstance(net.tags, ManyOf)
    locations = [p.location for p in am.dna_spec(net).decision_points()]
    assert locations == [
        "layers[0].filters",
        "layers[0].kernel",
        "lr",
        "tags",
        "head",
        "widths",
        "name",
        "notes",
    ]


def test_an_int_hyper_value_fits_a_float_field_and_a_list_item() -> None:
    net = Net(layers=[am.oneof([Conv(8), Conv(16)])], lr=am.intv(0, 1))
    assert isinstance(net.lr, IntValue)
    assert isinstance(net.layers[0], OneOf)


def test_union_and_optional_fields_take_candidates_of_any_option() -> None:
    net = Net(
        layers=[], head=am.oneof([None, Pool(3), Conv(am.intv(1, 4))]), widths=am.manyof(2, [1, 2])
    )
    assert am.dna_spec(net).size == (1 + 1 + 4) * 2  # head, then the ordered pair of widths


def test_hyper_value_candidates_may_hold_hyper_values() -> None:
    net = Net(layers=[Conv(am.oneof([8, am.oneof([16, 32]), am.intv(1, 3)]))])
    assert am.dna_spec(net).size == 1 + 2 + 3
    assert Net(layers=[], lr=am.oneof([0.5, am.floatv(0.1, 0.2)])).lr.candidates[0] == 0.5


def test_rebind_to_a_hyper_value_is_validated_too() -> None:
    conv = Conv(8)
    conv.rebind(filters=am.oneof([8, 16]))
    assert isinstance(conv.filters, OneOf)
    with pytest.raises(
        am.FieldTypeError, match="candidate 0 does not fit: expected int, got str"
    ) as info:
        conv.rebind(filters=am.oneof(["wide"]))
    assert info.value.path == "filters"
    assert isinstance(conv.filters, OneOf)  # unchanged


# --- rejected ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "error", "path", "match"),
    [
        (lambda: Net(layers=[], lr=am.floatv(0.0, 2.0)), am.FieldValueError, "lr", "out of bounds"),
        (
            lambda: Net(layers=[], lr=am.oneof([0.5, 1.5])),
            am.FieldValueError,
            "lr",
            "candidate 1 does not fit",
        ),
        (
            lambda: Conv(am.oneof(["a"])),
            am.FieldTypeError,
            "filters",
            "candidate 0 does not fit: expected int",
        ),
        (
            lambda: Conv(am.floatv(0.1, 0.5)),
            am.FieldTypeError,
            "filters",
            "expected int, got float",
        ),
        (lambda: Conv(8, kernel=am.intv(1, 9)), am.FieldValueError, "kernel", "out of bounds"),
        (
            lambda: Conv(am.manyof(2, [1, 2])),
            am.FieldTypeError,
            "filters",
            "expected int, got a `manyof`, which makes a list",
        ),
        (
            lambda: Net(layers=[], name=am.permutate(["a", "b"])),
            am.FieldTypeError,
            "name",
            "got a `manyof`, which makes a list",
        ),
        (
            lambda: Grid(shape=am.manyof(2, [1, 2])),
            am.FieldTypeError,
            "shape",
            "got a `manyof`, which makes a list",
        ),
        (
            lambda: Net(layers=[], tags=am.manyof(2, ["a", 1])),
            am.FieldTypeError,
            "tags",
            "candidate 1 does not fit: expected str, got int",
        ),
        (
            lambda: Net(layers=[Conv(8), am.oneof([Conv(16), "x"])]),
            am.FieldTypeError,
            "layers[1]",
            "candidate 1 does not fit: expected Conv",
        ),
        (
            lambda: Net(layers=[], head=am.oneof([Pool(), 3])),
            am.FieldTypeError,
            "head",
            "candidate 1 does not fit",
        ),
        (
            lambda: Conv(am.oneof([8, am.oneof([16, "x"])])),
            am.FieldTypeError,
            "filters",
            "candidate 1 does not fit: expected int, got str",
        ),
    ],
)
def test_misfit_hyper_values_are_rejected_naming_the_path(
    build: Any, error: type[am.AutomorphError], path: str, match: str
) -> None:
    with pytest.raises(error, match=match) as info:
        build()
    assert info.value.path == path


# --- ill-defined -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: am.oneof([]), "`oneof` needs at least one candidate"),
        (lambda: am.manyof(2, []), "cannot pick 2 distinct candidates out of 0"),
        (lambda: am.manyof(3, [1, 2]), "cannot pick 3 distinct candidates out of 2"),
        (lambda: am.manyof(0, [1, 2]), "cannot pick 0"),
        (lambda: am.floatv(1.0, 0.0), r"`min_value` \(1.0\) must be less than `max_value` \(0.0\)"),
        (lambda: am.floatv(0.5, 0.5), "must be less than"),
        (lambda: am.floatv(0.0, 1.0, scale="log"), "a log-scale float needs `min_value` > 0"),
        (lambda: am.intv(2, 1), r"`min_value` \(2\) must not exceed `max_value` \(1\)"),
    ],
)
def test_ill_defined_hyper_values(build: Any, match: str) -> None:
    with pytest.raises(am.SearchSpaceError, match=match):
        build()


def test_hyper_value_fields_are_validated() -> None:
    with pytest.raises(am.FieldValueError, match=r"expected one of \['linear', 'log'\]") as info:
        am.floatv(0.0, 1.0, scale="exp")  # type: ignore[arg-type]
    assert info.value.path == "scale"
    with pytest.raises(am.FieldTypeError, match="expected CustomHooks, got int") as info:
        am.custom(3)  # type: ignore[arg-type]
    assert info.value.path == "hooks"


def test_repeated_picks_may_outnumber_the_candidates() -> None:
    value = am.manyof(3, [1, 2], distinct=False)
    assert am.dna_spec(value).size == 8


# --- what each constructor builds ----------------------------------------------------------


def test_permutate_is_every_ordering() -> None:
    value = am.permutate(["a", "b", "c"], name="order")
    assert isinstance(value, ManyOf)
    assert (value.num_choices, value.distinct, value.sorted, value.name) == (
        3,
        True,
        False,
        "order",
    )
    got = [list(n.tags) for n in am.iterate(Net(layers=[], tags=value))]
    assert got == [
        ["a", "b", "c"],
        ["a", "c", "b"],
        ["b", "a", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["c", "b", "a"],
    ]


def test_decision_points_of_each_hyper_value() -> None:
    spec = am.dna_spec(
        am.Dict(
            a=am.oneof([1, 2], name="a"),
            b=am.manyof(2, ["x", "y", "z"], distinct=False, sorted=True),
            c=am.floatv(0.1, 10.0, scale="log"),
            d=am.intv(-3, 3),
            e=am.custom(BitString(length=2), name="e"),
        )
    )
    a, b, c, d, e = spec.elements
    assert (a.name, a.num_choices, a.literal_values) == ("a", 1, ["1", "2"])  # type: ignore[attr-defined]
    assert (b.num_choices, b.distinct, b.sorted) == (2, False, True)  # type: ignore[attr-defined]
    assert (c.min_value, c.max_value, c.scale) == (0.1, 10.0, "log")  # type: ignore[attr-defined]
    assert (d.min_value, d.max_value) == (-3, 3)  # type: ignore[attr-defined]
    assert e.hooks == BitString(length=2)  # type: ignore[attr-defined]
    assert spec.size == math.inf


def test_hyper_values_are_symbolic_and_serialize() -> None:
    value = am.oneof([Conv(8), am.manyof(2, [Pool(1), Pool(2), Pool(3)], sorted=True)], name="op")
    back = am.from_json(am.to_json(value))
    assert back == value
    assert isinstance(back.candidates[1], ManyOf)
    assert am.dna_spec(back) == am.dna_spec(value)
    custom = am.custom(BitString(length=3), name="bits")
    assert isinstance(custom, CustomHyper)
    assert am.from_json_str(am.to_json_str(custom)) == custom
