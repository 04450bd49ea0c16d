"""GP-BO: Bayesian optimization with a Gaussian process over floats, ints and choices.

Registered as `gp_bo` (`algorithms.create("gp_bo")`, or `algorithms.GPBO()`).
The model (`automorph.algorithms._gp`) is a GP with an ARD Matérn-5/2 kernel,
one length scale per decision, fitted by maximizing the marginal likelihood.
Each proposal maximizes the log expected improvement over candidates.

Encoding. Every `Float`, `Int` and `Choices` decision of the space (of every
candidate sub-space too) gets feature columns:

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

Pending proposals (proposed, no reward yet: in flight on other workers of a
study, or replayed from them) are modelled by a constant liar: each counts
as an observation of the worst reward seen (for the posterior, not for the
hyper-parameters), so proposals made while others run spread out instead of
piling onto one optimum. Neither pending nor rewarded points are proposed
again while another candidate is left; `discard` (a skipped or failed
trial) ends a proposal's pending state. Each proposal draws its candidates
from its own random generator.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt

from automorph.algorithms import _gp
from automorph.algorithms._base import Reward, SearchAlgorithm, TracksPending
from automorph.algorithms._registry import register
from automorph.geno import DNA, Choices, DecisionPoint, Float, Int, Space, join
from automorph.symbolic import Bounds
from automorph.utils import MISSING, FieldValueError, SearchSpaceError

Array = npt.NDArray[np.float64]

INACTIVE = -0.5
"""The feature value of an inactive number decision."""

_ONE_HOT = 1.0 / math.sqrt(2.0)
_REFINE_TOP = 5
_REFINE_SIZE = 50
_MAX_DECODE = 50


@dataclass(frozen=True)
class _Entry:
    """One modelled decision: its id, point, kind, parent entry and columns."""

    decision_id: str
    point: DecisionPoint
    parent: int  # index of the entry of the choice it sits under, or -1
    parent_value: int  # the candidate of that choice it sits in
    columns: slice
    size: int  # number of candidates of a choice; 0 for a number


class _Encoding:
    """Maps DNA and raw candidate rows to feature rows (see the module docstring).

    A raw row holds one number per entry: a number decision's value mapped to
    [0, 1], or a choice's candidate index; NaN where the decision is inactive.
    """

    def __init__(self, space: Space) -> None:
        self.entries: list[_Entry] = []
        self._width = 0
        self._walk(space, "", -1, -1)
        self.index = {entry.decision_id: i for i, entry in enumerate(self.entries)}
        self.groups = [entry.columns for entry in self.entries]

    @property
    def num_columns(self) -> int:
        return self._width

    def _add(self, decision_id: str, point: DecisionPoint, parent: int, value: int) -> int:
        size = len(point.candidates) if isinstance(point, Choices) else 0
        width = max(size, 1)
        columns = slice(self._width, self._width + width)
        self._width += width
        self.entries.append(_Entry(decision_id, point, parent, value, columns, size))
        return len(self.entries) - 1

    def _walk(self, space: Space, prefix: str, parent: int, value: int) -> None:
        for point in space.elements:
            if isinstance(point, Choices):
                for pick_id in point.pick_ids(prefix):
                    index = self._add(pick_id, point, parent, value)
                    for i, candidate in enumerate(point.candidates):
                        self._walk(candidate, f"{pick_id}[={i}]", index, i)
            elif isinstance(point, (Float, Int)):
                self._add(join(prefix, point.location), point, parent, value)

    def raw(self, dna: DNA) -> Array:
        """The raw row of `dna`."""
        row = np.full(len(self.entries), np.nan)
        for i, entry in enumerate(self.entries):
            value = dna.get(entry.decision_id, MISSING)
            if value is not MISSING:
                row[i] = _to_unit(entry.point, value)
        return row

    def random(self, rng: np.random.Generator, size: int) -> Array:
        """`size` raw rows drawn uniformly (inactive entries get values too)."""
        raw = rng.random((size, len(self.entries)))
        for i, entry in enumerate(self.entries):
            if entry.size:
                raw[:, i] = np.minimum(np.floor(raw[:, i] * entry.size), entry.size - 1)
        return raw

    def active(self, raw: Array) -> npt.NDArray[np.bool_]:
        """Which entries of each raw row are active."""
        active = np.ones(raw.shape, dtype=bool)
        for i, entry in enumerate(self.entries):
            if entry.parent >= 0:
                active[:, i] = active[:, entry.parent] & (
                    raw[:, entry.parent] == entry.parent_value
                )
        return active

    def features(self, raw: Array) -> Array:
        """The feature rows of raw rows."""
        n = raw.shape[0]
        active = self.active(raw)
        out = np.zeros((n, self._width))
        rows = np.arange(n)
        for i, entry in enumerate(self.entries):
            on = active[:, i]
            if entry.size:
                picks = np.where(on, raw[:, i], 0).astype(np.int64)
                out[rows[on], entry.columns.start + picks[on]] = _ONE_HOT
            else:
                column = raw[:, i]
                if isinstance(entry.point, Int):
                    column = _snap(entry.point, column)
                out[:, entry.columns.start] = np.where(on, column, INACTIVE)
        return out

    def perturb(self, raw: Array, scale: Array, rng: np.random.Generator) -> Array:
        """Copies of `raw` rows (no NaN) with some entries changed; `scale`: the
        step of each row for numbers (in [0, 1] units)."""
        n, e = raw.shape
        out = raw.copy()
        change = rng.random((n, e)) < max(0.2, 1.0 / e)
        change[np.arange(n), rng.integers(e, size=n)] = True
        steps = rng.normal(0.0, 1.0, (n, e)) * scale[:, None]
        redraw = self.random(rng, n)
        for i, entry in enumerate(self.entries):
            rows = change[:, i]
            if entry.size:
                out[rows, i] = redraw[rows, i]
            else:
                out[rows, i] = np.clip(out[rows, i] + steps[rows, i], 0.0, 1.0)
        return out

    def to_dna(self, space: Space, raw: Array, rng: np.random.Generator) -> DNA:
        """The DNA of a raw row (custom decisions drawn at random)."""

        def fill(decision_id: str, point: DecisionPoint) -> Any:
            i = self.index.get(decision_id)
            if i is None:
                return MISSING
            return _from_unit(point, float(raw[i]))

        return space.random_dna(rng, fill)


def _to_unit(point: DecisionPoint, value: Any) -> float:
    if isinstance(point, Choices):
        return float(value)
    if isinstance(point, Float):
        low, high = point.min_value, point.max_value
        if point.scale == "log":
            return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
        return (float(value) - low) / (high - low)
    assert isinstance(point, Int)
    span = point.max_value - point.min_value
    return 0.0 if span == 0 else (value - point.min_value) / span


def _snap(point: Int, unit: Array) -> Array:
    """Unit values of an int decision rounded to the values it can take."""
    span = point.max_value - point.min_value
    if span == 0:
        return np.zeros_like(unit)
    snapped: Array = np.round(unit * span) / span
    return snapped


def _from_unit(point: DecisionPoint, unit: float) -> Any:
    if isinstance(point, Choices):
        return int(unit)
    if isinstance(point, Float):
        low, high = point.min_value, point.max_value
        if point.scale == "log":
            value = math.exp(math.log(low) + unit * (math.log(high) - math.log(low)))
        else:
            value = low + unit * (high - low)
        return float(min(max(value, low), high))
    assert isinstance(point, Int)
    return point.min_value + round(unit * (point.max_value - point.min_value))


@dataclass
class _Model:
    """What one proposal (or batch) fits and scores."""

    posterior: _gp.Posterior
    best: float  # the standardized incumbent (+ xi), for expected improvement
    lie: float  # the standardized value pending proposals take
    raw: Array  # candidate rows
    features: Array
    scores: Array  # log EI of each candidate
    order: npt.NDArray[np.int64]  # distinct candidates, best first


class _Rows:
    """A growable float matrix (appending a row is amortized O(width))."""

    def __init__(self, width: int) -> None:
        self._data = np.empty((64, width))
        self.size = 0

    def append(self, row: Array) -> None:
        if self.size == self._data.shape[0]:
            self._data = np.concatenate([self._data, np.empty_like(self._data)])
        self._data[self.size] = row
        self.size += 1

    @property
    def data(self) -> Array:
        return self._data[: self.size]


def _finite(rewards: Array) -> Array:
    """`rewards` with infinities replaced by the extreme finite rewards (0 if none)."""
    ok = np.isfinite(rewards)
    if ok.all():
        return rewards
    if not ok.any():
        return np.zeros_like(rewards)
    low, high = float(rewards[ok].min()), float(rewards[ok].max())
    out: Array = np.where(ok, rewards, np.where(rewards > 0, high, low))
    return out


def _standardize(y: Array) -> Array:
    std = float(y.std())
    out: Array = (y - y.mean()) / (std if std > 1e-12 else 1.0)
    return out


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

    def _on_bound(self) -> None:
        if self.max_train < self.num_initial:
            raise FieldValueError(
                f"`max_train` ({self.max_train}) must be at least `num_initial` "
                f"({self.num_initial})",
                path="max_train",
            )

    def _setup(self) -> None:
        self._encoding = _Encoding(self._spec)
        if not self._encoding.entries:
            raise SearchSpaceError(
                "GPBO models Float, Int and Choices decisions; this search space has none "
                "(only custom decisions)"
            )
        self._raw = _Rows(len(self._encoding.entries))
        self._features = _Rows(self._encoding.num_columns)
        self._rewards = _Rows(1)
        self._history: list[tuple[DNA, float]] = []
        self._seen: set[DNA] = set()  # rewarded
        self._pending: Counter[DNA] = Counter()  # proposed, no reward yet
        self._fit: tuple[int, Array] | None = None

    @property
    def history(self) -> list[tuple[DNA, float]]:
        """The (DNA, reward) received, in order (a copy; empty before `setup`)."""
        return list(getattr(self, "_history", []))

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        raw = self._encoding.raw(dna)
        self._raw.append(raw)
        self._features.append(self._encoding.features(raw[None, :])[0])
        self._rewards.append(np.array([float(reward)]))  # type: ignore[arg-type]
        self._history.append((dna, float(reward)))  # type: ignore[arg-type]
        self._seen.add(dna)
        self._take_pending(dna)

    def _train_indices(self, rewards: Array, limit: int) -> npt.NDArray[np.int64]:
        """At most `limit` observations: all, or the best half and the most recent."""
        n = rewards.shape[0]
        if n <= limit:
            return np.arange(n)
        num_best = limit // 2
        best = np.argsort(-rewards, kind="stable")[:num_best]
        rest = np.ones(n, dtype=bool)
        rest[best] = False
        recent = np.flatnonzero(rest)[n - limit :]
        return np.sort(np.concatenate([best, recent]))

    def _refit_point(self, n: int) -> int:
        """The last refit point <= n (see the module docstring)."""
        m = self.num_initial
        while True:
            step = max(self.refit_every, m // 10)
            if m + step > n:
                return m
            m += step

    def _theta(self, n: int) -> Array:
        """The hyper-parameters fitted on the first `m` observations, `m` the
        last refit point <= n (cached; a pure function of those observations)."""
        m = self._refit_point(n)
        if self._fit is not None and self._fit[0] == m:
            return self._fit[1]
        rewards = _finite(self._rewards.data[:m, 0])
        train = self._train_indices(rewards, min(self.fit_size, self.max_train))
        rng = np.random.Generator(np.random.PCG64([self.seed or 0, _FIT_STREAM, m]))
        theta = _gp.fit_hyperparameters(
            self._features.data[train],
            self._encoding.groups,
            _standardize(rewards[train]),
            rng,
            restarts=self.restarts,
        )
        self._fit = (m, theta)
        return theta

    def _propose(self, rng: np.random.Generator) -> DNA:
        dna = self._maximize(rng)
        self._pending[dna] += 1
        return dna

    def _maximize(self, rng: np.random.Generator) -> DNA:
        """A random DNA at first; then the candidate of best log EI not yet
        rewarded nor pending."""
        if self._rewards.size < self.num_initial:
            return self._spec.random_dna(rng)
        model = self._model(rng)
        for i in model.order[:_MAX_DECODE]:
            dna = self._encoding.to_dna(self._spec, model.raw[i], rng)
            if dna not in self._seen and dna not in self._pending:
                return dna
        return self._encoding.to_dna(self._spec, model.raw[model.order[0]], rng)

    def _propose_batch(self, count: int) -> list[DNA]:
        """`count` proposals from one model: after each pick, the posterior
        takes the pick as a liar (the worst reward; an O(n^2) update) and the
        best candidates are scored again, so the batch spreads out."""
        if self._rewards.size < self.num_initial:
            return super()._propose_batch(count)
        rng = self._rng(self._num_proposed)
        model = self._model(rng)
        encoding, posterior = self._encoding, model.posterior
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
                candidate = encoding.to_dna(self._spec, model.raw[shortlist[j]], rng)
                if candidate not in self._seen and candidate not in self._pending:
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
                scores = _gp.log_expected_improvement(mean, std, model.best)
        return picked

    def _model(self, rng: np.random.Generator) -> _Model:
        """The posterior (pending proposals as liars) and the scored candidates."""
        n = self._rewards.size
        encoding = self._encoding
        rewards = _finite(self._rewards.data[:, 0])
        train = self._train_indices(rewards, self.max_train)
        y = _standardize(rewards[train])
        best = float(y.max()) + self.xi
        lie = float(y.min())
        features = self._features.data[train]
        if self._pending:
            # Constant liar: each pending proposal counts as an observation
            # of the worst reward seen, so concurrent proposals spread out.
            pending = sorted(self._pending, key=str)[: self.max_train]  # as replaying gives
            raw_pending = np.vstack([encoding.raw(dna) for dna in pending])
            features = np.vstack([features, encoding.features(raw_pending)])
            y = np.concatenate([y, np.full(len(pending), lie)])
        posterior = _gp.Posterior(features, y, encoding.groups, self._theta(n))

        def score(features: Array) -> Array:
            mean, std = posterior.predict(features)
            return _gp.log_expected_improvement(mean, std, best)

        raw = self._candidates(rng, train, rewards)
        scores = score(encoding.features(raw))
        top = np.argsort(-scores, kind="stable")[:_REFINE_TOP]
        seeds = raw[np.repeat(top, _REFINE_SIZE)]
        refined = encoding.perturb(seeds, 10.0 ** rng.uniform(-3.0, -1.5, len(seeds)), rng)
        raw = np.vstack([raw, refined])
        features = encoding.features(raw)
        scores = np.concatenate([scores, score(features[-len(refined) :])])
        # One candidate per distinct point (finite spaces repeat them), best first.
        _, first = np.unique(features, axis=0, return_index=True)
        order = first[np.argsort(-scores[first], kind="stable")]
        return _Model(posterior, best, lie, raw, features, scores, order)

    def _candidates(
        self, rng: np.random.Generator, train: npt.NDArray[np.int64], rewards: Array
    ) -> Array:
        """Raw candidate rows: uniform draws and perturbations of the best observations."""
        encoding = self._encoding
        uniform = encoding.random(rng, self.num_candidates)
        if not self.num_local:
            return uniform
        incumbents = train[np.argsort(-rewards[train], kind="stable")[:_REFINE_TOP]]
        base = self._raw.data[incumbents][rng.integers(len(incumbents), size=self.num_local)]
        base = np.where(np.isnan(base), encoding.random(rng, self.num_local), base)
        scale = 10.0 ** rng.uniform(-2.5, -0.5, self.num_local)
        return np.vstack([uniform, encoding.perturb(base, scale, rng)])
