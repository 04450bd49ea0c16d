"""AutoML-Zero: evolving whole learning algorithms from basic math operations.

Programs (Setup, Predict, Learn over scalar/vector/matrix memory, the 65-op
instruction set of the original) are symbolic values; a compiled evaluator
(numba, the `zero` extra) trains and validates them on tasks; regularized
evolution with the original's mutations, functional-equivalence caching and
hurdles searches for them.

>>> from automorph import zero
>>> print(zero.linear_program().code())
def setup():
  s2 = 0.01
def predict():
  s1 = dot(v0, v1)
def learn():
  s3 = s0 - s1
  s3 = s3 * s2
  v2 = s3 * v0
  v1 = v1 + v2
"""

from __future__ import annotations

from automorph.zero._algorithms import linear_program, neural_net_program
from automorph.zero._config import (
    CONFIG_NAMES,
    MUTATIONS,
    STOP_FIELDS,
    SearchConfig,
    get_config,
)
from automorph.zero._errors import ConfigError, ProgramError, TaskDataError
from automorph.zero._islands import ISLAND_BACKENDS, IslandResult, run_islands
from automorph.zero._ops import NUM_OPS, OPS, OpInfo, op_id
from automorph.zero._program import Instruction, Memory, Program
from automorph.zero._reference import XorShift, reference_task_fitness
from automorph.zero._search import Evolver, SearchResult, evaluate_program, run_search
from automorph.zero._tasks import HELD_OUT_PAIRS, TaskSet, TaskSpec, load_images

__all__ = [
    "CONFIG_NAMES",
    "HELD_OUT_PAIRS",
    "ISLAND_BACKENDS",
    "MUTATIONS",
    "NUM_OPS",
    "OPS",
    "STOP_FIELDS",
    "ConfigError",
    "Evolver",
    "Instruction",
    "IslandResult",
    "Memory",
    "OpInfo",
    "Program",
    "ProgramError",
    "SearchConfig",
    "SearchResult",
    "TaskDataError",
    "TaskSet",
    "TaskSpec",
    "XorShift",
    "evaluate_program",
    "get_config",
    "linear_program",
    "load_images",
    "neural_net_program",
    "op_id",
    "reference_task_fitness",
    "run_islands",
    "run_search",
]
