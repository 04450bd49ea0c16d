"""CMA-ES: the covariance matrix adaptation evolution strategy, on DNA.

The strategy itself is the `cmaes` library's (Hamano, Nomura et al.; the
library Optuna's `CmaEsSampler` uses): `cmaes.CMA` when every decision is
continuous, `cmaes.CMAwM` (CMA-ES with margin, Hamano et al. GECCO 2022)
when the space has integer decisions, so that the distribution keeps a
margin of probability on the neighbouring integers and the search does not
freeze on one of them. This module maps DNA to the library's vectors and
back, decides when a generation is complete, and restarts the strategy.

Vectors: every decision that can be active in some DNA has coordinates in
[0, 1] (the library keeps samples inside these bounds):

- a `Float`: one coordinate, its value scaled to [0, 1] (in log space for a
  log-scale float, so the strategy's steps are relative there);
- an `Int`: one coordinate, its value scaled to [0, 1], discretized by
  `CMAwM` on the grid of its values;
- a pick of a `Choices` of k candidates: a one-hot continuous relaxation of
  k coordinates; the candidate with the largest coordinate is picked (the
  picks of a distinct multi-pick take the largest not taken yet). One
  Gaussian over every decision keeps what a choice has in common with the
  numbers (a learning rate that suits one optimizer), which a separate
  categorical sampler would not, and the strategy stays the library's
  plain CMA-ES / CMA-ES with margin; argmax decoding is invariant to the
  shift of a whole block, which the bounds hold in check. A space of
  choices only is searched the same way. CMA-ES does not avoid repeats: in
  a small discrete space a converged run proposes the same DNA again.

Conditional decisions: the vector holds every decision of every candidate;
those a DNA does not activate are ignored when decoding. Their coordinates
are still sampled and updated, but no reward depends on them, so they feel
no selection (the strategy treats them as any coordinate the objective
ignores) and are ready when their candidate is picked. Custom decisions
have no vector form: spaces with them are refused.

Generations split the proposals, in proposal order, into consecutive
blocks of the current run's population size. A generation is told to the
library when every member has a result; a skipped or failed member
(`discard`) counts as the worst member of its generation, so the strategy
moves away from it. (Until then the strategy keeps its distribution: a
trial that never ends holds it there; a study gives a lost trial to another
worker or fails it.) Proposals made before the current generation is
complete (several workers, `propose_batch`) are drawn from the current
distribution and belong to a later generation. When that generation is
told, a member is given as the library's own sample for that generation and
proposal number (the distribution is re-drawn with the proposal's seed) if
that sample is the member's DNA (always so with one worker); otherwise (a
member drawn from an earlier distribution, a DNA enqueued by the user) it is
injected: that sample changed where it disagrees with the DNA (a number set
to the DNA's value, the picked candidate's coordinate swapped with the
largest one), its step from the mean clipped to a Mahalanobis length of
`sqrt(n) + 2n / (n + 2)` as Hansen (2011, "Injecting external solutions into
CMA-ES") advises. So the state is a function of the proposals and their
results alone, not of when results arrived: `recover` and every worker that
replays a study's events rebuild the same state, and with one worker a
search is reproducible from its seed.

Restarts (`restart`) when the library's `should_stop()` says the run has
converged or stalled; each restart starts from a uniformly random mean:

- "ipop" (Auger & Hansen, CEC 2005): the population doubles at each restart,
  with the initial step size;
- "bipop" (Hansen, GECCO 2009 workshop): two regimes share the budget; the
  large one doubles the population as IPOP, the small one draws a population
  `floor(lambda0 * (lambda_large / (2 lambda0)) ** (u ** 2))` (at least 4,
  which the library's weights need) and a step size
  `sigma0 * 10 ** (-2 u')` (u, u' uniform in [0, 1]). A restart takes the
  regime that has spent fewer evaluations so far (the first run counts as
  the large regime's);
- None: the run goes on after `should_stop()`.

Rewards are maximized (the library minimizes their negation). CMA-ES is
single-objective: a multi-objective reward is refused.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Annotated, Any, Literal

import numpy as np

from automorph.algorithms._base import Reward, SearchAlgorithm
from automorph.algorithms._registry import register
from automorph.algorithms.models import DNAEncoder
from automorph.geno import DNA, Int, Space
from automorph.symbolic import Bounds
from automorph.utils import FieldValueError, SearchSpaceError

# The factor of the population at each restart of the large regime.
_GROWTH = 2


class InFlight:
    """Proposal numbers waiting for a result, by DNA: a result for a DNA
    proposed several times goes to its earliest proposal still waiting."""

    def __init__(self) -> None:
        self._by_dna: dict[DNA, deque[int]] = {}

    def add(self, dna: DNA, index: int) -> None:
        self._by_dna.setdefault(dna, deque()).append(index)

    def take(self, dna: DNA) -> int | None:
        """The earliest proposal of `dna` still waiting (now no longer), if any."""
        indices = self._by_dna.get(dna)
        if not indices:
            return None
        index = indices.popleft()
        if not indices:
            del self._by_dna[dna]
        return index

    def __contains__(self, index: object) -> bool:
        return any(index in indices for indices in self._by_dna.values())


@register("cmaes")
class CMAES(SearchAlgorithm, type_name="automorph.algorithms.CMAES"):
    """CMA-ES with IPOP or BIPOP restarts (see the module docstring).

    Attributes:
        sigma0: The initial step size, in units of each decision's range
            (coordinates are in [0, 1]); Optuna's `CmaEsSampler` starts with
            a sixth of the range too. Must be positive.
        population_size: Proposals per generation of the first run; None
            takes the library's default `4 + floor(3 ln n)` for n coordinates.
            With several workers, a population at least as large as the
            number of workers keeps proposals on the current distribution.
        restart: "ipop", "bipop" or None (see the module docstring).

    Raises:
        SearchSpaceError: In `setup`, for a space with a custom decision or
            with no decision at all.

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.CMAES(seed=0)
    >>> search.setup(am.dna_spec(am.Dict(x=am.floatv(-1.0, 1.0), y=am.floatv(-1.0, 1.0))))
    >>> for _ in range(120):
    ...     dna = search.propose()
    ...     search.feedback(dna, -((dna["x"] - 0.5) ** 2) - (dna["y"] + 0.2) ** 2)
    >>> x, y = search.mean_dna()["x"], search.mean_dna()["y"]
    >>> abs(x - 0.5) < 0.02 and abs(y + 0.2) < 0.02
    True
    """

    sigma0: Annotated[float, Bounds(0.0, None)] = 1.0 / 6.0
    population_size: Annotated[int, Bounds(2, None)] | None = None
    restart: Literal["ipop", "bipop"] | None = "ipop"

    handles_custom = False  # models DNA as vectors: see the module docstring

    def _on_bound(self) -> None:
        if not self.sigma0 > 0.0:
            raise FieldValueError(f"`sigma0` ({self.sigma0}) must be positive", path="sigma0")

    def _setup(self) -> None:
        self._layout = _layout(self._spec)
        self._bounds, self._steps = _bounds_and_steps(self._layout)
        self._margin = bool(np.any(self._steps > 0))  # CMAwM if there are ints, else CMA
        n = len(self._steps)
        self._lambda0 = self.population_size or 4 + math.floor(3 * math.log(n))
        # Proposals not told yet, by proposal number (those of the current
        # generation and later), their results (a value to minimize, or None
        # if discarded) and the proposals waiting for one, by DNA.
        self._members: dict[int, DNA] = {}
        self._results: dict[int, float | None] = {}
        self._waiting = InFlight()
        # proposal number -> (generation key, raw vector, DNA) of its sample
        self._samples: dict[int, tuple[tuple[int, int], np.ndarray, DNA]] = {}
        self._generations = 0
        self._start = 0  # the proposal number of the current generation's first member
        self._runs: list[tuple[str, int]] = []
        self._evaluations = {"large": 0, "small": 0}
        self._large_restarts = 0
        self._new_run("large", self._lambda0, self.sigma0, np.full(n, 0.5))

    # --- what the base class calls ------------------------------------------------

    def _propose(self, rng: np.random.Generator) -> DNA:
        index = self._num_proposed
        raw, dna = self._draw(rng)
        self._samples[index] = (self._key(), raw, dna)
        self._add_member(index, dna)
        return dna

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        self._add_member(self._num_proposed, dna)
        if reward is not None:
            self._feedback(dna, reward)

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        index = self._waiting.take(dna)
        if index is not None:  # else not proposed, or no longer in flight: nothing to tell
            self._results[index] = -float(reward)  # type: ignore[arg-type]
            self._tell_complete_generations()

    def _discard(self, dna: DNA) -> None:
        index = self._waiting.take(dna)
        if index is not None:
            self._results[index] = None
            self._tell_complete_generations()

    # --- inspection ----------------------------------------------------------------

    @property
    def runs(self) -> list[tuple[str, int]]:
        """The runs so far, the first and every restart: (regime, population
        size), the regime "large" or "small" (empty before `setup`)."""
        return list(getattr(self, "_runs", []))

    @property
    def generations(self) -> int:
        """How many generations have been told to the strategy, over all runs."""
        return getattr(self, "_generations", 0)

    def mean_dna(self) -> DNA:
        """The DNA at the current distribution's mean (its best guess of the optimum)."""
        self._check_setup()
        return _decode(self._layout, self._optimizer.mean)

    # --- generations ----------------------------------------------------------------

    def _key(self) -> tuple[int, int]:
        """Identifies the current distribution: (run, generation)."""
        return len(self._runs), int(self._optimizer.generation)

    def _draw(self, rng: np.random.Generator) -> tuple[np.ndarray, DNA]:
        """The library's sample from the current distribution, seeded from
        `rng` (the generator of its proposal number): its raw vector and DNA."""
        optimizer = self._optimizer
        optimizer.reseed_rng(int(rng.integers(2**32)))
        if self._margin:
            x, raw = optimizer.ask()
        else:
            x = raw = optimizer.ask()
        return np.asarray(raw, dtype=np.float64), _decode(self._layout, x)

    def _add_member(self, index: int, dna: DNA) -> None:
        self._members[index] = dna
        self._waiting.add(dna, index)

    def _tell_complete_generations(self) -> None:
        while True:
            block = range(self._start, self._start + self._optimizer.population_size)
            if any(i not in self._results for i in block):
                return
            self._tell(block)

    def _tell(self, block: range) -> None:
        values = [self._results.pop(i) for i in block]
        real = [v for v in values if v is not None]
        worst = max(real) if real else 0.0
        vectors = [self._member_vector(i) for i in block]
        for i in block:
            del self._members[i]
            self._samples.pop(i, None)
        optimizer = self._optimizer
        optimizer.tell(
            [(x, worst if v is None else v) for x, v in zip(vectors, values, strict=True)]
        )
        self._start = block.stop
        self._generations += 1
        regime = self._runs[-1][0]
        self._evaluations[regime] += len(block)
        # Always asked (it also settles the covariance's eigendecomposition).
        if optimizer.should_stop() and self.restart is not None:
            self._restart()

    def _member_vector(self, index: int) -> np.ndarray:
        """The vector a member is told as: the current distribution's sample
        for its proposal number if that is its DNA, else injected (see the
        module docstring)."""
        dna = self._members[index]
        cached = self._samples.get(index)
        if cached is not None and cached[0] == self._key():
            raw, drawn = cached[1], cached[2]
        else:
            raw, drawn = self._draw(self._rng(index))
        if drawn == dna:
            return raw
        return self._clip_step(_represent(self._layout, dna, raw))

    def _clip_step(self, x: np.ndarray) -> np.ndarray:
        """`x` with its step from the mean clipped to the Mahalanobis length
        `sqrt(n) + 2n / (n + 2)` of the current distribution (Hansen 2011)."""
        cma = getattr(self._optimizer, "_cma", self._optimizer)  # CMAwM wraps a CMA
        mean, sigma = np.asarray(cma.mean), float(cma._sigma)
        basis, scales = cma._eigen_decomposition()  # C = B diag(D^2) B^T
        y = (x - mean) / sigma
        length = float(np.linalg.norm((basis.T @ y) / scales))
        n = len(x)
        limit = math.sqrt(n) + 2.0 * n / (n + 2.0)
        if length > limit:
            y *= limit / length
        out: np.ndarray = mean + sigma * y
        return out

    # --- runs -------------------------------------------------------------------------

    def _new_run(
        self,
        regime: str,
        population: int,
        sigma: float,
        mean: np.ndarray,
        cov: np.ndarray | None = None,
    ) -> None:
        # Imported here: cmaes imports scipy.stats, too slow for `import automorph`.
        import cmaes

        seed = 0  # unused: every sample is drawn after `reseed_rng` (see `_draw`)
        if self._margin:
            self._optimizer: Any = cmaes.CMAwM(  # cmaes.CMAwM or cmaes.CMA
                mean=mean,
                sigma=sigma,
                bounds=self._bounds,
                steps=self._steps,
                population_size=population,
                seed=seed,
                cov=cov,
            )
        else:
            self._optimizer = cmaes.CMA(
                mean=mean,
                sigma=sigma,
                bounds=self._bounds,
                population_size=population,
                seed=seed,
                cov=cov,
            )
        self._runs.append((regime, population))

    def _warm_start(self, solutions: list[tuple[DNA, float]], gamma: float, alpha: float) -> None:
        """Starts the first run from WS-CMA-ES's estimate of where the best
        `gamma` of `solutions` ((DNA, reward) pairs, at least one) lie (Nomura
        et al., AAAI 2021: the mean of the top solutions and their covariance
        plus `alpha**2` on the diagonal), in place of the centre of the space.
        Only before the first proposal; the composite `GPBOThenCMAES` calls it.
        """
        import cmaes

        assert self._num_proposed == 0 and self._generations == 0 and solutions
        vectors = [(self._layout.encode(dna), -float(reward)) for dna, reward in solutions]
        share = max(gamma, 1.0 / len(vectors))  # at least one solution is selected
        mean, sigma, cov = cmaes.get_warm_start_mgd(vectors, gamma=share, alpha=alpha)
        low, high = self._bounds[:, 0], self._bounds[:, 1]
        self._runs.clear()
        self._new_run("large", self._lambda0, sigma, np.clip(mean, low, high), cov)

    def _restart(self) -> None:
        # Restart number r draws from a stream of its own (proposals use `_rng(index)`).
        rng = np.random.default_rng([self.seed or 0, 2**32, len(self._runs)])
        if self.restart == "bipop" and self._evaluations["small"] < self._evaluations["large"]:
            u, v = rng.random(2)
            ratio = 0.5 * _GROWTH**self._large_restarts  # lambda_large / (2 lambda0)
            population = max(4, math.floor(self._lambda0 * ratio ** (u * u)))
            sigma = self.sigma0 * 10.0 ** (-2.0 * v)
            self._new_run("small", population, sigma, rng.random(len(self._steps)))
        else:
            self._large_restarts += 1
            population = self._lambda0 * _GROWTH**self._large_restarts
            self._new_run("large", population, self.sigma0, rng.random(len(self._steps)))


# --- DNA <-> vectors: the one place that knows the encoding --------------------------
# (the model core's `DNAEncoder`, with every Int as one scaled number)


def _layout(spec: Space, who: str = "CMAES") -> DNAEncoder:
    """The coordinates of `spec`: floats and ints scaled to [0, 1], picks one-hot.
    `who` is the algorithm the errors name.

    Raises:
        SearchSpaceError: If `spec` has a custom decision or no decision.
    """
    layout = DNAEncoder(spec, who=who)
    if layout.width == 0:
        raise SearchSpaceError(
            f"{who} needs a space with at least one decision; this one has none "
            "(it has a single DNA: evaluate it directly)"
        )
    return layout


def _bounds_and_steps(layout: DNAEncoder) -> tuple[np.ndarray, np.ndarray]:
    """The library's bounds (every coordinate in [0, 1]) and discretization
    steps (`1 / span` for an int of several values, 0 for continuous)."""
    low, high = layout.bounds()
    bounds = np.stack([low, high], axis=1)
    steps = np.zeros(layout.width)
    for entry in layout.entries:
        point = entry.point
        if isinstance(point, Int) and point.max_value > point.min_value:
            steps[entry.columns.start] = 1.0 / (point.max_value - point.min_value)
    return bounds, steps


def _decode(layout: DNAEncoder, x: np.ndarray) -> DNA:
    """The DNA of vector `x` (inactive coordinates ignored)."""
    return layout.decode(np.asarray(x, dtype=np.float64))


def _represent(layout: DNAEncoder, dna: DNA, x: np.ndarray) -> np.ndarray:
    """`x` changed to stand for `dna`: the coordinates of its active numbers
    set to their values, each active pick's candidate swapped with the largest
    coordinate of its block if another is larger; inactive ones kept."""
    out = np.array(x, dtype=np.float64)
    target = layout.encode(dna)
    active = layout.active_mask(dna)
    for entry in layout.entries:
        start, block = entry.columns.start, entry.columns
        if not active[start]:
            continue
        if not entry.one_hot:
            out[start] = target[start]
            continue
        chosen = int(np.argmax(target[block]))
        top = int(np.argmax(out[block]))
        if top != chosen:
            values = out[block]
            values[chosen], values[top] = values[top], values[chosen]
    return out
