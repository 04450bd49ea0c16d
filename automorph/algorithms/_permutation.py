"""Crossovers of permutations (`am.permutate` spaces).

A permutation decision is a multi-pick choice that picks every candidate
once, in an order (distinct, unsorted, as many picks as candidates). A
uniform or point crossover of two permutations would repeat some candidates
and drop others; these crossovers always give a valid permutation:

- partially mapped (PMX, Goldberg and Lingle 1985): the child keeps a
  segment of the first parent; the other positions come from the second,
  a value the segment already holds replaced through the segment's mapping;
- order (OX, Davis 1985): the child keeps a segment of the first parent and
  fills the other positions, from the segment's end on, with the missing
  values in the second parent's order;
- cycle (CX, Oliver et al. 1987): the positions split into cycles between
  the parents; the child takes the first cycle from the first parent, the
  next from the second, and so on, so every value keeps a parent's position.

Each child is the first parent with every permutation both parents share
crossed (a candidate keeps its sub-decisions as it moves); the rest of the
DNA is the first parent's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from automorph.algorithms._variation import Recombinator, _base, active_decisions, move_picks
from automorph.geno import DNA, Choices, Space
from automorph.utils import MISSING


def _is_permutation(point: Any) -> bool:
    return (
        isinstance(point, Choices)
        and point.distinct
        and not point.sorted
        and point.num_choices == len(point.candidates) > 1
    )


def _segment(n: int, rng: np.random.Generator) -> tuple[int, int]:
    """A segment [start, end) of range(n), neither empty nor everything."""
    while True:
        start, end = sorted(int(c) for c in rng.choice(n + 1, size=2, replace=False))
        if end - start < n:
            return start, end


class PermutationCrossover(Recombinator, type_name="automorph.algorithms.PermutationCrossover"):
    """Base of permutation crossovers; subclasses implement `permute`.

    >>> PartiallyMappedCrossover() >> OrderCrossover()
    Pipeline(operators=[PartiallyMappedCrossover(), OrderCrossover()])
    """

    def recombine(self, a: DNA, b: DNA, spec: Space, rng: np.random.Generator) -> DNA:
        groups: dict[str, list[str]] = {}
        for decision_id, point in active_decisions(spec, a, rng):
            if _is_permutation(point):
                groups.setdefault(_base(decision_id), []).append(decision_id)
        values = dict(a)
        for _, ids in sorted(groups.items(), key=lambda item: -len(item[0])):
            if not all(i in b for i in ids):
                continue  # the second parent chose another sub-space: nothing to cross
            first, second = [a[i] for i in ids], [b[i] for i in ids]
            child = self.permute(first, second, rng)
            # inner permutations first: moving an outer candidate carries them along
            move_picks(values, ids, first, child, [first.index(v) for v in child], sort=False)
        return spec.random_dna(rng, lambda decision_id, _: values.get(decision_id, MISSING))

    def permute(self, a: list[int], b: list[int], rng: np.random.Generator) -> list[int]:
        """A child permutation of permutations `a` and `b` (of the same values)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `permute`")


class PartiallyMappedCrossover(
    PermutationCrossover, type_name="automorph.algorithms.PartiallyMappedCrossover"
):
    """Partially mapped crossover (PMX) of permutations (see the module docstring).

    >>> import numpy as np
    >>> PartiallyMappedCrossover().permute(
    ...     [0, 1, 2, 3, 4, 5], [5, 3, 1, 0, 2, 4], np.random.default_rng(1)
    ... )
    [5, 3, 2, 0, 1, 4]
    """

    def permute(self, a: list[int], b: list[int], rng: np.random.Generator) -> list[int]:
        start, end = _segment(len(a), rng)
        child = list(b)
        child[start:end] = a[start:end]
        inside = {v: i for i, v in enumerate(a) if start <= i < end}
        for i in [*range(start), *range(end, len(a))]:
            value = b[i]
            while value in inside:
                value = b[inside[value]]
            child[i] = value
        return child


class OrderCrossover(PermutationCrossover, type_name="automorph.algorithms.OrderCrossover"):
    """Order crossover (OX) of permutations (see the module docstring).

    >>> import numpy as np
    >>> OrderCrossover().permute([0, 1, 2, 3, 4, 5], [5, 3, 1, 0, 2, 4], np.random.default_rng(1))
    [3, 1, 2, 0, 4, 5]
    """

    def permute(self, a: list[int], b: list[int], rng: np.random.Generator) -> list[int]:
        n = len(a)
        start, end = _segment(n, rng)
        kept = set(a[start:end])
        rest = [b[(end + i) % n] for i in range(n) if b[(end + i) % n] not in kept]
        child = list(a)
        for offset, value in enumerate(rest):
            child[(end + offset) % n] = value
        return child


class CycleCrossover(PermutationCrossover, type_name="automorph.algorithms.CycleCrossover"):
    """Cycle crossover (CX) of permutations (see the module docstring); it draws nothing.

    >>> import numpy as np
    >>> CycleCrossover().permute([0, 1, 2, 3, 4, 5], [1, 0, 3, 4, 2, 5], np.random.default_rng(0))
    [0, 1, 3, 4, 2, 5]
    """

    def permute(self, a: list[int], b: list[int], rng: np.random.Generator) -> list[int]:
        position = {v: i for i, v in enumerate(a)}
        child: list[int | None] = [None] * len(a)
        cycle = 0
        for i in range(len(a)):
            if child[i] is not None:
                continue
            source = a if cycle % 2 == 0 else b
            j = i
            while child[j] is None:
                child[j] = source[j]
                j = position[b[j]]
            cycle += 1
        return [v for v in child if v is not None]
