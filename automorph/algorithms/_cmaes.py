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

Surrogate (`surrogate="lq"`): lq-CMA-ES (Hansen, "A Global Surrogate
Assisted CMA-ES", GECCO 2019), which spends true evaluations only where a
global linear-quadratic model of the results (`models.QuadraticModel`, over
the latest results of the current run) cannot rank a generation alone.
Each generation draws its population of candidates from the library (seeded
by run and generation) and, when the model has a minimum (or, on data a
plane fits, the corner of the box down its slope), puts it in place of the
last candidate, its step from the mean clipped as an injected DNA's. The
model ranks the candidates and the best-ranked are proposed: first
`1 + max(population / 50, 4 - data)` of them; when they all have results,
they join the model, and if its Kendall rank correlation with the true
values of the latest `max(15, min(1.2 * evaluated, 0.75 * population))`
results is below 0.85, half as many again are evaluated, and so on up to
the whole population. The generation is then told with model values for
every member and for the best-ranked candidates not evaluated (shifted so
that the least is the least true value), or with the true values when all
were evaluated. On a function the model fits, a generation costs one or two
evaluations; on one it does not, CMA-ES's. The state is still a function of
the proposals and their results: a generation's members are the proposals
that follow the previous generation's, as many as its rank tests asked for
(a proposal made while a test waits for results takes the next candidate
and, if the test passes, belongs to the next generation, injected there);
a member is its candidate when it has that candidate's DNA.

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
from automorph.algorithms.models import DNAEncoder, QuadraticModel
from automorph.geno import DNA, Int, Space
from automorph.symbolic import Bounds
from automorph.utils import FieldValueError, SearchSpaceError

# The factor of the population at each restart of the large regime.
_GROWTH = 2
# lq-CMA-ES (Hansen 2019): the rank correlation between the model and the
# true values above which a generation's other candidates are not evaluated.
_TAU_TRUTH = 0.85


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
        surrogate: "lq" for lq-CMA-ES, whose quadratic model of the results
            decides how many of each generation are evaluated, or None (see
            the module docstring). On COCO's BBOB functions (as `Auto`'s
            choice; benchmarks/results/blackbox.md) it found a better value
            than plain CMA-ES in 253 to 276 of the 360 problems of each
            setting and a worse one in 84 to 106 (d = 2, 5, 10 and 20; 20
            and 100 evaluations per coordinate).

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
    surrogate: Literal["lq"] | None = None

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
        if self.surrogate is not None:
            # lq-CMA-ES: each proposal's candidate, by proposal number (None:
            # not one of the current generation's), and the generation's state.
            self._assigned: dict[int, int | None] = {}
            self._open_generation()

    # --- what the base class calls ------------------------------------------------

    def _propose(self, rng: np.random.Generator) -> DNA:
        index = self._num_proposed
        if self.surrogate is not None:
            return self._propose_candidate(rng, index)
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
            self._settle()

    def _discard(self, dna: DNA) -> None:
        index = self._waiting.take(dna)
        if index is not None:
            self._results[index] = None
            self._settle()

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
        if self.surrogate is not None:
            self._assigned[index] = self._match(dna)

    def _settle(self) -> None:
        if self.surrogate is not None:
            self._settle_with_model()
        else:
            self._tell_complete_generations()

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
        cma = self._cma()
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

    # --- lq-CMA-ES: a generation ranked by the quadratic model --------------------------

    def _open_generation(self) -> None:
        """Draws the new generation's candidates (the model's minimizer in
        place of the last one), ranks them and re-matches the proposals
        already made for it (see the module docstring)."""
        optimizer = self._optimizer
        population = int(optimizer.population_size)
        rng = np.random.default_rng(
            [self.seed or 0, 2**33, len(self._runs), int(optimizer.generation)]
        )
        candidates = [self._draw(rng) for _ in range(population)]
        low, high = self._bounds[:, 0], self._bounds[:, 1]
        best = None if self._margin else self._model.minimizer(low, high)
        if best is not None:
            raw = self._clip_step(np.clip(best, low, high))
            candidates[-1] = (raw, _decode(self._layout, raw))
        self._candidates = [(raw, dna, self._layout.encode(dna)) for raw, dna in candidates]
        self._rank()
        self._target = min(population, int(1 + max(0.02 * population, 4 - len(self._model))))
        self._decided = 0  # the members whose results the model holds
        self._taken: set[int] = set()
        for index in sorted(self._members):
            self._assigned[index] = self._match(self._members[index])

    def _rank(self) -> None:
        """Orders the candidates by the model's value, best first."""
        if len(self._model) > 1:
            values = self._model.predict(np.array([c[2] for c in self._candidates]))
            self._order = [int(i) for i in np.argsort(values, kind="stable")]
        else:
            self._order = list(range(len(self._candidates)))

    def _match(self, dna: DNA) -> int | None:
        """The first candidate of the current generation not matched yet
        whose DNA is `dna` (now matched), or None."""
        for i, candidate in enumerate(self._candidates):
            if i not in self._taken and candidate[1] == dna:
                self._taken.add(i)
                return i
        return None

    def _propose_candidate(self, rng: np.random.Generator, index: int) -> DNA:
        """The best-ranked candidate not proposed yet; once every candidate
        is, a new sample of the current distribution."""
        for i in self._order:
            if i not in self._taken:
                dna = self._candidates[i][1]
                break
        else:
            dna = self._draw(rng)[1]
        self._add_member(index, dna)
        return dna

    def _settle_with_model(self) -> None:
        """Once the first `target` members have results, adds them to the
        model and either tells the generation (the model ranks the latest
        results well, or every candidate is evaluated) or evaluates half as
        many again."""
        while True:
            population = int(self._optimizer.population_size)
            target = self._target
            block = range(self._start, self._start + target)
            if any(i not in self._results for i in block):
                return
            for i in range(self._start + self._decided, block.stop):
                value = self._results[i]
                if value is not None:
                    self._model.add(self._layout.encode(self._members[i]), value)
            self._decided = target
            latest = max(15, min(int(1.2 * target), int(0.75 * population)))
            if target >= population or self._model.kendall_tau(latest) >= _TAU_TRUTH:
                self._tell_with_model(block)
            else:
                self._target = min(population, target + math.ceil(target / 2))
                self._rank()

    def _tell_with_model(self, block: range) -> None:
        """Tells the generation: its members and, when fewer than the
        population were evaluated, the best-ranked other candidates, all
        valued by the model (shifted so its least value is the least true
        one); with every candidate evaluated, the true values."""
        population = int(self._optimizer.population_size)
        values: list[float | None] = [self._results.pop(i) for i in block]
        vectors, points, mine = [], [], set()
        for i in block:
            dna, candidate = self._members.pop(i), self._assigned.pop(i)
            if candidate is None:
                vectors.append(self._clip_step(_represent(self._layout, dna, self._mean())))
                points.append(self._layout.encode(dna))
            else:
                mine.add(candidate)
                vectors.append(self._candidates[candidate][0])
                points.append(self._candidates[candidate][2])
        rest = [i for i in self._order if i not in mine][: population - len(block)]
        vectors += [self._candidates[i][0] for i in rest]
        points += [self._candidates[i][2] for i in rest]
        real = [v for v in values if v is not None]
        if len(block) < population:
            model = self._model.predict(np.array(points))
            told = model - model.min() + (min(real) if real else 0.0)
            worst = float(told.max())
            told[[k for k, v in enumerate(values) if v is None]] = worst
        else:
            worst = max(real) if real else 0.0
            told = np.array([worst if v is None else v for v in values])
        self._optimizer.tell(list(zip(vectors, told.tolist(), strict=True)))
        self._start = block.stop
        self._generations += 1
        self._evaluations[self._runs[-1][0]] += len(block)
        if self._optimizer.should_stop() and self.restart is not None:
            self._restart()
        self._open_generation()

    def _cma(self) -> Any:
        """The library's `CMA` of the current run (a `CMAwM` wraps one)."""
        return getattr(self._optimizer, "_cma", self._optimizer)

    def _mean(self) -> np.ndarray:
        return np.asarray(self._cma().mean, dtype=np.float64)

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
        if self.surrogate is not None:  # each run models from scratch
            self._model = QuadraticModel(len(self._steps), min_size=population)

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
        if self.surrogate is not None:  # the solutions are the model's first data
            for dna, reward in solutions:
                self._model.add(self._layout.encode(dna), -float(reward))
            self._open_generation()

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
