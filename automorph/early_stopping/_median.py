"""The median stopping rule (Google Vizier; Optuna's `MedianPruner`)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import KW_ONLY
from typing import Annotated

from automorph.early_stopping._base import (
    Curve,
    EarlyStoppingPolicy,
    Measurement,
    current_step,
    mean,
    previous_step,
    reached,
    register,
)
from automorph.symbolic import Bounds


@register("median")
class MedianStopping(EarlyStoppingPolicy, type_name="automorph.early_stopping.MedianStopping"):
    """Stops a trial whose best reward is worse than the others' median.

    A trial at current step `s` stops if its best reward so far is strictly
    worse than the median of the other trials' *running averages* at step `s`
    (the mean of the rewards each had when it reached `s`), as in Google
    Vizier's median automated stopping rule. Comparing a best value with
    running averages is deliberately lenient: a trial stops only when even its
    best is below what a typical trial averaged, so noisy curves are not cut
    on one bad measurement. Only others that reached step `s` count, and the
    rule applies once at least `min_trials` of them have.

    A trial is judged when its latest measurement reaches a pruning step
    `warmup_steps + k * interval_steps` (k = 0, 1, ...) that its earlier
    measurements had not reached; never before `warmup_steps`.

    Attributes:
        min_trials: How many other trials must have reached the step before
            any trial is stopped there.
        warmup_steps: No trial stops at a step below this.
        interval_steps: Steps between pruning steps (1: every new step).

    >>> from automorph import early_stopping
    >>> policy = early_stopping.MedianStopping(min_trials=2)
    >>> others = {1: [(1, 0.5), (2, 0.6)], 2: [(1, 0.7), (2, 0.8)]}
    >>> policy.should_stop(3, [(1, 0.1), (2, 0.2)], others)  # 0.2 < median(0.55, 0.75)
    True
    >>> policy.should_stop(4, [(1, 0.6), (2, 0.66)], others)
    False
    """

    _: KW_ONLY
    min_trials: Annotated[int, Bounds(1, None)] = 5
    warmup_steps: Annotated[int, Bounds(0, None)] = 0
    interval_steps: Annotated[int, Bounds(1, None)] = 1

    def _should_stop(
        self, trial_id: int, curve: list[Measurement], others: Mapping[int, Curve]
    ) -> bool:
        step = current_step(curve)
        if step < self.warmup_steps:
            return False
        interval = self.interval_steps
        pruning_step = self.warmup_steps + (step - self.warmup_steps) // interval * interval
        if pruning_step <= previous_step(curve):
            return False  # judged already, at the measurement that reached it
        averages: list[float] = []
        for _, other in self._other_curves(trial_id, others):
            rewards = reached(other, step)
            if rewards is not None:
                averages.append(mean(rewards))
        if len(averages) < self.min_trials:
            return False
        best = max(reward for _, reward in curve)
        return best < statistics.median(averages)
