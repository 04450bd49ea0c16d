"""Evolution operators: small symbolic objects joined into pipelines.

An operator maps a population (a list of `Individual`) to another list of
individuals: a selector returns some of them, a mutator or recombinator
returns children, a population update returns the survivors. Operators
compose with `>>`, left to right:

    Sample(10) >> Top(1) >> Mutate()

is the reproduction of regularized evolution: sample ten individuals, keep
the best, mutate it. Operators are symbolic objects, so an algorithm built
from them prints, serializes to JSON and can itself be searched over.

Besides `>>`, operators compose as PyGlove's do (`_algebra.py`): `a + b`
concatenates what `a` and `b` make of the same population, `a * k` repeats
`a` k times on it, `a ** k` applies `a` k times in a row, `a | b`, `a & b`,
`a - b` and `a ^ b` are the union, intersection, difference and symmetric
difference of the outputs (by identity: an individual, not an equal DNA),
`a[i]` and `a[i:j]` slice the output, `a.if_true(predicate)` applies `a`
only when the predicate holds, and `a.with_prob(p)` with probability `p`.
Sizes (`Top(k)`) may be fractions of the population (`Top(0.2)`) or
schedules over the steps of the search.

Rewards are maximized. A population of multi-objective individuals (tuple
rewards) is ranked by non-dominated front first, then by crowding distance
(Deb et al. 2002), as `non_dominated_sort` and `crowding_distance` compute.
In a constrained search an individual also carries its total constraint
violation, and ranking follows Deb's constrained domination: a feasible
individual beats an infeasible one, and of two infeasible ones the smaller
violation wins.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np

from automorph.algorithms._base import Reward
from automorph.algorithms._schedules import scalar_at
from automorph.geno import DNA, Space
from automorph.symbolic import Bounds, Object
from automorph.utils import AutomorphError, FieldValueError

if TYPE_CHECKING:
    from automorph.algorithms import _algebra

# A selector's size: a count, a fraction of the population, or a schedule
# (a callable of the step) returning either.
Size = Annotated[int, Bounds(1, None)] | Annotated[float, Bounds(0.0, 1.0)] | Callable[[int], Any]


class Individual:
    """One member of a population: a DNA, its reward and when it was born.

    Attributes:
        dna: The genotype.
        reward: Its reward (a float, or a tuple of floats for several
            objectives), or None for a child not evaluated yet.
        birth: The order in which individuals joined the population (the
            feedback number); -1 for a child not evaluated yet.
        violation: Its total constraint violation (`violation(constraints)`):
            0.0 when feasible or unconstrained.

    >>> from automorph.geno import DNA
    >>> Individual(DNA({"x": 1}), 0.5, birth=3)
    Individual(DNA({'x': 1}), reward=0.5, birth=3)
    >>> Individual(DNA({"x": 1}), 0.5, birth=3, violation=0.25)
    Individual(DNA({'x': 1}), reward=0.5, birth=3, violation=0.25)
    """

    __slots__ = ("birth", "dna", "reward", "violation")

    def __init__(
        self, dna: DNA, reward: Reward | None = None, birth: int = -1, violation: float = 0.0
    ) -> None:
        self.dna = dna
        self.reward = reward
        self.birth = birth
        self.violation = violation

    def __repr__(self) -> str:
        extra = f", violation={self.violation!r}" if self.violation else ""
        return f"Individual({self.dna!r}, reward={self.reward!r}, birth={self.birth}{extra})"


class OperatorContext:
    """What an operator may use besides the population.

    Attributes:
        spec: The search space (mutators and recombinators draw from it).
        rng: The generator of every random choice the operator makes; the
            algorithm derives it from its seed and a counter that `recover`
            reproduces.
        step: Where the search is, for schedules and conditions: the number
            of proposals made before this one when reproducing, the number
            of rewards received before this one when updating the population.

    >>> import numpy as np
    >>> from automorph.geno import Space
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0), step=3)
    >>> ctx.spec.size, ctx.step
    (1, 3)
    """

    __slots__ = ("rng", "spec", "step")

    def __init__(self, spec: Space, rng: np.random.Generator, step: int = 0) -> None:
        self.spec = spec
        self.rng = rng
        self.step = step


class Operator(Object, type_name="automorph.algorithms.Operator"):
    """Base class of evolution operators: `population, ctx -> individuals`.

    Subclasses implement `__call__`; `a >> b` is the `Pipeline` that applies
    `a`, then `b` to what `a` returned. An operator must draw every random
    choice from `ctx.rng` and must not change the individuals it is given
    (children are new `Individual`s). The other compositions (`+`, `*`,
    `**`, `|`, `&`, `-`, `^`, `[...]`, `if_true`, `if_false`, `with_prob`) are described
    in the module docstring and `_algebra.py`.

    >>> pipeline = Sample(10) >> Top(1)
    >>> pipeline
    Pipeline(operators=[Sample(k=10), Top(k=1)])
    >>> Top(2) + Last(1)
    Concatenation(operators=[Top(k=2), Last(k=1)])
    """

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        """The individuals this operator makes of `population`."""
        raise NotImplementedError(f"{type(self).__name__} must implement `__call__`")

    def __rshift__(self, other: Operator) -> Pipeline:
        if not isinstance(other, Operator):
            return NotImplemented
        return Pipeline([*_steps(self), *_steps(other)])

    def __add__(self, other: Operator) -> _algebra.Concatenation:
        from automorph.algorithms._algebra import Concatenation

        return Concatenation.of(self, other)

    def __or__(self, other: Operator) -> _algebra.Union:
        from automorph.algorithms._algebra import Union

        return Union.of(self, other)

    def __and__(self, other: Operator) -> _algebra.Intersection:
        from automorph.algorithms._algebra import Intersection

        return Intersection.of(self, other)

    def __sub__(self, other: Operator) -> _algebra.Difference:
        from automorph.algorithms._algebra import Difference

        return Difference.of(self, other)

    def __xor__(self, other: Operator) -> _algebra.SymmetricDifference:
        from automorph.algorithms._algebra import SymmetricDifference

        return SymmetricDifference.of(self, other)

    def __mul__(self, k: int | Callable[[int], Any]) -> _algebra.Repeat:
        from automorph.algorithms._algebra import Repeat

        return Repeat(self, k)

    def __pow__(self, k: int | Callable[[int], Any]) -> _algebra.Power:
        from automorph.algorithms._algebra import Power

        return Power(self, k)

    def __getitem__(self, index: int | slice) -> _algebra.Slice:
        from automorph.algorithms._algebra import Slice

        return Slice.of(self, index)

    def if_true(self, predicate: Callable[..., Any]) -> _algebra.Conditional:
        """This operator where `predicate` holds; elsewhere the input unchanged.

        `predicate(population, step)` is a `Condition` (symbolic: the
        algorithm still serializes) or any callable of the population that
        may take the step as keyword `step`, as PyGlove's predicates do.
        """
        from automorph.algorithms._algebra import Conditional

        return Conditional(predicate, true_op=self)

    def with_prob(self, probability: float | Callable[[int], Any]) -> _algebra.Choice:
        """This operator with `probability` (a number or a schedule of the step),
        drawn from `ctx.rng`; else the input unchanged."""
        from automorph.algorithms._algebra import Choice

        return Choice([(self, probability)])

    def if_false(self, predicate: Callable[..., Any]) -> _algebra.Conditional:
        """This operator where `predicate` does not hold (see `if_true`)."""
        from automorph.algorithms._algebra import Conditional

        return Conditional(predicate, false_op=self)


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


def non_dominated_sort(
    rewards: Sequence[Sequence[float]], violations: Sequence[float] | None = None
) -> list[list[int]]:
    """The Pareto fronts of `rewards` (every objective maximized).

    Fast non-dominated sorting (Deb et al. 2002): the first front holds the
    points no other point dominates, the second those only the first front
    dominates, and so on. A point dominates another if it is at least as good
    in every objective and better in one.

    With `violations` (each point's total constraint violation, 0 when
    feasible) domination is Deb's constrained domination: a feasible point
    dominates every infeasible one, and an infeasible point dominates
    another with a larger violation. So the feasible points' fronts come
    first, then one front per violation, smallest first.

    Returns:
        The fronts, best first, each a list of indices into `rewards` in
        increasing order.

    >>> non_dominated_sort([(1, 0), (0, 1), (0, 0), (1, 1)])
    [[3], [0, 1], [2]]
    >>> non_dominated_sort([(1, 0), (0, 1), (0, 0), (1, 1)], violations=[0, 0, 0, 0.5])
    [[0, 1], [2], [3]]
    """
    if violations is not None and any(v > 0.0 for v in violations):
        if len(violations) != len(rewards):
            raise AutomorphError(
                f"{len(violations)} violations for {len(rewards)} rewards; give one per reward"
            )
        _matrix(rewards)  # the same number of objectives everywhere
        feasible = [i for i, v in enumerate(violations) if v <= 0.0]
        sorted_feasible = non_dominated_sort([rewards[i] for i in feasible])
        by_violation: dict[float, list[int]] = {}
        for i, v in enumerate(violations):
            if v > 0.0:
                by_violation.setdefault(float(v), []).append(i)
        return [[feasible[i] for i in f] for f in sorted_feasible] + [
            by_violation[v] for v in sorted(by_violation)
        ]
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

    If any individual is infeasible (`violation` > 0), Deb's rules come
    first: feasible individuals before infeasible ones, infeasible ones by
    increasing violation (for several objectives, through constrained
    non-dominated sorting).

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
    violations = [x.violation for x in population]
    constrained = any(v > 0.0 for v in violations)
    if all(tuples) and rewards:
        vectors: list[tuple[float, ...]] = [r for r in rewards if isinstance(r, tuple)]
        keys: list[tuple[float, ...]] = [()] * len(rewards)
        fronts = non_dominated_sort(vectors, violations if constrained else None)
        for rank, front in enumerate(fronts):
            crowding = crowding_distance([vectors[i] for i in front])
            for i, c in zip(front, crowding, strict=True):
                keys[i] = (float(rank), -c, -float(population[i].birth))
        return keys
    if any(tuples):
        raise AutomorphError("cannot rank a population that mixes float and tuple rewards")
    if constrained:
        return [
            (v, -float(r) if v == 0.0 else 0.0, -float(x.birth))  # type: ignore[arg-type]
            for r, v, x in zip(rewards, violations, population, strict=True)
        ]
    return [(-float(r), -float(x.birth)) for r, x in zip(rewards, population, strict=True)]  # type: ignore[arg-type]


# --- selectors ---------------------------------------------------------------


class Selector(Operator, type_name="automorph.algorithms.Selector"):
    """Base of operators that return some of the individuals they are given.

    A size field (`k`, ...) is a count (an int, at least 1), a fraction of
    the population (a float in (0, 1]: `ceil(fraction * len(population))`,
    as PyGlove's selectors count), or a schedule, a callable of the step
    (see `Schedule`) that returns either.

    >>> Top(0.5)
    Top(k=0.5)
    """

    size_fields: ClassVar[tuple[str, ...]] = ("k",)

    def _on_bound(self) -> None:
        for name in self.size_fields:
            value = getattr(self, name)
            if isinstance(value, float) and value <= 0.0:
                raise FieldValueError(
                    f"{type(self).__name__}: `{name}` ({value}) is out of bounds: a size is "
                    "a count of at least 1 or a fraction of the population in (0, 1]",
                    path=name,
                )

    def _size(self, name: str, population: Sequence[Individual], ctx: OperatorContext) -> int:
        """The value of size field `name` for `population` at `ctx.step`."""
        value = scalar_at(getattr(self, name), ctx.step)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0:
            return int(value)
        if isinstance(value, (float, np.floating)) and 0.0 <= value <= 1.0:
            return math.ceil(float(value) * len(population))
        raise AutomorphError(
            f"{type(self).__name__}: the schedule of `{name}` returned {value!r} at step "
            f"{ctx.step}; a size is a count (an int >= 0) or a fraction in [0, 1] (round a "
            "schedule of counts, e.g. Linear(..., integer=True))",
            path=name,
        )


class Sample(Selector, type_name="automorph.algorithms.Sample"):
    """`k` individuals drawn at random without replacement (all if fewer).

    Attributes:
        k: How many to draw (a count, a fraction or a schedule; see `Selector`).

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), float(i), birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> len(Sample(3)(population, ctx)), len(Sample(9)(population, ctx))
    (3, 5)
    """

    k: Size

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        if not population:
            return []
        k = self._size("k", population, ctx)
        chosen = ctx.rng.choice(len(population), size=min(k, len(population)), replace=False)
        return [population[int(i)] for i in chosen]


def _best_first(population: Sequence[Individual]) -> list[int]:
    keys = ranking(population)
    return sorted(range(len(population)), key=keys.__getitem__)


class Top(Selector, type_name="automorph.algorithms.Top"):
    """The best `k` individuals, best first (see `ranking`).

    As a population update, `Top(n)` keeps the `n` best (elitism; the
    survival step of NSGA-II for multi-objective rewards).

    Attributes:
        k: How many to keep (a count, a fraction or a schedule; see `Selector`).

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), r, birth=i) for i, r in enumerate([3.0, 9.0, 1.0])]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.reward for x in Top(2)(population, ctx)]
    [9.0, 3.0]
    """

    k: Size

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        order = _best_first(population)
        return [population[i] for i in order[: self._size("k", population, ctx)]]


class Bottom(Selector, type_name="automorph.algorithms.Bottom"):
    """The worst `k` individuals, worst first (the reverse of `Top`'s order).

    `Identity() - Bottom(1)` is the population without its worst member.

    Attributes:
        k: How many to return (a count, a fraction or a schedule; see `Selector`).

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), r, birth=i) for i, r in enumerate([3.0, 9.0, 1.0])]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.reward for x in Bottom(2)(population, ctx)]
    [1.0, 3.0]
    """

    k: Size

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        order = _best_first(population)[::-1]
        return [population[i] for i in order[: self._size("k", population, ctx)]]


class First(Selector, type_name="automorph.algorithms.First"):
    """The first `k` individuals, in the order given.

    Attributes:
        k: How many (a count, a fraction or a schedule; see `Selector`).

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), 1.0, birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.birth for x in First(2)(population, ctx)], [x.birth for x in First(0.5)(population, ctx)]
    ([0, 1], [0, 1, 2])
    """

    k: Size

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        return population[: self._size("k", population, ctx)]


class Last(Selector, type_name="automorph.algorithms.Last"):
    """The `k` most recently born individuals, oldest first.

    As a population update, `Last(n)` is the aging of regularized evolution:
    the oldest individual dies whatever its reward. (PyGlove's `Last` takes
    the last of the list; the population is kept in birth order, so it is
    the same there.)

    Attributes:
        k: How many to keep (a count, a fraction or a schedule; see `Selector`).

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), 1.0, birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.birth for x in Last(2)(population, ctx)]
    [3, 4]
    """

    k: Size

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        order = sorted(range(len(population)), key=lambda i: population[i].birth)
        k = self._size("k", population, ctx)
        return [population[i] for i in order[max(len(order) - k, 0) :]]


class Tournament(Selector, type_name="automorph.algorithms.Tournament"):
    """Winners of tournaments: each samples `size` individuals, the best wins.

    Individuals are compared by their `ranking` in the whole population, so
    for multi-objective rewards a tournament compares (front, crowding
    distance), as NSGA-II's binary tournament does. Each tournament draws its
    own sample; one individual may win several.

    Attributes:
        size: Individuals per tournament (all of them if fewer).
        count: How many tournaments, so how many winners.

    Both are counts, fractions of the population or schedules (see
    `Selector`).

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), float(i), birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.reward for x in Tournament(5, count=2)(population, ctx)]
    [4.0, 4.0]
    """

    size: Size
    count: Size = 1

    size_fields = ("size", "count")

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        if not population:
            return []
        keys = ranking(population)
        size = min(self._size("size", population, ctx), len(population))
        winners = []
        for _ in range(self._size("count", population, ctx)):
            entrants = ctx.rng.choice(len(population), size=size, replace=False)
            best = min((int(i) for i in entrants), key=keys.__getitem__)
            winners.append(population[best])
        return winners


class Proportional(Selector, type_name="automorph.algorithms.Proportional"):
    """`k` individuals chosen in proportion to their weights (fitness-proportionate).

    The weights are the rewards by default (single objective; they must not
    be negative), `softmax(weight / temperature)` if `temperature` is set
    (any rewards then), or what the callable `weights` returns for the
    population.

    Attributes:
        k: How many to choose (a count, a fraction or a schedule; see `Selector`).
        weights: None for the rewards, or a callable of the population that
            returns one non-negative weight per individual (a symbolic
            object to keep the algorithm serializable).
        temperature: None to use the weights as they are; else they become
            `softmax(weight / temperature)`.
        mode: "sample" draws `k` individuals with replacement from
            `ctx.rng` (roulette-wheel selection); "allocate" draws nothing
            and returns each individual `round(k * share)` times in
            population order, the rounding adjusted so they add up to `k`
            (what PyGlove's `Proportional` does).

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), r, birth=i) for i, r in enumerate([0.0, 1.0, 3.0])]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.reward for x in Proportional(4, mode="allocate")(population, ctx)]
    [1.0, 3.0, 3.0, 3.0]
    >>> all(x.reward > 0 for x in Proportional(20)(population, ctx))
    True
    """

    k: Size
    weights: Callable[[list[Individual]], Sequence[float]] | None = None
    temperature: Annotated[float, Bounds(0.0, None)] | None = None
    mode: Literal["sample", "allocate"] = "sample"

    def _on_bound(self) -> None:
        super()._on_bound()
        if self.temperature is not None and self.temperature <= 0.0:
            raise FieldValueError(
                f"Proportional: `temperature` ({self.temperature}) is out of bounds: it must "
                "be positive (or None to use the weights as they are)",
                path="temperature",
            )

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        if not population:
            return []
        k = self._size("k", population, ctx)
        w = self._weights(population)
        if self.mode == "allocate":
            counts = _allocate(w, k)
            return [x for x, c in zip(population, counts, strict=True) for _ in range(c)]
        chosen = ctx.rng.choice(len(population), size=k, replace=True, p=w / w.sum())
        return [population[int(i)] for i in chosen]

    def _weights(self, population: list[Individual]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Each individual's weight (checked: finite, non-negative, not all zero)."""
        if self.weights is not None:
            raw = [float(w) for w in self.weights(population)]
            source = "`weights`"
        else:
            rewards = [x.reward for x in population]
            if any(r is None or isinstance(r, tuple) for r in rewards):
                raise AutomorphError(
                    "Proportional weighs individuals by their reward, which must be one "
                    "float; pass `weights=` for unevaluated or multi-objective individuals"
                )
            raw = [float(r) for r in rewards]  # type: ignore[arg-type]
            source = "the rewards"
        w = np.asarray(raw, dtype=float)
        if w.shape != (len(population),) or not np.all(np.isfinite(w)):
            raise AutomorphError(
                f"Proportional needs one finite weight per individual ({len(population)}); "
                f"{source} gave {raw!r}"
            )
        if self.temperature is not None:
            w = np.exp((w - w.max()) / self.temperature)
        elif w.min() < 0.0 or w.sum() <= 0.0:
            raise AutomorphError(
                f"Proportional needs non-negative weights that do not all vanish; {source} "
                f"gave {raw!r}: set `temperature` to weigh by softmax, or pass `weights=`"
            )
        return w


def _allocate(weights: np.ndarray[Any, np.dtype[np.float64]], k: int) -> list[int]:
    """`k` split in proportion to `weights`: each share rounded half up, then
    the surplus taken from the smallest non-zero weights, or the shortfall
    given to the largest, one at a time in turn."""
    total = float(weights.sum())
    counts = [int(k * float(w) / total + 0.5) for w in weights]
    extra = k - sum(counts)
    if extra == 0:
        return counts
    positive = [i for i, w in enumerate(weights) if w > 0]
    order = sorted(positive, key=lambda i: float(weights[i]), reverse=extra > 0)
    delta = 1 if extra > 0 else -1
    turn = 0
    while extra != 0:
        i = order[turn % len(order)]
        turn += 1
        if delta < 0 and counts[i] == 0:
            continue
        counts[i] += delta
        extra -= delta
    return counts
