"""Search configurations (the original's experiment spec) and the named ones."""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np
from numpy.typing import NDArray

import automorph as am
from automorph.zero._errors import ConfigError
from automorph.zero._ops import OP_IN1, OP_IN2, OP_OUT, OPS, op_id
from automorph.zero._program import Memory
from automorph.zero._tasks import TaskSpec

MUTATIONS = (
    "alter_param",
    "randomize_instruction",
    "randomize_component_function",
    "identity",
    "insert_instruction",
    "remove_instruction",
    "trade_instruction",
    "randomize_algorithm",
)
"""The mutations a search may apply, by the names of the original's mutators."""
INITIAL = ("random", "noop", "linear", "neural_net")
DEMO_OPS = [56, 27, 2, 3, 18, 23]


class SearchConfig(am.Object, type_name="automorph.zero.SearchConfig"):
    """An AutoML-Zero search: memory, tasks, ops, sizes, mutations, evolution, FEC.

    Sizes are (setup, predict, learn). `mutations` are names from `MUTATIONS`
    (a name listed twice is twice as likely). `max_train_steps` bounds one
    experiment (train steps summed over tasks, FEC steps included);
    experiments repeat, each with fresh task seeds, until the best program's
    fitness on `select_tasks` exceeds `sufficient_fitness` or `max_experiments`
    (0: no limit) have run.

    >>> config = get_config("linear-demo")
    >>> config.population_size, config.memory.num_scalars, config.search_tasks.num_tasks
    (1000, 4, 10)
    """

    memory: Memory = Memory(4, 3, 1)
    search_tasks: TaskSpec = TaskSpec()
    select_tasks: TaskSpec = TaskSpec(num_train=1000, num_valid=100, num_tasks=100)
    final_tasks: TaskSpec | None = None
    setup_ops: list[int] = DEMO_OPS
    predict_ops: list[int] = DEMO_OPS
    learn_ops: list[int] = DEMO_OPS
    sizes_init: list[int] = [10, 2, 8]
    sizes_min: list[int] = [10, 2, 8]
    sizes_max: list[int] = [11, 3, 9]
    mutations: list[str] = ["alter_param", "randomize_instruction", "randomize_component_function"]
    mutate_prob: float = 0.9
    population_size: int = 1000
    tournament_size: int = 10
    initial_population: str = "random"
    fec: bool = True
    fec_train: int = 10
    fec_valid: int = 10
    cache_size: int = 100000
    forget_every: int = 100
    combine: str = "mean"
    max_abs_error: float = 100.0
    hurdle_tasks: int = 0
    hurdle_percentile: float = 75.0
    max_train_steps: int = 200_000_000
    max_experiments: int = 0
    sufficient_fitness: float = 0.9999
    randomize_task_seeds: bool = True
    progress_every: int = 10000

    def _on_bound(self) -> None:
        super()._on_bound()
        _check_config(self)

    def allowed_ops(self) -> list[list[int]]:
        """The op ids allowed in setup, predict and learn."""
        return [list(self.setup_ops), list(self.predict_ops), list(self.learn_ops)]

    def space_arrays(self) -> tuple[NDArray[np.int64], ...]:
        """The kernels' search space: (allowed [3, K], counts, memory, min, max, mutations)."""
        ops = self.allowed_ops()
        width = max(1, *(len(o) for o in ops))
        allowed = np.zeros((3, width), dtype=np.int64)
        for k, o in enumerate(ops):
            allowed[k, : len(o)] = o
        mem = self.memory
        return (
            allowed,
            np.array([len(o) for o in ops], dtype=np.int64),
            np.array([mem.num_scalars, mem.num_vectors, mem.num_matrices], dtype=np.int64),
            np.array(self.sizes_min, dtype=np.int64),
            np.array(self.sizes_max, dtype=np.int64),
            np.array([MUTATIONS.index(m) for m in self.mutations], dtype=np.int64),
        )

    @property
    def max_size(self) -> int:
        """The array length of a component function (the largest allowed size)."""
        return max(1, *self.sizes_max, *self.sizes_init)


STOP_FIELDS = ("max_train_steps", "max_experiments")
"""Fields that only say when a search ends: a checkpoint resumes under a config
that differs from its own in these alone (a longer or shorter run of the same
search)."""


def resume_key(config: SearchConfig) -> dict[str, Any]:
    """`config` as JSON without `STOP_FIELDS`: what a checkpoint must match.

    >>> longer = get_config("cifar10-binary").rebind({"max_train_steps": 10**12})
    >>> resume_key(longer) == resume_key(get_config("cifar10-binary"))
    True
    """
    key: dict[str, Any] = am.to_json(config)
    for name in STOP_FIELDS:
        key.pop(name, None)
    return key


def _check_config(c: SearchConfig) -> None:
    for name in ("sizes_init", "sizes_min", "sizes_max"):
        sizes = getattr(c, name)
        if len(sizes) != 3 or any(s < 0 for s in sizes):
            raise ConfigError(f"SearchConfig.{name} must be 3 sizes >= 0, got {list(sizes)}")
    for k in range(3):
        if not c.sizes_min[k] <= c.sizes_init[k] <= c.sizes_max[k]:
            raise ConfigError(
                f"SearchConfig: need sizes_min <= sizes_init <= sizes_max, got "
                f"{list(c.sizes_min)}, {list(c.sizes_init)}, {list(c.sizes_max)}"
            )
    for name in ("setup_ops", "predict_ops", "learn_ops"):
        for op in getattr(c, name):
            try:
                op_id(op)
            except ValueError as e:
                raise ConfigError(f"SearchConfig.{name}: {e}") from None
            _check_op_fits(op, c.memory, name)
    for m in c.mutations:
        if m not in MUTATIONS:
            close = difflib.get_close_matches(m, MUTATIONS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"SearchConfig.mutations: unknown mutation {m!r}{hint}")
    if not c.mutations:
        raise ConfigError("SearchConfig.mutations must name at least one mutation")
    checks = [
        ("mutate_prob", 0.0 <= c.mutate_prob <= 1.0, "in [0, 1]"),
        ("population_size", c.population_size >= 2, ">= 2"),
        ("tournament_size", c.tournament_size >= 1, ">= 1"),
        ("initial_population", c.initial_population in INITIAL, f"one of {INITIAL}"),
        ("combine", c.combine in ("mean", "median"), "'mean' or 'median'"),
        ("cache_size", c.cache_size >= 1, ">= 1"),
        ("forget_every", c.forget_every >= 1, ">= 1"),
        ("fec_train", 0 <= c.fec_train <= c.search_tasks.num_train, "in 0..num_train"),
        ("fec_valid", 0 <= c.fec_valid <= c.search_tasks.num_valid, "in 0..num_valid"),
        ("max_abs_error", c.max_abs_error > 0, "> 0"),
        ("hurdle_tasks", 0 <= c.hurdle_tasks < c.search_tasks.num_tasks or c.hurdle_tasks == 0,
         "in 0..num_tasks-1"),
        ("hurdle_percentile", 0.0 <= c.hurdle_percentile <= 100.0, "in [0, 100]"),
        ("max_train_steps", c.max_train_steps >= 1, ">= 1"),
        ("max_experiments", c.max_experiments >= 0, ">= 0"),
        ("progress_every", c.progress_every >= 0, ">= 0"),
    ]  # fmt: skip
    for name, ok, rule in checks:
        if not ok:
            raise ConfigError(f"SearchConfig.{name} must be {rule}, got {getattr(c, name)!r}")


def _check_op_fits(op: int, memory: Memory, where: str) -> None:
    kinds = [int(OP_IN1[op]), int(OP_IN2[op])]
    for kind in kinds:
        if kind >= 0 and memory.size(kind) < 1:
            raise ConfigError(
                f"SearchConfig.{where}: {OPS[op].name} reads a matrix; memory has none"
            )
    out = int(OP_OUT[op])
    if out >= 0 and memory.size(out) < (1 if out == 2 else 2):
        raise ConfigError(
            f"SearchConfig.{where}: {OPS[op].name} writes a {('scalar', 'vector', 'matrix')[out]} "
            f"but the memory has no writable one ({memory})"
        )


_NN_SETUP = [56, 62, 59, 63, 60, 64, 61]
_NN_PREDICT = [1, 31, 48, 27, 23]
_NN_LEARN = [1, 2, 3, 18, 23, 16, 25, 28, 39]
_ALL_OPS = list(range(1, 65))
_ADAPT_MEMORY = Memory(10, 16, 4)
"""The paper's memory for its section 4.3 adaptation experiments (10/16/4 addresses)."""


def _configs() -> dict[str, SearchConfig]:
    linear = TaskSpec("linear", features=4, num_train=100, num_valid=100, num_tasks=10)
    nonlinear = TaskSpec("nonlinear", features=8, num_train=1000, num_valid=100, num_tasks=10)
    cifar = TaskSpec("cifar10", features=16, num_train=8000, num_valid=1000, num_tasks=10)
    return {
        "linear-demo": SearchConfig(
            search_tasks=linear,
            final_tasks=TaskSpec(
                num_train=1000,
                num_valid=100,
                num_tasks=100,
                data_seeds=[1000000],
                param_seeds=[2000000],
            ),
        ),
        "linear-tiny": SearchConfig(
            search_tasks=linear.clone(deep=True).rebind({"num_tasks": 4}),
            select_tasks=TaskSpec(num_train=1000, num_valid=100, num_tasks=10),
            sizes_init=[4, 2, 5],
            sizes_min=[4, 2, 5],
            sizes_max=[5, 3, 6],
            population_size=100,
            max_train_steps=2_000_000,
            sufficient_fitness=0.999,
            progress_every=0,
        ),
        "nonlinear": SearchConfig(
            memory=Memory(5, 9, 2),
            search_tasks=nonlinear,
            select_tasks=nonlinear.clone(deep=True).rebind({"num_tasks": 20}),
            setup_ops=_NN_SETUP,
            predict_ops=_NN_PREDICT,
            learn_ops=_NN_LEARN,
            sizes_init=[3, 5, 11],
            sizes_min=[1, 1, 1],
            sizes_max=[7, 11, 23],
            mutations=[
                "alter_param",
                "randomize_component_function",
                "insert_instruction",
                "remove_instruction",
            ],
            initial_population="noop",
            population_size=1000,
            max_train_steps=10_000_000_000,
            # Experiments repeat, each on fresh task seeds, until one finds a program
            # above `sufficient_fitness` (or a CPU budget ends the run).
            max_experiments=0,
            sufficient_fitness=0.98,
        ),
        "cifar10-binary": SearchConfig(
            memory=Memory(5, 9, 2),
            search_tasks=cifar.clone(deep=True).rebind({"num_train": 1000, "num_valid": 200}),
            select_tasks=cifar.clone(deep=True).rebind(
                {"held_out": True, "num_tasks": 9, "pairs": [list(p) for p in _held_out()]}
            ),
            setup_ops=_NN_SETUP,
            predict_ops=_NN_PREDICT,
            learn_ops=_NN_LEARN,
            sizes_init=[3, 5, 11],
            sizes_min=[1, 1, 1],
            sizes_max=[7, 11, 23],
            mutations=[
                "alter_param",
                "randomize_component_function",
                "insert_instruction",
                "remove_instruction",
            ],
            initial_population="neural_net",
            population_size=100,
            fec=False,
            # The paper's hurdle: a child whose mean over the first 2 of the 10 search
            # tasks is below the population's 75th percentile stops there.
            hurdle_tasks=2,
            hurdle_percentile=75.0,
            # The original's baseline experiment: 1e11 training steps a process
            # (`run_baseline.sh`, about 12 hours there); a CPU budget ends it sooner.
            max_train_steps=100_000_000_000,
            max_experiments=1,
            sufficient_fitness=1.0,
            progress_every=1000,
        ),
        # Section 4.3 of the paper: the same search on tasks with few examples (80,
        # seen 100 times), where evolution found noise injection (dropout-like), and on
        # fast training (800 examples, 10 epochs), where it found learning-rate decay.
        "few-examples": _adaptation(80, 100, cifar),
        "fast-training": _adaptation(800, 10, cifar),
    }


def _adaptation(num_train: int, num_epochs: int, cifar: TaskSpec) -> SearchConfig:
    """A section 4.3 experiment: evolve from the hand-written network on CIFAR-10 tasks
    of `num_train` examples seen `num_epochs` times, with every op and the hurdle."""
    search = cifar.clone(deep=True).rebind(
        {"num_train": num_train, "num_epochs": num_epochs, "num_valid": 200}
    )
    select = cifar.clone(deep=True).rebind(
        {
            "num_train": num_train,
            "num_epochs": num_epochs,
            "held_out": True,
            "num_tasks": 9,
            "pairs": [list(p) for p in _held_out()],
        }
    )
    return SearchConfig(
        memory=_ADAPT_MEMORY,
        search_tasks=search,
        select_tasks=select,
        setup_ops=_NN_SETUP,
        predict_ops=_ALL_OPS,
        learn_ops=_ALL_OPS,
        sizes_init=[3, 5, 11],
        sizes_min=[1, 1, 1],
        sizes_max=[21, 21, 45],
        mutations=[
            "alter_param",
            "randomize_component_function",
            "insert_instruction",
            "remove_instruction",
        ],
        initial_population="neural_net",
        population_size=100,
        fec=False,
        hurdle_tasks=2,
        hurdle_percentile=75.0,
        max_train_steps=2_000_000_000,
        max_experiments=1,
        sufficient_fitness=1.0,
        progress_every=1000,
    )


def _held_out() -> tuple[tuple[int, int], ...]:
    from automorph.zero._tasks import HELD_OUT_PAIRS

    return HELD_OUT_PAIRS


CONFIG_NAMES = (
    "linear-demo",
    "linear-tiny",
    "nonlinear",
    "cifar10-binary",
    "few-examples",
    "fast-training",
)
"""The names `get_config` knows."""


def get_config(name: str) -> SearchConfig:
    """The named configuration: "linear-demo" (the original's demo), "linear-tiny"
    (a seconds-long version), "nonlinear" (2-layer ReLU teacher) or
    "cifar10-binary" (evolve from the hand-written network on projected CIFAR-10,
    with the paper's hurdle: children below the population's 75th percentile
    after 2 of the 10 search tasks are not evaluated on the others),
    "few-examples" and "fast-training" (the paper's section 4.3 adaptations:
    the CIFAR-10 search from the network on tasks of 80 examples seen 100
    times, or 800 examples seen 10 times, with every op in Predict and Learn
    and the paper's 10/16/4 memory).

    Raises:
        ConfigError: For an unknown name (the message lists the names).
    """
    configs = _configs()
    if name not in configs:
        close = difflib.get_close_matches(name, configs, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown zero config {name!r} (configs: {', '.join(configs)}){hint}")
    return configs[name]
