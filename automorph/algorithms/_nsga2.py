"""Multi-objective evolution and NSGA-II (Deb et al. 2002).

The operators already rank tuple rewards by non-dominated front, then
crowding distance (`Top`, `Tournament`); what multi-objective search adds is
the capability flag, a class attribute as every capability is. Constraints
given with the feedback make the fronts those of Deb's constrained
domination (feasible before infeasible, then smaller total violation), as
the constrained NSGA-II of Deb et al. 2002 (section VI) does.
"""

from __future__ import annotations

from automorph.algorithms._evolution import Evolution
from automorph.algorithms._operators import Operator, Top, Tournament
from automorph.algorithms._registry import register
from automorph.algorithms._variation import Mutate, UniformCrossover


class MultiObjectiveEvolution(Evolution, type_name="automorph.algorithms.MultiObjectiveEvolution"):
    """`Evolution` whose rewards are tuples of objectives, all maximized.

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.MultiObjectiveEvolution(
    ...     algorithms.Tournament(2) >> algorithms.Mutate(),
    ...     population_update=algorithms.Top(4),
    ...     population_init_size=4,
    ...     seed=0,
    ... )
    >>> search.setup(am.dna_spec(am.Dict(x=am.floatv(0.0, 1.0))))
    >>> for _ in range(20):
    ...     dna = search.propose()
    ...     search.feedback(dna, (dna["x"], 1.0 - dna["x"]))
    >>> len(search.population)
    4
    """

    multi_objective = True


@register("nsga2")
def nsga2(
    population_size: int = 50,
    crossover: Operator = UniformCrossover(),  # noqa: B008 -- symbolic values; copied below
    mutator: Operator = Mutate(),  # noqa: B008
    seed: int | None = None,
) -> MultiObjectiveEvolution:
    """NSGA-II, steady state: one child per proposal, the best survive.

    Parents are the winners of two binary tournaments on (non-dominated
    front, crowding distance); their crossover is mutated into the child.
    After each reward the population keeps the `population_size` best by
    front, then crowding distance (fast non-dominated sorting). With
    constraints (`feedback(dna, reward, constraints)`) fronts follow
    constrained domination, so infeasible individuals survive only while
    there are too few feasible ones, the least violating first.

    >>> nsga2(population_size=10, seed=1).population_update
    Top(k=10)
    """
    return MultiObjectiveEvolution(
        reproduction=Tournament(2, count=2) >> crossover.clone() >> mutator.clone(),
        population_update=Top(population_size),
        population_init_size=population_size,
        seed=seed,
    )
