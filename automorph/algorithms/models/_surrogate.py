"""A Gaussian process over a growing set of observations, as searches use it.

`Surrogate` keeps every observation (a point and its reward) and fits on a
bounded training set: at most `max_train` of them (`training_indices`), with
finite, standardized rewards. Its hyper-parameters are refitted only at
refit points of the number of observations (`refit_point`), on at most
`fit_size` of the observations up to that point, from starting points drawn
from a generator seeded by (seed, stream, refit point); so they are a pure
function of the observations in order, a search that replays its history
(`recover`) refits them exactly, and a fit is reused until the next refit
point. `fit()` gives the posterior (`GPPredictor`), optionally with "liars":
extra points observed at the worst standardized reward (a constant liar for
proposals still in flight).

`Observations` is what the DNA-level model-based searches (NASES, NASIB,
PNAS) record: the DNA proposed (`Unseen`), the rewards in feedback order,
each DNA's feature row, and a predictor (a `Surrogate`'s GP or `Ridge`)
refreshed when a reward arrives. Its GP's Matérn kernel has one length scale
for all columns: with the few dozen rewards these searches decide on, one
length scale per decision overfits (on an additive reward over a space of
six five-way choices, shaped like NAS-Bench-201's, it ranks random DNA
worse than a shared one until about 40 rewards), while GP-BO, whose spaces
mix numbers and choices, keeps one per decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from automorph.algorithms.models._data import (
    WARPS,
    Array,
    Indices,
    RewardWarp,
    Rows,
    finite,
    refit_point,
    standardize,
    training_indices,
    warp_rewards,
)
from automorph.algorithms.models._gp import (
    GaussianProcess,
    Kernel,
    Matern52,
    fit_hyperparameters,
)
from automorph.algorithms.models._regression import Predictor, Ridge
from automorph.algorithms.models._unseen import Unseen
from automorph.geno import DNA


@dataclass
class GPPredictor(Predictor):
    """A GP posterior on standardized rewards (`gp`), and how to undo that.

    Attributes:
        gp: The posterior (standardized units).
        train: The observations it was trained on (indices).
        mean: The mean of the training rewards.
        scale: Their standard deviation (1 if they are all equal).
        top: The best standardized training reward.
        lie: The worst one (the value liars take).
        warp: The reward warp applied before standardizing (the identity
            unless the surrogate has one); `predict` answers in warped units.
    """

    gp: GaussianProcess
    train: Indices
    mean: float
    scale: float
    top: float
    lie: float
    warp: RewardWarp

    def __post_init__(self) -> None:
        self.best = self.top * self.scale + self.mean

    def predict(self, x: Any) -> tuple[Array, Array]:
        mean, std = self.gp.predict(x)
        return mean * self.scale + self.mean, std * self.scale

    def standardized(self, rewards: Array) -> Array:
        """`rewards` in the posterior's units (warped, then standardized)."""
        out: Array = (self.warp(rewards) - self.mean) / self.scale
        return out


class Surrogate:
    """A GP over observations, refitted on a schedule (see the module docstring).

    Args:
        kernel: The kernel.
        width: The length of a point's feature row; None: points are items
            of a `Precomputed` kernel, kept in a list.
        seed: Seeds the hyper-parameter fits (with `stream`).
        stream: Tells the fits of one user apart from its other generators.
        first_fit: The first refit point; `fit` needs at least this many
            observations.
        refit_every: Refit points after the first (see `refit_point`).
        max_train: The most observations the posterior is trained on.
        fit_size: The most observations the hyper-parameters are fitted on.
        restarts: Starting points of each hyper-parameter fit.
        warp: How training rewards are warped before they are standardized:
            "none", "half_rank" or "rank" (see `warp_rewards`).

    >>> surrogate = Surrogate(Matern52([slice(0, 1)]), width=1, seed=0, first_fit=3)
    >>> for x in (0.1, 0.4, 0.7, 0.9):
    ...     surrogate.add(np.array([x]), -((x - 0.5) ** 2))
    >>> mean, std = surrogate.fit().predict(np.array([[0.5]]))
    >>> bool(mean[0] > -0.05)
    True
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        width: int | None,
        seed: int,
        stream: int = 0,
        first_fit: int = 1,
        refit_every: int = 10,
        max_train: int = 200,
        fit_size: int = 100,
        restarts: int = 3,
        warp: str = "none",
    ) -> None:
        if warp not in WARPS:
            raise ValueError(f"unknown reward warp {warp!r}; known: {', '.join(WARPS)}")
        self.warp = warp
        self.kernel = kernel
        self.seed, self.stream = seed, stream
        self.first_fit, self.refit_every = max(first_fit, 1), refit_every
        self.max_train, self.fit_size, self.restarts = max_train, fit_size, restarts
        self._rows = Rows(width) if width is not None else None
        self._items: list[Any] = []
        self._rewards = Rows(1)
        self._fit: tuple[int, Array] | None = None

    def unwarp(self) -> None:
        """Fits on unwarped rewards from now on (the cached fit is dropped,
        so the next one is the pure function of the observations it always is)."""
        if self.warp != "none":
            self.warp = "none"
            self._fit = None

    @property
    def size(self) -> int:
        """The number of observations."""
        return self._rewards.size

    @property
    def rewards(self) -> Array:
        """The rewards, in the order they were added (a view)."""
        return self._rewards.data[:, 0]

    def add(self, point: Any, reward: float) -> None:
        """Records an observation."""
        if self._rows is not None:
            self._rows.append(point)
        else:
            self._items.append(point)
        self._rewards.append(np.array([reward]))

    def points(self, indices: Indices) -> Any:
        """The points of observations `indices`."""
        if self._rows is not None:
            return self._rows.data[indices]
        return [self._items[int(i)] for i in indices]

    def hyperparameters(self) -> Array:
        """The hyper-parameters fitted at the last refit point (cached)."""
        m = refit_point(self.size, self.first_fit, self.refit_every)
        if self._fit is not None and self._fit[0] == m:
            return self._fit[1]
        rewards = finite(self.rewards[:m])
        train = training_indices(rewards, min(self.fit_size, self.max_train))
        rng = np.random.Generator(np.random.PCG64([self.seed, self.stream, m]))
        y, _, _ = standardize(warp_rewards(rewards[train], self.warp)[0])
        theta = fit_hyperparameters(self.kernel, self.points(train), y, rng, self.restarts)
        self._fit = (m, theta)
        return theta

    def fit(self, liars: Any = None) -> GPPredictor:
        """The posterior on the training set, plus `liars` (points, as many
        as `len(liars)`) observed at the worst standardized reward.

        Raises:
            ValueError: If there are fewer than `first_fit` observations.
        """
        if self.size < self.first_fit:
            raise ValueError(
                f"the surrogate has {self.size} observations; it fits from {self.first_fit}"
            )
        rewards = finite(self.rewards)
        train = training_indices(rewards, self.max_train)
        warped, warp = warp_rewards(rewards[train], self.warp)
        y, mean, scale = standardize(warped)
        top, lie = float(y.max()), float(y.min())
        x = self.points(train)
        if liars is not None and len(liars):
            if self._rows is not None:
                x = np.vstack([x, liars])
            else:
                x = [*x, *liars]
            y = np.concatenate([y, np.full(len(liars), lie)])
        gp = GaussianProcess(self.kernel, x, y, self.hyperparameters())
        return GPPredictor(gp, train, mean, scale, top, lie, warp)


# Refit points of `Observations`' GP: every other reward early, a tenth more later.
_REFIT_EVERY = 2


class Observations:
    """What a model-based search over DNA has seen (see the module docstring).

    Args:
        width: The length of a feature row.
        predictor: "gp" (a `Surrogate`) or "linear" (`Ridge`).
        seed: Seeds the GP's hyper-parameter fits.
        stream: Tells those fits apart from the search's other generators.

    >>> import automorph as am
    >>> from automorph.algorithms.models import DNAEncoder
    >>> encoder = DNAEncoder(am.dna_spec(am.Dict(op=am.oneof(["a", "b", "c"]))))
    >>> obs = Observations(encoder.width, predictor="linear")
    >>> for op, reward in [(0, 1.0), (1, 2.0), (2, 3.0)]:
    ...     dna = am.DNA({"op": op})
    ...     obs.add(dna, reward, encoder.encode(dna))
    >>> mean, std = obs.model().predict(encoder.encode_all(obs.dnas))
    >>> obs.top(1), bool(mean[0] < mean[1] < mean[2])
    ([DNA({'op': 2})], True)
    """

    def __init__(
        self,
        width: int,
        predictor: Literal["gp", "linear"] = "gp",
        seed: int = 0,
        stream: int = 0,
    ) -> None:
        self.predictor = predictor
        kernel = Matern52([slice(0, width)])
        self.surrogate = Surrogate(
            kernel, width=width, seed=seed, stream=stream, refit_every=_REFIT_EVERY
        )
        self.dnas: list[DNA] = []
        self.rewards: list[float] = []
        self.proposed = Unseen()
        self._model: tuple[int, Predictor] | None = None

    def add(self, dna: DNA, reward: float, row: Array) -> None:
        """Records the reward of `dna`, whose feature row is `row`."""
        self.dnas.append(dna)
        self.rewards.append(reward)
        self.surrogate.add(row, reward)

    def model(self) -> Predictor | None:
        """The predictor fitted on every reward so far (None before the first)."""
        n = len(self.rewards)
        if not n:
            return None
        if self._model is None or self._model[0] != n:
            if self.predictor == "gp":
                fitted: Predictor = self.surrogate.fit()
            else:
                fitted = Ridge(self.surrogate.points(np.arange(n)), finite(self.surrogate.rewards))
            self._model = (n, fitted)
        return self._model[1]

    def top(self, k: int) -> list[DNA]:
        """The `k` best DNA received (distinct; ties in feedback order)."""
        order = np.argsort(-np.array(self.rewards), kind="stable")
        out: list[DNA] = []
        for i in order:
            if self.dnas[i] not in out:
                out.append(self.dnas[i])
                if len(out) == k:
                    break
        return out
