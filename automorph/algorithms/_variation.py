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
from typing import Annotated, Any, Literal

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
    clipped to its bounds, or with `float_step="uniform"` is drawn afresh,
    uniformly over its range (log-uniformly for a log scale); an int moves
    to a different value; a custom decision calls its hooks' `mutate`.
    Decisions that have no other value are never picked.

    A pick of a multi-pick choice that moves (swapped with the pick that
    held the new candidate, or re-sorted) keeps its sub-decisions, so every
    one-step neighbour is reachable and only the mutated pick changes.

    Attributes:
        rate: None to mutate exactly one active decision, chosen uniformly;
            else each active decision mutates with this probability (and one
            at random if none did).
        sigma: Step size of float decisions, as a fraction of their range.
        float_step: "gaussian" (a local step of `sigma`) or "uniform" (a
            fresh value, as PyGlove's `Uniform` mutator draws floats).

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
    float_step: Literal["gaussian", "uniform"] = "gaussian"

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
        moved: dict[str, Choices] = {}
        for decision_id, point in chosen:
            values.update(self._changes(decision_id, point, values, groups, rng))
            if isinstance(point, Choices) and point.num_choices > 1:
                moved[_base(decision_id)] = point
        for base, point in sorted(moved.items(), key=lambda item: -len(item[0])):
            ids = groups[base]  # inner multi-picks first: an outer move carries them along
            old = [dna[i] for i in ids]
            new = [values[i] for i in ids]
            move_picks(values, ids, old, new, _origins(old, new, point.distinct), point.sorted)
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
            if self.float_step == "uniform":
                if point.scale == "log":
                    return {decision_id: math.exp(rng.uniform(math.log(lo), math.log(hi)))}
                return {decision_id: float(rng.uniform(lo, hi))}
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


def _origins(old: list[int], new: list[int], distinct: bool) -> list[int | None]:
    """Where each new pick was among the old ones (None: a new candidate)."""
    origins: list[int | None] = []
    for j, value in enumerate(new):
        if value == old[j]:
            origins.append(j)
        elif distinct and value in old:
            origins.append(old.index(value))
        else:
            origins.append(None)
    return origins


def _under(key: str, prefix: str) -> bool:
    return key.startswith(prefix) and key[len(prefix) : len(prefix) + 1] in (".", "[")


def move_picks(
    values: dict[str, Any],
    ids: list[str],
    old: list[int],
    new: list[int],
    origins: list[int | None],
    sort: bool,
) -> None:
    """Sets the picks `ids` of a multi-pick choice to `new` in `values`: a pick
    that came from old position `origins[j]` takes that pick's sub-decisions
    along; a new candidate's (origin None) are left to be drawn. With `sort`,
    the picks are sorted first, each with its sub-decisions.

    >>> values = {"p[0]": 0, "p[0][=0].x": 7, "p[1]": 1}
    >>> move_picks(values, ["p[0]", "p[1]"], [0, 1], [1, 0], [1, 0], sort=False)
    >>> values
    {'p[0]': 1, 'p[1]': 0, 'p[1][=0].x': 7}
    """
    subtrees: list[dict[str, Any]] = []
    for decision_id, candidate in zip(ids, old, strict=True):
        prefix = f"{decision_id}[={candidate}]"
        subtrees.append({k[len(prefix) :]: v for k, v in values.items() if _under(k, prefix)})
    for key in [k for k in values if any(k.startswith(f"{i}[=") for i in ids)]:
        del values[key]
    pairs = list(zip(new, origins, strict=True))
    if sort:
        pairs.sort(key=lambda pair: pair[0])
    for decision_id, (candidate, origin) in zip(ids, pairs, strict=True):
        values[decision_id] = candidate
        if origin is not None:
            for suffix, value in subtrees[origin].items():
                values[f"{decision_id}[={candidate}]{suffix}"] = value


class Swap(Operator, type_name="automorph.algorithms.Swap"):
    """Swaps two picks of a multi-pick choice, each with its sub-decisions.

    The choice is drawn among the active unsorted multi-picks, then two of
    its positions (PyGlove's `Swap` mutator); a DNA without one is returned
    unchanged.

    >>> import automorph as am
    >>> import numpy as np
    >>> spec = am.dna_spec(am.Dict(p=am.permutate(["a", "b", "c"])))
    >>> parent = am.DNA({"p[0]": 0, "p[1]": 1, "p[2]": 2})
    >>> child = Swap().mutate(parent, spec, np.random.default_rng(0))
    >>> sorted(child.values()), sum(child[f"p[{j}]"] != j for j in range(3))
    ([0, 1, 2], 2)
    """

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        return [Individual(self.mutate(x.dna, ctx.spec, ctx.rng)) for x in population]

    def mutate(self, dna: DNA, spec: Space, rng: np.random.Generator) -> DNA:
        """A copy of `dna` with two picks swapped (`dna` itself if none can be)."""
        groups: dict[str, list[str]] = {}
        for decision_id, point in active_decisions(spec, dna, rng):
            if isinstance(point, Choices) and point.num_choices > 1 and not point.sorted:
                groups.setdefault(_base(decision_id), []).append(decision_id)
        if not groups:
            return dna
        ids = list(groups.values())[int(rng.integers(len(groups)))]
        i, j = (int(x) for x in rng.choice(len(ids), size=2, replace=False))
        old = [dna[k] for k in ids]
        new, origins = list(old), list[int | None](range(len(ids)))
        new[i], new[j], origins[i], origins[j] = old[j], old[i], j, i
        values = dict(dna)
        move_picks(values, ids, old, new, origins, sort=False)
        return spec.random_dna(rng, lambda decision_id, _: values.get(decision_id, MISSING))


# --- recombination -------------------------------------------------------------


class Recombinator(Operator, type_name="automorph.algorithms.Recombinator"):
    """Base of crossovers: each group of parents makes one child.

    Parents are grouped in order, by twos unless the recombinator takes more
    (`group_size`): (0, 1), (2, 3), ...; a last parent left alone is copied
    into a child unchanged. Subclasses implement `recombine` (two parents)
    or, to take more, `group_size` and `recombine_all`.

    >>> (UniformCrossover() >> Mutate()).operators[0]
    UniformCrossover(num_parents=2)
    """

    def group_size(self) -> int | None:
        """How many parents make one child (None: all of them)."""
        return 2

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        size = self.group_size() or max(len(population), 1)
        children = []
        for start in range(0, len(population), size):
            group = [x.dna for x in population[start : start + size]]
            if len(group) == 1:
                children.append(Individual(group[0]))
            else:
                children.append(Individual(self.recombine_all(group, ctx.spec, ctx.rng)))
        return children

    def recombine_all(self, parents: list[DNA], spec: Space, rng: np.random.Generator) -> DNA:
        """A child of `parents` (two or more; `recombine` for two)."""
        return self.recombine(parents[0], parents[1], spec, rng)

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
        return _inherit(decision_id, point, options, taken, rng)

    return spec.random_dna(rng, fill)


def _inherit(
    decision_id: str,
    point: DecisionPoint,
    options: list[Any],
    taken: dict[str, list[int]],
    rng: np.random.Generator,
) -> Any:
    """The child's value of a decision from its parents' `options` (the first
    parent's first): a custom decision is crossed with the next parent's
    value; a distinct pick takes the first value no earlier pick has taken
    (MISSING when all are: the child draws a free one)."""
    if isinstance(point, CustomDecisionPoint) and len(options) > 1:
        return point.hooks.crossover(options[0], options[1], rng)
    if isinstance(point, Choices) and point.distinct and point.num_choices > 1:
        picked = taken.setdefault(_base(decision_id), [])
        for value in options:
            if value not in picked:
                picked.append(value)
                return value
        return MISSING
    return options[0]


def _cross_many(spec: Space, parents: list[DNA], rng: np.random.Generator) -> DNA:
    """A child whose every decision comes from one of the parents that have
    it, each equally likely (the next such parent crosses a custom decision
    with it, and gives a distinct pick whose value is already taken)."""
    taken: dict[str, list[int]] = {}

    def fill(decision_id: str, point: DecisionPoint) -> Any:
        having = [p for p in parents if decision_id in p]
        if not having:
            return MISSING
        first = int(rng.integers(len(having))) if len(having) > 1 else 0
        options = [p[decision_id] for p in having[first:] + having[:first]]
        return _inherit(decision_id, point, options, taken, rng)

    return spec.random_dna(rng, fill)


class UniformCrossover(Recombinator, type_name="automorph.algorithms.UniformCrossover"):
    """Each decision of the child comes from one of its parents, each equally likely.

    With two parents (the default) each decision comes from either with
    probability 1/2; with `num_parents` > 2 (or None: all the parents it is
    given) one child is made of every group of that many parents, each
    decision drawn uniformly among the parents that have it. A decision
    only one parent has (under a choice the parents made differently) comes
    from that parent; a custom decision is crossed by its hooks'
    `crossover`.

    Attributes:
        num_parents: Parents per child (at least 2), or None for all.

    >>> import automorph as am
    >>> import numpy as np
    >>> spec = am.dna_spec(am.List([am.oneof([0, 1]) for _ in range(6)]))
    >>> a, b = spec.dna_from_numbers([0] * 6), spec.dna_from_numbers([1] * 6)
    >>> UniformCrossover().recombine(a, b, spec, np.random.default_rng(0)).to_numbers()
    [1, 0, 0, 0, 1, 1]
    >>> parents = [spec.dna_from_numbers([v] * 6) for v in (0, 1, 1)]
    >>> UniformCrossover(num_parents=3).recombine_all(parents, spec, np.random.default_rng(0))
    DNA({'[0]': 1, '[1]': 1, '[2]': 1, '[3]': 0, '[4]': 0, '[5]': 0})
    """

    num_parents: Annotated[int, Bounds(2, None)] | None = 2

    def group_size(self) -> int | None:
        return self.num_parents

    def recombine_all(self, parents: list[DNA], spec: Space, rng: np.random.Generator) -> DNA:
        if len(parents) == 2:
            return self.recombine(parents[0], parents[1], spec, rng)
        return _cross_many(spec, parents, rng)

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
