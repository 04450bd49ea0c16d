"""BOHB: TPE proposals for Hyperband's brackets (Falkner et al., ICML 2018).

BOHB joins two ideas. Hyperband decides how far each trial runs along the
step axis (epochs, batches, any resource): most trials stop at a low step,
the promising ones go on to `max_step`. A model (TPE, a kernel density
estimator of good and bad configurations) decides which configuration each
new trial tries, fitted on the observations at the largest budget that has
enough of them: early in a search the cheap low-step observations, later
the full-budget ones.

In automorph the two halves are an algorithm and its early-stopping policy,
which the search loop runs together: `am.tune(train, space, BOHB(...))`
installs `early_stopping.Hyperband(min_resource=min_step,
max_resource=max_step, reduction_factor=eta)` (unless `early_stopping=` names
another policy) and gives BOHB the study's learning curves (see
`MultiFidelity`). The training loop reports `feedback.add_measurement(reward,
step=...)` and asks `feedback.should_stop_early()` after each measurement.

Budgets are the rungs of the most aggressive bracket,
`min_step * eta ** k` below `max_step`, and `max_step` itself. A trial's
observation at budget `b` is its best reward when it reached step `b` (the
value the policy compares at a rung). Every trial that reached `b` counts:
ended ones, trials still running on other workers, trials stopped at a
higher rung. A proposal is random with probability `random_fraction`;
otherwise a TPE (the `model` field's settings) is fitted on the largest
budget with at least `min_points` observations (BOHB's rule, `d + 2` for `d`
decisions by default) and proposes. Trials proposed and not yet ended that
have no observation at that budget join TPE as pending proposals (constant
liars at the worst reward), so concurrent workers get different proposals.
With no budget that full, the proposal is random.

Without learning curves (trials report only a final reward, or the
algorithm is driven by hand with `propose`/`feedback`), final rewards count
as full-budget observations: BOHB is then TPE with a random fraction.

How this differs from synchronous BOHB (and from the paper's hpbandster):

* Promotion is asynchronous, as in ASHA: at each rung a trial goes on if its
  value is in the top `1 / eta` of the trials of its bracket that have
  reached the rung so far; nobody waits for a rung to fill, so workers are
  never idle, and a trial may go on that a full rung would have stopped.
* Brackets are not run one after another: each trial belongs to one bracket,
  drawn from its id with Hyperband's proportions (`Hyperband.bracket`).
* A promoted trial is not restarted at the larger budget: the same training
  run goes on, so a trial's curve holds its values at every lower budget.
* The model also counts trials still running (at the budgets they passed).

Cost: a proposal reads the study's curves (for a stored study, its trials
from the store; a batch of proposals reads them once), finds the budget in
O(budgets * measurements), and fits and asks a TPE on that budget's
observations (see `TPE` for its cost).

Reference: Falkner, Klein, Hutter, "BOHB: Robust and Efficient
Hyperparameter Optimization at Scale", ICML 2018.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import KW_ONLY
from typing import Annotated, Any

import numpy as np

from automorph.algorithms._base import Reward, SearchAlgorithm, TracksPending
from automorph.algorithms._fidelity import MultiFidelity, value_at
from automorph.algorithms._registry import register
from automorph.algorithms._tpe import TPE
from automorph.geno import DNA
from automorph.symbolic import Bounds
from automorph.utils import FieldValueError

Points = list[tuple[DNA, float]]


@register("bohb")
class BOHB(MultiFidelity, TracksPending, SearchAlgorithm, type_name="automorph.algorithms.BOHB"):
    """BOHB: model-based proposals with Hyperband early stopping (see the module docstring).

    Attributes:
        max_step: The full budget: a trial that reports this step has run
            to its end (the `max_resource` of the Hyperband policy).
        min_step: The lowest rung (`min_resource`).
        eta: One trial in `eta` goes on at each rung (`reduction_factor`).
        random_fraction: The probability that a proposal is random (BOHB's
            `rho`), in [0, 1].
        min_points: How many observations a budget needs before the model
            is fitted on it; None for `d + 2`, `d` the number of decisions
            of the space.
        model: The TPE whose settings (`gamma`, `num_candidates`,
            `prior_weight`, `multivariate`) fit the model; its `seed` and
            `num_initial` are not used (BOHB seeds each fit from its own
            seed, and `min_points` says when to fit).

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> def train(example, feedback):               # a learning curve per configuration
    ...     for step in range(1, 28):
    ...         feedback.add_measurement(example["x"] * (1 - 1 / (step + 1)), step=step)
    ...         if feedback.should_stop_early():     # Hyperband's rungs: 1, 3, 9
    ...             break
    ...     feedback.done()
    >>> bohb = algorithms.BOHB(max_step=27, seed=0)
    >>> result = am.tune(train, am.Dict(x=am.floatv(0.0, 1.0)), bohb, 40)
    >>> steps = [t.measurements[-1].step for t in result.trials]
    >>> sum(steps) < 40 * 27, max(steps), result.best_trial.example["x"] > 0.9
    (True, 27, True)
    >>> bohb.stopping_policy()
    ('hyperband', {'min_resource': 1, 'max_resource': 27, 'reduction_factor': 3})
    """

    _: KW_ONLY
    max_step: Annotated[int, Bounds(1, None)] = 81
    min_step: Annotated[int, Bounds(1, None)] = 1
    eta: Annotated[int, Bounds(2, None)] = 3
    random_fraction: Annotated[float, Bounds(0.0, 1.0)] = 1.0 / 3.0
    min_points: Annotated[int, Bounds(1, None)] | None = None
    model: TPE = TPE(gamma=0.15)

    def _on_bound(self) -> None:
        if self.max_step < self.min_step:
            raise FieldValueError(
                f"BOHB: `max_step` ({self.max_step}) must be at least `min_step` ({self.min_step})",
                path=self.sym_path.child("max_step"),
            )

    def _setup(self) -> None:
        self._history: Points = []  # final rewards, in the order they came
        self._pending: Counter[DNA] = Counter()  # proposed, not yet ended
        self._snapshot: list[tuple[DNA, list[tuple[int, float]]]] | None = None
        self._needed = self.min_points or len(self._spec.decision_points()) + 2

    # --- the multi-fidelity contract ------------------------------------------------

    def stopping_policy(self) -> tuple[str, dict[str, Any]]:
        """The Hyperband policy over BOHB's steps: `("hyperband", fields)`."""
        return "hyperband", {
            "min_resource": self.min_step,
            "max_resource": self.max_step,
            "reduction_factor": self.eta,
        }

    def budgets(self) -> list[int]:
        """The budgets the model may be fitted on, in increasing order: the
        rungs `min_step * eta ** k` below `max_step`, then `max_step`.

        >>> from automorph import algorithms
        >>> algorithms.BOHB(min_step=2, max_step=50).budgets()
        [2, 6, 18, 50]
        """
        steps, step = [], self.min_step
        while step < self.max_step:
            steps.append(step)
            step *= self.eta
        return [*steps, self.max_step]

    @property
    def history(self) -> Points:
        """The final (DNA, reward) received, in order (a copy; empty before `setup`)."""
        return list(getattr(self, "_history", []))

    def observations(self) -> tuple[int | None, Points]:
        """The budget the next model-based proposal fits on, and its
        observations `(dna, value at the budget)` in trial order; `(None, [])`
        while no budget has `min_points` of them (proposals are random)."""
        self._check_setup()
        return self._fit_data(self._read_curves())

    # --- the algorithm -----------------------------------------------------------------

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._take_pending(dna)
        self._history.append((dna, float(reward)))  # type: ignore[arg-type]

    def _propose(self, rng: np.random.Generator) -> DNA:
        dna = self._choose(rng)
        self._pending[dna] += 1
        return dna

    def _propose_batch(self, count: int) -> list[DNA]:
        # The curves are read once per batch: the proposals of a batch are made
        # as if one after the other with nothing measured in between.
        self._snapshot = self._read_curves()
        try:
            return super()._propose_batch(count)
        finally:
            self._snapshot = None

    def _choose(self, rng: np.random.Generator) -> DNA:
        if rng.random() < self.random_fraction:
            return self._spec.random_dna(rng)
        curves = self._snapshot if self._snapshot is not None else self._read_curves()
        budget, points = self._fit_data(curves)
        if budget is None:
            return self._spec.random_dna(rng)
        tpe = self.model.clone(deep=True)
        tpe.rebind(seed=int(rng.integers(2**31)), num_initial=1)
        tpe.setup(self._spec)
        liars = self._pending - Counter(dna for dna, _ in points)
        history: list[tuple[DNA, float | None]] = [*points]
        history.extend((dna, None) for dna in liars.elements())
        tpe.recover(history)
        return tpe.propose()

    def _fit_data(
        self, curves: list[tuple[DNA, list[tuple[int, float]]]]
    ) -> tuple[int | None, Points]:
        """BOHB's rule: the largest budget with `min_points` observations."""
        reached_any = False
        for budget in reversed(self.budgets()):
            points: Points = []
            for dna, curve in curves:
                value = value_at(curve, budget)
                if value is not None:
                    points.append((dna, value))
            reached_any = reached_any or bool(points)
            if len(points) >= self._needed:
                return budget, points
        if not reached_any and len(self._history) >= self._needed:
            return self.max_step, list(self._history)  # no curves: final rewards
        return None, []
