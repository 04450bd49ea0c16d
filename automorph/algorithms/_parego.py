"""ParEGO: multi-objective Bayesian optimization by random scalarizations.

Registered as `parego` (`algorithms.create("parego")`, or
`algorithms.ParEGO()`). Knowles (2006): each proposal draws a weight
vector `w` uniformly from the simplex (from the proposal's own seeded
generator), turns every observed objective vector `y` into one number by
the augmented Tchebycheff function of its normalized distance from the
best values seen, `d_j = (max y_j - y_j) / (max y_j - min y_j)`,

    s(y) = -(max_j w_j d_j + rho * sum_j w_j d_j),

and runs GP-BO's machinery (model core GP, candidates, log expected
improvement, constant liar, constraints) on that scalar. Rewards are
tuples of objectives, all maximized, as NSGA-II takes them. A batch
(`propose_batch`) shares one weight vector. Because the scalar changes
with every draw, the GP's hyper-parameters are fitted for every proposal
(seeded by the search's seed and the number of observations, so `recover`
reproduces them): a proposal costs a fit of O(restarts * iterations *
fit_size^3), which suits small budgets (tens to a few hundred trials); for
larger ones NSGA-II is cheaper.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np

from automorph.algorithms._base import Reward
from automorph.algorithms._constraints import Constraints
from automorph.algorithms._gp_bo import GPBO, Array
from automorph.algorithms._registry import register
from automorph.algorithms.models import Rows, Surrogate, finite
from automorph.geno import DNA
from automorph.symbolic import Bounds
from automorph.utils import FeedbackError

# Seeds the scalarized GP's hyper-parameter fits apart from GP-BO's streams.
_SCALAR_STREAM = 0x9A7E


def tchebycheff(objectives: Array, weights: Array, rho: float = 0.05) -> Array:
    """The augmented Tchebycheff scalarization of each row of `objectives`
    (all maximized), as a reward to maximize: 0 at the best value of every
    objective, more negative further from it (see the module docstring).

    Args:
        objectives: One row per observation, one column per objective.
        weights: One non-negative weight per objective.
        rho: Weight of the sum term, which breaks ties between points the
            max term cannot tell apart (weakly dominated ones).

    Returns:
        One number per row, higher is better.

    >>> tchebycheff(np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.6]]), np.array([0.5, 0.5]))
    array([-0.525, -0.525, -0.22 ])
    """
    top, bottom = objectives.max(axis=0), objectives.min(axis=0)
    spread = np.where(top > bottom, top - bottom, 1.0)
    distance = weights * (top - objectives) / spread
    scalar: Array = -(distance.max(axis=1) + rho * distance.sum(axis=1))
    return scalar


@register("parego")
class ParEGO(GPBO, type_name="automorph.algorithms.ParEGO"):
    """Multi-objective GP-BO by random Tchebycheff scalarizations (see the
    module docstring). It takes GP-BO's attributes, and:

    Attributes:
        rho: Weight of the sum term of the augmented Tchebycheff function.

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.ParEGO(seed=0, num_initial=5, num_candidates=200, num_local=50)
    >>> search.setup(am.dna_spec(am.Dict(x=am.floatv(0.0, 1.0))))
    >>> for _ in range(12):
    ...     dna = search.propose()
    ...     search.feedback(dna, (dna["x"], 1.0 - dna["x"] ** 2))
    >>> len(search.history), len(search.history[0][1])
    (12, 2)
    """

    multi_objective = True
    rho: Annotated[float, Bounds(0.0, None)] = 0.05

    def _setup(self) -> None:
        super()._setup()
        self._features = Rows(self._encoder.width)
        self._objectives: list[tuple[float, ...]] = []
        self._mo_history: list[tuple[DNA, tuple[float, ...]]] = []

    @property
    def history(self) -> list[tuple[DNA, tuple[float, ...]]]:  # type: ignore[override]
        """The (DNA, objectives) received, in order (a copy; empty before `setup`)."""
        return list(getattr(self, "_mo_history", []))

    def _observe(self, dna: DNA, reward: Reward, constraints: Constraints | None) -> None:
        assert isinstance(reward, tuple)
        if self._objectives and len(reward) != len(self._objectives[0]):
            raise FeedbackError(
                f"ParEGO: expected {len(self._objectives[0])} objectives, as earlier "
                f"feedback gave, got {len(reward)} ({reward!r})"
            )
        super()._observe(dna, reward, constraints)

    def _add_reward(self, dna: DNA, features: Array, reward: Reward) -> None:
        assert isinstance(reward, tuple)
        self._features.append(features)
        self._objectives.append(reward)
        self._mo_history.append((dna, reward))

    def _objective(self, rng: np.random.Generator) -> Surrogate:
        """A GP on the rewards scalarized by a weight vector drawn from `rng`."""
        table = np.asarray(self._objectives, dtype=float)
        objectives = np.column_stack([finite(column) for column in table.T])
        weights = rng.dirichlet(np.ones(objectives.shape[1]))
        # `warp` as GP-BO's objective (unwarped once constraints are reported)
        surrogate = self._new_surrogate(
            _SCALAR_STREAM, "none" if self._constraint_models else self.warp
        )
        scalars = tchebycheff(objectives, weights, self.rho)
        for row, value in zip(self._features.data, scalars, strict=True):
            surrogate.add(row, float(value))
        return surrogate
