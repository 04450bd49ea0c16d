"""`Evolution`: a search algorithm assembled from evolution operators.

An evolution keeps a population of evaluated individuals. Its first
`population_init_size` proposals are random; after that each proposal is the
first child that the `reproduction` operator makes of the population. Each
reward adds an individual to the population, and the `population_update`
operator (if any) decides who survives.

Operators see where the search is (`OperatorContext.step`): the number of
proposals made before this one when reproducing, of rewards received before
this one when updating the population, so their sizes and conditions may
follow schedules (`StepWise`, `Linear`, `Every`, ...).

Constraints: each individual keeps its total constraint violation, and the
selectors rank by Deb's rules (`ranking`): feasible individuals first, then
infeasible ones by violation. Regularized evolution's tournaments, hill
climbing and NSGA-II's survival therefore prefer feasible DNA; a search
without constraints is unchanged.

Regularized evolution and hill climbing below are a few lines each; NSGA-II
lives in `_nsga2.py`.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np

from automorph.algorithms._base import Reward, SearchAlgorithm
from automorph.algorithms._constraints import Constraints, violation
from automorph.algorithms._operators import (
    Individual,
    Last,
    Operator,
    OperatorContext,
    Sample,
    Top,
)
from automorph.algorithms._registry import register
from automorph.algorithms._variation import Mutate
from automorph.geno import DNA
from automorph.symbolic import Bounds
from automorph.utils import AutomorphError

# Feedback number `i` draws (for a population update) from `_rng(FEEDBACK_STREAM + i)`,
# apart from the generators of proposals, and reproduced by `recover`.
FEEDBACK_STREAM = 10**9


class Evolution(SearchAlgorithm, type_name="automorph.algorithms.Evolution"):
    """Evolutionary search built from operators (see the module docstring).

    The population holds one `Individual` per reward, in the order the
    rewards arrived (`birth` is the feedback number), filtered by
    `population_update` after each. `recover` rebuilds it by replaying the
    rewards in history order, and a population update draws from a
    generator derived from the feedback number, so the rebuilt population is
    exactly the live one. Proposals keep no queue: a reproduction that makes
    several children proposes only the first.

    Attributes:
        reproduction: Makes children of the population; the first child is
            proposed.
        population_update: Selects the survivors after each reward (None:
            everyone survives).
        population_init_size: How many of the first proposals are random (a
            proposal made while the population is still empty is random too).

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.Evolution(
    ...     algorithms.Tournament(3) >> algorithms.Mutate(),
    ...     population_update=algorithms.Last(10),
    ...     population_init_size=5,
    ...     seed=0,
    ... )
    >>> search.setup(am.dna_spec(am.List([am.oneof([0, 1, 2]) for _ in range(8)])))
    >>> for _ in range(60):
    ...     dna = search.propose()
    ...     search.feedback(dna, sum(v == 2 for v in dna.values()))
    >>> len(search.population), max(x.reward for x in search.population) >= 6
    (10, True)
    """

    reproduction: Operator
    population_update: Operator | None = None
    population_init_size: Annotated[int, Bounds(0, None)] = 1

    uses_constraints = True

    def _setup(self) -> None:
        self._population: list[Individual] = []

    @property
    def population(self) -> list[Individual]:
        """The current population (a copy of the list; empty before `setup`)."""
        return list(getattr(self, "_population", []))

    def _propose(self, rng: np.random.Generator) -> DNA:
        if self._num_proposed < self.population_init_size or not self._population:
            return self._spec.random_dna(rng)
        ctx = OperatorContext(self._spec, rng, step=self._num_proposed)
        children = self.reproduction(list(self._population), ctx)
        if not children:
            raise AutomorphError(
                f"the reproduction operator made no child of a population of "
                f"{len(self._population)}: {self.reproduction!r}"
            )
        return children[0].dna

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._feedback_constrained(dna, reward, ())

    def _feedback_constrained(self, dna: DNA, reward: Reward, constraints: Constraints) -> None:
        excess = violation(constraints)
        self._population.append(Individual(dna, reward, self._num_feedback, excess))
        if self.population_update is not None:
            n = self._num_feedback
            ctx = OperatorContext(self._spec, self._rng(FEEDBACK_STREAM + n), step=n)
            self._population = self.population_update(self._population, ctx)


@register("regularized_evolution")
def regularized_evolution(
    population_size: int = 100,
    tournament_size: int = 10,
    mutator: Operator = Mutate(),  # noqa: B008 -- a symbolic value; copied below
    seed: int | None = None,
) -> Evolution:
    """Regularized (aging) evolution (Real et al. 2019).

    Each proposal mutates the best of `tournament_size` individuals sampled
    from the population; the population keeps the `population_size` newest
    individuals, so the oldest dies whatever its reward.

    >>> regularized_evolution(population_size=20, tournament_size=5, seed=1).reproduction
    Pipeline(operators=[Sample(k=5), Top(k=1), Mutate(rate=None, sigma=0.1, float_step='gaussian')])
    """
    return Evolution(
        reproduction=Sample(tournament_size) >> Top(1) >> mutator.clone(),
        population_update=Last(population_size),
        population_init_size=population_size,
        seed=seed,
    )


@register("hill_climbing")
def hill_climbing(
    mutator: Operator = Mutate(),  # noqa: B008 -- a symbolic value; copied below
    seed: int | None = None,
) -> Evolution:
    """Hill climbing: mutate the best DNA so far; keep a child at least as good.

    A child whose reward ties the best replaces it, so the search drifts
    across plateaus.

    >>> hill_climbing(seed=1).population_update
    Top(k=1)
    """
    return Evolution(
        reproduction=Top(1) >> mutator.clone(),
        population_update=Top(1),
        population_init_size=1,
        seed=seed,
    )
