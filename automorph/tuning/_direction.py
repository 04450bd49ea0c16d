"""Which way a study searches: maximize (the default) or minimize each objective.

Algorithms always maximize. A study that minimizes gives its algorithm the
negated reward (`for_algorithm`) while the user's own value is what trials
record, stores keep, and results, the command line and plots show.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from automorph.algorithms import Reward, violation
from automorph.storage import DIRECTIONS
from automorph.tuning._trial import stored_constraints
from automorph.utils import FeedbackError, FieldTypeError, FieldValueError

T = TypeVar("T")

Directions = tuple[str, ...]
"""One direction per objective, or one direction for every objective."""

MAXIMIZE: Directions = ("maximize",)


def resolve(minimize: Any, direction: Any) -> Directions | None:
    """The directions the user asked for with `minimize` or `direction`, or
    None if they gave neither.

    Raises:
        FieldTypeError: If `minimize` is not a bool, or `direction` is not a
            string or a list of strings.
        FieldValueError: If a direction is neither "maximize" nor "minimize",
            or `minimize` and `direction` disagree.

    >>> resolve(True, None), resolve(None, ["maximize", "minimize"]), resolve(None, None)
    (('minimize',), ('maximize', 'minimize'), None)
    """
    if minimize is not None and type(minimize) is not bool:
        raise FieldTypeError(f"`minimize` must be True or False, got {minimize!r}")
    if direction is None:
        if minimize is None:
            return None
        return ("minimize",) if minimize else MAXIMIZE
    if isinstance(direction, str):
        wanted: Directions = (direction,)
    elif isinstance(direction, (list, tuple)) and direction:
        wanted = tuple(direction)
    else:
        raise FieldTypeError(
            "`direction` must be 'maximize' or 'minimize', or a non-empty list of them (one "
            f"per objective), got {direction!r}"
        )
    for item in wanted:
        if item not in DIRECTIONS:
            raise FieldValueError(
                f"`direction` must be 'maximize' or 'minimize' (or a list of them, one per "
                f"objective), got {item!r}"
            )
    if minimize is not None and set(wanted) != {"minimize" if minimize else "maximize"}:
        raise FieldValueError(
            f"`minimize={minimize}` and `direction={direction!r}` disagree; give one of them"
        )
    return wanted


def check_for(directions: Directions, multi_objective: bool) -> None:
    """Raises FieldValueError if several directions are given to a single-objective search."""
    if len(directions) > 1 and not multi_objective:
        raise FieldValueError(
            f"`direction` lists {len(directions)} directions, but the algorithm is "
            "single-objective; give one direction, or a multi-objective algorithm"
        )


def minimizes(directions: Directions) -> bool:
    """Whether any objective is minimized."""
    return "minimize" in directions


def for_algorithm(reward: Reward, directions: Directions, trial_id: int | None = None) -> Reward:
    """`reward` as the algorithm sees it: minimized objectives negated.

    Raises:
        FeedbackError: If the directions list a different number of
            objectives than the reward has.

    >>> for_algorithm(2.0, ("minimize",)), for_algorithm((1.0, 2.0), ("maximize", "minimize"))
    (-2.0, (1.0, -2.0))
    """
    if not minimizes(directions):
        return reward
    if isinstance(reward, tuple):
        if len(directions) > 1 and len(directions) != len(reward):
            where = f"trial {trial_id}: " if trial_id is not None else ""
            raise FeedbackError(
                f"{where}the reward has {len(reward)} objectives but the study has "
                f"{len(directions)} directions ({', '.join(directions)})"
            )
        signs = directions * len(reward) if len(directions) == 1 else directions
        return tuple(-r if d == "minimize" else r for r, d in zip(reward, signs, strict=True))
    return -reward if directions[0] == "minimize" else reward


def better(a: float, b: float | None, directions: Sequence[str]) -> bool:
    """Whether the single-objective reward `a` beats `b` (None: nothing yet)."""
    if b is None:
        return True
    return a < b if directions[0] == "minimize" else a > b


def rank_key(reward: float, excess: float, directions: Sequence[str]) -> tuple[float, float]:
    """A sort key of a single-objective trial by Deb's rules (smaller is
    better): feasible trials (`excess`, the total violation, 0) by reward in
    the study's direction, then infeasible ones by violation.

    >>> rank_key(2.0, 0.0, ("minimize",)) < rank_key(1.0, 0.5, ("minimize",))
    True
    """
    if excess > 0.0:
        return (excess, 0.0)
    return (0.0, reward if directions[0] == "minimize" else -reward)


def trial_violation(trial: Any) -> float:
    """The total constraint violation of a `Trial` or a stored record (from
    its metadata); 0.0 without constraints."""
    return violation(stored_constraints(getattr(trial, "metadata", None)))


def best_of(trials: Iterable[T], directions: Sequence[str]) -> T | None:
    """The first trial (a `Trial` or a stored record) with the best
    single-objective reward, or None if none has a float reward. In a
    constrained study the best is feasible if any trial is (see `rank_key`)."""
    best: T | None = None
    best_key: tuple[float, float] | None = None
    for trial in trials:
        reward = getattr(trial, "reward", None)
        if isinstance(reward, float):
            key = rank_key(reward, trial_violation(trial), directions)
            if best_key is None or key < best_key:
                best, best_key = trial, key
    return best


def describe(directions: Sequence[str]) -> str:
    """'maximized', 'minimized', or 'maximize, minimize' for mixed objectives."""
    if len(set(directions)) == 1:
        return "minimized" if directions[0] == "minimize" else "maximized"
    return ", ".join(directions)
