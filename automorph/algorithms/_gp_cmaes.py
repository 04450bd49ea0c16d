"""GP-BO, then CMA-ES started where GP-BO found the best trials.

GP-BO is the most sample-efficient method here over the first tens of
trials of a numeric space; CMA-ES converges to a precise optimum and its
cost per proposal does not grow with the history. `GPBOThenCMAES` runs them
in turn: GP-BO makes the first `gp_trials` proposals, then CMA-ES (with its
restarts) makes every other one, starting its first run from WS-CMA-ES's
estimate of where the best of GP-BO's trials lie (Nomura et al., "Warm
Starting CMA-ES for Hyperparameter Optimization", AAAI 2021, computed by the
`cmaes` library's `get_warm_start_mgd`): the mean of the best `gamma` of them
and their covariance, widened by `alpha**2` on the diagonal (coordinates are
in [0, 1], as in `CMAES`). On COCO's BBOB functions (d = 2 and 5,
benchmarks/results/blackbox.md) it ends level with CMA-ES alone at 50·d and
100·d evaluations and is GP-BO, well ahead of CMA-ES, until the switch; at
50·d (d = 2) GP-BO alone was ahead of it.

The switch waits for the GP phase's results: CMA-ES starts once each of the
first `gp_trials` proposals has a result or was discarded. Proposals asked
for before that (several workers) still come from GP-BO; when CMA-ES starts
they are given to it as proposals of its own first generation (injected as
`CMAES` injects a DNA it did not draw) with the results known so far, and
later results go to it. So the state depends on the proposals and their
results, not on when results arrived: `recover` and every worker replaying
a study's events reach the same state, and one worker reproduces a search
from its seed.

Spaces: those both algorithms take (no custom decision; choices are one-hot
coordinates in CMA-ES, see `CMAES`). Single objective; constraints are
taken and ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np

from automorph.algorithms._base import Reward, SearchAlgorithm
from automorph.algorithms._cmaes import CMAES, InFlight, _layout
from automorph.algorithms._gp_bo import GPBO
from automorph.algorithms._registry import register
from automorph.geno import DNA
from automorph.symbolic import Bounds
from automorph.utils import FieldValueError

# The delegates' seed streams (distinct from the composite's own `_rng`).
_GP_STREAM, _CMAES_STREAM = 0x6B0, 0xC3A


@register("gp_bo_cmaes")
class GPBOThenCMAES(SearchAlgorithm, type_name="automorph.algorithms.GPBOThenCMAES"):
    """GP-BO for the first `gp_trials` proposals, then CMA-ES warm-started
    from their results (see the module docstring).

    Attributes:
        gp_trials: Proposals GP-BO makes before CMA-ES takes over; None takes
            20 per coordinate of the space (a float or an int is one, a
            choice of k candidates k), at most 200 (GP-BO's `max_train`)
            and at least 20.
        gamma: The share of the GP phase's trials, the best ones, that
            place CMA-ES's first distribution (at least one trial). In (0, 1].
        alpha: Added to the estimated covariance as `alpha**2` times the
            identity (in units of each decision's range). Positive.
        restart: CMA-ES's restarts: "ipop", "bipop" or None (see `CMAES`).
        surrogate: CMA-ES's surrogate: "lq" (lq-CMA-ES, whose quadratic
            model starts with the GP phase's results) or None (see `CMAES`).

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.GPBOThenCMAES(seed=0, gp_trials=15)
    >>> search.setup(am.dna_spec(am.Dict(x=am.floatv(-1.0, 1.0), y=am.floatv(-1.0, 1.0))))
    >>> for _ in range(120):
    ...     dna = search.propose()
    ...     search.feedback(dna, -((dna["x"] - 0.5) ** 2) - (dna["y"] + 0.2) ** 2)
    >>> search.phase
    'cmaes'
    >>> x, y = search.cmaes.mean_dna()["x"], search.cmaes.mean_dna()["y"]
    >>> abs(x - 0.5) < 0.02 and abs(y + 0.2) < 0.02
    True
    """

    gp_trials: Annotated[int, Bounds(1, None)] | None = None
    gamma: Annotated[float, Bounds(0.0, 1.0)] = 0.1
    alpha: Annotated[float, Bounds(0.0, None)] = 0.1
    restart: Literal["ipop", "bipop"] | None = "ipop"
    surrogate: Literal["lq"] | None = None

    handles_custom = False  # CMA-ES models DNA as vectors

    def _on_bound(self) -> None:
        if not 0.0 < self.gamma <= 1.0:
            raise FieldValueError(f"`gamma` ({self.gamma}) must be in (0, 1]", path="gamma")
        if not self.alpha > 0.0:
            raise FieldValueError(f"`alpha` ({self.alpha}) must be positive", path="alpha")

    def _setup(self) -> None:
        # Refuses custom decisions and spaces without a decision.
        width = _layout(self._spec, who=type(self).__name__).width
        self._gp_trials = (
            self.gp_trials if self.gp_trials is not None else min(200, max(20, 20 * width))
        )
        self._gp = GPBO(seed=self._stream_seed(_GP_STREAM))
        self._gp.setup(self._spec)
        self._cmaes = CMAES(
            seed=self._stream_seed(_CMAES_STREAM), restart=self.restart, surrogate=self.surrogate
        )
        self._cmaes.setup(self._spec)
        self._started = False  # whether CMA-ES has taken over
        # Before the switch, every proposal (by number) and what became of it:
        # its DNA, and its reward (absent: none yet; None: discarded).
        self._dnas: dict[int, DNA] = {}
        self._rewards: dict[int, float | None] = {}
        self._waiting = InFlight()
        self._settled = 0  # how many of the first `gp_trials` have a reward or were discarded

    # --- inspection -------------------------------------------------------------------

    @property
    def phase(self) -> str:
        """ "gp_bo" until CMA-ES takes over, then "cmaes"."""
        self._check_setup()
        return "cmaes" if self._started else "gp_bo"

    @property
    def cmaes(self) -> CMAES:
        """The CMA-ES that makes the proposals after the GP phase (after `setup`)."""
        self._check_setup()
        return self._cmaes

    @property
    def gp_bo(self) -> GPBO:
        """The GP-BO of the GP phase (after `setup`)."""
        self._check_setup()
        return self._gp

    # --- what the base class calls ------------------------------------------------

    def _propose(self, rng: np.random.Generator) -> DNA:
        if self._started:
            return self._cmaes.propose()
        dna = self._gp.propose()
        self._add(dna)
        return dna

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        if self._started:
            self._cmaes.replay_proposal(dna)
        else:
            self._gp.replay_proposal(dna)
            self._add(dna)
        if reward is not None:
            self._feedback(dna, reward)

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        index = self._waiting.take(dna)
        if self._started:  # CMA-ES's proposal, or one of the GP phase given to it
            self._cmaes.feedback(dna, reward)
            return
        self._gp.feedback(dna, reward)  # a DNA never proposed is one more observation
        if index is not None:
            self._settle(index, float(reward))  # type: ignore[arg-type]

    def _discard(self, dna: DNA) -> None:
        index = self._waiting.take(dna)
        if self._started:
            self._cmaes.discard(dna)
            return
        self._gp.discard(dna)
        if index is not None:
            self._settle(index, None)

    # --- the GP phase ----------------------------------------------------------------

    def _add(self, dna: DNA) -> None:
        index = len(self._dnas)
        self._dnas[index] = dna
        self._waiting.add(dna, index)

    def _settle(self, index: int, reward: float | None) -> None:
        self._rewards[index] = reward
        if index < self._gp_trials:
            self._settled += 1
            if self._settled == self._gp_trials:
                self._start_cmaes()

    def _start_cmaes(self) -> None:
        """CMA-ES takes over: its first run starts from the GP phase's best
        trials, and the proposals made after the first `gp_trials` become its
        own, with the results they have."""
        first = [
            (self._dnas[i], reward)
            for i in range(self._gp_trials)
            if (reward := self._rewards[i]) is not None
        ]
        if first:  # else (every trial discarded) it starts from the centre
            self._cmaes._warm_start(first, self.gamma, self.alpha)
        self._started = True
        later = sorted(i for i in self._dnas if i >= self._gp_trials)
        for i in later:
            dna = self._dnas[i]
            self._cmaes.replay_proposal(dna)
            if i in self._rewards:
                reward = self._rewards[i]
                if reward is None:
                    self._cmaes.discard(dna)
                else:
                    self._cmaes.feedback(dna, reward)
            else:
                assert i in self._waiting  # its result comes later, through `_feedback`
