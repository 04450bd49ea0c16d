"""GP-BO: Bayesian optimization with a Gaussian process over floats, ints and choices.

Registered as `gp_bo` (`algorithms.create("gp_bo")`, or `algorithms.GPBO()`).
The model is the model core's GP (`automorph.algorithms.models`) with an ARD
Matérn-5/2 kernel, one length scale per decision, fitted by maximizing the
marginal likelihood. Each proposal maximizes the log expected improvement
over candidates.

Encoding (the core's `DNAEncoder`). Every `Float`, `Int` and `Choices`
decision of the space (of every candidate sub-space too) gets feature columns:

- a `Float`: one column, its value mapped to [0, 1] (on a log scale where the
  decision is log-scale);
- an `Int`: one column, `(value - min) / (max - min)`;
- a `Choices`: one block of one-hot columns per pick (a choice of several
  picks has several blocks), scaled by 1/sqrt(2) so two different candidates
  are at distance 1, as the two ends of a number's range are.

A decision that is inactive (inside a candidate that was not chosen) is
encoded as -0.5 for a number (half a range below its lowest value, so active
and inactive points differ in that column and two inactive points agree) and
as an all-zero block for a choice. Custom decisions are not modelled: their
values are drawn at random.

Candidates. Each proposal scores `num_candidates` points drawn uniformly and
`num_local` perturbations of the best observations so far (each decision
changed with some probability: numbers by Gaussian steps of a random scale,
choices redrawn), then perturbs the five best-scoring candidates again with
smaller steps. The best-scoring candidate that is neither rewarded nor
pending is proposed. Choices of several picks are modelled pick by pick; when a
candidate is turned into DNA, the space's own rules (distinct, sorted) apply,
which may redraw or reorder picks.

Cost per proposal. The GP is trained on at most `max_train` observations:
all of them while there are that few, then the best `max_train // 2` and the
most recent of the rest. Its hyper-parameters are refitted only at refit
points of the number of observations: `num_initial`, then every
`refit_every` more, or every tenth more once that is larger (past 100
observations a new one moves the fit less, and a study with many workers
gets rewards faster than a proposer could refit at a fixed step), on at most
`fit_size` of those observations (chosen the same way), from starting points
drawn from a generator seeded by (seed, that number): the fit is a pure
function of the history, so `recover` reproduces it exactly, and it is
reused until the next refit. A proposal therefore costs
O(max_train^3 + candidates * max_train) plus, every `refit_every` proposals,
a fit of O(restarts * iterations * fit_size^3), whatever the length of the
history, plus an O(n log n) selection of the training set.

numpy's BLAS may start several threads for these small matrices; on a
busy machine that costs far more than it gains: set
`OPENBLAS_NUM_THREADS=1` (the benchmarks do).

Reward warps (`warp`). The GP is fitted on standardized rewards; with
"half_rank" the rewards below the median are first replaced by the median
plus normal quantiles of their ranks (scaled by the spread of the better
half about the median), with "rank" every reward by the normal quantile of
its rank (`models.warp_rewards`). An objective that spans orders of
magnitude (an ill-conditioned function, a diverged training run) then no
longer flattens the model where the good rewards are. On COCO's BBOB
functions at 20 trials per coordinate, "half_rank" found a better value
than no warp in 218 problems of 360 and a worse one in 127 at d = 10, 191
and 154 at d = 5, 180 and 164 at d = 2 (benchmarks/results/blackbox.md);
"rank", tried once at d = 10 on 72 of the problems, ranked behind both.
`Auto` uses "half_rank". The default stays "none", the setting GP-BO's
NAS-Bench-201 and HPO results were measured with. Once a trial reports
constraints the objective's model is fitted unwarped: the better half of
the rewards may then be infeasible, and the warp would compress the
rewards around the best feasible one (measured: on a quadratic
constrained to a half-plane, 35 trials, "half_rank" ended farther from the
feasible optimum than no warp for each of 5 seeds).

Pending proposals (proposed, no reward yet: in flight on other workers of a
study, or replayed from them) are modelled by a constant liar: each counts
as an observation of the worst reward seen (for the posterior, not for the
hyper-parameters), so proposals made while others run spread out instead of
piling onto one optimum. Neither pending nor rewarded points are proposed
again while another candidate is left; `discard` (a skipped or failed
trial) ends a proposal's pending state. Each proposal draws its candidates
from its own random generator.

Constraints (`feedback(dna, reward, constraints)`, each value `<= 0` when
met). GP-BO steers by them as Gardner et al. (2014) do: each constraint
gets its own GP from the same model core (same encoding and kernel, fitted
on the negated constraint values of the trials that reported constraints,
on the same refit schedule, seeded apart), and a candidate's score is the
log expected improvement over the best FEASIBLE reward plus the log
probability of feasibility, `sum_i log P(c_i <= 0)`. The objective's GP
is trained on every reward, infeasible trials' too. While no trial is
feasible, the score is the log probability of feasibility alone, so the
search first looks for the feasible region. A trial fed back without
constraints counts as feasible (and is not an observation of the
constraint GPs). Pending proposals are liars for the objective only;
the local candidates perturb the best observations by Deb's rules
(feasible first, then least violation).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from scipy.special import log_ndtr  # type: ignore[import-untyped]

from automorph.algorithms._base import Reward, SearchAlgorithm, TracksPending
from automorph.algorithms._constraints import Constraints, violation
from automorph.algorithms._registry import register
from automorph.algorithms.models import (
    KERNEL_INACTIVE,
    DNAEncoder,
    GaussianProcess,
    GPPredictor,
    Matern52,
    Rows,
    Surrogate,
    finite,
    log_expected_improvement,
)
from automorph.geno import DNA
from automorph.symbolic import Bounds
from automorph.utils import FieldValueError, SearchSpaceError

Array = npt.NDArray[np.float64]

INACTIVE = KERNEL_INACTIVE
"""The feature value of an inactive number decision."""

_REFINE_TOP = 5
_REFINE_SIZE = 50
_MAX_DECODE = 50


@dataclass
class _Model:
    """What one proposal (or batch) fits and scores."""

    posterior: GaussianProcess
    best: float  # the standardized incumbent (+ xi), for expected improvement
    lie: float  # the standardized value pending proposals take
    raw: Array  # candidate rows
    features: Array
    scores: Array  # log EI (+ log probability of feasibility) of each candidate
    order: npt.NDArray[np.int64]  # distinct candidates, best first
    log_feasible: Array | None  # log probability of feasibility, if constrained
    any_feasible: bool  # whether some observation is feasible (else EI is left out)

    def score(self, mean: Array, std: Array, at: npt.NDArray[np.int64]) -> Array:
        """The score of candidates `at` whose objective posterior is (mean, std)."""
        if self.log_feasible is None:
            return log_expected_improvement(mean, std, self.best)
        if not self.any_feasible:
            return self.log_feasible[at]
        return log_expected_improvement(mean, std, self.best) + self.log_feasible[at]


# Distinguishes the generators of hyper-parameter fits from those of proposals.
_FIT_STREAM = 0x6B50


@register("gp_bo")
class GPBO(TracksPending, SearchAlgorithm, type_name="automorph.algorithms.GPBO"):
    """Gaussian-process Bayesian optimization (see the module docstring).

    Attributes:
        num_initial: Proposals drawn at random until this many rewards have
            been received (at least 2).
        num_candidates: Uniformly drawn candidates scored per proposal.
        num_local: Perturbations of the best observations scored per proposal.
        max_train: Most observations the GP is trained on (the best half and
            the most recent); bounds the cost of a proposal. At least
            `num_initial`.
        refit_every: The hyper-parameters are refitted each time this many
            more rewards have arrived (or a tenth more, if that is more).
        fit_size: Most observations the hyper-parameters are fitted on (chosen
            as for `max_train`); bounds the cost of a refit.
        restarts: Starting points of each hyper-parameter fit.
        xi: Margin (in standard deviations of the rewards) that an
            improvement must exceed; larger explores more.
        warp: How rewards are warped before the GP is fitted (see the
            module docstring): "none", "half_rank" or "rank".

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.GPBO(seed=0, num_initial=5, num_candidates=200, num_local=100)
    >>> search.setup(am.dna_spec(am.Dict(x=am.floatv(-1.0, 1.0), k=am.oneof(["a", "b"]))))
    >>> for _ in range(15):
    ...     dna = search.propose()
    ...     search.feedback(dna, -((dna["x"] - 0.5) ** 2) - dna["k"])
    >>> best = max(search.history, key=lambda pair: pair[1])[0]
    >>> abs(best["x"] - 0.5) < 0.1, best["k"]
    (True, 0)
    """

    num_initial: Annotated[int, Bounds(2, None)] = 10
    num_candidates: Annotated[int, Bounds(1, None)] = 500
    num_local: Annotated[int, Bounds(0, None)] = 300
    max_train: Annotated[int, Bounds(2, None)] = 200
    refit_every: Annotated[int, Bounds(1, None)] = 10
    fit_size: Annotated[int, Bounds(2, None)] = 100
    restarts: Annotated[int, Bounds(1, None)] = 3
    xi: Annotated[float, Bounds(0.0, None)] = 0.0
    warp: Literal["none", "half_rank", "rank"] = "none"

    uses_constraints: ClassVar[bool] = True

    def _on_bound(self) -> None:
        if self.max_train < self.num_initial:
            raise FieldValueError(
                f"`max_train` ({self.max_train}) must be at least `num_initial` "
                f"({self.num_initial})",
                path="max_train",
            )

    def _setup(self) -> None:
        self._encoder = DNAEncoder.for_kernel(self._spec, custom="skip")
        if not self._encoder.entries:
            raise SearchSpaceError(
                "GPBO models Float, Int and Choices decisions; this search space has none "
                "(only custom decisions)"
            )
        self._raw = Rows(len(self._encoder.entries))
        self._surrogate = self._new_surrogate(_FIT_STREAM, self.warp)
        self._history: list[tuple[DNA, float]] = []
        self._seen: set[DNA] = set()  # rewarded
        self._pending: Counter[DNA] = Counter()  # proposed, no reward yet
        self._violations: list[float] = []  # per observation; 0.0 without constraints
        self._constraint_models: list[Surrogate] = []  # one per constraint, once given

    def _new_surrogate(self, stream: int, warp: str = "none") -> Surrogate:
        """A GP over this space's features, on GP-BO's refit schedule (a
        constraint's GP keeps its values unwarped: its threshold is 0)."""
        return Surrogate(
            Matern52(self._encoder.groups),
            width=self._encoder.width,
            seed=self.seed or 0,
            stream=stream,
            first_fit=self.num_initial,
            refit_every=self.refit_every,
            max_train=self.max_train,
            fit_size=self.fit_size,
            restarts=self.restarts,
            warp=warp,
        )

    @property
    def history(self) -> list[tuple[DNA, float]]:
        """The (DNA, reward) received, in order (a copy; empty before `setup`)."""
        return list(getattr(self, "_history", []))

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._observe(dna, reward, None)

    def _feedback_constrained(self, dna: DNA, reward: Reward, constraints: Constraints) -> None:
        self._observe(dna, reward, constraints)

    def _observe(self, dna: DNA, reward: Reward, constraints: Constraints | None) -> None:
        """Records a reward (and constraint values, if any) of `dna`."""
        raw = self._encoder.raw(dna)
        self._raw.append(raw)
        features = self._encoder.features(raw[None, :])[0]
        self._add_reward(dna, features, reward)
        self._violations.append(violation(constraints))
        if constraints is not None:
            if not self._constraint_models:
                self._surrogate.unwarp()  # see "Reward warps" in the module docstring
                self._constraint_models = [
                    self._new_surrogate(_FIT_STREAM + 1 + i) for i in range(len(constraints))
                ]
            for model, value in zip(self._constraint_models, constraints, strict=True):
                model.add(features, -value)  # higher is better: more feasible
        self._seen.add(dna)
        self._take_pending(dna)

    def _add_reward(self, dna: DNA, features: Array, reward: Reward) -> None:
        """Gives the objective model a reward (ParEGO keeps objectives instead)."""
        self._surrogate.add(features, float(reward))  # type: ignore[arg-type]
        self._history.append((dna, float(reward)))  # type: ignore[arg-type]

    @property
    def _num_observed(self) -> int:
        return len(self._violations)

    def _objective(self, rng: np.random.Generator) -> Surrogate:
        """The model of the reward a proposal maximizes (ParEGO: a scalarization)."""
        return self._surrogate

    def _is_new(self, dna: DNA) -> bool:
        return dna not in self._seen and dna not in self._pending

    def _propose(self, rng: np.random.Generator) -> DNA:
        dna = self._maximize(rng)
        self._pending[dna] += 1
        return dna

    def _maximize(self, rng: np.random.Generator) -> DNA:
        """A random DNA at first; then the candidate of best log EI not yet
        rewarded nor pending."""
        if self._num_observed < self.num_initial:
            return self._spec.random_dna(rng)
        model = self._model(rng)
        for i in model.order[:_MAX_DECODE]:
            dna = self._encoder.raw_to_dna(model.raw[i], rng)
            if self._is_new(dna):
                return dna
        return self._encoder.raw_to_dna(model.raw[model.order[0]], rng)

    def _propose_batch(self, count: int) -> list[DNA]:
        """`count` proposals from one model: after each pick, the posterior
        takes the pick as a liar (the worst reward; an O(n^2) update) and the
        best candidates are scored again, so the batch spreads out."""
        if self._num_observed < self.num_initial:
            return super()._propose_batch(count)
        rng = self._rng(self._num_proposed)
        model = self._model(rng)
        posterior = model.posterior
        shortlist = model.order[: max(4 * count, _MAX_DECODE)]
        scores = model.scores[shortlist]
        tried = np.zeros(len(shortlist), dtype=bool)
        picked: list[DNA] = []
        while len(picked) < count:
            dna, at = None, -1
            for j in np.argsort(-scores, kind="stable"):
                if tried[j]:
                    continue
                tried[j] = True
                candidate = self._encoder.raw_to_dna(model.raw[shortlist[j]], rng)
                if self._is_new(candidate):
                    dna, at = candidate, int(j)
                    break
            if dna is None:  # the shortlist is used up: a random point
                dna = self._spec.random_dna(rng)
            picked.append(dna)
            self._pending[dna] += 1
            self._num_proposed += 1
            if at >= 0 and len(picked) < count:
                posterior.add(model.features[shortlist[at]], model.lie)
                mean, std = posterior.predict(model.features[shortlist])
                scores = model.score(mean, std, shortlist)
        return picked

    def _model(self, rng: np.random.Generator) -> _Model:
        """The posterior (pending proposals as liars) and the scored candidates."""
        encoder = self._encoder
        liars = None
        if self._pending:
            # Constant liar: each pending proposal counts as an observation
            # of the worst reward seen, so concurrent proposals spread out.
            pending = sorted(self._pending, key=str)[: self.max_train]  # as replaying gives
            liars = encoder.features(encoder.raws(pending))
        surrogate = self._objective(rng)
        fit = surrogate.fit(liars)
        rewards = finite(surrogate.rewards)
        violations = np.asarray(self._violations)
        feasible = violations == 0.0
        constraint_fits = [m.fit() for m in self._constraint_models if m.size >= m.first_fit]
        constrained = bool(constraint_fits)
        best = fit.top + self.xi
        if constrained and feasible.any():  # the best FEASIBLE reward, standardized
            best = float(fit.standardized(rewards[feasible].max(keepdims=True))[0]) + self.xi
        model = _Model(
            fit.gp, best, fit.lie, np.empty((0, 0)), np.empty((0, 0)), np.empty(0),
            np.empty(0, dtype=np.int64), None, bool(feasible.any()),
        )  # fmt: skip

        feasibility: list[Array] = []  # log P(feasible) of the candidates scored so far

        def score(features: Array) -> Array:
            mean, std = fit.gp.predict(features)
            if constrained:
                feasibility.append(log_feasible(constraint_fits, features))
                model.log_feasible = feasibility[-1]
            return model.score(mean, std, np.arange(len(features)))

        # Deb's rules: feasible first, best reward first; then least violation.
        ranking = np.where(feasible, rewards, rewards.min() - 1.0 - violations)
        raw = self._candidates(rng, fit.train, ranking)
        scores = score(encoder.features(raw))
        top = np.argsort(-scores, kind="stable")[:_REFINE_TOP]
        seeds = raw[np.repeat(top, _REFINE_SIZE)]
        refined = encoder.perturb(seeds, 10.0 ** rng.uniform(-3.0, -1.5, len(seeds)), rng)
        raw = np.vstack([raw, refined])
        features = encoder.features(raw)
        scores = np.concatenate([scores, score(features[-len(refined) :])])
        model.log_feasible = np.concatenate(feasibility) if constrained else None
        # One candidate per distinct point (finite spaces repeat them), best first.
        _, first = np.unique(features, axis=0, return_index=True)
        model.raw, model.features, model.scores = raw, features, scores
        model.order = first[np.argsort(-scores[first], kind="stable")]
        return model

    def _candidates(
        self, rng: np.random.Generator, train: npt.NDArray[np.int64], rewards: Array
    ) -> Array:
        """Raw candidate rows: uniform draws and perturbations of the best observations."""
        encoder = self._encoder
        uniform = encoder.random_raw(rng, self.num_candidates)
        if not self.num_local:
            return uniform
        incumbents = train[np.argsort(-rewards[train], kind="stable")[:_REFINE_TOP]]
        base = self._raw.data[incumbents][rng.integers(len(incumbents), size=self.num_local)]
        base = np.where(np.isnan(base), encoder.random_raw(rng, self.num_local), base)
        scale = 10.0 ** rng.uniform(-2.5, -0.5, self.num_local)
        return np.vstack([uniform, encoder.perturb(base, scale, rng)])


def log_feasible(models: list[GPPredictor], features: Array) -> Array:
    """log P(every constraint <= 0) at `features`: the sum over the
    constraint GPs `models` (each fitted on negated values, higher is more
    feasible) of log P(-c >= 0), the constraints taken as independent."""
    total = np.zeros(len(features))
    for model in models:
        mean, std = model.predict(features)
        total += log_ndtr(mean / np.maximum(std, 1e-12))
    return total
