"""Objects holding decisions are search spaces: no derived state, no construction."""

from __future__ import annotations

import numpy as np
import pytest

import automorph as am


class Area(am.Object):
    width: int
    height: int = 1

    def _on_bound(self) -> None:
        self._area = self.width * self.height


class Plain:
    def __init__(self, size: int) -> None:
        if not isinstance(size, int):
            raise TypeError("size must be an int")  # a constructor that cannot take a decision
        self.size = size


def test_on_bound_waits_until_the_object_is_a_program() -> None:
    space = Area(am.intv(1, 4), height=3)
    assert space.sym_abstract and not hasattr(space, "_area")
    program = am.materialize(space, am.DNA({"width": 2}))
    assert not program.sym_abstract and program._area == 6
    space.rebind(width=5)  # no longer abstract: derived state appears
    assert space._area == 15


def test_a_symbolized_class_is_constructed_only_when_materialized() -> None:
    SymPlain = am.symbolize(Plain)
    space = am.Dict(p=SymPlain(am.oneof([1, 2])))
    assert space["p"].sym_abstract
    assert am.materialize(space, am.DNA({"p.size": 1}))["p"].size == 2


def test_symbolize_is_idempotent() -> None:
    assert am.symbolize(Plain) is am.symbolize(Plain)
    assert am.symbolize(Plain, symbolic_eq=True) is not am.symbolize(Plain)

    def f(x: int) -> int:
        return x

    assert am.symbolize(f) is am.symbolize(f)


def test_a_torch_network_with_decisions_materializes_into_real_modules() -> None:
    torch = pytest.importorskip("torch")
    Linear = am.symbolize(torch.nn.Linear, symbolic_eq=False)
    Sequential = am.symbolize(torch.nn.Sequential, symbolic_eq=False)
    ReLU = am.symbolize(torch.nn.ReLU, symbolic_eq=False)
    width = am.oneof([8, 16])
    space = Sequential(Linear(4, width), ReLU(), Linear(am.oneof([8, 16]), 2))
    assert am.dna_spec(space).size == 4
    for example in am.iterate(space):
        hidden = example[0].out_features
        if hidden == example[2].in_features:
            assert example(torch.zeros(3, 4)).shape == (3, 2)
    net = am.random_sample(space, 1, seed=np.random.default_rng(0))
    assert isinstance(next(net), torch.nn.Sequential)
