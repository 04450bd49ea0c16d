"""Constraints: values a trial reports besides its reward, each `<= 0` when met.

A constrained search (Optuna's, Deb's) asks more of a trial than a good
reward: every constraint value `c_i` must be at most 0. A trial that breaks
one is infeasible, and its total violation `sum(max(c_i, 0))` says how far
from feasible it is. Algorithms that steer by constraints (TPE, evolution
and NSGA-II; see `SearchAlgorithm.uses_constraints`) rank trials by Deb's
rules, as `feasibility_key` orders them: a feasible trial beats an infeasible
one, two infeasible trials compare by total violation, and two feasible
trials by reward. A trial that reports no constraints counts as feasible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from automorph.utils import FeedbackError

Constraints = tuple[float, ...]
"""The constraint values of one trial; each `<= 0` when the constraint is met."""


def check_constraints(constraints: Any, who: str = "constraints") -> Constraints:
    """`constraints` as algorithms take them: a non-empty tuple of finite floats.

    Args:
        constraints: A sequence of numbers (a list, a tuple, a 1-d array).
        who: What to call them in an error (`"trial 3: constraints"`).

    Raises:
        FeedbackError: If `constraints` is not a non-empty sequence of
            finite numbers (a NaN or an infinity would make every trial
            incomparable with it).

    >>> check_constraints([0, -1.5])
    (0.0, -1.5)
    >>> try:
    ...     check_constraints([float("nan")])
    ... except FeedbackError as e:
    ...     print(e)
    constraints must be finite numbers, got [nan]
    """
    if isinstance(constraints, np.ndarray):
        constraints = constraints.tolist()
    if not isinstance(constraints, (list, tuple)):
        raise FeedbackError(
            f"{who} must be a list of numbers (each <= 0 when met), got "
            f"{type(constraints).__name__} ({constraints!r})"
        )
    if not constraints:
        raise FeedbackError(f"{who} must hold at least one value, got an empty list")
    values: list[float] = []
    for value in constraints:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise FeedbackError(
                f"{who} must be numbers, got {type(value).__name__} ({value!r}) in "
                f"{list(constraints)!r}"
            )
        values.append(float(value))
    if not all(math.isfinite(v) for v in values):
        raise FeedbackError(f"{who} must be finite numbers, got {values!r}")
    return tuple(values)


def violation(constraints: Sequence[float] | None) -> float:
    """The total violation `sum(max(c, 0))`: 0.0 for a feasible trial (or
    one without constraints), more the further it is from feasible.

    >>> violation([-1.0, 0.0]), violation([0.5, -2.0, 0.25]), violation(None)
    (0.0, 0.75, 0.0)
    """
    if not constraints:
        return 0.0
    return float(sum(c for c in constraints if c > 0.0))


def is_feasible(constraints: Sequence[float] | None) -> bool:
    """Whether every constraint is met (`<= 0`); True without constraints.

    >>> is_feasible([-0.1, 0.0]), is_feasible([0.1]), is_feasible(None)
    (True, False, True)
    """
    return violation(constraints) == 0.0


def feasibility_key(reward: float, constraints: Sequence[float] | None) -> tuple[float, float]:
    """A sort key of Deb's rules for a single (maximized) reward: smaller is
    better. Feasible trials come first, best reward first; infeasible ones
    follow, least violation first.

    >>> sorted([(3.0, [1.0]), (1.0, None), (2.0, [-1.0]), (9.0, [0.5])],
    ...        key=lambda pair: feasibility_key(*pair))
    [(2.0, [-1.0]), (1.0, None), (9.0, [0.5]), (3.0, [1.0])]
    """
    excess = violation(constraints)
    return (excess, -reward) if excess == 0.0 else (excess, 0.0)
