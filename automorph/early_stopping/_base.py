"""`EarlyStoppingPolicy`: the contract of every early-stopping policy, and the registry.

A policy answers one question: given the measurements a trial has reported
so far and those of the study's other trials, should the trial stop now?

Policies are stateless: `should_stop` is a function of its arguments and the
policy's fields, so every worker of a shared study that reads the same
measurements from the study's storage gives the same answer, and a restarted
study needs nothing rebuilt.

Conventions every policy follows:

* A curve is a trial's `(step, reward)` measurements in the order they were
  reported. Steps are integers >= 0 (epochs, batches, any resource unit); a
  higher reward is better. NaN counts as the worst reward (minus infinity).
* A trial's *current step* is the largest step it has reported.
* A trial *reaches* step `s` with the first measurement (in report order) at
  step `s` or beyond; its value at `s` is computed from the measurements
  reported up to and including that one: what it had when it got there. When
  trials report every step, that is exactly its measurements at steps <= `s`.
* A policy judges a trial only when its latest measurement crosses one of the
  policy's checkpoints (a rung, a pruning step): the question "has this rung
  been judged yet?" is answered by the curve itself, so asking twice after the
  same measurement gives the same answer and nothing needs remembering.
* Early stopping is single-objective. The search loop never asks a policy
  about a multi-objective study (its trials do not stop early), and a policy
  given a tuple reward raises `FeedbackError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from automorph.symbolic import Object
from automorph.utils import AutomorphError, FeedbackError, Registry

Measurement = tuple[int, float]
"""One `(step, reward)` measurement."""

Curve = Sequence[tuple[int, float]]
"""A trial's measurements, in report order."""


class EarlyStoppingPolicy(Object, type_name="automorph.early_stopping.EarlyStoppingPolicy"):
    """Base class of early-stopping policies (see the module docstring).

    Lifecycle: a policy is built once with its fields and never changes while a
    study runs. After each measurement a trial reports, the search loop calls
    `should_stop` with the trial's curve and the other trials' curves, read
    from the study's storage; if it returns True, the trial ends early.

    Invariants:
        * `should_stop` depends only on its arguments and the policy's fields.
        * A trial with no measurement never stops.
        * `others` may hold running, finished and early-stopped trials; an
          entry for `trial_id` itself is ignored.

    `should_stop` is final: it checks the trial's curve and calls `_should_stop`,
    which subclasses implement; they read the other trials through
    `_other_curves`, which checks each curve as it reads it.
    """

    def should_stop(self, trial_id: int, curve: Curve, others: Mapping[int, Curve]) -> bool:
        """Whether trial `trial_id` should stop after its latest measurement.

        Args:
            trial_id: The id of the trial being judged.
            curve: Its `(step, reward)` measurements, in report order.
            others: The curves of the study's other trials, by trial id.

        Raises:
            FeedbackError: If a curve holds something other than `(step,
                reward)` pairs with an integer step >= 0 and a number as the
                reward (a tuple reward: multi-objective studies do not stop
                early).
            AutomorphError: If the policy still holds hyper-values.
        """
        if self.sym_abstract:
            raise AutomorphError(
                f"{type(self).__name__} holds hyper-values; materialize it before "
                "asking it whether to stop"
            )
        if not isinstance(others, Mapping):
            raise FeedbackError(
                f"`others` must map trial ids to curves, got {type(others).__name__}"
            )
        trial_id = check_trial_id(trial_id)
        checked = check_curve(trial_id, curve)
        if not checked:
            return False
        return self._should_stop(trial_id, checked, others)

    def _should_stop(
        self, trial_id: int, curve: list[Measurement], others: Mapping[int, Curve]
    ) -> bool:
        """The decision, on a checked, non-empty `curve` of the trial."""
        raise NotImplementedError

    @staticmethod
    def _other_curves(
        trial_id: int, others: Mapping[int, Curve], keep: Callable[[int], bool] | None = None
    ) -> Iterator[tuple[int, list[Measurement]]]:
        """The other trials' checked curves (`trial_id`'s own entry left out),
        only those whose id passes `keep` if given."""
        for other_id, other in others.items():
            other_id = check_trial_id(other_id)
            if other_id != trial_id and (keep is None or keep(other_id)):
                yield other_id, check_curve(other_id, other)


def check_trial_id(trial_id: Any) -> int:
    """`trial_id` as an int.

    Raises:
        FeedbackError: If it is not an integer.
    """
    if type(trial_id) is int:
        return trial_id
    if isinstance(trial_id, bool) or not isinstance(trial_id, (int, np.integer)):
        raise FeedbackError(f"trial ids are integers, got {type(trial_id).__name__} ({trial_id!r})")
    return int(trial_id)


def check_curve(trial_id: Any, curve: Any) -> list[Measurement]:
    """`curve` as a list of `(int step, float reward)` pairs; NaN becomes -inf.

    Raises:
        FeedbackError: If `curve` is not a sequence of `(step, reward)` pairs
            with an integer step >= 0 and a (non-tuple) number as the reward.

    >>> check_curve(7, [(0, 1), (1, float("nan"))])
    [(0, 1.0), (1, -inf)]
    """
    if not isinstance(curve, Sequence) or isinstance(curve, (str, bytes)):
        raise FeedbackError(
            f"the curve of trial {trial_id} must be a sequence of (step, reward) pairs, "
            f"got {type(curve).__name__}"
        )
    checked: list[Measurement] = []
    for i, item in enumerate(curve):
        if type(item) is tuple and len(item) == 2:
            step, reward = item
        elif isinstance(item, Sequence) and not isinstance(item, (str, bytes)) and len(item) == 2:
            step, reward = item[0], item[1]
        else:
            raise FeedbackError(
                f"measurement {i} of trial {trial_id} must be a (step, reward) pair, got {item!r}"
            )
        if type(step) is not int:
            if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
                raise FeedbackError(
                    f"measurement {i} of trial {trial_id} has the step {step!r}; "
                    "steps are integers >= 0"
                )
            step = int(step)
        if step < 0:
            raise FeedbackError(
                f"measurement {i} of trial {trial_id} has the step {step}; steps are integers >= 0"
            )
        checked.append((step, _reward(trial_id, i, step, reward)))
    return checked


def _reward(trial_id: Any, index: int, step: int, reward: Any) -> float:
    if type(reward) is not float:
        if isinstance(reward, (tuple, list, np.ndarray)):
            raise FeedbackError(
                f"trial {trial_id} reported the reward {reward!r} at step {step}: early "
                "stopping is single-objective (multi-objective studies do not stop early)"
            )
        if isinstance(reward, bool) or not isinstance(reward, (int, float, np.number)):
            raise FeedbackError(
                f"measurement {index} of trial {trial_id} has the reward {reward!r}; "
                "a reward must be a number"
            )
        reward = float(reward)
    return -math.inf if reward != reward else reward


def current_step(curve: Sequence[Measurement]) -> int:
    """The largest step of a non-empty checked curve."""
    return max(step for step, _ in curve)


def previous_step(curve: Sequence[Measurement]) -> int:
    """The largest step before the latest measurement (-1 if there is none)."""
    return max((step for step, _ in curve[:-1]), default=-1)


def reached(curve: Sequence[Measurement], step: int) -> list[float] | None:
    """The rewards a checked curve had when it reached `step` (see the module
    docstring), or None if it has not reached it.

    >>> reached([(1, 0.1), (2, 0.3), (4, 0.2)], 3)
    [0.1, 0.3, 0.2]
    >>> reached([(1, 0.1), (2, 0.3)], 3) is None
    True
    """
    rewards: list[float] = []
    for s, reward in curve:
        rewards.append(reward)
        if s >= step:
            return rewards
    return None


def mean(values: Sequence[float]) -> float:
    """The mean of `values`; -inf where infinities of both signs meet."""
    total = sum(values) / len(values)
    return -math.inf if total != total else total


# --- the registry --------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., EarlyStoppingPolicy])

_REGISTRY: Registry[EarlyStoppingPolicy] = Registry("early-stopping policy")


def register(name: str) -> Callable[[F], F]:
    """Registers an early-stopping policy factory under `name`.

    Raises:
        RegistrationError: If `name` is already taken by another factory.
    """
    return _REGISTRY.register(name)


def create(name: str, **options: Any) -> EarlyStoppingPolicy:
    """A new policy of the registered `name`, with `options` as its fields.

    Raises:
        RegistrationError: If no policy has that name (the message lists them).

    >>> from automorph import early_stopping
    >>> early_stopping.create("median", min_trials=3)
    MedianStopping(min_trials=3, warmup_steps=0, interval_steps=1)
    """
    return _REGISTRY.create(name, **options)


def names() -> list[str]:
    """The registered policy names, sorted.

    >>> from automorph import early_stopping
    >>> early_stopping.names()
    ['hyperband', 'median', 'none', 'successive_halving']
    """
    return _REGISTRY.names()


@register("none")
class NoStopping(EarlyStoppingPolicy, type_name="automorph.early_stopping.NoStopping"):
    """Never stops a trial: every trial runs to its end.

    >>> from automorph import early_stopping
    >>> early_stopping.NoStopping().should_stop(0, [(1, -1e9)], {1: [(1, 1.0)]})
    False
    """

    def _should_stop(
        self, trial_id: int, curve: list[Measurement], others: Mapping[int, Curve]
    ) -> bool:
        return False
