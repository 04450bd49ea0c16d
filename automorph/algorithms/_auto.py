"""`Auto`: picks a search algorithm from the space and the budget, then delegates to it.

`Auto` is the default algorithm of `am.tune` and `am.sample`. At `setup` it
looks at the DNASpec (how many decisions are numbers, choices, multi-picks
or custom structures; whether some decisions are conditional; the size of a
finite space), at its `budget` (the most trials the search will run; None:
unknown) and at whether rewards are tuples (`multi_objective`), and creates
one registered algorithm, seeded from its own seed, that makes every
proposal. The rules, in order (the first that applies):

1. Several objectives: ParEGO (`parego`, GP-BO on random Tchebycheff
   scalarizations) for a budget of at most `gp_max_trials` (200) on a
   space without custom decisions; otherwise NSGA-II (`nsga2`), whose
   proposals cost nothing like ParEGO's per-proposal GP fit and which
   varies custom decisions with their hooks. On ZDT1 over 3 variables,
   ParEGO's hypervolume after 40 trials is about twice random search's
   (tests/algorithms/test_gp_constraints.py).
2. A finite space (no custom decision) of at most `budget` DNA: `Grid`, so
   every DNA is evaluated once and the search ends (no model can do better
   than evaluating them all; a noisy objective that should be evaluated
   again needs `Random`).
3. A budget of at most `random_max_trials` (10): `Random`. GP-BO and TPE
   draw their first 10 proposals at random (`num_initial`), so no model
   would propose anything in such a search.
4. Custom decisions (grammar derivations, programs): the algorithm their
   hooks name (`CustomHooks.preferred_algorithm`; `grammar_bo` for grammar
   spaces) if the budget is at most `preferred_max_trials` (100), else
   regularized evolution, which mutates and recombines them with their
   hooks. Measured on NAS-Bench-201 through its grammar
   (benchmarks/results/grammar.md, 20 seeds): at 100 queries `grammar_bo`
   had the best incumbent on CIFAR-10 and ImageNet16-120 and was within one
   standard error of the best (regularized evolution with a population of
   20) on CIFAR-100; at 200 queries that evolution was ahead on CIFAR-10
   and CIFAR-100, and it is what the sizing below gives for 200 trials.
5. Multi-pick choices (`manyof`, `permutate`): regularized evolution. TPE
   draws multi-picks at random; evolution's `Mutate` swaps and moves picks.
6. A flat space (no conditional decision) where at least
   `cmaes_numeric_share` (three quarters) of the decisions are floats or
   ints, with at least `cmaes_min_coordinates` (1) coordinates (a number
   is one, a choice of k candidates k) and a budget of at least
   `cmaes_trials_per_coordinate` (20) trials per coordinate, or no budget:
   lq-CMA-ES (`cmaes` with `surrogate=cmaes_surrogate`, "lq", and IPOP
   restarts), whose quadratic model of the results spends one or two
   evaluations on a generation it ranks well. Measured on COCO's BBOB
   f1-f24 (benchmarks/results/blackbox.md, 360 problems per setting), this
   `Auto` found a better value than the one before it (the warped GP-BO up
   to 50 trials per coordinate, then GP-BO-then-CMA-ES or CMA-ES) in 219
   problems and a worse one in 125 at d = 2 and 20 trials per coordinate,
   215 / 129 at d = 5, 219 / 126 at d = 10 and 199 / 146 at d = 20, and in
   234 / 103, 267 / 91, 260 / 97 and 259 / 101 at 100 per coordinate
   (d = 2, 5, 10, 20); it has the best mean rank of the methods run in
   each of those settings, and no method beat it in a function group by a
   sign test at the 5% level (by mean rank it trails in 9 of the 45
   (setting, group) cells, all on multimodal functions). The warped GP-BO
   stays ahead on separable functions (f1-f5) at d = 10 and 20 and 20 per
   coordinate (34 / 26 and 38 / 22 problems).
   On the HPO functions of rule 7 (branin, hartmann6, 4-D rosenbrock,
   ackley, levy) its regret after 100 and 200 trials was the lowest of
   every algorithm measured (benchmarks/results/learned-search.md).
7. A flat space where at least `gp_numeric_share` (half) of the decisions
   are numbers and a budget of at most `gp_max_trials` (200), or, on a
   space of mostly numbers (rule 6's share), of at most
   `gp_numeric_max_trials` (400) and `gp_trials_per_coordinate` (50)
   trials per coordinate: GP-BO (`gp_bo`) with its rewards warped by
   `gp_warp` ("half_rank": the worse half of the rewards replaced by normal
   quantiles of their ranks, see `GPBO.warp`). On a space of mostly
   numbers this is a budget under rule 6's; on a mixed space any budget up
   to `gp_max_trials`. Measured: on branin, hartmann6 and 4-D rosenbrock,
   ackley and levy, GP-BO had the lowest mean regret of GP-BO, TPE and
   Optuna's TPE in 9 of 10 (function, budget) columns at 100 and 200
   trials (benchmarks/results/learned-search.md, "Model-based HPO"); at
   20 trials per coordinate the warped GP-BO found a better value than the
   unwarped one in 218 BBOB problems of 360 and a worse one in 127 at
   d = 10, 191 and 154 at d = 5, 180 and 164 at d = 2.
   A larger budget on a space of mostly numbers that rule 6 leaves (fewer
   than `cmaes_min_coordinates` coordinates, or fewer than
   `cmaes_trials_per_coordinate` trials per coordinate above GP-BO's
   limit) runs GP-BO for `gp_phase_per_coordinate` (20) trials per
   coordinate (at most `gp_max_trials`), then lq-CMA-ES warm-started from
   them (`gp_bo_cmaes`, its model starting with the GP phase's results).
8. A budget of at least `evolution_min_trials` (10,000): regularized
   evolution. TPE models only its last 1,000 observations; aging evolution
   is the method of large-budget architecture search (Real et al. 2019).
9. Otherwise (choices, conditional spaces, mixed spaces): TPE (`tpe`),
   which models conditional decisions over the trials where they were
   active and handles constraints.

Without a budget (`budget=None`: `num_trials` not given, or a search driven
by hand) the rules that need a small budget (2, 3, 4's model-based branch,
7) do not apply and rule 6 applies as to a large budget: a search without
a limit runs until it is stopped, which is usually long. The thresholds
are fields, so they are stored with a study (a resumed study makes the
same choice) and can be tuned; the unmeasured ones (3's and 8's; the
shares) are reasoned, not measured.
The rules have changed between versions (numeric spaces went to GP-BO
without warped rewards, then with them, and larger budgets to plain
CMA-ES or GP-BO-then-CMA-ES, before lq-CMA-ES): a study that `Auto`
began in an earlier version continues with the current choice, which
replays its history (nothing stored changes).

Regularized evolution is sized to the budget: a population of
`budget // 10` (at least 10, at most 100; 100 without a budget) and a
tournament of a quarter of it (at least 2, at most 10): for 200 trials the
population of 20 and tournament of 5 that, in the grammar benchmark above,
was ahead of the library default (100, 10) at 100 queries on all three
datasets and at 200 on two (the default is random search for its first
100 proposals).

`Auto` never chooses BOHB: whether trials report learning curves is not in
the DNASpec. For multi-fidelity search give `algorithms.BOHB()`.

The budget reaches `Auto` through `SearchAlgorithm.planned`: `am.tune` and
`am.sample` give it their `num_trials` (and whether `direction` lists
several objectives) before `setup`, and `Auto` returns a copy with the
fields the user left unset filled in; the caller's object is not changed.

Delegation: `propose`, `propose_batch`, `feedback` (with constraints),
`discard` and event replay go to the chosen algorithm; `recover` sets up a
fresh one (the choice is a function of the space and the fields, so it is
the same) and replays the history into it as a study's events. The chosen
algorithm is `chosen` and the rule that chose it `reason`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np

from automorph.algorithms._base import Reward, SearchAlgorithm
from automorph.algorithms._constraints import Constraints
from automorph.algorithms._registry import create, names, register
from automorph.geno import DNA, Choices, CustomDecisionPoint, Float, Int, Space
from automorph.symbolic import Bounds
from automorph.utils import SearchExhaustedError

# Distinguishes the delegate's seed from Auto's own streams.
_DELEGATE_STREAM = 0xA070


@dataclass(frozen=True)
class SpaceProfile:
    """What `Auto` reads from a DNASpec.

    Attributes:
        numbers: `Float` and `Int` decisions (candidates' included).
        choices: One-pick `Choices` decisions.
        multi_picks: `Choices` of several picks (`manyof`, `permutate`).
        customs: Custom decisions.
        conditional: Whether some candidate of a choice holds decisions.
        size: How many DNA the space has (`math.inf` if infinite).
        preferred: The algorithm every custom decision's hooks that name one
            agree on (`CustomHooks.preferred_algorithm`), or None.
        coordinates: The coordinates of the space as a vector (a number is
            one, a choice of k candidates k, as CMA-ES and GP-BO encode it).
    """

    numbers: int
    choices: int
    multi_picks: int
    customs: int
    conditional: bool
    size: int | float
    preferred: str | None
    coordinates: int = 0

    @property
    def numeric_share(self) -> float:
        """The fraction of the decisions that are floats or ints."""
        total = self.numbers + self.choices + self.multi_picks + self.customs
        return self.numbers / total if total else 0.0


def profile(spec: Space) -> SpaceProfile:
    """The `SpaceProfile` of `spec`.

    >>> import automorph as am
    >>> p = profile(am.dna_spec(am.Dict(x=am.floatv(0.0, 1.0), k=am.oneof(["a", "b"]))))
    >>> p.numbers, p.choices, p.conditional, p.numeric_share
    (1, 1, False, 0.5)
    """
    numbers = choices = multi_picks = customs = coordinates = 0
    conditional = False
    preferences: set[str] = set()
    for point in spec.decision_points():
        if isinstance(point, Float | Int):
            numbers += 1
            coordinates += 1
        elif isinstance(point, Choices):
            coordinates += len(point.candidates)
            if point.num_choices > 1:
                multi_picks += 1
            else:
                choices += 1
            conditional = conditional or any(c.elements for c in point.candidates)
        elif isinstance(point, CustomDecisionPoint):
            customs += 1
            preferred = type(point.hooks).preferred_algorithm
            if preferred is not None:
                preferences.add(preferred)
    preferred = preferences.pop() if len(preferences) == 1 else None
    size = math.inf if customs else spec.size
    return SpaceProfile(
        numbers, choices, multi_picks, customs, conditional, size, preferred, coordinates
    )


@register("auto")
class Auto(SearchAlgorithm, type_name="automorph.algorithms.Auto"):
    """Chooses an algorithm from the space and the budget and delegates to it
    (the rules are in the module docstring and the README).

    Attributes:
        budget: The most trials the search will run; None if unknown.
            `am.tune` and `am.sample` fill it in from `num_trials` when it
            is None (on a copy: see `planned`).
        multi_objective: Whether rewards are tuples of objectives (then the
            choice is ParEGO or NSGA-II). `am.tune`/`am.sample` set it when
            `direction` lists several objectives.
        random_max_trials: Budgets up to this use random search.
        gp_max_trials: Budgets up to this use GP-BO on numeric spaces, and
            ParEGO for several objectives.
        preferred_max_trials: Budgets up to this use the algorithm that
            custom decisions' hooks prefer (grammar BO).
        evolution_min_trials: Budgets from this on use regularized evolution
            on spaces that are not mostly numeric.
        gp_numeric_share: The least fraction of numeric decisions of a flat
            space for GP-BO.
        cmaes_numeric_share: The least fraction of numeric decisions of a
            flat space for CMA-ES.
        gp_trials_per_coordinate: On a space of mostly numbers, budgets up to
            this many trials per coordinate (and up to `gp_numeric_max_trials`)
            use GP-BO alone.
        gp_numeric_max_trials: See `gp_trials_per_coordinate` (on other
            spaces GP-BO's limit is `gp_max_trials`).
        gp_phase_per_coordinate: GP-BO-then-CMA-ES's GP phase: this many
            trials per coordinate, at most `gp_max_trials`.
        cmaes_trials_per_coordinate: On a space of mostly numbers with at
            least `cmaes_min_coordinates` coordinates, budgets from this many
            trials per coordinate on (and no budget) use CMA-ES alone.
        cmaes_min_coordinates: See `cmaes_trials_per_coordinate`.
        cmaes_surrogate: The surrogate of the CMA-ES that `Auto` chooses
            (`CMAES.surrogate`: "lq" for lq-CMA-ES, or None).
        gp_warp: The reward warp of the GP-BO that `Auto` chooses
            (`GPBO.warp`).

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> spec = am.dna_spec(am.Dict(x=am.floatv(-1.0, 1.0), y=am.floatv(-1.0, 1.0)))
    >>> auto = algorithms.Auto(budget=30, seed=0)
    >>> auto.setup(spec)
    >>> type(auto.chosen).__name__, auto.reason
    ('GPBO', 'a flat space (2 of 2 decisions are numbers) and a budget of 30 <= 100')
    >>> chosen = algorithms.Auto(budget=500).choose(spec)  # 20 or more trials per coordinate
    >>> type(chosen).__name__, chosen.surrogate
    ('CMAES', 'lq')
    >>> type(algorithms.Auto().choose(spec)).__name__  # no budget: as for a large one
    'CMAES'
    """

    budget: Annotated[int, Bounds(0, None)] | None = None
    multi_objective: bool = False  # type: ignore[misc]  # a field here, a class attribute elsewhere
    random_max_trials: Annotated[int, Bounds(0, None)] = 10
    gp_max_trials: Annotated[int, Bounds(0, None)] = 200
    preferred_max_trials: Annotated[int, Bounds(0, None)] = 100
    evolution_min_trials: Annotated[int, Bounds(0, None)] = 10_000
    gp_numeric_share: Annotated[float, Bounds(0.0, 1.0)] = 0.5
    cmaes_numeric_share: Annotated[float, Bounds(0.0, 1.0)] = 0.75
    gp_trials_per_coordinate: Annotated[int, Bounds(0, None)] = 50
    gp_numeric_max_trials: Annotated[int, Bounds(0, None)] = 400
    gp_phase_per_coordinate: Annotated[int, Bounds(1, None)] = 20
    cmaes_trials_per_coordinate: Annotated[int, Bounds(0, None)] = 20
    cmaes_min_coordinates: Annotated[int, Bounds(0, None)] = 1
    cmaes_surrogate: Literal["lq"] | None = "lq"
    gp_warp: Literal["none", "half_rank", "rank"] = "half_rank"

    # --- what it chose ------------------------------------------------------------

    @property
    def chosen(self) -> SearchAlgorithm | None:
        """The algorithm making the proposals (set up), or None before `setup`."""
        return getattr(self, "_delegate", None)

    @property
    def reason(self) -> str | None:
        """The rule that chose `chosen`, in words (None before `setup`)."""
        return getattr(self, "_reason", None)

    @property
    def needs_feedback(self) -> bool:  # type: ignore[override]
        """Whether the chosen algorithm's proposals depend on feedback (True before `setup`)."""
        chosen = self.chosen
        return True if chosen is None else chosen.needs_feedback

    @property
    def uses_constraints(self) -> bool:  # type: ignore[override]
        """Whether the chosen algorithm steers by constraints (False before `setup`)."""
        chosen = self.chosen
        return False if chosen is None else chosen.uses_constraints

    def choose(self, spec: Space) -> SearchAlgorithm:
        """The algorithm (not set up) this `Auto` would search `spec` with,
        seeded from its seed (None while its seed is None).

        Raises:
            TypeError: If `spec` is not a DNASpec.
        """
        if not isinstance(spec, Space):
            raise TypeError(f"choose takes a DNASpec (am.DNASpec), got {type(spec).__name__}")
        name, options, _ = self.rule(profile(spec))
        return create(name, seed=self._delegate_seed(), **options)

    def rule(self, space: SpaceProfile) -> tuple[str, dict[str, Any], str]:
        """The registered name and options of the algorithm for a space of
        profile `space` under this `Auto`'s budget and thresholds, and the
        rule in words (see the module docstring for the order)."""
        budget = self.budget

        def within(limit: int | float) -> bool:
            return budget is not None and budget <= limit

        if self.multi_objective:
            if within(self.gp_max_trials) and not space.customs:
                return (
                    "parego",
                    {},
                    f"several objectives and a budget of {budget} <= {self.gp_max_trials}",
                )
            return "nsga2", {}, "several objectives"
        if budget is not None and not space.customs and space.size <= budget:
            return "grid", {}, f"the budget ({budget}) covers the whole space ({space.size} DNA)"
        if within(self.random_max_trials):
            return "random", {}, f"a budget of {budget} <= {self.random_max_trials}"
        if space.customs:
            preferred = space.preferred
            if preferred is not None and preferred in names() and within(self.preferred_max_trials):
                return (
                    preferred,
                    {},
                    (
                        f"custom decisions whose hooks prefer {preferred!r} and a budget of "
                        f"{budget} <= {self.preferred_max_trials}"
                    ),
                )
            return "regularized_evolution", _evolution(budget), "custom decisions"
        if space.multi_picks:
            return "regularized_evolution", _evolution(budget), "multi-pick choices"
        flat = not space.conditional
        share = space.numeric_share
        counted = f"{space.numbers} of {space.numbers + space.choices} decisions are numbers"
        mostly = flat and share >= self.cmaes_numeric_share
        lq = {"surrogate": self.cmaes_surrogate}
        if mostly and space.coordinates >= self.cmaes_min_coordinates:
            cmaes_from = self.cmaes_trials_per_coordinate * space.coordinates
            if budget is None or budget >= cmaes_from:
                size = "no budget" if budget is None else f"a budget of {budget} >= {cmaes_from}"
                return (
                    "cmaes",
                    lq,
                    (f"a flat space ({counted}) of {space.coordinates} coordinates and {size}"),
                )
        gp_alone = min(
            self.gp_numeric_max_trials, self.gp_trials_per_coordinate * space.coordinates
        )
        if flat and share >= self.gp_numeric_share:
            limit = gp_alone if mostly else self.gp_max_trials
            if within(limit):
                return (
                    "gp_bo",
                    {"warp": self.gp_warp},
                    (f"a flat space ({counted}) and a budget of {budget} <= {limit}"),
                )
        if mostly:
            per_coordinate = self.gp_phase_per_coordinate * space.coordinates
            phase = max(1, min(self.gp_max_trials, per_coordinate))
            size = "no budget" if budget is None else f"a budget of {budget} > {gp_alone}"
            return (
                "gp_bo_cmaes",
                {"gp_trials": phase, **lq},
                f"a flat space ({counted}) and {size}: GP-BO for {phase} trials, then CMA-ES",
            )
        if budget is not None and budget >= self.evolution_min_trials:
            return (
                "regularized_evolution",
                _evolution(budget),
                (f"a budget of {budget} >= {self.evolution_min_trials}"),
            )
        if space.conditional:
            return "tpe", {}, "a conditional space"
        if not space.numbers:
            return "tpe", {}, "a space of choices"
        return "tpe", {}, f"a mixed space ({counted})"

    def planned(self, budget: int | None, multi_objective: bool) -> SearchAlgorithm:
        """A copy with `budget` and `multi_objective` filled in where this one
        leaves them unset (None, False); this one if nothing changes or it is
        already set up (its choice is made). See `SearchAlgorithm.planned`."""
        changes: dict[str, Any] = {}
        if self.budget is None and budget is not None:
            changes["budget"] = budget
        if multi_objective and not self.multi_objective:
            changes["multi_objective"] = True
        if not changes or self.is_set_up:
            return self
        copy = self.clone(deep=True)
        copy.rebind(**changes)
        return copy

    # --- delegation -----------------------------------------------------------------

    def _delegate_seed(self) -> int | None:
        if self.seed is None:
            return None
        return self._stream_seed(_DELEGATE_STREAM)

    def _setup(self) -> None:
        name, options, reason = self.rule(profile(self._spec))
        delegate = create(name, seed=self._delegate_seed(), **options)
        delegate.setup(self._spec)
        self._delegate: SearchAlgorithm = delegate
        self._reason: str = reason

    def _propose(self, rng: np.random.Generator) -> DNA:
        return self._delegate.propose()

    def _propose_batch(self, count: int) -> list[DNA]:
        try:
            dnas = self._delegate.propose_batch(count)
        except SearchExhaustedError:
            return []
        self._num_proposed += len(dnas)
        return dnas

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._delegate.feedback(dna, reward)

    def _feedback_constrained(self, dna: DNA, reward: Reward, constraints: Constraints) -> None:
        self._delegate.feedback(dna, reward, constraints)

    def _discard(self, dna: DNA) -> None:
        self._delegate.discard(dna)

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        # As a study's events: the proposal, then its reward (the contract
        # makes that the state `recover` and the live algorithm reach).
        self._delegate.replay_proposal(dna)
        if reward is not None:
            self._delegate.feedback(dna, reward)


def _evolution(budget: int | None) -> dict[str, int]:
    """Regularized evolution's population and tournament for `budget` (see
    the module docstring)."""
    population = 100 if budget is None else min(100, max(10, budget // 10))
    return {"population_size": population, "tournament_size": max(2, min(10, population // 4))}
