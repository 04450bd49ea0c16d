"""Asynchronous successive halving (ASHA) and Hyperband over it.

References:
    Li et al., "A System for Massively Parallel Hyperparameter Tuning",
    MLSys 2020 (ASHA). Li et al., "Hyperband: A Novel Bandit-Based Approach
    to Hyperparameter Optimization", JMLR 2018.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY
from typing import Annotated

from automorph.early_stopping._base import (
    Curve,
    EarlyStoppingPolicy,
    Measurement,
    check_trial_id,
    current_step,
    previous_step,
    reached,
    register,
)
from automorph.symbolic import Bounds
from automorph.utils import FieldValueError


@register("successive_halving")
class SuccessiveHalving(
    EarlyStoppingPolicy, type_name="automorph.early_stopping.SuccessiveHalving"
):
    """Asynchronous successive halving (ASHA, Li et al. 2020).

    Rung `k` (k = 0, 1, ...) sits at step
    `min_resource * reduction_factor ** (k + min_early_stopping_rate)`, below
    `max_resource` if one is given (a trial at its full budget has nothing
    left to save). When a trial's latest measurement reaches a rung its
    earlier measurements had not, the trial's value at that rung (its best
    reward when it reached it) is compared with the values of every trial
    that has reached the rung, itself included, stopped ones too. It continues
    if it is among the top `n // reduction_factor` of those `n` values (ties
    with the last place continue), and always while `n < reduction_factor`:
    promotion is asynchronous, nobody waits for a rung to fill.

    Attributes:
        min_resource: The step of the lowest rung (with rate 0).
        reduction_factor: `eta`: one trial in `eta` continues at each rung.
        min_early_stopping_rate: `s`: the first rung is at
            `min_resource * eta ** s`.
        max_resource: If given, no rung at this step or beyond.

    >>> from automorph import early_stopping
    >>> asha = early_stopping.SuccessiveHalving(reduction_factor=3)
    >>> asha.rungs(100)
    [1, 3, 9, 27, 81]
    >>> others = {1: [(1, 0.9)], 2: [(1, 0.8)]}
    >>> asha.should_stop(3, [(1, 0.1)], others), asha.should_stop(4, [(1, 0.95)], others)
    (True, False)
    >>> asha.should_stop(3, [(1, 0.1)], {1: [(1, 0.9)]})  # fewer than 3 at the rung
    False
    """

    _: KW_ONLY
    min_resource: Annotated[int, Bounds(1, None)] = 1
    reduction_factor: Annotated[int, Bounds(2, None)] = 3
    min_early_stopping_rate: Annotated[int, Bounds(0, None)] = 0
    max_resource: Annotated[int, Bounds(1, None)] | None = None

    def _on_bound(self) -> None:
        if self.max_resource is not None and self.max_resource < self.min_resource:
            raise FieldValueError(
                f"{type(self).__name__}: `max_resource` ({self.max_resource}) must be at "
                f"least `min_resource` ({self.min_resource})",
                path=self.sym_path.child("max_resource"),
            )

    def rungs(self, up_to: int) -> list[int]:
        """The steps of the rungs at or below step `up_to`, in order."""
        return rung_steps(
            self.min_resource,
            self.reduction_factor,
            self.min_early_stopping_rate,
            self.max_resource,
            up_to,
        )

    def _should_stop(
        self, trial_id: int, curve: list[Measurement], others: Mapping[int, Curve]
    ) -> bool:
        crossed = crossed_rungs(
            curve,
            self.min_resource,
            self.reduction_factor,
            self.min_early_stopping_rate,
            self.max_resource,
        )
        if not crossed:
            return False
        competitors = [other for _, other in self._other_curves(trial_id, others)]
        return fails_a_rung(curve, competitors, crossed, self.reduction_factor)


@register("hyperband")
class Hyperband(EarlyStoppingPolicy, type_name="automorph.early_stopping.Hyperband"):
    """Hyperband (Li et al. 2018) as brackets of asynchronous successive halving.

    Bracket `s` (s = 0 .. `num_brackets - 1`, where `num_brackets - 1` is the
    largest `s` with `min_resource * reduction_factor ** s <= max_resource`)
    is a `SuccessiveHalving` with `min_early_stopping_rate=s` and rungs below
    `max_resource`: bracket 0 stops the most aggressively, the last bracket
    the least (when `max_resource` is a rung of the ladder, never). Each
    trial belongs to one bracket, chosen from its id alone by a stable hash
    (no random state, the same in every process), with probability
    proportional to the number of configurations Hyperband gives that bracket,
    `ceil(B * eta ** (B - 1 - s) / (B - s))` for `B` brackets. A trial is judged
    only against the trials of its bracket.

    Attributes:
        min_resource: The step of the lowest rung of bracket 0.
        max_resource: The full budget of a trial; no rung at this step or beyond.
        reduction_factor: `eta` of every bracket.

    >>> from automorph import early_stopping
    >>> hyperband = early_stopping.Hyperband(max_resource=81)
    >>> hyperband.num_brackets, hyperband.bracket_weights()
    (5, [81, 34, 15, 8, 5])
    >>> [b.rungs(81) for b in hyperband.brackets()]
    [[1, 3, 9, 27], [3, 9, 27], [9, 27], [27], []]
    >>> hyperband.bracket(12345) == hyperband.bracket(12345)
    True
    """

    _: KW_ONLY
    min_resource: Annotated[int, Bounds(1, None)] = 1
    max_resource: Annotated[int, Bounds(1, None)] = 81
    reduction_factor: Annotated[int, Bounds(2, None)] = 3

    def _on_bound(self) -> None:
        if self.max_resource < self.min_resource:
            raise FieldValueError(
                f"{type(self).__name__}: `max_resource` ({self.max_resource}) must be at "
                f"least `min_resource` ({self.min_resource})",
                path=self.sym_path.child("max_resource"),
            )

    @property
    def num_brackets(self) -> int:
        """How many brackets: `s_max + 1`."""
        count, resource = 1, self.min_resource * self.reduction_factor
        while resource <= self.max_resource:
            count, resource = count + 1, resource * self.reduction_factor
        return count

    def bracket_weights(self) -> list[int]:
        """The relative share of trials of each bracket, by `s`."""
        n, eta = self.num_brackets, self.reduction_factor
        return [-(-n * eta ** (n - 1 - s) // (n - s)) for s in range(n)]

    def brackets(self) -> list[SuccessiveHalving]:
        """The policy of each bracket, by `s`."""
        return [
            SuccessiveHalving(
                min_resource=self.min_resource,
                reduction_factor=self.reduction_factor,
                min_early_stopping_rate=s,
                max_resource=self.max_resource,
            )
            for s in range(self.num_brackets)
        ]

    def bracket(self, trial_id: int) -> int:
        """The bracket `s` of trial `trial_id` (the same in every process)."""
        return _bracket_of(check_trial_id(trial_id), self.bracket_weights())

    def _should_stop(
        self, trial_id: int, curve: list[Measurement], others: Mapping[int, Curve]
    ) -> bool:
        weights = self.bracket_weights()
        s = _bracket_of(trial_id, weights)
        crossed = crossed_rungs(
            curve, self.min_resource, self.reduction_factor, s, self.max_resource
        )
        if not crossed:
            return False
        competitors = [
            other
            for _, other in self._other_curves(
                trial_id, others, lambda other_id: _bracket_of(other_id, weights) == s
            )
        ]
        return fails_a_rung(curve, competitors, crossed, self.reduction_factor)


def rung_steps(
    min_resource: int, eta: int, rate: int, max_resource: int | None, up_to: int
) -> list[int]:
    """The rungs `min_resource * eta ** (k + rate)` at or below `up_to` (and
    below `max_resource`, if given).

    >>> rung_steps(2, 2, 1, None, 20), rung_steps(1, 3, 0, 27, 100)
    ([4, 8, 16], [1, 3, 9])
    """
    limit = up_to if max_resource is None else min(up_to, max_resource - 1)
    steps: list[int] = []
    rung = min_resource * eta**rate
    while rung <= limit:
        steps.append(rung)
        rung *= eta
    return steps


def crossed_rungs(
    curve: list[Measurement], min_resource: int, eta: int, rate: int, max_resource: int | None
) -> list[int]:
    """The rungs the latest measurement of `curve` reached and the earlier ones had not."""
    after = previous_step(curve)
    rungs = rung_steps(min_resource, eta, rate, max_resource, current_step(curve))
    return [rung for rung in rungs if rung > after]


def fails_a_rung(
    curve: list[Measurement], others: Iterable[list[Measurement]], rungs: list[int], eta: int
) -> bool:
    """Whether a trial that just reached `rungs` falls outside the top
    `n // eta` of the `n` values recorded at one of them (see `SuccessiveHalving`)."""
    own = max(reward for _, reward in curve)  # it reached every one of `rungs` just now
    others = list(others)
    for rung in rungs:
        values = [own]
        for other in others:
            rewards = reached(other, rung)
            if rewards is not None:
                values.append(max(rewards))
        if len(values) >= eta and sum(v > own for v in values) >= len(values) // eta:
            return True
    return False


_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    """SplitMix64's finalizer: a stable, well-spread 64-bit hash of an integer."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _bracket_of(trial_id: int, weights: list[int]) -> int:
    ticket = _mix(trial_id & _MASK) % sum(weights)
    for s, weight in enumerate(weights):
        if ticket < weight:
            return s
        ticket -= weight
    raise AssertionError("unreachable: the ticket is below the total weight")
