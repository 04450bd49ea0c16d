"""Evolution operators: small symbolic objects joined into pipelines.

An operator maps a population (a list of `Individual`) to another list of
individuals: a selector returns some of them, a mutator or recombinator
returns children, a population update returns the survivors. Operators
compose with `>>`, left to right:

    Sample(10) >> Top(1) >> Mutate()

is the reproduction of regularized evolution: sample ten individuals, keep
the best, mutate it. Operators are symbolic objects, so an algorithm built
from them prints, serializes to JSON and can itself be searched over.

Rewards are maximized. A population of multi-objective individuals (tuple
rewards) is ranked by non-dominated front first, then by crowding distance
(Deb et al. 2002), as `non_dominated_sort` and `crowding_distance` compute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np

from automorph.algorithms._base import Reward
from automorph.geno import DNA, Space
from automorph.symbolic import Bounds, Object
from automorph.utils import AutomorphError


class Individual:
    """One member of a population: a DNA, its reward and when it was born.

    Attributes:
        dna: The genotype.
        reward: Its reward (a float, or a tuple of floats for several
            objectives), or None for a child not evaluated yet.
        birth: The order in which individuals joined the population (the
            feedback number); -1 for a child not evaluated yet.

    >>> from automorph.geno import DNA
    >>> Individual(DNA({"x": 1}), 0.5, birth=3)
    Individual(DNA({'x': 1}), reward=0.5, birth=3)
    """

    __slots__ = ("birth", "dna", "reward")

    def __init__(self, dna: DNA, reward: Reward | None = None, birth: int = -1) -> None:
        self.dna = dna
        self.reward = reward
        self.birth = birth

    def __repr__(self) -> str:
        return f"Individual({self.dna!r}, reward={self.reward!r}, birth={self.birth})"


class OperatorContext:
    """What an operator may use besides the population.

    Attributes:
        spec: The search space (mutators and recombinators draw from it).
        rng: The generator of every random choice the operator makes; the
            algorithm derives it from its seed and a counter that `recover`
            reproduces.

    >>> import numpy as np
    >>> from automorph.geno import Space
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> ctx.spec.size
    1
    """

    __slots__ = ("rng", "spec")

    def __init__(self, spec: Space, rng: np.random.Generator) -> None:
        self.spec = spec
        self.rng = rng


class Operator(Object, type_name="automorph.algorithms.Operator"):
    """Base class of evolution operators: `population, ctx -> individuals`.

    Subclasses implement `__call__`; `a >> b` is the `Pipeline` that applies
    `a`, then `b` to what `a` returned. An operator must draw every random
    choice from `ctx.rng` and must not change the individuals it is given
    (children are new `Individual`s).

    >>> pipeline = Sample(10) >> Top(1)
    >>> pipeline
    Pipeline(operators=[Sample(k=10), Top(k=1)])
    """

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        """The individuals this operator makes of `population`."""
        raise NotImplementedError(f"{type(self).__name__} must implement `__call__`")

    def __rshift__(self, other: Operator) -> Pipeline:
        if not isinstance(other, Operator):
            return NotImplemented
        return Pipeline([*_steps(self), *_steps(other)])


def _steps(operator: Operator) -> list[Operator]:
    """The steps of a pipeline, or `operator` itself (the new pipeline adopts
    them, copying any that already has a parent)."""
    return list(operator.operators) if isinstance(operator, Pipeline) else [operator]


class Pipeline(Operator, type_name="automorph.algorithms.Pipeline"):
    """Operators applied in order, each to what the previous one returned.

    Attributes:
        operators: The steps; an empty pipeline returns its input.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), float(i), birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.reward for x in (Last(3) >> Top(2))(population, ctx)]
    [4.0, 3.0]
    """

    operators: list[Operator] = []

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        for operator in self.operators:
            population = operator(population, ctx)
        return population


# --- ranking -------------------------------------------------------------------


def pareto_mask(
    points: np.ndarray[Any, np.dtype[np.float64]],
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Which rows no other row dominates (maximizing every column).

    A row dominates another if it is at least as good everywhere and better
    somewhere; equal rows do not dominate each other.

    >>> pareto_mask(np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.2, 0.2], [1.0, 0.0]]))
    array([ True,  True,  True, False,  True])
    """
    n = points.shape[0]
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    # Lexicographically largest first: no row is dominated by a row after it,
    # so checking each row against the front found so far is enough.
    order = np.lexsort(points.T[::-1])[::-1]
    if points.shape[1] == 2:
        best_y = -math.inf
        previous: np.ndarray[Any, np.dtype[np.float64]] | None = None
        for i in order:
            x, y = points[i]
            if y > best_y or (previous is not None and x == previous[0] and y == previous[1]):
                mask[i] = True
                previous = points[i]
                best_y = max(best_y, y)
        return mask
    front: list[int] = []
    for i in order:
        point = points[i]
        if front:
            kept = points[front]
            if np.any(np.all(kept >= point, axis=1) & np.any(kept > point, axis=1)):
                continue
        front.append(int(i))
    mask[front] = True
    return mask


def non_dominated_sort(rewards: Sequence[Sequence[float]]) -> list[list[int]]:
    """The Pareto fronts of `rewards` (every objective maximized).

    Fast non-dominated sorting (Deb et al. 2002): the first front holds the
    points no other point dominates, the second those only the first front
    dominates, and so on. A point dominates another if it is at least as good
    in every objective and better in one.

    Returns:
        The fronts, best first, each a list of indices into `rewards` in
        increasing order.

    >>> non_dominated_sort([(1, 0), (0, 1), (0, 0), (1, 1)])
    [[3], [0, 1], [2]]
    """
    points = _matrix(rewards)
    if len(points) == 0:
        return []
    at_least = (points[:, None, :] >= points[None, :, :]).all(axis=2)
    better = (points[:, None, :] > points[None, :, :]).any(axis=2)
    # dominates[i, j]: point i dominates point j
    dominates: np.ndarray[Any, np.dtype[np.bool_]] = np.asarray(at_least & better)
    counts = dominates.sum(axis=0)
    fronts: list[list[int]] = []
    current = np.flatnonzero(counts == 0)
    while len(current):
        fronts.append([int(i) for i in current])
        counts = counts - dominates[current].sum(axis=0)
        counts[current] = -1
        current = np.flatnonzero(counts == 0)
    return fronts


def crowding_distance(rewards: Sequence[Sequence[float]]) -> list[float]:
    """The crowding distance of each point of one front (Deb et al. 2002).

    For each objective, the points at either end get an infinite distance and
    every other point the gap between its two neighbours, divided by the
    objective's range; the distances of all objectives add up. A larger
    distance is a lonelier point, preferred to keep the front spread out.

    >>> crowding_distance([(0, 4), (1, 2), (2, 1), (4, 0)])
    [inf, 1.25, 1.25, inf]
    """
    points = _matrix(rewards)
    n = len(points)
    distance = np.zeros(n)
    if n == 0:
        return []
    for column in points.T:
        order = np.argsort(column, kind="stable")
        distance[order[0]] = distance[order[-1]] = np.inf
        span = column[order[-1]] - column[order[0]]
        if n > 2 and span > 0:
            distance[order[1:-1]] += (column[order[2:]] - column[order[:-2]]) / span
    return [float(d) for d in distance]


def _matrix(rewards: Sequence[Sequence[float]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    lengths = {len(r) for r in rewards}
    if len(lengths) > 1:
        raise AutomorphError(
            "multi-objective rewards must all have the same number of objectives, got "
            f"{sorted(lengths)}"
        )
    return np.asarray(rewards, dtype=float).reshape(len(rewards), lengths.pop() if lengths else 0)


def ranking(population: Sequence[Individual]) -> list[tuple[float, ...]]:
    """A sort key per individual; a smaller key is a better individual.

    Single objective: the negated reward. Several objectives: the index of the
    individual's non-dominated front, then its negated crowding distance in
    that front. Ties go to the newer individual (larger `birth`).

    Raises:
        AutomorphError: If an individual has no reward yet, or single- and
            multi-objective rewards are mixed.

    >>> from automorph.geno import DNA
    >>> keys = ranking([Individual(DNA(), 1.0, birth=0), Individual(DNA(), 2.0, birth=1)])
    >>> keys[1] < keys[0]
    True
    """
    rewards = [x.reward for x in population]
    if any(r is None for r in rewards):
        raise AutomorphError(
            "cannot rank individuals that have no reward yet (a selector placed after a "
            "mutator or a recombinator in a pipeline?)"
        )
    tuples = [isinstance(r, tuple) for r in rewards]
    if all(tuples) and rewards:
        vectors: list[tuple[float, ...]] = [r for r in rewards if isinstance(r, tuple)]
        keys: list[tuple[float, ...]] = [()] * len(rewards)
        for rank, front in enumerate(non_dominated_sort(vectors)):
            crowding = crowding_distance([vectors[i] for i in front])
            for i, c in zip(front, crowding, strict=True):
                keys[i] = (float(rank), -c, -float(population[i].birth))
        return keys
    if any(tuples):
        raise AutomorphError("cannot rank a population that mixes float and tuple rewards")
    return [(-float(r), -float(x.birth)) for r, x in zip(rewards, population, strict=True)]  # type: ignore[arg-type]


# --- selectors ---------------------------------------------------------------


class Sample(Operator, type_name="automorph.algorithms.Sample"):
    """`k` individuals drawn at random without replacement (all if fewer).

    Attributes:
        k: How many to draw.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), float(i), birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> len(Sample(3)(population, ctx)), len(Sample(9)(population, ctx))
    (3, 5)
    """

    k: Annotated[int, Bounds(1, None)]

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        if not population:
            return []
        chosen = ctx.rng.choice(len(population), size=min(self.k, len(population)), replace=False)
        return [population[int(i)] for i in chosen]


class Top(Operator, type_name="automorph.algorithms.Top"):
    """The best `k` individuals, best first (see `ranking`).

    As a population update, `Top(n)` keeps the `n` best (elitism; the
    survival step of NSGA-II for multi-objective rewards).

    Attributes:
        k: How many to keep.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), r, birth=i) for i, r in enumerate([3.0, 9.0, 1.0])]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.reward for x in Top(2)(population, ctx)]
    [9.0, 3.0]
    """

    k: Annotated[int, Bounds(1, None)]

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        keys = ranking(population)
        order = sorted(range(len(population)), key=keys.__getitem__)
        return [population[i] for i in order[: self.k]]


class Last(Operator, type_name="automorph.algorithms.Last"):
    """The `k` most recently born individuals, oldest first.

    As a population update, `Last(n)` is the aging of regularized evolution:
    the oldest individual dies whatever its reward.

    Attributes:
        k: How many to keep.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), 1.0, birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.birth for x in Last(2)(population, ctx)]
    [3, 4]
    """

    k: Annotated[int, Bounds(1, None)]

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        order = sorted(range(len(population)), key=lambda i: population[i].birth)
        return [population[i] for i in order[-self.k :]]


class Tournament(Operator, type_name="automorph.algorithms.Tournament"):
    """Winners of tournaments: each samples `size` individuals, the best wins.

    Individuals are compared by their `ranking` in the whole population, so
    for multi-objective rewards a tournament compares (front, crowding
    distance), as NSGA-II's binary tournament does. Each tournament draws its
    own sample; one individual may win several.

    Attributes:
        size: Individuals per tournament (all of them if fewer).
        count: How many tournaments, so how many winners.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), float(i), birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.reward for x in Tournament(5, count=2)(population, ctx)]
    [4.0, 4.0]
    """

    size: Annotated[int, Bounds(1, None)]
    count: Annotated[int, Bounds(1, None)] = 1

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        if not population:
            return []
        keys = ranking(population)
        size = min(self.size, len(population))
        winners = []
        for _ in range(self.count):
            entrants = ctx.rng.choice(len(population), size=size, replace=False)
            best = min((int(i) for i in entrants), key=keys.__getitem__)
            winners.append(population[best])
        return winners
