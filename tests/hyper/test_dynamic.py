"""Tests of define-by-run spaces (`am.define_by_run`): hyper-values called
while ordinary code runs are collected on a first pass and decided from DNA
on later ones."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph.hyper import DynamicSpace, OneOf, Template
from automorph.testing import BitString

# --- module-level symbolic classes and builders --------------------------------------


class Layer(am.Object):
    units: int
    act: str = "relu"


SEEN: list[Any] = []


def build_mlp() -> list[Layer]:
    """A model builder that knows nothing of search spaces but their calls."""
    depth = am.intv(1, 3, name="depth")
    width = am.oneof([16, 32, 64])
    SEEN.append((depth, width))
    act = am.oneof(["relu", "gelu"], name="act")
    layers = [Layer(width, act=act) for _ in range(depth)]
    rate = am.floatv(0.0, 0.5, name="dropout")
    order = am.manyof(2, ["bn", "drop", "res"], name="order")
    return [*layers, Layer(int(rate * 100)), *[Layer(len(o)) for o in order]]


def build_branching() -> tuple[str, Any]:
    kind = am.oneof(["plain", "fancy"], name="kind")
    if kind == "fancy":
        return kind, am.floatv(0.0, 1.0, name="fancy_rate")
    return kind, None


def build_with_a_repeated_name() -> tuple[int, int]:
    return am.intv(0, 1, name="n"), am.intv(0, 1, name="n")


def build_with_a_clash() -> tuple[int, int]:
    return am.intv(0, 1, name="n"), am.oneof([0, 1], name="n")


# --- collect, then apply -------------------------------------------------------------------


def test_collect_then_apply() -> None:
    SEEN.clear()
    space = am.define_by_run(build_mlp)
    assert isinstance(space, DynamicSpace)
    spec = am.dna_spec(space)
    # The collection pass saw the first candidate / the minimum of every decision.
    assert SEEN == [(1, 16)]
    assert [p.location for p in spec.decision_points()] == [
        "depth",
        "decision_1",
        "act",
        "dropout",
        "order",
    ]
    assert spec.size == float("inf")
    dna = spec.dna_from_dict(
        {"depth": 2, "decision_1": 2, "act": 1, "dropout": 0.25, "order[0]": 2, "order[1]": 0}
    )
    assert list(dna) == ["depth", "decision_1", "act", "dropout", "order[0]", "order[1]"]
    model = am.materialize(space, dna)
    assert model == [Layer(64, "gelu"), Layer(64, "gelu"), Layer(25), Layer(3), Layer(2)]
    assert SEEN[-1] == (2, 64)


def test_auto_ids_count_every_call() -> None:
    def build() -> list[Any]:
        return [am.oneof([1, 2]), am.intv(0, 3, name="named"), am.oneof(["a", "b"])]

    spec = am.dna_spec(am.define_by_run(build))
    assert [p.location for p in spec.decision_points()] == ["decision_0", "named", "decision_2"]
    assert [p.name for p in spec.decision_points()] == [None, "named", None]
    assert am.materialize(
        am.define_by_run(build), am.DNA({"decision_0": 1, "named": 3, "decision_2": 0})
    ) == [2, 3, "a"]


def test_symbolic_candidates_are_fresh_copies() -> None:
    template = Layer(8)

    def build() -> Layer:
        return am.oneof([template, Layer(16)])

    space = am.define_by_run(build)
    first = am.materialize(space, am.DNA({"decision_0": 0}))
    assert first == template
    assert first is not template
    first.rebind(units=99)
    assert template.units == 8
    assert am.materialize(space, am.DNA({"decision_0": 0})).units == 8


def test_iterate_and_random_sample_a_define_by_run_space() -> None:
    def build() -> tuple[int, str]:
        return am.intv(0, 1), am.oneof(["x", "y"])

    space = am.define_by_run(build)
    assert list(am.iterate(space)) == [(0, "x"), (0, "y"), (1, "x"), (1, "y")]
    assert list(am.random_sample(space, 8, seed=5)) == list(am.random_sample(space, 8, seed=5))
    assert {s for s in am.random_sample(space, 60, seed=1)} == {
        (0, "x"),
        (0, "y"),
        (1, "x"),
        (1, "y"),
    }


# --- errors ---------------------------------------------------------------------------------


def test_a_name_used_twice_with_different_decisions_is_an_error() -> None:
    def build() -> tuple[int, int]:
        return am.intv(0, 1, name="n"), am.intv(0, 2, name="n")

    with pytest.raises(
        am.SearchSpaceError, match=r"the decision name 'n' is used twice in one run .* different"
    ) as info:
        am.dna_spec(am.define_by_run(build))
    assert info.value.path == "n"


def test_a_branch_not_seen_at_collection_is_an_invalid_dna() -> None:
    space = am.define_by_run(build_branching)
    spec = am.dna_spec(space)
    assert spec.size == 2  # only what the collection pass saw
    assert am.materialize(space, am.DNA({"kind": 0})) == ("plain", None)
    with pytest.raises(
        am.InvalidDNAError, match="asked for 'fancy_rate', which the DNA does not decide"
    ) as info:
        am.materialize(space, am.DNA({"kind": 1}))
    assert info.value.path == "fancy_rate"


def test_invalid_dna_is_refused_before_the_function_runs() -> None:
    SEEN.clear()
    space = am.define_by_run(build_mlp)
    spec = am.dna_spec(space)
    runs = len(SEEN)
    dna = spec.random_dna(np.random.default_rng(0))
    with pytest.raises(am.InvalidDNAError, match=r"expected an int in \[1, 3\], got 7") as info:
        am.materialize(space, am.DNA({**dna, "depth": 7}))
    assert info.value.path == "depth"
    assert len(SEEN) == runs + 1  # the collection pass of `materialize`, no decided run


def test_nesting_define_by_run_is_an_error() -> None:
    inner = am.define_by_run(lambda: am.intv(0, 1))

    def outer() -> Any:
        return am.dna_spec(inner)

    with pytest.raises(am.SearchSpaceError, match="define-by-run spaces cannot be nested"):
        am.dna_spec(am.define_by_run(outer))


def test_encode_is_refused() -> None:
    with pytest.raises(am.SearchSpaceError, match="a define-by-run space cannot encode a value"):
        am.encode(am.define_by_run(build_branching), ("plain", None))


def test_the_context_ends_with_the_run_even_on_error() -> None:
    with pytest.raises(am.SearchSpaceError):
        am.dna_spec(am.define_by_run(build_with_a_clash))
    assert isinstance(am.oneof([1, 2]), OneOf)  # outside a run: a hyper-value again


def test_a_run_in_one_thread_does_not_decide_hyper_values_of_another() -> None:
    started, release = threading.Event(), threading.Event()
    outside: list[Any] = []

    def build() -> int:
        value = am.intv(0, 9)
        started.set()
        release.wait(5)
        return value

    def other_thread() -> None:
        started.wait(5)
        outside.append(am.oneof([1, 2]))
        release.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    assert am.materialize(am.define_by_run(build), am.DNA({"decision_0": 7})) == 7
    thread.join(5)
    assert len(outside) == 1 and isinstance(outside[0], OneOf)


# --- candidate functions: conditional sub-spaces defined by running code ------------------

CALLS: list[str] = []


def conv_branch() -> tuple[str, int, list[str]]:
    CALLS.append("conv")
    return ("conv", am.oneof([3, 5], name="kernel"), am.manyof(2, ["bn", "relu", "drop"]))


def build_conditional() -> tuple[Any, float]:
    op = am.oneof(
        [conv_branch, lambda: ("pool", am.intv(2, 3)), "identity"],
        name="op",
    )
    rate = am.floatv(0.0, 1.0)
    return op, rate


def test_candidate_functions_define_conditional_sub_spaces() -> None:
    CALLS.clear()
    space = am.define_by_run(build_conditional)
    spec = am.dna_spec(space)
    # The collection pass ran every candidate function once, to collect its sub-space.
    assert CALLS == ["conv"]
    op = spec.elements[0]
    assert [p.location for p in op.candidates[0].elements] == ["kernel", "decision_1"]
    assert [p.location for p in op.candidates[1].elements] == ["decision_0"]
    assert op.candidates[2].elements == []
    assert [p.location for p in spec.elements] == ["op", "decision_1"]
    assert spec.size == float("inf")
    # A decided run calls the chosen candidate function only.
    template = Template(space)
    CALLS.clear()
    dna = spec.dna_from_dict(
        {
            "op": 0,
            "op[=0].kernel": 1,
            "op[=0].decision_1[0]": 2,
            "op[=0].decision_1[1]": 0,
            "decision_1": 0.5,
        }
    )
    assert template.materialize(dna) == (("conv", 5, ["drop", "bn"]), 0.5)
    assert CALLS == ["conv"]
    CALLS.clear()
    pool = am.DNA({"op": 1, "op[=1].decision_0": 3, "decision_1": 0.25})
    assert template.materialize(pool) == (("pool", 3), 0.25)
    assert CALLS == []
    assert am.materialize(space, am.DNA({"op": 2, "decision_1": 0.0})) == ("identity", 0.0)


def test_every_program_of_a_conditional_space_is_reached() -> None:
    def build() -> Any:
        return am.oneof([lambda: ("a", am.oneof([1, 2])), lambda: ("b", am.manyof(2, "xyz")), 0])

    space = am.define_by_run(build)
    programs = list(am.iterate(space))
    assert programs == [
        ("a", 1),
        ("a", 2),
        *[("b", [x, y]) for x in "xyz" for y in "xyz" if x != y],
        0,
    ]
    assert am.dna_spec(space).size == len(programs) == 9
    assert {repr(p) for p in am.random_sample(space, 200, seed=0)} == {repr(p) for p in programs}


def test_decision_ids_follow_the_documented_rule() -> None:
    def build() -> Any:
        first = am.oneof([1, 2])  # decision_0
        named = am.intv(0, 1, name="width")  # width (it counts: the next one is decision_2)
        picks = am.manyof(
            2,
            [lambda: am.oneof(["p", "q"]), lambda: (am.intv(0, 1), am.intv(0, 1, name="w2")), 9],
        )  # decision_2[0], decision_2[1]; inside candidate i of pick j: decision_2[j][=i]....
        return first, named, picks

    space = am.define_by_run(build)
    spec = am.dna_spec(space)
    assert [p.location for p in spec.elements] == ["decision_0", "width", "decision_2"]
    picks = spec.elements[2]
    assert [p.location for p in picks.candidates[0].elements] == ["decision_0"]
    assert [p.location for p in picks.candidates[1].elements] == ["decision_0", "w2"]
    dna = am.DNA(
        {
            "decision_0": 1,
            "width": 0,
            "decision_2[0]": 1,
            "decision_2[0][=1].decision_0": 1,
            "decision_2[0][=1].w2": 0,
            "decision_2[1]": 0,
            "decision_2[1][=0].decision_0": 1,
        }
    )
    spec.validate(dna)  # the ids the DNASpec expects
    assert am.materialize(space, dna) == (2, 0, [(1, 0), "q"])


def test_a_name_used_twice_in_one_run_is_one_decision() -> None:
    def build() -> tuple[Any, ...]:
        width = am.oneof([16, 32], name="width")
        inner = am.oneof([lambda: am.oneof([16, 32], name="width") * 2, 0], name="head")
        return width, am.oneof([16, 32], name="width"), inner

    space = am.define_by_run(build)
    spec = am.dna_spec(space)
    assert [p.location for p in spec.decision_points()] == ["width", "head"]
    assert am.materialize(space, am.DNA({"width": 1, "head": 0})) == (32, 32, 64)
    assert list(am.iterate(space)) == [(16, 16, 32), (16, 16, 0), (32, 32, 64), (32, 32, 0)]


def test_a_name_in_two_branches_that_never_run_together_is_an_error() -> None:
    def build() -> Any:
        return am.oneof([lambda: am.intv(0, 1, name="n"), lambda: am.intv(0, 1, name="n")])

    with pytest.raises(
        am.SearchSpaceError, match="'n' is used in two candidate functions that do not run"
    ):
        am.dna_spec(am.define_by_run(build))


def test_a_name_equal_to_an_automatic_id_is_an_error() -> None:
    def build() -> Any:
        return am.oneof([1, 2], name="decision_1"), am.oneof([1, 2])

    with pytest.raises(am.SearchSpaceError, match="the decision id 'decision_1' is used twice"):
        am.dna_spec(am.define_by_run(build))


def test_functions_with_parameters_and_symbolic_candidates_are_values() -> None:
    def needs_an_argument(x: int) -> int:
        return x

    def has_a_default(x: int = 1) -> int:
        return x

    def build() -> Any:
        return am.oneof([needs_an_argument, has_a_default, Layer(4)])

    space = am.define_by_run(build)
    assert am.dna_spec(space).size == 3
    assert am.materialize(space, am.DNA({"decision_0": 0})) is needs_an_argument
    assert am.materialize(space, am.DNA({"decision_0": 1})) is has_a_default
    assert am.materialize(space, am.DNA({"decision_0": 2})) == Layer(4)


def test_custom_decisions_in_define_by_run_spaces() -> None:
    def build() -> Any:
        return am.custom(BitString(length=3), name="bits"), am.oneof(
            [lambda: am.custom(BitString(length=2)), None]
        )

    space = am.define_by_run(build)
    spec = am.dna_spec(space)
    assert spec.size == 8 * (4 + 1)
    dna = am.DNA({"bits": (1, 0, 1), "decision_1": 0, "decision_1[=0].decision_0": (1, 1)})
    assert am.materialize(space, dna) == ((1, 0, 1), (1, 1))
    assert len(list(am.iterate(space))) == 40
    samples = list(am.random_sample(space, 5, seed=3))
    assert samples == list(am.random_sample(space, 5, seed=3))
