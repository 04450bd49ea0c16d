"""Variation operators: mutation and crossover of DNA.

Both are built on `Space.random_dna(rng, fill)`: the child keeps the
decisions `fill` provides and draws the rest, so when a choice changes, the
sub-decisions of its new candidate are drawn fresh and the child is always a
valid DNA of the space, conditional and multi-pick spaces included.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import Annotated, Any

import numpy as np

from automorph.algorithms._operators import Individual, Operator, OperatorContext
from automorph.geno import DNA, Choices, CustomDecisionPoint, DecisionPoint, Float, Int, Space
from automorph.symbolic import Bounds
from automorph.utils import MISSING


def active_decisions(spec: Space, dna: DNA, rng: np.random.Generator) -> list[tuple[str, Any]]:
    """The (decision id, decision point) of every decision of `dna`, in order.

    `rng` is only handed to the walk; nothing is drawn from it for a valid DNA.

    >>> import automorph as am
    >>> spec = am.dna_spec(am.Dict(x=am.oneof([am.Dict(y=am.intv(0, 3)), 1])))
    >>> dna = am.DNA({"x": 0, "x[=0].y": 2})
    >>> [i for i, _ in active_decisions(spec, dna, np.random.default_rng(0))]
    ['x', 'x[=0].y']
    """
    found: list[tuple[str, DecisionPoint]] = []

    def fill(decision_id: str, point: DecisionPoint) -> Any:
        found.append((decision_id, point))
        return dna.get(decision_id, MISSING)

    spec.random_dna(rng, fill)
    return found


def _base(pick_id: str) -> str:
    """The id of a multi-pick choice, from the id `base[j]` of one of its picks."""
    return pick_id[: pick_id.rfind("[")]


def _other(n: int, current: int, rng: np.random.Generator) -> int:
    """A value of range(n) other than `current`, uniformly."""
    value = int(rng.integers(n - 1))
    return value + (value >= current)


class Mutate(Operator, type_name="automorph.algorithms.Mutate"):
    """Mutates each individual into a child that differs in a few decisions.

    Per kind of decision: a choice moves to a different candidate (a distinct
    multi-pick swaps with the pick that holds the new candidate, or, if
    sorted, takes a candidate not picked yet), and the sub-decisions of the
    new candidate are drawn fresh; a float takes a Gaussian step of standard
    deviation `sigma` times its range (in log space for a log scale),
    clipped to its bounds; an int moves to a different value; a custom
    decision calls its hooks' `mutate`. Decisions that have no other value
    are never picked.

    Attributes:
        rate: None to mutate exactly one active decision, chosen uniformly;
            else each active decision mutates with this probability (and one
            at random if none did).
        sigma: Step size of float decisions, as a fraction of their range.

    >>> import automorph as am
    >>> import numpy as np
    >>> spec = am.dna_spec(am.List([am.oneof([0, 1, 2]) for _ in range(4)]))
    >>> parent = am.DNA({"[0]": 0, "[1]": 0, "[2]": 0, "[3]": 0})
    >>> child = Mutate().mutate(parent, spec, np.random.default_rng(1))
    >>> sum(child[k] != parent[k] for k in parent)
    1
    """

    rate: Annotated[float, Bounds(0.0, 1.0)] | None = None
    sigma: Annotated[float, Bounds(0.0, None)] = 0.1

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        return [Individual(self.mutate(x.dna, ctx.spec, ctx.rng)) for x in population]

    def mutate(self, dna: DNA, spec: Space, rng: np.random.Generator) -> DNA:
        """A mutated copy of `dna` (`dna` itself if no decision can change)."""
        decisions = active_decisions(spec, dna, rng)
        groups: dict[str, list[str]] = {}
        for decision_id, point in decisions:
            if isinstance(point, Choices) and point.num_choices > 1:
                groups.setdefault(_base(decision_id), []).append(decision_id)
        mutable = [(i, p) for i, p in decisions if _can_change(p)]
        if not mutable:
            return dna
        if self.rate is None:
            chosen = [mutable[int(rng.integers(len(mutable)))]]
        else:
            mask = rng.random(len(mutable)) < self.rate
            chosen = [m for m, hit in zip(mutable, mask, strict=True) if hit]
            chosen = chosen or [mutable[int(rng.integers(len(mutable)))]]
        values = dict(dna)
        for decision_id, point in chosen:
            values.update(self._changes(decision_id, point, values, groups, rng))
        return spec.random_dna(rng, lambda decision_id, _: values.get(decision_id, MISSING))

    def _changes(
        self,
        decision_id: str,
        point: DecisionPoint,
        values: dict[str, Any],
        groups: dict[str, list[str]],
        rng: np.random.Generator,
    ) -> dict[str, Any]:
        """The new values of the decisions that mutating `decision_id` changes."""
        value = values[decision_id]
        if isinstance(point, Choices):
            return _change_choice(point, decision_id, values, groups, rng)
        if isinstance(point, Float):
            lo, hi = point.min_value, point.max_value
            if point.scale == "log":
                step = rng.normal(0.0, self.sigma * (math.log(hi) - math.log(lo)))
                new = math.exp(math.log(float(value)) + step)
            else:
                new = float(value) + rng.normal(0.0, self.sigma * (hi - lo))
            return {decision_id: min(max(float(new), lo), hi)}
        if isinstance(point, Int):
            span = point.max_value - point.min_value + 1
            return {decision_id: point.min_value + _other(span, value - point.min_value, rng)}
        if isinstance(point, CustomDecisionPoint):
            return {decision_id: point.hooks.mutate(value, rng)}
        return {decision_id: MISSING}  # an unknown kind of decision: draw it afresh


def _can_change(point: DecisionPoint) -> bool:
    """Whether a decision of `point` has another value to move to."""
    if isinstance(point, Choices):
        n = len(point.candidates)
        if point.distinct and point.sorted:
            return n > point.num_choices
        return n > 1
    if isinstance(point, Int):
        return point.max_value > point.min_value
    return True


def _change_choice(
    point: Choices,
    decision_id: str,
    values: dict[str, Any],
    groups: dict[str, list[str]],
    rng: np.random.Generator,
) -> dict[str, Any]:
    n, current = len(point.candidates), values[decision_id]
    if point.num_choices == 1 or not point.distinct:
        return {decision_id: _other(n, current, rng)}
    ids = groups[_base(decision_id)]
    picks = [values[i] for i in ids]
    if point.sorted:
        free = [i for i in range(n) if i not in picks]
        return {decision_id: free[int(rng.integers(len(free)))]}
    new = _other(n, current, rng)
    changes = {decision_id: new}
    if new in picks:  # swap with the pick that holds `new`, keeping the picks distinct
        changes[ids[picks.index(new)]] = current
    return changes


# --- recombination -------------------------------------------------------------


class Recombinator(Operator, type_name="automorph.algorithms.Recombinator"):
    """Base of crossovers: each pair of parents makes one child.

    Parents are paired in order, (0, 1), (2, 3), ...; an odd last parent is
    copied into a child unchanged. Subclasses implement `recombine`.

    >>> UniformCrossover() >> Mutate()
    Pipeline(operators=[UniformCrossover(), Mutate(rate=None, sigma=0.1)])
    """

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        children = [
            Individual(self.recombine(a.dna, b.dna, ctx.spec, ctx.rng))
            for a, b in zip(population[0::2], population[1::2], strict=False)
        ]
        if len(population) % 2:
            children.append(Individual(population[-1].dna))
        return children

    def recombine(self, a: DNA, b: DNA, spec: Space, rng: np.random.Generator) -> DNA:
        """A child of parents `a` and `b`."""
        raise NotImplementedError(f"{type(self).__name__} must implement `recombine`")


def _cross(
    spec: Space, a: DNA, b: DNA, rng: np.random.Generator, from_a: Callable[[int], bool]
) -> DNA:
    """A child whose decision number `i` (in the child's order) comes from
    `a` if `from_a(i)`, else from `b`, or from the other parent where the
    first lacks it; a custom decision both have is crossed by its hooks."""
    taken: dict[str, list[int]] = {}
    position = 0

    def fill(decision_id: str, point: DecisionPoint) -> Any:
        nonlocal position
        first, second = (a, b) if from_a(position) else (b, a)
        position += 1
        options = [p[decision_id] for p in (first, second) if decision_id in p]
        if not options:
            return MISSING
        if isinstance(point, CustomDecisionPoint) and len(options) == 2:
            return point.hooks.crossover(options[0], options[1], rng)
        if isinstance(point, Choices) and point.distinct and point.num_choices > 1:
            picked = taken.setdefault(_base(decision_id), [])
            for value in options:
                if value not in picked:
                    picked.append(value)
                    return value
            return MISSING  # both parents' picks are taken: draw a free one
        return options[0]

    return spec.random_dna(rng, fill)


class UniformCrossover(Recombinator, type_name="automorph.algorithms.UniformCrossover"):
    """Each decision of the child comes from either parent with probability 1/2.

    A decision only one parent has (under a choice the parents made
    differently) comes from that parent; a custom decision both have is
    crossed by its hooks' `crossover`.

    >>> import automorph as am
    >>> import numpy as np
    >>> spec = am.dna_spec(am.List([am.oneof([0, 1]) for _ in range(6)]))
    >>> a, b = spec.dna_from_numbers([0] * 6), spec.dna_from_numbers([1] * 6)
    >>> UniformCrossover().recombine(a, b, spec, np.random.default_rng(0)).to_numbers()
    [1, 0, 0, 0, 1, 1]
    """

    def recombine(self, a: DNA, b: DNA, spec: Space, rng: np.random.Generator) -> DNA:
        return _cross(spec, a, b, rng, lambda _: bool(rng.random() < 0.5))


class PointCrossover(Recombinator, type_name="automorph.algorithms.PointCrossover"):
    """The child's decisions, in order, come from alternate parents between cut points.

    The cuts are drawn among the positions of the first parent's decisions;
    before the first cut decisions come from the first parent. A decision the
    current parent lacks comes from the other; a custom decision both have is
    crossed by its hooks' `crossover`.

    Attributes:
        num_points: How many cut points (fewer if the DNA is too short).

    >>> import automorph as am
    >>> import numpy as np
    >>> spec = am.dna_spec(am.List([am.oneof([0, 1]) for _ in range(6)]))
    >>> a, b = spec.dna_from_numbers([0] * 6), spec.dna_from_numbers([1] * 6)
    >>> PointCrossover().recombine(a, b, spec, np.random.default_rng(0)).to_numbers()
    [0, 0, 0, 0, 0, 1]
    """

    num_points: Annotated[int, Bounds(1, None)] = 1

    def recombine(self, a: DNA, b: DNA, spec: Space, rng: np.random.Generator) -> DNA:
        positions = len(a) - 1  # a cut before decision 1, 2, ..., len(a) - 1
        cuts: list[int] = []
        if positions > 0:
            count = min(self.num_points, positions)
            cuts = sorted(int(c) + 1 for c in rng.choice(positions, size=count, replace=False))
        return _cross(spec, a, b, rng, lambda i: bisect.bisect_right(cuts, i) % 2 == 0)
