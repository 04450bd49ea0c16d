"""Tests of compiling a search space: `am.dna_spec` (ids and locations),
`am.materialize` (an independent, validated, concrete program), `am.encode`
(its inverse), `am.iterate`, `am.random_sample`, and the JSON round trip of
the space itself."""

from __future__ import annotations

import itertools
import json
import math
from typing import Annotated, Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import automorph as am
from automorph.hyper import CustomHyper, HyperValue, Template
from automorph.testing import BitString

# --- module-level symbolic classes ------------------------------------------------


class Conv(am.Object):
    filters: int
    kernel: Annotated[int, am.Bounds(1, 7)] = 3

    def _on_bound(self) -> None:
        # Derived state. In the space itself `kernel` may be a hyper-value.
        self._area = self.kernel * self.kernel  # never sees a hyper-value


class Pool(am.Object):
    size: int = 2


class Net(am.Object):
    layers: list[Conv | Pool]
    lr: Annotated[float, am.Bounds(0.0, 1.0)] = 0.1
    tags: list[str] = []
    shape: tuple[int, int] = (1, 1)


class Typed(am.Object):
    lr: float = 0.1
    rates: dict[str, Annotated[float, am.Bounds(0.0, 1.0)]] = {}
    nested: list[list[int]] = []


class Plain:
    """A class automorph did not define."""

    def __init__(self, width: int, act: str = "relu") -> None:
        self.width = width
        self.act = act
        self.label = f"{act}{width}"


SymPlain = am.symbolize(Plain, symbolic_eq=True)  # compared with == below


@am.symbolize
def scale(x: float, factor: float = 2.0) -> float:
    return x * factor


class BitsAsInt(CustomHyper):
    """Decides a tuple of bits; the program sees the number they spell."""

    def materialize(self, value: Any) -> Any:
        return int("".join(str(b) for b in value), 2)

    def encode(self, value: Any) -> Any:
        length = self.hooks.length  # type: ignore[attr-defined]
        if type(value) is not int or not 0 <= value < 2**length:
            raise ValueError(f"expected an int in [0, {2**length - 1}], got {value!r}")
        return tuple(int(b) for b in format(value, f"0{length}b"))


# --- spaces -----------------------------------------------------------------------------


def net_space() -> Net:
    return Net(
        layers=[
            Conv(am.oneof([16, 32, 64]), kernel=am.intv(1, 7)),
            am.oneof([Pool(am.intv(2, 3)), Conv(8)]),
            Conv(4),
        ],
        lr=am.floatv(1e-4, 1.0, scale="log"),
        tags=am.manyof(2, ["a", "b", "c"], sorted=True),
        shape=(am.oneof([1, 3]), 5),
    )


def nested_space() -> am.Dict:
    return am.Dict(
        block=am.oneof(
            [
                am.Dict(kind="conv", width=am.oneof([am.intv(1, 4), 8])),
                am.Dict(
                    kind="mlp",
                    depth=am.oneof([1, am.Dict(n=am.intv(2, 3), act=am.oneof(["relu", "gelu"]))]),
                ),
            ]
        )
    )


def picks_space() -> am.List:
    return am.List(
        [
            am.manyof(3, [Conv(am.intv(1, 2)), Pool(), "skip"], distinct=False),
            am.manyof(2, [Conv(am.intv(1, 2)), Conv(am.intv(3, 4)), Pool()]),
            am.permutate([1, 2, 3]),
        ]
    )


def typed_space() -> Typed:
    return Typed(
        lr=am.intv(0, 3),  # an int decision in a float field
        rates={"a": am.floatv(0.0, 1.0), "b": 0.5},
        nested=[[am.oneof([1, 2]), 0], am.manyof(2, [3, 4, 5])],
    )


def symbolized_space() -> am.Dict:
    return am.Dict(
        p=SymPlain(am.intv(1, 3), act=am.oneof(["relu", "tanh"])),
        f=scale(am.floatv(0.0, 1.0), factor=am.oneof([1.0, 3.0])),
    )


def custom_space() -> am.Dict:
    return am.Dict(bits=am.custom(BitString(length=4)), n=BitsAsInt(hooks=BitString(length=3)))


SPACES = {
    "net": net_space,
    "nested": nested_space,
    "picks": picks_space,
    "symbolized": symbolized_space,
    "typed": typed_space,
    "custom": custom_space,
}


def no_hyper_values(value: Any) -> bool:
    if isinstance(value, HyperValue):
        return False
    if isinstance(value, am.Symbolic):
        return all(no_hyper_values(v) for _, v in value.sym_items())
    if isinstance(value, (tuple, list)):
        return all(no_hyper_values(v) for v in value)
    return True


# --- dna_spec -----------------------------------------------------------------------------


def test_dna_spec_locations_and_ids() -> None:
    spec = am.dna_spec(net_space())
    assert [p.location for p in spec.decision_points()] == [
        "layers[0].filters",
        "layers[0].kernel",
        "layers[1]",
        "size",  # relative to its candidate, `Pool(...)`
        "lr",
        "tags",
        "shape[0]",
    ]
    dna = spec.random_dna(
        np.random.default_rng(0), fill=lambda i, p: 0 if i == "layers[1]" else am.MISSING
    )
    assert list(dna) == [
        "layers[0].filters",
        "layers[0].kernel",
        "layers[1]",
        "layers[1][=0].size",
        "lr",
        "tags[0]",
        "tags[1]",
        "shape[0]",
    ]


def test_dna_spec_of_nested_spaces() -> None:
    spec = am.dna_spec(nested_space())
    assert spec.size == (4 + 1) + (1 + 2 * 2)
    ids = {key for dna in spec.iter_dna() for key in dna}
    assert ids == {
        "block",
        "block[=0].width",
        "block[=0].width[=0]",
        "block[=1].depth",
        "block[=1].depth[=1].n",
        "block[=1].depth[=1].act",
    }


def test_dna_spec_names() -> None:
    space = am.Dict(
        width=am.intv(8, 64, name="width"),
        act=am.oneof(
            ["relu", am.Dict(kind="leaky", slope=am.floatv(0.01, 0.3, name="slope"))], name="act"
        ),
    )
    spec = am.dna_spec(space)
    assert spec.point("slope").location == "slope"
    dna = spec.dna_from_dict({"width": 16, "act": 1, "slope": 0.1})
    assert dna == am.DNA({"width": 16, "act": 1, "act[=1].slope": 0.1})
    assert am.materialize(space, dna) == {"width": 16, "act": {"kind": "leaky", "slope": 0.1}}
    with pytest.raises(am.SearchSpaceError, match="the decision name 'width' is used twice"):
        am.dna_spec(
            am.Dict(a=am.intv(0, 1, name="width"), b=am.oneof([1, am.intv(2, 3, name="width")]))
        )


def test_spec_size_matches_the_programs_iterated() -> None:
    for build in [nested_space, picks_space]:
        space = build()
        spec = am.dna_spec(space)
        programs = list(am.iterate(space))
        assert len(programs) == spec.size
        assert len({am.to_json_str(p) for p in programs}) == spec.size  # all different


# --- materialize -----------------------------------------------------------------------------


def test_materialize_gives_a_concrete_validated_program() -> None:
    space = net_space()
    dna = am.DNA(
        {
            "layers[0].filters": 2,
            "layers[0].kernel": 5,
            "layers[1]": 0,
            "layers[1][=0].size": 3,
            "lr": 0.01,
            "tags[0]": 0,
            "tags[1]": 2,
            "shape[0]": 1,
        }
    )
    net = am.materialize(space, dna)
    assert net == Net(
        layers=[Conv(64, kernel=5), Pool(3), Conv(4)], lr=0.01, tags=["a", "c"], shape=(3, 5)
    )
    assert no_hyper_values(net)
    assert isinstance(net.tags, am.List)
    assert net.tags.sym_parent is net
    with pytest.raises(am.FieldTypeError, match="expected str, got int"):
        net.tags.append(3)  # the list keeps the field's item type


def test_manyof_materializes_into_a_typed_list_field() -> None:
    space = Net(layers=am.manyof(3, [Conv(am.intv(1, 2)), Pool()], distinct=False))
    net = am.materialize(
        space, am.DNA({"layers[0]": 1, "layers[1]": 0, "layers[1][=0].filters": 2, "layers[2]": 1})
    )
    assert net.layers == [Pool(), Conv(2), Pool()]
    assert isinstance(net.layers, am.List)
    assert str(net.layers[1].sym_path) == "layers[1]"
    with pytest.raises(am.FieldTypeError, match="layers"):
        net.layers.append("conv")


def test_materialize_keeps_the_types_of_containers_and_fields() -> None:
    space = typed_space()
    dna = am.DNA(
        {"lr": 2, "rates.a": 0.25, "nested[0][0]": 1, "nested[1][0]": 2, "nested[1][1]": 0}
    )
    program = am.materialize(space, dna)
    assert program == Typed(lr=2.0, rates={"a": 0.25, "b": 0.5}, nested=[[2, 0], [5, 3]])
    assert type(program.lr) is float
    assert am.encode(space, program) == dna
    with pytest.raises(am.FieldValueError, match="out of bounds") as info:
        program.rates["c"] = 3.0
    assert info.value.path == "rates.c"
    with pytest.raises(am.FieldTypeError, match="expected int, got str") as info:
        program.nested[1].append("x")
    assert info.value.path == "nested[1][2]"


def test_materialize_returns_an_independent_tree() -> None:
    space = net_space()
    before = am.to_json_str(space)
    spec = am.dna_spec(space)
    dna = spec.random_dna(np.random.default_rng(1))
    first = am.materialize(space, dna)
    second = am.materialize(space, dna)
    assert first == second
    assert first is not second
    assert first.layers[2] is not second.layers[2]  # nodes without decisions are copied too
    assert first.layers[2] is not space.layers[2]
    assert first.sym_parent is None
    assert first.layers[2].sym_parent is first.layers
    first.rebind({"layers[2].filters": 99, "lr": 0.5})
    first.tags.append("z")
    assert second.layers[2].filters == 4
    assert am.to_json_str(space) == before
    assert am.dna_spec(space) == spec


def test_materialize_runs_on_bound_of_the_new_objects() -> None:
    space = net_space()
    dna = am.dna_spec(space).dna_from_dict(
        {
            "layers[0].filters": 0,
            "layers[0].kernel": 5,
            "layers[1]": 1,
            "lr": 0.1,
            "tags[0]": 0,
            "tags[1]": 1,
            "shape[0]": 0,
        }
    )
    net = am.materialize(space, dna)
    assert space.layers[0].sym_abstract  # a search space: `_on_bound` has not run
    assert not hasattr(space.layers[0], "_area")
    assert net.layers[0]._area == 25  # type: ignore[union-attr]
    assert net.layers[1]._area == 9  # type: ignore[union-attr]
    net.layers[0].rebind(kernel=7)
    assert net.layers[0]._area == 49  # type: ignore[union-attr]


def test_materialize_a_symbolized_class_and_a_functor() -> None:
    space = symbolized_space()
    dna = am.DNA({"p.width": 2, "p.act": 1, "f.x": 0.5, "f.factor": 1})
    program = am.materialize(space, dna)
    plain = program["p"]
    assert isinstance(plain, Plain)
    assert (plain.width, plain.act, plain.label) == (2, "tanh", "tanh2")  # its own __init__ ran
    assert isinstance(program["f"], am.Functor)
    assert program["f"]() == 1.5
    plain.rebind(width=3)
    assert plain.label == "tanh3"
    assert isinstance(space["p"].sym_init_args["width"], HyperValue)


def test_materialize_a_custom_hyper_subclass() -> None:
    program = am.materialize(custom_space(), am.DNA({"bits": (0, 1, 1, 0), "n": (1, 0, 1)}))
    assert program == {"bits": (0, 1, 1, 0), "n": 5}


def test_materialize_hyper_values_in_tuples() -> None:
    space = am.Dict(kernel=(am.oneof([3, 5]), (am.intv(1, 2), "same")))
    programs = list(am.iterate(space))
    assert [p["kernel"] for p in programs] == [
        (3, (1, "same")),
        (3, (2, "same")),
        (5, (1, "same")),
        (5, (2, "same")),
    ]
    assert [am.encode(space, p) for p in programs] == list(am.dna_spec(space).iter_dna())
    with pytest.raises(am.SearchSpaceError, match="expected 'same'") as info:
        am.encode(space, {"kernel": (3, (1, "valid"))})
    assert info.value.path == "kernel[1][1]"
    grid = Net(layers=[], shape=(am.oneof([1, 2]), am.intv(3, 4)))
    assert [n.shape for n in am.iterate(grid)] == [(1, 3), (1, 4), (2, 3), (2, 4)]


def test_one_hyper_value_object_in_two_tuples_is_refused() -> None:
    shared = am.oneof([1, 2])
    with pytest.raises(
        am.SearchSpaceError, match="the same hyper-value object is at `a\\[0\\]`"
    ) as info:
        am.dna_spec(am.Dict(a=(shared,), b=(shared,)))
    assert info.value.path == "b[0]"


@pytest.mark.parametrize(
    ("values", "path", "match"),
    [
        ({"layers[0].kernel": 9}, "layers[0].kernel", r"expected an int in \[1, 7\], got 9"),
        ({"layers[1]": 0}, "layers[1][=0].size", "missing the decision"),
        ({"layers[1]": 2}, "layers[1]", r"index in \[0, 1\], got 2"),
        ({"tags[1]": 0}, "tags[1]", "repeats an earlier pick"),
        ({"extra": 1}, "extra", "unknown decision 'extra'"),
    ],
)
def test_materialize_invalid_dna_raises(values: dict[str, Any], path: str, match: str) -> None:
    base = {
        "layers[0].filters": 0,
        "layers[0].kernel": 1,
        "layers[1]": 1,
        "lr": 0.1,
        "tags[0]": 0,
        "tags[1]": 1,
        "shape[0]": 0,
    }
    with pytest.raises(am.InvalidDNAError, match=match) as info:
        am.materialize(net_space(), am.DNA({**base, **values}))
    assert info.value.path == path


def test_materialize_dna_of_another_space_raises() -> None:
    foreign = am.dna_spec(nested_space()).random_dna(np.random.default_rng(0))
    with pytest.raises(am.InvalidDNAError, match=r"missing the decision 'layers\[0\]\.filters'"):
        am.materialize(net_space(), foreign)


# --- encode ---------------------------------------------------------------------------------


@settings(
    max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.sampled_from(sorted(SPACES)), st.integers(0, 2**32 - 1))
def test_encode_is_the_inverse_of_materialize(name: str, seed: int) -> None:
    space = SPACES[name]()
    template = Template(space)
    dna = template.spec.random_dna(np.random.default_rng(seed))
    program = template.materialize(dna)
    assert no_hyper_values(program)
    assert am.encode(space, program) == dna
    assert am.materialize(space, template.encode(program)) == program


def test_encode_a_program_built_by_hand() -> None:
    program = Net(
        layers=[Conv(32, kernel=2), Conv(8), Conv(4)], lr=0.5, tags=["b", "c"], shape=(1, 5)
    )
    assert am.encode(net_space(), program) == am.DNA(
        {
            "layers[0].filters": 1,
            "layers[0].kernel": 2,
            "layers[1]": 1,
            "lr": 0.5,
            "tags[0]": 1,
            "tags[1]": 2,
            "shape[0]": 0,
        }
    )
    assert am.encode(custom_space(), {"bits": (1, 1, 1, 1), "n": 6}) == am.DNA(
        {"bits": (1, 1, 1, 1), "n": (1, 1, 0)}
    )


def _net(**changes: Any) -> Net:
    fields: dict[str, Any] = {
        "layers": [Conv(32, kernel=2), Conv(8), Conv(4)],
        "lr": 0.5,
        "tags": ["b", "c"],
        "shape": (1, 5),
    }
    return Net(**{**fields, **changes})


@pytest.mark.parametrize(
    ("value", "path", "match"),
    [
        (
            lambda: _net(layers=[Conv(32, kernel=2), Conv(8), Conv(5)]),
            "layers[2].filters",
            "expected 4 \\(fixed in the space\\), got 5",
        ),
        (
            lambda: _net(layers=[Conv(24), Conv(8), Conv(4)]),
            "layers[0].filters",
            "24 matches none of the 3 candidates",
        ),
        (
            lambda: _net(layers=[Conv(32), Pool(5), Conv(4)]),
            "layers[1]",
            "matches none of the 2 candidates",
        ),
        (
            lambda: _net(layers=[Conv(32), Conv(8)]),
            "layers",
            r"expected keys \[0, 1, 2\], got \[0, 1\]",
        ),
        (lambda: _net(lr=1e-5), "lr", r"expected a float in \[0.0001, 1.0\], got 1e-05"),
        (lambda: _net(tags=["c", "b"]), "tags", "must be in candidate order"),
        (lambda: _net(tags=["b", "b"]), "tags[1]", "'b' matches none"),
        (lambda: _net(tags=["b"]), "tags", "expected a list of 2 picks, got \\['b'\\]"),
        (lambda: _net(shape=(2, 5)), "shape[0]", "2 matches none of the 2 candidates"),
        (lambda: Pool(), "", "expected Net, got Pool"),
    ],
)
def test_encode_a_value_outside_the_space_names_the_path(value: Any, path: str, match: str) -> None:
    with pytest.raises(am.SearchSpaceError, match=match) as info:
        am.encode(net_space(), value())
    assert info.value.path == path


def test_encode_custom_values_outside_the_space() -> None:
    with pytest.raises(
        am.SearchSpaceError, match="invalid custom value: expected a tuple of 4 bits"
    ) as info:
        am.encode(custom_space(), {"bits": (1, 1), "n": 3})
    assert info.value.path == "bits"
    with pytest.raises(am.SearchSpaceError, match=r"expected an int in \[0, 7\], got 9") as info:
        am.encode(custom_space(), {"bits": (1, 1, 0, 0), "n": 9})
    assert info.value.path == "n"


def test_encode_symbolized_values() -> None:
    space = symbolized_space()
    good = am.Dict(p=SymPlain(3, act="relu"), f=scale(0.25, factor=3.0))
    assert am.encode(space, good) == am.DNA({"p.width": 3, "p.act": 0, "f.x": 0.25, "f.factor": 1})
    with pytest.raises(am.SearchSpaceError, match=r"expected an int in \[1, 3\], got 5") as info:
        am.encode(space, am.Dict(p=SymPlain(5, act="relu"), f=scale(0.25, factor=3.0)))
    assert info.value.path == "p.width"


# --- iterate and random_sample -----------------------------------------------------------------


def test_iterate_in_order_with_a_limit() -> None:
    space = am.Dict(a=am.oneof([1, 2]), b=am.oneof(["x", am.Dict(c=am.intv(0, 1))]))
    everything = list(am.iterate(space))
    assert everything == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": {"c": 0}},
        {"a": 1, "b": {"c": 1}},
        {"a": 2, "b": "x"},
        {"a": 2, "b": {"c": 0}},
        {"a": 2, "b": {"c": 1}},
    ]
    assert list(am.iterate(space, num_examples=4)) == everything[:4]
    assert list(am.iterate(space, num_examples=0)) == []
    assert list(am.iterate(space, num_examples=100)) == everything
    spec = am.dna_spec(space)
    assert everything == [am.materialize(space, d) for d in spec.iter_dna()]


def test_iterate_floats_on_a_grid() -> None:
    space = am.Dict(x=am.floatv(0.0, 1.0), lr=am.floatv(1e-3, 1e-1, scale="log"))
    got = list(am.iterate(space, float_points=3))
    assert [p["x"] for p in got[::3]] == [0.0, 0.5, 1.0]
    assert [p["lr"] for p in got[:3]] == pytest.approx([1e-3, 1e-2, 1e-1])
    with pytest.raises(am.SearchSpaceError, match="float_points") as info:
        next(am.iterate(space))
    assert info.value.path == "x"


def test_iterate_a_huge_space_with_a_limit() -> None:
    space = am.Dict(x=am.manyof(9, list(range(10)), distinct=False))  # 10**9 programs
    assert am.dna_spec(space).size == 10**9
    got = list(am.iterate(space, num_examples=2))
    assert got == [{"x": [0] * 9}, {"x": [0] * 8 + [1]}]


def test_random_sample_is_reproducible_per_seed() -> None:
    space = net_space()
    first = list(am.random_sample(space, 10, seed=3))
    again = list(am.random_sample(space, 10, seed=3))
    other = list(am.random_sample(space, 10, seed=4))
    assert first == again
    assert first != other
    from_generator = list(am.random_sample(space, 10, seed=np.random.default_rng(3)))
    assert from_generator == first
    for program in first:
        am.encode(space, program)  # every sample is a program of the space
    assert len(list(itertools.islice(am.random_sample(space), 25))) == 25  # endless by default
    assert list(am.random_sample(space, 0, seed=1)) == []


def test_random_sample_reaches_every_candidate() -> None:
    samples = list(am.random_sample(nested_space(), 300, seed=0))
    kinds = {
        (s["block"]["kind"], str(s["block"].get("width", s["block"].get("depth")))) for s in samples
    }
    assert len(kinds) == am.dna_spec(nested_space()).size


# --- the space as JSON -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPACES))
def test_space_json_round_trip_keeps_its_spec(name: str) -> None:
    space = SPACES[name]()
    back = am.from_json(json.loads(json.dumps(am.to_json(space))))
    spec = am.dna_spec(space)
    assert am.dna_spec(back) == spec
    for seed in range(5):
        dna = spec.random_dna(np.random.default_rng(seed))
        assert am.materialize(back, dna) == am.materialize(space, dna)


def test_template_is_reusable() -> None:
    space = net_space()
    template = Template(space)
    assert template.spec == am.dna_spec(space)
    assert template.spec.size == math.inf
    generator = np.random.default_rng(0)
    for _ in range(20):
        dna = template.spec.random_dna(generator)
        assert template.encode(template.materialize(dna)) == dna
