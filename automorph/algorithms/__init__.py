"""Search algorithms: they see only the genotype (DNASpec and DNA).

Every algorithm follows the `SearchAlgorithm` contract (`setup`, `propose`,
`feedback`, `recover`) and is registered by name (`names()`, `create()`).
Evolutionary algorithms are `Evolution`s assembled from small operators
(selectors, mutators, recombinators, population updates) joined with `>>`.
`REINFORCE` and `PPO` are reinforcement-learning controllers (numpy policies,
independent or an LSTM) over any DNASpec. The model-based and learned
searches share one model core, `automorph.algorithms.models` (the DNA
encoder, the Gaussian process, acquisition functions, the numpy network kit);
of it only `DNAAutoencoder` is re-exported here.

Constrained search: `feedback(dna, reward, constraints)` carries constraint
values (each `<= 0` when met); `violation` and `is_feasible` read them, and
algorithms with `uses_constraints` (TPE, evolution, NSGA-II) prefer feasible
DNA. `hypervolume` measures a multi-objective front.
`Auto` (the default of `am.tune` and `am.sample`) chooses one of them from
the space and the budget and delegates to it.
`BOHB` also learns from a study's learning curves and runs with its own
early-stopping policy (`MultiFidelity`).
"""

from __future__ import annotations

from automorph.algorithms._algebra import (
    Choice,
    Concatenation,
    Condition,
    Conditional,
    Difference,
    Every,
    Identity,
    Intersection,
    PopulationSize,
    Power,
    Repeat,
    Slice,
    StepRange,
    SymmetricDifference,
    Union,
)
from automorph.algorithms._auto import Auto, SpaceProfile, profile
from automorph.algorithms._base import HistoryItem, Reward, SearchAlgorithm, check_reward
from automorph.algorithms._bohb import BOHB
from automorph.algorithms._cmaes import CMAES
from automorph.algorithms._constraints import (
    Constraints,
    check_constraints,
    feasibility_key,
    is_feasible,
    violation,
)
from automorph.algorithms._controllers import PPO, REINFORCE
from automorph.algorithms._evolution import Evolution, hill_climbing, regularized_evolution
from automorph.algorithms._fidelity import CurveSource, MultiFidelity
from automorph.algorithms._gp_bo import GPBO
from automorph.algorithms._gp_cmaes import GPBOThenCMAES
from automorph.algorithms._hypervolume import hypervolume
from automorph.algorithms._nases import NASES
from automorph.algorithms._nasib import NASIB
from automorph.algorithms._nsga2 import MultiObjectiveEvolution, nsga2
from automorph.algorithms._operators import (
    Bottom,
    First,
    Individual,
    Last,
    Operator,
    OperatorContext,
    Pipeline,
    Proportional,
    Sample,
    Selector,
    Top,
    Tournament,
    crowding_distance,
    non_dominated_sort,
    pareto_mask,
    ranking,
)
from automorph.algorithms._parego import ParEGO
from automorph.algorithms._permutation import (
    CycleCrossover,
    OrderCrossover,
    PartiallyMappedCrossover,
    PermutationCrossover,
)
from automorph.algorithms._pnas import PNAS
from automorph.algorithms._registry import create, names, register
from automorph.algorithms._schedules import Linear, Schedule, StepWise
from automorph.algorithms._simple import Grid, Random
from automorph.algorithms._tpe import TPE
from automorph.algorithms._variation import (
    Mutate,
    PointCrossover,
    Recombinator,
    Swap,
    UniformCrossover,
    active_decisions,
)
from automorph.algorithms.models import DNAAutoencoder

__all__ = [
    "Auto",
    "BOHB",
    "Bottom",
    "CMAES",
    "Choice",
    "Concatenation",
    "CurveSource",
    "CycleCrossover",
    "OrderCrossover",
    "PartiallyMappedCrossover",
    "PermutationCrossover",
    "Swap",
    "Condition",
    "Constraints",
    "Conditional",
    "Difference",
    "Every",
    "First",
    "Identity",
    "Intersection",
    "Linear",
    "PopulationSize",
    "Power",
    "Proportional",
    "Repeat",
    "Schedule",
    "Selector",
    "Slice",
    "StepRange",
    "StepWise",
    "SymmetricDifference",
    "Union",
    "DNAAutoencoder",
    "NASES",
    "NASIB",
    "PNAS",
    "Evolution",
    "GPBO",
    "GPBOThenCMAES",
    "HistoryItem",
    "Grid",
    "Individual",
    "Last",
    "MultiFidelity",
    "MultiObjectiveEvolution",
    "Mutate",
    "Operator",
    "PPO",
    "ParEGO",
    "OperatorContext",
    "Pipeline",
    "REINFORCE",
    "PointCrossover",
    "Random",
    "Recombinator",
    "Reward",
    "SearchAlgorithm",
    "SpaceProfile",
    "TPE",
    "check_constraints",
    "check_reward",
    "Sample",
    "Top",
    "Tournament",
    "UniformCrossover",
    "active_decisions",
    "create",
    "crowding_distance",
    "feasibility_key",
    "hill_climbing",
    "hypervolume",
    "is_feasible",
    "names",
    "non_dominated_sort",
    "pareto_mask",
    "profile",
    "nsga2",
    "ranking",
    "regularized_evolution",
    "register",
    "violation",
]
