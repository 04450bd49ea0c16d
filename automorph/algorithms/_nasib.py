"""NASIB: budget-aware search, scheduling exploration against exploitation.

The number of queries, `budget`, is known up front, and every choice of the
search is a function of how much of it is spent, `p = t / budget` for
proposal `t` (capped at 1 once the budget is spent):

- The first `ceil(initial_fraction * budget)` proposals (at least 2) are
  random.
- After that, a proposal explores with probability
  `exploration(t) = (1 - p) ** explore_power` and exploits otherwise, drawn
  from the proposal's generator.
- Exploring: of `num_candidates` random DNA not proposed yet, the one the
  predictor is least sure of (largest posterior standard deviation) is
  proposed, to learn where the model knows least.
- Exploiting: `num_candidates` neighbours of the best DNA so far (the best
  `parents`, in turn) are made by changing `1..radius(t)` decisions, where
  `radius(t) = max(1, round(max_radius * (1 - p)))` shrinks from
  `max_radius` to 1 as the budget is spent; the neighbour with the largest
  expected improvement is proposed. (When every such neighbour has been
  proposed already, the radius and the number of parents double, up to
  three times.)

So a small budget turns to local refinement early, and a large one keeps
exploring widely for longer: the same query number means a different phase
under a different budget. The predictor is the model core's Gaussian process
(`automorph.algorithms.models`) on the DNA's one-hot features, updated on
every reward (its hyper-parameters refitted every few rewards).

Each proposal is a function of the proposal number, the DNA proposed so far
and the rewards in feedback order, so `recover` rebuilds the state exactly.
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np

from automorph.algorithms._base import Reward, SearchAlgorithm
from automorph.algorithms._registry import register
from automorph.algorithms._variation import Mutate
from automorph.algorithms.models import DNAEncoder, Observations
from automorph.geno import DNA
from automorph.symbolic import Bounds
from automorph.utils import FieldValueError

_WIDEN = 4
_FIT_STREAM = 0x4A51B


@register("nasib")
class NASIB(SearchAlgorithm, type_name="automorph.algorithms.NASIB"):
    """Budget-aware search (see the module docstring).

    Attributes:
        budget: The number of queries the search will get.
        initial_fraction: Fraction of the budget spent on random proposals
            first, in [0, 1).
        explore_power: Exponent of the decay of the exploration probability
            over the budget (larger: exploit sooner); positive.
        max_radius: The most decisions an exploiting proposal changes, at the
            start of the budget (None: half the decisions, at least 1).
        parents: How many of the best DNA exploitation starts from.
        num_candidates: Candidates scored per proposal.

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.NASIB(budget=40, seed=0)
    >>> search.setup(am.dna_spec(am.List([am.oneof([0, 1, 2]) for _ in range(6)])))
    >>> round(search.exploration(10), 2), search.radius(10), search.radius(39)
    (0.56, 2, 1)
    >>> for _ in range(40):
    ...     dna = search.propose()
    ...     search.feedback(dna, sum(dna.values()))
    >>> max(search.observations.rewards)
    12.0
    """

    budget: Annotated[int, Bounds(1, None)] = 100
    initial_fraction: Annotated[float, Bounds(0.0, 1.0)] = 0.1
    explore_power: Annotated[float, Bounds(0.0, None)] = 2.0
    max_radius: Annotated[int, Bounds(1, None)] | None = None
    parents: Annotated[int, Bounds(1, None)] = 3
    num_candidates: Annotated[int, Bounds(1, None)] = 200

    handles_custom = False  # models DNA as vectors: see `models.DNAEncoder`

    def _on_bound(self) -> None:
        if not self.initial_fraction < 1.0:
            raise FieldValueError(
                f"`initial_fraction` ({self.initial_fraction}) must be less than 1",
                path="initial_fraction",
            )
        if not self.explore_power > 0.0:
            raise FieldValueError(
                f"`explore_power` ({self.explore_power}) must be positive", path="explore_power"
            )

    def _setup(self) -> None:
        self._encoder = DNAEncoder.for_kernel(self._spec, who="NASIB")
        self._obs = Observations(self._encoder.width, seed=self.seed or 0, stream=_FIT_STREAM)
        self._num_decisions = len(self._spec.random_dna(np.random.default_rng(0)))
        self._max_radius = self.max_radius or max(1, math.ceil(self._num_decisions / 2))
        self._num_random = max(2, math.ceil(self.initial_fraction * self.budget))
        self._explored: bool | None = None

    @property
    def observations(self) -> Observations:
        """The proposals and rewards seen so far (after `setup`)."""
        self._check_setup()
        return self._obs

    @property
    def last_explored(self) -> bool | None:
        """Whether this object's last proposal explored (None: random or none yet).

        A record of this process's proposals, for diagnostics: `recover`
        does not replay it.
        """
        return getattr(self, "_explored", None)

    def spent(self, t: int) -> float:
        """The fraction of the budget spent before proposal `t` (at most 1)."""
        return min(t / self.budget, 1.0)

    def exploration(self, t: int) -> float:
        """The probability that proposal `t` (after the random ones) explores."""
        return float((1.0 - self.spent(t)) ** self.explore_power)

    def radius(self, t: int) -> int:
        """The most decisions an exploiting proposal `t` changes (after `setup`)."""
        self._check_setup()
        return max(1, round(self._max_radius * (1.0 - self.spent(t))))

    def _propose(self, rng: np.random.Generator) -> DNA:
        t = self._num_proposed
        self._explored = None
        if t < self._num_random or not self._obs.rewards:
            dna = self._obs.proposed.random(self._spec, rng)
        elif rng.random() < self.exploration(t):
            self._explored = True
            dna = self._explore(rng)
        else:
            self._explored = False
            dna = self._exploit(t, rng)
        self._obs.proposed.add(dna)
        return dna

    def _explore(self, rng: np.random.Generator) -> DNA:
        candidates = [self._spec.random_dna(rng) for _ in range(self.num_candidates)]
        fresh = self._obs.proposed.fresh(candidates)
        model = self._obs.model()
        if not fresh or model is None:
            return self._obs.proposed.random(self._spec, rng)
        _, std = model.predict(self._encoder.encode_all(fresh))
        return fresh[int(np.argmax(std))]

    def _exploit(self, t: int, rng: np.random.Generator) -> DNA:
        mutate = Mutate()
        fresh: list[DNA] = []
        # When every neighbour within the radius has been proposed, widen the
        # neighbourhood (twice the radius, twice the parents) before giving up.
        for widen in range(_WIDEN):
            parents = self._obs.top(self.parents * 2**widen)
            radius = min(self.radius(t) * 2**widen, self._num_decisions)
            candidates: list[DNA] = []
            for c in range(self.num_candidates):
                child = parents[c % len(parents)]
                for _ in range(int(rng.integers(1, radius + 1))):
                    child = mutate.mutate(child, self._spec, rng)
                candidates.append(child)
            fresh = self._obs.proposed.fresh(candidates)
            if fresh:
                break
        model = self._obs.model()
        if not fresh or model is None:
            return self._obs.proposed.random(self._spec, rng)
        scores = model.log_expected_improvement(self._encoder.encode_all(fresh))
        return fresh[int(np.argmax(scores))]

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._obs.add(dna, float(reward), self._encoder.encode(dna))  # type: ignore[arg-type]

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        self._obs.proposed.add(dna)
        if reward is not None:
            self._feedback(dna, reward)
