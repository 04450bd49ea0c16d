"""The operator algebra: composing evolution operators beyond `>>`.

Every composite passes the same population to its parts (except `Power`,
which chains its part) and combines what they return, as PyGlove's
`pg.evolution` operations do:

    a + b       Concatenation: a's output, then b's (duplicates kept)
    a * k       Repeat: a applied k times to the same input, outputs concatenated
    a ** k      Power: a >> a >> ... >> a, k times
    a | b       Union: a's output, then what b adds; each individual once
    a & b       Intersection: a's output that b also returns (a's repeats kept)
    a - b       Difference: a's output that b does not return
    a ^ b       SymmetricDifference: what exactly one of a, b returns
    a[i], a[i:j:s]   Slice of a's output (a list, even for one index)
    a.if_true(p), a.if_false(p)   Conditional: a only where p holds (or not)
    a.with_prob(p)   Choice: a with probability p (drawn from the pipeline's generator)

Set operations compare individuals by identity, not by DNA: two children
with equal DNA are two individuals, and a selector's output is the very
individuals of the population (what PyGlove does with `id()`). `+`, `|` and
`&` flatten chains (`a + b + c` is one `Concatenation` of three); `-`
flattens its left side only; `^` never does.

Counts (`k`) may be schedules over the step (see `Schedule`), and
predicates are `Condition`s (symbolic, so the algorithm still serializes)
or plain callables of the population that may take the step as keyword
`step`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

import numpy as np

from automorph.algorithms._operators import Individual, Operator, OperatorContext
from automorph.algorithms._schedules import scalar_at
from automorph.symbolic import Bounds, Object
from automorph.utils import AutomorphError, FieldTypeError

Count = Annotated[int, Bounds(0, None)] | Callable[[int], Any]


def _parts(operator: Operator, kind: type[Operator]) -> list[Operator]:
    """The parts of `operator` if it is a `kind` composite, else `[operator]`."""
    if type(operator) is kind:
        return list(operator.operators)  # type: ignore[attr-defined]
    return [operator]


def _count(value: Any, ctx: OperatorContext, who: str) -> int:
    k = scalar_at(value, ctx.step)
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 0:
        return int(k)
    raise AutomorphError(
        f"{who}: the schedule of `k` returned {k!r} at step {ctx.step}; it must be an int >= 0"
    )


class Identity(Operator, type_name="automorph.algorithms.Identity"):
    """Returns its input (PyGlove's `Identity`): `Identity() - Bottom(1)` drops the worst.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), float(i), birth=i) for i in range(3)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> from automorph.algorithms import Bottom
    >>> [x.reward for x in (Identity() - Bottom(1))(population, ctx)]
    [1.0, 2.0]
    """

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        return list(population)


class Concatenation(Operator, type_name="automorph.algorithms.Concatenation"):
    """`a + b`: each operator's output for the same input, one after another.

    Attributes:
        operators: The parts, applied in order to the same input.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> from automorph.algorithms import First, Last
    >>> population = [Individual(DNA({"x": i}), 1.0, birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.birth for x in (First(2) + Last(2) + First(1))(population, ctx)]
    [0, 1, 3, 4, 0]
    """

    operators: list[Operator] = []

    @classmethod
    def of(cls, a: Operator, b: Operator) -> Concatenation:
        """`a + b`, flattened."""
        if not isinstance(b, Operator):
            return NotImplemented
        return cls([*_parts(a, cls), *_parts(b, cls)])

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        out: list[Individual] = []
        for operator in self.operators:
            out.extend(operator(population, ctx))
        return out


class Union(Operator, type_name="automorph.algorithms.Union"):
    """`a | b`: every individual any part returns, once, in order of appearance.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> from automorph.algorithms import First, Last
    >>> population = [Individual(DNA({"x": i}), 1.0, birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.birth for x in (First(3) | Last(3))(population, ctx)]
    [0, 1, 2, 3, 4]
    """

    operators: list[Operator] = []

    @classmethod
    def of(cls, a: Operator, b: Operator) -> Union:
        """`a | b`, flattened."""
        if not isinstance(b, Operator):
            return NotImplemented
        return cls([*_parts(a, cls), *_parts(b, cls)])

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        seen: set[int] = set()
        out: list[Individual] = []
        for operator in self.operators:
            for x in operator(population, ctx):
                if id(x) not in seen:
                    seen.add(id(x))
                    out.append(x)
        return out


class Intersection(Operator, type_name="automorph.algorithms.Intersection"):
    """`a & b`: the first part's output that every other part also returns.

    The first part's order and repeats are kept (as PyGlove keeps them).

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> from automorph.algorithms import First, Last
    >>> population = [Individual(DNA({"x": i}), 1.0, birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.birth for x in (First(3) & Last(3))(population, ctx)]
    [2]
    """

    operators: list[Operator] = []

    @classmethod
    def of(cls, a: Operator, b: Operator) -> Intersection:
        """`a & b`, flattened."""
        if not isinstance(b, Operator):
            return NotImplemented
        return cls([*_parts(a, cls), *_parts(b, cls)])

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        if not self.operators:
            return []
        others = [{id(x) for x in op(population, ctx)} for op in self.operators[1:]]
        first = self.operators[0](population, ctx)
        return [x for x in first if all(id(x) in ids for ids in others)]


class Difference(Operator, type_name="automorph.algorithms.Difference"):
    """`a - b`: the first part's output that no other part returns.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> from automorph.algorithms import First
    >>> population = [Individual(DNA({"x": i}), 1.0, birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.birth for x in (Identity() - First(2))(population, ctx)]
    [2, 3, 4]
    """

    operators: list[Operator] = []

    @classmethod
    def of(cls, a: Operator, b: Operator) -> Difference:
        """`a - b`; `(a - b) - c` is one difference of three."""
        if not isinstance(b, Operator):
            return NotImplemented
        return cls([*_parts(a, cls), b])

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        if not self.operators:
            return []
        excluded = {id(x) for op in self.operators[1:] for x in op(population, ctx)}
        return [x for x in self.operators[0](population, ctx) if id(x) not in excluded]


class SymmetricDifference(Operator, type_name="automorph.algorithms.SymmetricDifference"):
    """`a ^ b`: what exactly one part returns, in order of appearance.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> from automorph.algorithms import First, Last
    >>> population = [Individual(DNA({"x": i}), 1.0, birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.birth for x in (First(3) ^ Last(3))(population, ctx)]
    [0, 1, 3, 4]
    """

    operators: list[Operator] = []

    @classmethod
    def of(cls, a: Operator, b: Operator) -> SymmetricDifference:
        """`a ^ b` (not flattened: `(a ^ b) ^ c` is not `a ^ b ^ c` of three)."""
        if not isinstance(b, Operator):
            return NotImplemented
        return cls([a, b])

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        owners: dict[int, set[int]] = {}
        items: list[Individual] = []
        for i, operator in enumerate(self.operators):
            for x in operator(population, ctx):
                items.append(x)
                owners.setdefault(id(x), set()).add(i)
        return [x for x in items if len(owners[id(x)]) == 1]


class Repeat(Operator, type_name="automorph.algorithms.Repeat"):
    """`a * k`: `a` applied `k` times to the same input, outputs concatenated.

    `Mutate() * 3` makes three children of each parent; `Mutate() ** 3`
    (see `Power`) makes one child mutated three times.

    Attributes:
        operator: The operator to repeat.
        k: How many times (an int >= 0 or a schedule of the step).

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> from automorph.algorithms import Top
    >>> population = [Individual(DNA({"x": i}), float(i), birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.birth for x in (Top(1) * 3)(population, ctx)]
    [4, 4, 4]
    """

    operator: Operator
    k: Count

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        out: list[Individual] = []
        for _ in range(_count(self.k, ctx, "Repeat")):
            out.extend(self.operator(population, ctx))
        return out


class Power(Operator, type_name="automorph.algorithms.Power"):
    """`a ** k`: `a` applied `k` times in a row, each to the previous output.

    Attributes:
        operator: The operator to chain.
        k: How many times (an int >= 0 or a schedule of the step; 0 returns
            the input).

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), 1.0, birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.birth for x in (Identity()[1:] ** 2)(population, ctx)]
    [2, 3, 4]
    """

    operator: Operator
    k: Count

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        for _ in range(_count(self.k, ctx, "Power")):
            population = self.operator(population, ctx)
        return population


class Slice(Operator, type_name="automorph.algorithms.Slice"):
    """`a[index]` or `a[start:stop:stride]`: part of `a`'s output, as a list.

    An index out of range gives an empty list (PyGlove raises IndexError;
    early in a search a population is often smaller than a pipeline
    expects).

    Attributes:
        operator: The operator whose output is sliced.
        index: One position (a list of one individual), or None for a slice.
        start, stop, stride: The slice, as Python's.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> population = [Individual(DNA({"x": i}), 1.0, birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> [x.birth for x in Identity()[::2](population, ctx)], Identity()[-1]
    ([0, 2, 4], Slice(operator=Identity(), index=-1, start=None, stop=None, stride=None))
    """

    operator: Operator
    index: int | None = None
    start: int | None = None
    stop: int | None = None
    stride: int | None = None

    @classmethod
    def of(cls, operator: Operator, key: int | slice) -> Slice:
        """`operator[key]`."""
        if isinstance(key, int) and not isinstance(key, bool):
            return cls(operator, index=key)
        if isinstance(key, slice):
            return cls(operator, start=key.start, stop=key.stop, stride=key.step)
        raise FieldTypeError(
            f"an operator is sliced by an int or a slice (`op[0]`, `op[1:3]`), got "
            f"{type(key).__name__} ({key!r})"
        )

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        out = self.operator(population, ctx)
        if self.index is not None:
            return [out[self.index]] if -len(out) <= self.index < len(out) else []
        return out[self.start : self.stop : self.stride]


# --- conditions ------------------------------------------------------------------


class Condition(Object, type_name="automorph.algorithms.Condition"):
    """Base of symbolic predicates for `Conditional`: `condition(population, step)`.

    >>> Every(3)([], step=6), Every(3)([], step=7)
    (True, False)
    """

    def __call__(self, population: list[Individual], step: int) -> bool:
        """Whether the condition holds for `population` at `step`."""
        raise NotImplementedError(f"{type(self).__name__} must implement `__call__`")


class Every(Condition, type_name="automorph.algorithms.Every"):
    """Holds every `n` steps: when `step % n == offset`.

    >>> [Every(2, offset=1)([], step=s) for s in range(4)]
    [False, True, False, True]
    """

    n: Annotated[int, Bounds(1, None)]
    offset: Annotated[int, Bounds(0, None)] = 0

    def __call__(self, population: list[Individual], step: int) -> bool:
        return step % self.n == self.offset


class StepRange(Condition, type_name="automorph.algorithms.StepRange"):
    """Holds while `start <= step < stop` (no end if `stop` is None).

    >>> [StepRange(1, 3)([], step=s) for s in range(4)]
    [False, True, True, False]
    """

    start: Annotated[int, Bounds(0, None)] = 0
    stop: int | None = None

    def __call__(self, population: list[Individual], step: int) -> bool:
        return self.start <= step and (self.stop is None or step < self.stop)


class PopulationSize(Condition, type_name="automorph.algorithms.PopulationSize"):
    """Holds while the population has between `at_least` and `at_most` members.

    >>> PopulationSize(at_least=2)([], step=0), PopulationSize(at_most=3)([], step=0)
    (False, True)
    """

    at_least: Annotated[int, Bounds(0, None)] = 0
    at_most: int | None = None

    def __call__(self, population: list[Individual], step: int) -> bool:
        n = len(population)
        return self.at_least <= n and (self.at_most is None or n <= self.at_most)


def _takes_step(predicate: Callable[..., Any]) -> bool:
    """Whether a plain predicate accepts the keyword `step`."""
    try:
        parameters = inspect.signature(predicate).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == "step" and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for p in parameters
    )


class Conditional(Operator, type_name="automorph.algorithms.Conditional"):
    """`true_op` where `predicate` holds, else `false_op`; a missing branch
    returns the input unchanged.

    `op.if_true(p)` is `Conditional(p, true_op=op)` and `op.if_false(p)` is
    `Conditional(p, false_op=op)`.

    Attributes:
        predicate: A `Condition` (called as `predicate(population, step)`),
            or a plain callable of the population that may take the step as
            keyword `step` (a lambda does not serialize).
        true_op: Applied where the predicate holds.
        false_op: Applied where it does not.

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> from automorph.algorithms import Top
    >>> population = [Individual(DNA({"x": i}), float(i), birth=i) for i in range(5)]
    >>> late = Top(1).if_true(StepRange(start=10))
    >>> len(late(population, OperatorContext(Space(), np.random.default_rng(0), step=3)))
    5
    >>> len(late(population, OperatorContext(Space(), np.random.default_rng(0), step=12)))
    1
    """

    predicate: Callable[..., Any]
    true_op: Operator | None = None
    false_op: Operator | None = None

    def _on_bound(self) -> None:
        self._pass_step = isinstance(self.predicate, Condition) or _takes_step(self.predicate)

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        if self._pass_step:
            holds = self.predicate(population, step=ctx.step)
        else:
            holds = self.predicate(population)
        branch = self.true_op if holds else self.false_op
        return population if branch is None else branch(population, ctx)


Probability = Annotated[float, Bounds(0.0, 1.0)] | Callable[[int], Any]


class Choice(Operator, type_name="automorph.algorithms.Choice"):
    """Operators applied in a row, each with its probability (PyGlove's `Choice`).

    Each (operator, probability) in turn is applied, to what the previous
    one returned, when a uniform draw from `ctx.rng` falls below its
    probability (a number or a schedule of the step); at most `limit`
    operators are applied. `op.with_prob(p)` is `Choice([(op, p)])`.

    Attributes:
        operators: The (operator, probability) pairs, in order.
        limit: The most operators applied (None: no limit).

    >>> import numpy as np
    >>> from automorph.geno import DNA, Space
    >>> from automorph.algorithms import First
    >>> population = [Individual(DNA({"x": i}), 1.0, birth=i) for i in range(5)]
    >>> ctx = OperatorContext(Space(), np.random.default_rng(0))
    >>> sizes = [len(First(1).with_prob(0.25)(population, ctx)) for _ in range(400)]
    >>> 80 < sizes.count(1) < 120
    True
    """

    operators: list[tuple[Operator, Probability]] = []
    limit: Annotated[int, Bounds(0, None)] | None = None

    def __call__(self, population: list[Individual], ctx: OperatorContext) -> list[Individual]:
        applied = 0
        for operator, probability in self.operators:
            if self.limit is not None and applied >= self.limit:
                break
            p = scalar_at(probability, ctx.step)
            if ctx.rng.random() < p:
                population = operator(population, ctx)
                applied += 1
        return population
