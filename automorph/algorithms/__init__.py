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
from automorph.algorithms._base import Reward, SearchAlgorithm, check_reward
from automorph.algorithms._controllers import PPO, REINFORCE
from automorph.algorithms._evolution import Evolution, hill_climbing, regularized_evolution
from automorph.algorithms._gp_bo import GPBO
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
    "Bottom",
    "Choice",
    "Concatenation",
    "CycleCrossover",
    "OrderCrossover",
    "PartiallyMappedCrossover",
    "PermutationCrossover",
    "Swap",
    "Condition",
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
    "Grid",
    "Individual",
    "Last",
    "MultiObjectiveEvolution",
    "Mutate",
    "Operator",
    "PPO",
    "OperatorContext",
    "Pipeline",
    "REINFORCE",
    "PointCrossover",
    "Random",
    "Recombinator",
    "Reward",
    "SearchAlgorithm",
    "TPE",
    "check_reward",
    "Sample",
    "Top",
    "Tournament",
    "UniformCrossover",
    "active_decisions",
    "create",
    "crowding_distance",
    "hill_climbing",
    "names",
    "non_dominated_sort",
    "pareto_mask",
    "nsga2",
    "ranking",
    "regularized_evolution",
    "register",
]
