"""TPE: the Tree-structured Parzen Estimator (Bergstra et al., NeurIPS 2011).

The observations are split by reward into a "good" set (the best
`min(ceil(gamma * n), 25)` of them, as Optuna's default split) and a "bad"
set (the rest). A density `l` is fitted to the good trials and a density `g`
to the bad ones; `num_candidates` points are drawn from `l` and the one with
the largest `l(x) / g(x)` (the expected improvement criterion of TPE) is
proposed. As in Optuna (5.0), each density is a mixture with one kernel per
observation plus a prior kernel of weight `prior_weight`; the observations
of the good set weigh 1 each, those of the bad set weigh 1 for the 25 most
recent and less for older ones (a ramp from 1/n to 1, Optuna's default
weights).

Multivariate (the default, as in Optuna 5 for a single objective): the
decisions active in every DNA (the top-level `Float`, `Int` and one-pick
`Choices` of the space) are modelled jointly: a kernel is a product over
those decisions, so a candidate is drawn from one observation's kernel in
every coordinate, and the densities see how the decisions go together.
Conditional decisions (inside candidates) are modelled each on its own,
over the trials where they were active. With `multivariate=False` every
decision is modelled on its own (independent TPE).

Kernels per kind of decision:

- `Float` and `Int`: a Gaussian truncated to the bounds (in log space for a
  log-scale float; an int is modelled on `[min - 0.5, max + 0.5]` and
  rounded), centred on the observation, with a bandwidth of the larger
  distance to its sorted neighbours (the first and last use their one inner
  neighbour; a single observation uses the bounds), clipped to
  `[range / min(100, 2 + n), range]`; the prior kernel is centred on the
  middle of the range with the whole range as its bandwidth.
- `Choices` of one pick: a kernel is a categorical distribution with mass 1
  on the observed candidate plus `prior_weight / (n + 1)` on every candidate,
  normalized; the prior kernel is uniform.
- Choices of several picks and custom decisions are drawn at random, as is
  every decision that no observation has seen active yet.

The proposal is built with `Space.random_dna(rng, fill)`, so the
sub-decisions of a chosen candidate are always those of that candidate.

Constraints (`feedback(dna, reward, constraints)`, each value `<= 0` when
met): the split follows Deb's rules, as Optuna's constrained TPE does
(c-TPE-lite): feasible observations are ranked by reward and come first,
infeasible ones follow by increasing total violation, so the good set holds
the best feasible trials, and the least infeasible ones only while there
are too few feasible ones. An observation without constraints is feasible.
Without any infeasible observation the split is the unconstrained one.

Pending proposals (no reward yet: in flight on other workers of a study)
are modelled by a constant liar, as Optuna's `constant_liar` option does:
each joins the bad set as an observation of the worst reward seen (the size
of the good set counts only real observations), so proposals made while
others run avoid them. `discard` (a skipped or failed trial) ends a
proposal's pending state.

Cost: the state is the list of (DNA, reward) received, with a column of
values per decision id kept alongside. A proposal uses the last
`MAX_HISTORY` (1000) observations only, so its cost is
O(num_candidates * min(n, 1000)) per modelled decision (vectorized with
numpy), plus one sort of those rewards.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from typing import Annotated, Any

import numpy as np
from scipy import special  # type: ignore[import-untyped]

from automorph.algorithms._base import Reward, SearchAlgorithm, TracksPending
from automorph.algorithms._constraints import Constraints, violation
from automorph.algorithms._registry import register
from automorph.geno import DNA, Choices, DecisionPoint, Float, Int
from automorph.symbolic import Bounds
from automorph.utils import MISSING, FieldValueError

# The observations a proposal looks at (the most recent ones).
MAX_HISTORY = 1000
# The most observations the good set holds (Optuna's default split caps it at 25).
MAX_GOOD = 25

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_TINY = 1e-300


@register("tpe")
class TPE(TracksPending, SearchAlgorithm, type_name="automorph.algorithms.TPE"):
    """Tree-structured Parzen Estimator (see the module docstring).

    Attributes:
        num_initial: Proposals drawn at random until this many rewards have
            been received.
        gamma: Fraction of the observations in the good set (of the best
            rewards), in (0, 1); the set holds `min(ceil(gamma * n), 25)`
            of the `n` observations, at least one.
        num_candidates: Candidates drawn from the good density per proposal
            (per decision, for decisions modelled on their own); the one with
            the best density ratio is proposed.
        prior_weight: Weight of the prior kernel in every density, relative
            to one observation; must be positive.
        multivariate: Model the decisions active in every DNA jointly (see
            the module docstring); False models every decision on its own.

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.TPE(seed=0, num_initial=5)
    >>> search.setup(am.dna_spec(am.Dict(x=am.floatv(-1.0, 1.0))))
    >>> for _ in range(30):
    ...     dna = search.propose()
    ...     search.feedback(dna, -((dna["x"] - 0.5) ** 2))
    >>> best = max(search.history, key=lambda pair: pair[1])[0]
    >>> abs(best["x"] - 0.5) < 0.05
    True
    """

    num_initial: Annotated[int, Bounds(1, None)] = 10
    gamma: Annotated[float, Bounds(0.0, 1.0)] = 0.1
    num_candidates: Annotated[int, Bounds(1, None)] = 24
    prior_weight: Annotated[float, Bounds(0.0, None)] = 1.0
    multivariate: bool = True

    uses_constraints = True

    def _on_bound(self) -> None:
        if not 0.0 < self.gamma < 1.0:
            raise FieldValueError(
                f"`gamma` ({self.gamma}) must be strictly between 0 and 1", path="gamma"
            )
        if not self.prior_weight > 0.0:
            raise FieldValueError(
                f"`prior_weight` ({self.prior_weight}) must be positive", path="prior_weight"
            )

    def _setup(self) -> None:
        self._history: list[tuple[DNA, float]] = []
        self._violations: list[float] = []  # total constraint violation, per observation
        self._pending: Counter[DNA] = Counter()  # proposed, no reward yet
        # decision id -> (values, indices in the history of the trials where it was active)
        self._columns: dict[str, tuple[list[Any], list[int]]] = {}
        # The decisions active in every DNA, modelled jointly if multivariate.
        self._joint_points: dict[str, DecisionPoint] = {}
        for point in self._spec.elements:
            if _modelled(point):
                self._joint_points[_top_level_id(point)] = point

    @property
    def history(self) -> list[tuple[DNA, float]]:
        """The (DNA, reward) received, in order (a copy; empty before `setup`)."""
        return list(getattr(self, "_history", []))

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._feedback_constrained(dna, reward, ())

    def _feedback_constrained(self, dna: DNA, reward: Reward, constraints: Constraints) -> None:
        self._take_pending(dna)
        self._add_column_values(dna, len(self._history))
        self._history.append((dna, float(reward)))  # type: ignore[arg-type]
        self._violations.append(violation(constraints))

    def _propose(self, rng: np.random.Generator) -> DNA:
        dna = self._propose_with_liars(rng)
        self._pending[dna] += 1
        return dna

    def _propose_with_liars(self, rng: np.random.Generator) -> DNA:
        n = len(self._history)
        if n < self.num_initial:
            return self._spec.random_dna(rng)
        if self._pending:
            # Constant liar: pending proposals join the bad set (as Optuna's
            # `constant_liar`), so concurrent proposals avoid each other.
            saved = self._history, self._columns
            worst = min(r for _, r in self._history)
            liars = sorted(self._pending, key=str)  # an order that replaying gives too
            self._columns = {k: (list(v), list(i)) for k, (v, i) in self._columns.items()}
            for index, dna in enumerate(liars, start=n):
                self._add_column_values(dna, index)
            self._history = self._history + [(dna, worst) for dna in liars]
            try:
                return self._model_proposal(rng, num_true=n)
            finally:
                self._history, self._columns = saved
        return self._model_proposal(rng, num_true=n)

    def _add_column_values(self, dna: DNA, index: int) -> None:
        for decision_id, value in dna.items():
            values, indices = self._columns.setdefault(decision_id, ([], []))
            values.append(value)
            indices.append(index)

    def _model_proposal(self, rng: np.random.Generator, num_true: int) -> DNA:
        n = len(self._history)
        start = max(0, n - MAX_HISTORY)
        rewards = np.array([r for _, r in self._history[start:]])
        observed = min(num_true, n - start)  # liars (after the true ones) never count here
        num_good = min(max(1, math.ceil(self.gamma * observed)), MAX_GOOD)
        good = np.zeros(n, dtype=bool)
        good[start + self._best_first(rewards, start, num_true)[:num_good]] = True
        joint: dict[str, Any] = {}
        if self.multivariate and self._joint_points:
            joint = self._suggest_joint(start, good, rng)

        def fill(decision_id: str, point: DecisionPoint) -> Any:
            if decision_id in joint:
                return joint[decision_id]
            column = self._columns.get(decision_id)
            if column is None or not _modelled(point):
                return MISSING
            values, indices = column
            first = bisect.bisect_left(indices, start)
            mask = good[indices[first:]]
            best = _best_candidate(
                [_Dimension.of(point, values[first:], mask, self.prior_weight)],
                mask,
                self.prior_weight,
                self.num_candidates,
                rng,
            )
            return best[0]

        return self._spec.random_dna(rng, fill)

    def _best_first(self, rewards: np.ndarray, start: int, num_true: int) -> np.ndarray:
        """Positions in `rewards` (the window from `start`; liars after the
        `num_true` real observations) best first: by reward, or, once an
        observation is infeasible, by Deb's rules (feasible by reward, then
        infeasible by violation, liars last)."""
        excess = np.asarray(self._violations[start:num_true], dtype=float)
        if not (excess > 0.0).any():
            order: np.ndarray = np.argsort(-rewards, kind="stable")
            return order
        excess = np.append(excess, np.full(len(rewards) - len(excess), np.inf))
        # lexsort: the last key first; it is stable, so ties keep history order
        order = np.lexsort((np.where(excess > 0.0, 0.0, -rewards), excess))
        return order

    def _suggest_joint(
        self, start: int, good: np.ndarray, rng: np.random.Generator
    ) -> dict[str, Any]:
        """Values of the always-active decisions, drawn and scored jointly."""
        mask = good[start:]
        dimensions = [
            _Dimension.of(point, self._columns[decision_id][0][start:], mask, self.prior_weight)
            for decision_id, point in self._joint_points.items()
        ]
        best = _best_candidate(dimensions, mask, self.prior_weight, self.num_candidates, rng)
        return dict(zip(self._joint_points, best, strict=True))


def _modelled(point: DecisionPoint) -> bool:
    """Whether TPE models `point` (others are drawn at random)."""
    if isinstance(point, Choices):
        return point.num_choices == 1
    if isinstance(point, Int):
        return point.min_value < point.max_value
    return isinstance(point, Float)


def _top_level_id(point: DecisionPoint) -> str:
    return point.pick_ids("")[0] if isinstance(point, Choices) else point.location


def _ramp_weights(n: int) -> np.ndarray:
    """Optuna's default weights of `n` observations in time order: the last
    25 weigh 1, older ones ramp from 1/n up."""
    if n < MAX_GOOD:
        return np.ones(n)
    return np.concatenate([np.linspace(1.0 / n, 1.0, num=n - MAX_GOOD), np.ones(MAX_GOOD)])


def _mixture_weights(mask: np.ndarray, prior_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Log weights of the good and the bad mixtures' kernels (observations, then prior)."""
    good = np.append(np.ones(int(mask.sum())), prior_weight)
    bad = np.append(_ramp_weights(int((~mask).sum())), prior_weight)
    return np.log(good / good.sum()), np.log(bad / bad.sum())


def _best_candidate(
    dimensions: list[_Dimension],
    mask: np.ndarray,
    prior_weight: float,
    num_candidates: int,
    rng: np.random.Generator,
) -> list[Any]:
    """The decision values, among `num_candidates` drawn from the good
    mixture, with the largest ratio of good to bad density."""
    log_w_good, log_w_bad = _mixture_weights(mask, prior_weight)
    component = rng.choice(len(log_w_good), size=num_candidates, p=np.exp(log_w_good))
    candidates = [d.good.sample(component, rng) for d in dimensions]
    candidates = [d.snap(c) for d, c in zip(dimensions, candidates, strict=True)]
    log_l = _log_mixture(log_w_good, [d.good for d in dimensions], candidates)
    log_g = _log_mixture(log_w_bad, [d.bad for d in dimensions], candidates)
    best = int(np.argmax(log_l - log_g))
    return [d.value(float(c[best])) for d, c in zip(dimensions, candidates, strict=True)]


def _log_mixture(
    log_weights: np.ndarray, kernels: list[_Kernels], candidates: list[np.ndarray]
) -> np.ndarray:
    """log sum_c w_c prod_d k_{d,c}(x_d) at each candidate."""
    terms = log_weights[None, :] + sum(
        (k.log_kernels(x) for k, x in zip(kernels, candidates, strict=True)),
        start=np.zeros((len(candidates[0]), len(log_weights))),
    )
    top = terms.max(axis=1)
    log_p: np.ndarray = top + np.log(np.exp(terms - top[:, None]).sum(axis=1))
    return log_p


class _Kernels:
    """One decision's kernels: one per observation, then the prior's."""

    def sample(self, component: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def log_kernels(self, x: np.ndarray) -> np.ndarray:
        """log k_c(x) for every candidate x (rows) and kernel c (columns)."""
        raise NotImplementedError


class _Dimension:
    """One modelled decision: its good and bad kernels and its value mapping."""

    def __init__(self, point: DecisionPoint, good: _Kernels, bad: _Kernels) -> None:
        self.point, self.good, self.bad = point, good, bad

    @classmethod
    def of(
        cls, point: DecisionPoint, values: list[Any], mask: np.ndarray, prior_weight: float
    ) -> _Dimension:
        """The kernels of `point` from its observed `values` (`mask`: which are good)."""
        if isinstance(point, Choices):
            x = np.asarray(values, dtype=np.int64)
            k = len(point.candidates)
            return cls(
                point,
                _CategoricalKernels(x[mask], k, prior_weight),
                _CategoricalKernels(x[~mask], k, prior_weight),
            )
        x = np.asarray(values, dtype=np.float64)
        if isinstance(point, Float):
            low, high = point.min_value, point.max_value
            if point.scale == "log":
                x, low, high = np.log(x), math.log(low), math.log(high)
        else:
            assert isinstance(point, Int)
            low, high = point.min_value - 0.5, point.max_value + 0.5
        return cls(point, _NumericKernels(x[mask], low, high), _NumericKernels(x[~mask], low, high))

    def snap(self, x: np.ndarray) -> np.ndarray:
        """Candidates as the decision can take them (ints rounded into range)."""
        if isinstance(self.point, Int):
            rounded: np.ndarray = np.clip(np.round(x), self.point.min_value, self.point.max_value)
            return rounded
        return x

    def value(self, x: float) -> Any:
        """The decision's value for a (snapped) candidate coordinate."""
        point = self.point
        if isinstance(point, Choices):
            return int(x)
        if isinstance(point, Int):
            return int(x)
        assert isinstance(point, Float)
        value = math.exp(x) if point.scale == "log" else x
        return min(max(value, point.min_value), point.max_value)


class _CategoricalKernels(_Kernels):
    def __init__(self, observed: np.ndarray, k: int, prior_weight: float) -> None:
        n = len(observed)
        probs = np.full((n + 1, k), prior_weight / (n + 1))
        probs[np.arange(n), observed] += 1.0
        self.log_probs = np.log(probs / probs.sum(axis=1, keepdims=True))

    def sample(self, component: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        cumulative = np.cumsum(np.exp(self.log_probs[component]), axis=1)
        u = rng.random(len(component))[:, None] * cumulative[:, -1:]
        picks: np.ndarray = np.minimum((u >= cumulative).sum(axis=1), cumulative.shape[1] - 1)
        return picks

    def log_kernels(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.log_probs[:, x.astype(np.int64)].T
        return out


class _NumericKernels(_Kernels):
    """Gaussians truncated to [low, high], one per observation, then the prior's."""

    def __init__(self, mus: np.ndarray, low: float, high: float) -> None:
        span = high - low
        self.low, self.high = low, high
        n = len(mus)
        order = np.argsort(mus, kind="stable")
        ends = np.concatenate(([low], mus[order], [high]))
        sorted_sigmas = np.maximum(ends[1:-1] - ends[:-2], ends[2:] - ends[1:-1])
        if n >= 2:  # the first and last use their one inner neighbour (Optuna's default)
            sorted_sigmas[0] = ends[2] - ends[1]
            sorted_sigmas[-1] = ends[-2] - ends[-3]
        sigmas = np.empty(n)
        sigmas[order] = sorted_sigmas
        sigmas = np.clip(sigmas, span / min(100.0, 2.0 + n), span)
        self.mus = np.append(mus, 0.5 * (low + high))
        self.sigmas = np.append(sigmas, span)
        mass = _normal_cdf((high - self.mus) / self.sigmas) - _normal_cdf(
            (low - self.mus) / self.sigmas
        )
        self._log_norm = -np.log(self.sigmas) - np.log(np.maximum(mass, _TINY)) - _LOG_SQRT_2PI

    def sample(self, component: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One draw per kernel index (by rejection: each kernel keeps >= 1/3 of
        its mass in bounds)."""
        mus, sigmas = self.mus[component], self.sigmas[component]
        out: np.ndarray = mus.copy()
        todo = np.arange(len(component))
        for _ in range(64):
            x = rng.normal(mus[todo], sigmas[todo])
            inside = (x >= self.low) & (x <= self.high)
            out[todo[inside]] = x[inside]
            todo = todo[~inside]
            if not todo.size:
                break
        return out  # any draw still outside keeps its kernel's centre

    def log_kernels(self, x: np.ndarray) -> np.ndarray:
        z = (x[:, None] - self.mus[None, :]) / self.sigmas[None, :]
        out: np.ndarray = self._log_norm[None, :] - 0.5 * z * z
        return out


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = special.ndtr(z)  # the standard normal CDF, vectorized
    return out
