"""NAS benchmarks, synthetic functions, and a harness that compares algorithms.

Benchmarks are registered by name (`names()`, `create(name)`); the harness
runs registered algorithms on them over many seeds:

    python -m automorph.benchmarks run --benchmark nb201-cifar10 \\
        --algorithms random,regularized_evolution --trials 300 --seeds 100 --workers 2
"""

from __future__ import annotations

from automorph.benchmarks._base import BENCHMARKS, Benchmark, create, names
from automorph.benchmarks._nasbench101 import (
    NB101_MAX_EDGES,
    NB101_MAX_NODES,
    NB101_OP_CODES,
    NB101_OPS,
    InvalidCellError,
    NB101Cell,
    NB101Entry,
    decode_nb101_key,
    graph_hash,
    load_nb101_sample,
    nb101_space,
)
from automorph.benchmarks._nasbench201 import (
    NB201_DATASETS,
    NB201_EDGES,
    NB201_NUM_CELLS,
    NB201_OPS,
    NB201_PAPER_BUDGET,
    NB201Benchmark,
    NB201Cell,
    NB201Op,
    NB201PaperBenchmark,
    NB201Table,
    nb201_space,
    parse_arch_str,
)
from automorph.benchmarks._nasbench201_grammar import NB201GrammarBenchmark, nb201_cell_of
from automorph.benchmarks._synthetic import (
    SyntheticBenchmark,
    ackley,
    branin,
    hartmann6,
    levy,
    rosenbrock,
)

__all__ = [
    "NB101_MAX_EDGES",
    "NB101_MAX_NODES",
    "NB101_OP_CODES",
    "NB101_OPS",
    "InvalidCellError",
    "NB101Cell",
    "NB101Entry",
    "decode_nb101_key",
    "graph_hash",
    "load_nb101_sample",
    "nb101_space",
    "BENCHMARKS",
    "NB201_DATASETS",
    "NB201_EDGES",
    "NB201_NUM_CELLS",
    "NB201_OPS",
    "NB201_PAPER_BUDGET",
    "Benchmark",
    "NB201Benchmark",
    "NB201GrammarBenchmark",
    "NB201Cell",
    "NB201Op",
    "NB201PaperBenchmark",
    "NB201Table",
    "SyntheticBenchmark",
    "ackley",
    "branin",
    "create",
    "hartmann6",
    "levy",
    "names",
    "nb201_cell_of",
    "nb201_space",
    "parse_arch_str",
    "rosenbrock",
]
