"""TPE: the Tree-structured Parzen Estimator (Bergstra et al., NeurIPS 2011).

The observations are split by reward into a "good" set (the best
`min(ceil(gamma * n), 25)` of them, as Optuna's default split caps it) and a
"bad" set (the rest). Each decision is then modelled on its own (independent
TPE, Optuna's default): a density `l` fitted to its values in good trials and
a density `g` fitted to its values in bad trials; `num_candidates` values are
drawn from `l` and the one with the largest `l(x) / g(x)` (the expected
improvement criterion of TPE) is proposed.

Per kind of decision:

- `Float` and `Int`: a Parzen mixture of Gaussians truncated to the bounds
  (in log space for a log-scale float; an int is modelled on
  `[min - 0.5, max + 0.5]` and rounded), one component per observation with
  a bandwidth of the larger distance to its sorted neighbours (the bounds
  count as neighbours), clipped to `[range / min(100, 1 + n), range]`, plus
  a prior component at the middle of the range with the whole range as its
  bandwidth and weight `prior_weight`.
- `Choices` of one pick: a categorical distribution of the counts of each
  candidate, smoothed by `prior_weight` spread over the candidates.
- Choices of several picks and custom decisions are drawn at random, as is
  every decision that no observation has seen active yet.

Conditional decisions use only the trials where they were active. The
proposal is built with `Space.random_dna(rng, fill)`, so the sub-decisions of
a chosen candidate are always those of that candidate.

Cost: the state is the list of (DNA, reward) received, with a column of
values per decision id kept alongside. A proposal uses the last
`MAX_HISTORY` (1000) observations only, so its cost is O(min(n, 1000)) per
active decision (vectorized with numpy), plus one sort of those rewards.
"""

from __future__ import annotations

import bisect
import math
from typing import Annotated, Any

import numpy as np

from automorph.algorithms._base import Reward, SearchAlgorithm
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
class TPE(SearchAlgorithm, type_name="automorph.algorithms.TPE"):
    """Tree-structured Parzen Estimator, decision by decision (see the module docstring).

    Attributes:
        num_initial: Proposals drawn at random until this many rewards have
            been received.
        gamma: Fraction of the observations in the good set (of the best
            rewards), in (0, 1); the set holds `min(ceil(gamma * n), 25)`
            of the `n` observations, at least one.
        num_candidates: Values drawn from the good density per decision;
            the one with the best density ratio is proposed.
        prior_weight: Weight of the prior (uniform-like) component in every
            density, relative to one observation; must be positive.

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.TPE(seed=0, num_initial=5)
    >>> search.setup(am.dna_spec(am.Dict(x=am.floatv(-1.0, 1.0))))
    >>> for _ in range(30):
    ...     dna = search.propose()
    ...     search.feedback(dna, -((dna["x"] - 0.5) ** 2))
    >>> abs(search.propose()["x"] - 0.5) < 0.2
    True
    """

    num_initial: Annotated[int, Bounds(1, None)] = 10
    gamma: Annotated[float, Bounds(0.0, 1.0)] = 0.25
    num_candidates: Annotated[int, Bounds(1, None)] = 24
    prior_weight: Annotated[float, Bounds(0.0, None)] = 1.0

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
        # decision id -> (values, indices in the history of the trials where it was active)
        self._columns: dict[str, tuple[list[Any], list[int]]] = {}

    @property
    def history(self) -> list[tuple[DNA, float]]:
        """The (DNA, reward) received, in order (a copy; empty before `setup`)."""
        return list(getattr(self, "_history", []))

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        index = len(self._history)
        self._history.append((dna, float(reward)))  # type: ignore[arg-type]
        for decision_id, value in dna.items():
            values, indices = self._columns.setdefault(decision_id, ([], []))
            values.append(value)
            indices.append(index)

    def _propose(self, rng: np.random.Generator) -> DNA:
        n = len(self._history)
        if n < self.num_initial:
            return self._spec.random_dna(rng)
        start = max(0, n - MAX_HISTORY)
        rewards = np.array([r for _, r in self._history[start:]])
        num_good = min(max(1, math.ceil(self.gamma * len(rewards))), MAX_GOOD)
        good = np.zeros(n, dtype=bool)
        good[start + np.argsort(-rewards, kind="stable")[:num_good]] = True

        def fill(decision_id: str, point: DecisionPoint) -> Any:
            column = self._columns.get(decision_id)
            if column is None:
                return MISSING
            values, indices = column
            first = bisect.bisect_left(indices, start)
            mask = good[indices[first:]]
            return self._suggest(point, values[first:], mask, rng)

        return self._spec.random_dna(rng, fill)

    def _suggest(
        self, point: DecisionPoint, values: list[Any], mask: np.ndarray, rng: np.random.Generator
    ) -> Any:
        """A value of `point` from its observed `values` (`mask`: which are good), or MISSING."""
        if isinstance(point, Choices):
            if point.num_choices != 1:
                return MISSING
            return _categorical(
                np.asarray(values, dtype=np.int64),
                mask,
                len(point.candidates),
                self.prior_weight,
                self.num_candidates,
                rng,
            )
        if isinstance(point, Float):
            x = np.asarray(values, dtype=np.float64)
            low, high = point.min_value, point.max_value
            if point.scale == "log":
                x, low, high = np.log(x), math.log(low), math.log(high)
            best = _numeric(x, mask, low, high, self.prior_weight, self.num_candidates, rng)
            value = math.exp(best) if point.scale == "log" else best
            return min(max(value, point.min_value), point.max_value)
        if isinstance(point, Int):
            if point.min_value == point.max_value:
                return MISSING
            x = np.asarray(values, dtype=np.float64)
            low, high = point.min_value - 0.5, point.max_value + 0.5
            best = _numeric(
                x, mask, low, high, self.prior_weight, self.num_candidates, rng, rounded=True
            )
            return min(max(round(best), point.min_value), point.max_value)
        return MISSING  # custom decisions


def _categorical(
    values: np.ndarray,
    mask: np.ndarray,
    k: int,
    prior_weight: float,
    num_candidates: int,
    rng: np.random.Generator,
) -> int:
    """The candidate index, among `num_candidates` drawn from the good
    distribution, with the largest ratio of good to bad probability."""
    log_l = _log_frequencies(values[mask], k, prior_weight)
    log_g = _log_frequencies(values[~mask], k, prior_weight)
    candidates = rng.choice(k, size=num_candidates, p=np.exp(log_l))
    return int(candidates[np.argmax((log_l - log_g)[candidates])])


def _log_frequencies(values: np.ndarray, k: int, prior_weight: float) -> np.ndarray:
    counts = np.bincount(values, minlength=k).astype(np.float64) + prior_weight / k
    log_p: np.ndarray = np.log(counts / counts.sum())
    return log_p


def _numeric(
    x: np.ndarray,
    mask: np.ndarray,
    low: float,
    high: float,
    prior_weight: float,
    num_candidates: int,
    rng: np.random.Generator,
    rounded: bool = False,
) -> float:
    """The value, among `num_candidates` drawn from the good mixture, with the
    largest ratio of good to bad density (`rounded`: an int, scored rounded)."""
    good = _Parzen(x[mask], low, high, prior_weight)
    bad = _Parzen(x[~mask], low, high, prior_weight)
    candidates = good.sample(num_candidates, rng)
    if rounded:
        candidates = np.clip(np.round(candidates), low + 0.5, high - 0.5)
    scores = good.log_pdf(candidates) - bad.log_pdf(candidates)
    return float(candidates[int(np.argmax(scores))])


class _Parzen:
    """A mixture of Gaussians truncated to [low, high]: one per observation, plus the prior."""

    def __init__(self, mus: np.ndarray, low: float, high: float, prior_weight: float) -> None:
        span = high - low
        self.low, self.high = low, high
        self.mus = np.append(mus, 0.5 * (low + high))
        order = np.argsort(self.mus, kind="stable")
        gaps = np.diff(np.concatenate(([low], self.mus[order], [high])))
        sigmas = np.empty_like(self.mus)
        sigmas[order] = np.maximum(gaps[:-1], gaps[1:])
        min_sigma = span / min(100.0, 1.0 + len(self.mus))
        self.sigmas = np.clip(sigmas, min_sigma, span)
        self.sigmas[-1] = span
        weights = np.append(np.ones(len(mus)), prior_weight)
        self.weights = weights / weights.sum()
        mass = _normal_cdf((high - self.mus) / self.sigmas) - _normal_cdf(
            (low - self.mus) / self.sigmas
        )
        self._log_norm = (
            np.log(self.weights) - np.log(self.sigmas) - np.log(np.maximum(mass, _TINY))
        )

    def sample(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """`size` draws (by rejection: each component keeps >= 1/3 of its mass in bounds)."""
        component = rng.choice(len(self.weights), size=size, p=self.weights)
        mus, sigmas = self.mus[component], self.sigmas[component]
        out = mus.copy()
        todo = np.arange(size)
        for _ in range(64):
            x = rng.normal(mus[todo], sigmas[todo])
            inside = (x >= self.low) & (x <= self.high)
            out[todo[inside]] = x[inside]
            todo = todo[~inside]
            if not todo.size:
                break
        return out  # any draw still outside keeps its component's centre

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """Log density at each of `x`."""
        z = (x[:, None] - self.mus[None, :]) / self.sigmas[None, :]
        terms = self._log_norm[None, :] - 0.5 * z * z - _LOG_SQRT_2PI
        top = terms.max(axis=1)
        log_p: np.ndarray = top + np.log(np.exp(terms - top[:, None]).sum(axis=1))
        return log_p


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.array([math.erf(v / math.sqrt(2.0)) for v in z.tolist()]))
