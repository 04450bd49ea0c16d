"""Search spaces that exercise every kind of decision, for contract tests."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from automorph.geno import DNA, CustomHooks, Space
from automorph.hyper import custom, dna_spec, floatv, intv, manyof, oneof
from automorph.symbolic import Dict, List


class BitString(CustomHooks, type_name="automorph.testing.BitString"):
    """A custom decision: a tuple of `length` bits (a stand-in for a structure)."""

    length: int = 4

    def random(self, rng: np.random.Generator) -> Any:
        return tuple(int(b) for b in rng.integers(0, 2, self.length))

    def mutate(self, value: Any, rng: np.random.Generator) -> Any:
        i = int(rng.integers(self.length))
        return tuple(1 - b if j == i else b for j, b in enumerate(value))

    def crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Any:
        cut = int(rng.integers(1, self.length))
        return tuple(a[:cut]) + tuple(b[cut:])

    def distance(self, a: Any, b: Any) -> float:
        return float(sum(x != y for x, y in zip(a, b, strict=True)))

    def validate(self, value: Any) -> None:
        if not isinstance(value, tuple) or len(value) != self.length or set(value) - {0, 1}:
            raise ValueError(f"expected a tuple of {self.length} bits, got {value!r}")

    def size(self) -> int | float:
        return 1 << self.length

    def values(self) -> Iterator[Any]:
        for n in range(2**self.length):
            yield tuple((n >> (self.length - 1 - i)) & 1 for i in range(self.length))


def contract_spaces() -> dict[str, Space]:
    """Named DNASpecs: flat choices, conditional, numeric, multi-pick, custom."""
    return {
        "choices": dna_spec(List([oneof([0, 1, 2]) for _ in range(6)])),
        "conditional": dna_spec(
            Dict(
                block=oneof(
                    [
                        Dict(kind="conv", width=intv(1, 4)),
                        Dict(kind="pool"),
                        Dict(kind="mlp", depth=oneof([1, 2, 3]), scale=floatv(0.0, 1.0)),
                    ]
                ),
                rate=floatv(1e-3, 1.0, scale="log"),
            )
        ),
        "numeric": dna_spec(Dict(x=floatv(-2.0, 2.0), y=floatv(-2.0, 2.0), n=intv(0, 5))),
        "multi_pick": dna_spec(
            Dict(
                ops=manyof(3, ["a", "b", "c", "d", "e"], distinct=True, sorted=True),
                order=manyof(2, [0, 1, 2], distinct=False),
            )
        ),
        "custom": dna_spec(Dict(bits=custom(BitString(length=4)), k=intv(0, 3))),
    }


def synthetic_reward(dna: DNA, objectives: int = 1) -> float | tuple[float, ...]:
    """A cheap deterministic reward of a DNA (tuples for several objectives)."""
    total = 0.0
    for i, value in enumerate(dna.to_numbers()):
        if isinstance(value, tuple):
            value = sum(value)
        total += math.sin(1.7 * i + float(value))
    if objectives == 1:
        return total
    return tuple(math.cos(total * (k + 1)) for k in range(objectives))
