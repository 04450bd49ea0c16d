"""The search: a population evolved by the compiled kernels, experiments that
repeat it until a program generalizes, progress lines, checkpoint and resume."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from numpy.typing import NDArray

import automorph as am
from automorph.zero._algorithms import linear_program, neural_net_program
from automorph.zero._config import SearchConfig, resume_key
from automorph.zero._errors import ConfigError
from automorph.zero._program import Memory, Program
from automorph.zero._tasks import TaskSet, TaskSpec

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Members = tuple[I64, F64, I64, F64]
"""Programs as arrays with their fitnesses: ints [n, 3, L, 4], floats [n, 3, L, 4],
sizes [n, 3] and fitnesses [n] (as a population holds them)."""
_COUNTERS = ("train_steps", "programs", "fec_hits", "fec_misses", "hurdle_stops")


def _kernels() -> Any:
    from automorph.zero import _fec_kernel, _kernels, _search_kernel

    return _kernels, _search_kernel, _fec_kernel


def _memory_arrays(memory: Memory, n_features: int) -> tuple[F64, F64, F64, F64]:
    return (
        np.zeros(memory.num_scalars),
        np.zeros((memory.num_vectors, n_features)),
        np.zeros((max(memory.num_matrices, 1), n_features, n_features)),
        np.zeros(n_features * n_features + 1),
    )


def _seed_state(seed: int) -> NDArray[np.uint64]:
    state = np.zeros(1, dtype=np.uint64)
    _kernels()[0].rng_seed(state, seed)
    return state


def evaluate_program(
    program: Program,
    tasks: TaskSet,
    memory: Memory,
    *,
    max_abs_error: float = 100.0,
    combine: str = "mean",
    seed: int = 0,
) -> tuple[float, F64]:
    """Fitness of `program` on `tasks` with the compiled evaluator (no FEC).

    Returns:
        (the mean or median over tasks, the per-task fitnesses).

    >>> from automorph.zero import linear_program
    >>> tasks = TaskSpec(num_train=1000, num_valid=100, num_tasks=3).build()
    >>> fitness, per_task = evaluate_program(linear_program(), tasks, Memory(4, 3, 1))
    >>> fitness > 0.9999
    True

    Raises:
        ProgramError: If the program does not fit the memory or the tasks.
    """
    program.validate(memory, int(tasks.x.shape[2]))
    kern, _, fec = _kernels()
    ints, floats, sizes = program.to_arrays()
    icfg = np.array(
        [tasks.x_valid.shape[1], tasks.accuracy, 0, 0, 0, 1, 0, 0],
        dtype=np.int64,
    )
    fcfg = np.array([max_abs_error, 0.0])
    fits = np.zeros(tasks.num_tasks)
    counter = np.zeros(len(_COUNTERS), dtype=np.int64)
    mem = _memory_arrays(memory, int(tasks.x.shape[2]))
    rngs = (_seed_state(seed), _seed_state(seed + 1))
    if combine not in ("mean", "median"):
        raise ConfigError(f"combine must be 'mean' or 'median', got {combine!r}")
    kern.evaluate(
        ints, floats, sizes, tasks.arrays(), icfg, fcfg, mem, rngs, fec.new_cache(1), counter,
        fits,
    )  # fmt: skip
    return float(np.median(fits) if combine == "median" else fits.mean()), fits


COMPILE_NOTICE = (
    "automorph zero: compiling the evaluator (about a minute of CPU, once: numba keeps it "
    "in {where})"
)


def _entry_kernels() -> tuple[Any, ...]:
    """The kernels a search calls from Python (each compiles its callees)."""
    kern, search, _ = _kernels()
    return kern.rng_seed, kern.evaluate, search.randomize_component, search.evolve


def compile_evaluator(err: TextIO | None = sys.stderr) -> bool:
    """Compiles the kernels of a search now (or loads them from numba's cache).

    The first search on a machine compiles the evaluator, about a minute of
    CPU; numba caches it on disk, so later runs load it in a fraction of a
    second. `run_search` calls this before it starts its CPU budget. A
    compile is announced on `err` (None: silent) before it starts.

    Returns:
        Whether the kernels were compiled (False: they came from the cache).
    """
    from automorph.zero._jit import cache_dir, is_cached

    entries = _entry_kernels()
    compiling = not all(is_cached(kernel) for kernel in entries)
    if compiling and err is not None:
        err.write(COMPILE_NOTICE.format(where=cache_dir(entries[-1]) or "its cache") + "\n")
        err.flush()
    # One tiny search calls every entry kernel with the types real searches use.
    config = SearchConfig(
        search_tasks=TaskSpec(num_train=10, num_valid=10, num_tasks=1),
        population_size=2,
        tournament_size=2,
        cache_size=4,
    )
    evolver = Evolver(config, config.search_tasks.build(), seed=0)
    evolver.initialize()
    evolver.step(2)
    return compiling


class Evolver:
    """Regularized evolution of one population on one set of tasks (compiled).

    >>> from automorph.zero import get_config
    >>> config = get_config("linear-tiny").rebind({"population_size": 20})
    >>> evolver = Evolver(config, config.search_tasks.build(), seed=1)
    >>> evolver.initialize()
    >>> evolver.step(40)
    >>> evolver.counters()["programs"]
    60
    """

    def __init__(self, config: SearchConfig, tasks: TaskSet, seed: int) -> None:
        self.config = config
        self.tasks = tasks
        n_features = int(tasks.x.shape[2])
        size, length = config.population_size, config.max_size
        self.pop = (
            np.zeros((size, 3, length, 4), dtype=np.int64),
            np.zeros((size, 3, length, 4)),
            np.zeros((size, 3), dtype=np.int64),
            np.zeros(size),
        )
        self.cursor = np.zeros(1, dtype=np.int64)
        self.counter = np.zeros(len(_COUNTERS), dtype=np.int64)
        self.rngs = (_seed_state(3 * seed), _seed_state(3 * seed + 1), _seed_state(3 * seed + 2))
        self.cache = _kernels()[2].new_cache(config.cache_size if config.fec else 1)
        self.icfg = np.array(
            [tasks.x_valid.shape[1], tasks.accuracy, config.fec, config.fec_train,
             config.fec_valid, config.forget_every, config.combine == "median",
             config.hurdle_tasks],
            dtype=np.int64,
        )  # fmt: skip
        self.fcfg = np.array([config.max_abs_error, 0.0])
        self.mem = _memory_arrays(config.memory, n_features)
        self.space = config.space_arrays()
        self.buffers = (
            np.zeros((3, length, 4), dtype=np.int64),
            np.zeros((3, length, 4)),
            np.zeros(3, dtype=np.int64),
            np.zeros(tasks.num_tasks),
        )
        self.n_features = n_features

    def _evaluate(self, ints: I64, floats: F64, sizes: I64) -> float:
        return float(
            _kernels()[0].evaluate(
                ints, floats, sizes, self.tasks.arrays(), self.icfg, self.fcfg, self.mem,
                self.rngs[:2], self.cache, self.counter, self.buffers[3],
            )
        )  # fmt: skip

    def initialize(self) -> None:
        """Fills the population as `config.initial_population` says and evaluates it."""
        c = self.config
        pop_i, pop_f, pop_n, pop_fit = self.pop
        start = _initial_program(c)
        if start is not None:
            start.validate(c.memory, self.n_features)
            ints, floats, sizes = start.to_arrays(c.max_size)
        for p in range(c.population_size):
            if start is not None:
                pop_i[p], pop_f[p], pop_n[p] = ints, floats, sizes
            else:
                pop_n[p] = c.sizes_init
                if c.initial_population == "random":
                    for k in range(3):
                        _kernels()[1].randomize_component(
                            k, pop_i[p], pop_f[p], pop_n[p], self.space, self.rngs[2]
                        )
            pop_fit[p] = self._evaluate(pop_i[p], pop_f[p], pop_n[p])

    def step(self, n_children: int) -> None:
        """Makes and evaluates `n_children` children (each replaces the oldest member)."""
        c = self.config
        _kernels()[1].evolve(
            self.pop, self.cursor, n_children, (c.tournament_size, c.mutate_prob), self.space,
            self.tasks.arrays(), (self.icfg, self.fcfg), self.mem, self.rngs, self.cache,
            self.counter, self.buffers,
        )  # fmt: skip
        if c.hurdle_tasks > 0:
            self.fcfg[1] = float(np.percentile(self.pop[3], c.hurdle_percentile))

    def counters(self) -> dict[str, int]:
        """Train steps, programs evaluated, FEC hits and misses, hurdle stops."""
        return {name: int(v) for name, v in zip(_COUNTERS, self.counter, strict=True)}

    def best(self) -> tuple[Program, float]:
        """The fittest member (the first among equals) and its fitness."""
        j = int(np.argmax(self.pop[3]))
        return Program.from_arrays(self.pop[0][j], self.pop[1][j], self.pop[2][j]), float(
            self.pop[3][j]
        )

    def member(self, j: int) -> Program:
        """Member j of the population as a Program."""
        return Program.from_arrays(self.pop[0][j], self.pop[1][j], self.pop[2][j])

    def insert(self, program: Program, fitness: float) -> None:
        """Puts `program` (with its known fitness) in place of the oldest member."""
        ints, floats, sizes = program.to_arrays(self.config.max_size)
        one = (ints[None], floats[None].astype(np.float64), sizes[None], np.array([fitness]))
        self.insert_arrays(one)

    def insert_arrays(self, members: Members) -> None:
        """Puts `members` (programs as arrays, with their fitnesses, as `top`
        returns them) in place of the oldest members, in order."""
        for k in range(len(members[3])):
            slot = int(self.cursor[0])
            for array, given in zip(self.pop, members, strict=True):
                array[slot] = given[k]
            self.cursor[0] = (slot + 1) % self.config.population_size

    def top(self, n: int) -> Members:
        """The `n` fittest members as arrays (ints, floats, sizes, fitnesses),
        fittest first (the first in the population among equals)."""
        order = np.argsort(-self.pop[3], kind="stable")[:n]
        ints, floats, sizes, fitness = self.pop
        return ints[order], floats[order], sizes[order], fitness[order]

    def state(self) -> dict[str, NDArray[Any]]:
        """Every array of the search state (population, cursor, counters, generators, cache)."""
        names = ("pop_ints", "pop_floats", "pop_sizes", "pop_fitness")
        out: dict[str, NDArray[Any]] = dict(zip(names, self.pop, strict=True))
        out.update(cursor=self.cursor, counter=self.counter, fcfg=self.fcfg)
        out.update({f"rng{i}": r for i, r in enumerate(self.rngs)})
        out.update({f"cache{i}": a for i, a in enumerate(self.cache)})
        return out

    def load_state(self, state: dict[str, NDArray[Any]]) -> None:
        """Restores `state()` (in place, so the search continues exactly)."""
        names = ("pop_ints", "pop_floats", "pop_sizes", "pop_fitness")
        for array, name in zip(self.pop, names, strict=True):
            array[...] = state[name]
        self.cursor[...] = state["cursor"]
        self.counter[...] = state["counter"]
        self.fcfg[...] = state["fcfg"]
        for i, r in enumerate(self.rngs):
            r[...] = state[f"rng{i}"]
        self.cache = tuple(np.array(state[f"cache{i}"]) for i in range(5))


def _initial_program(c: SearchConfig) -> Program | None:
    if c.initial_population == "linear":
        return linear_program()
    if c.initial_population == "neural_net":
        return neural_net_program()
    return None


@dataclass
class SearchResult:
    """What a search found.

    Attributes:
        program: The best program (by fitness on the selection tasks).
        select_fitness: Its fitness on the selection tasks.
        final_fitness: Its fitness on the final tasks (None without final tasks).
        solved: Whether select_fitness exceeded the config's sufficient_fitness.
        experiments: Experiments run.
        cpu_seconds: Process CPU time spent (summed over resumes).
        counters: Train steps, programs, FEC hits and misses, hurdle stops.
    """

    program: Program
    select_fitness: float
    final_fitness: float | None
    solved: bool
    experiments: int
    cpu_seconds: float
    counters: dict[str, int] = field(default_factory=dict)


def _task_seeds(spec: TaskSpec, rng: np.random.Generator) -> TaskSpec:
    seeds = rng.integers(1, 2**31 - 1, size=(2, spec.num_tasks)).tolist()
    return spec.clone(deep=True).rebind({"data_seeds": seeds[0], "param_seeds": seeds[1]})


def _experiment_tasks(config: SearchConfig, seed: int, e: int) -> tuple[TaskSet, TaskSet]:
    if not config.randomize_task_seeds:
        return config.search_tasks.build(), config.select_tasks.build()
    rng = np.random.default_rng([seed, e])
    return _task_seeds(config.search_tasks, rng).build(), _task_seeds(
        config.select_tasks, rng
    ).build()


def run_search(
    config: SearchConfig,
    seed: int = 1000,
    *,
    out: TextIO | None = sys.stdout,
    checkpoint: str | Path | None = None,
    max_cpu_seconds: float | None = None,
    err: TextIO | None = sys.stderr,
) -> SearchResult:
    """Runs experiments until a program's selection fitness exceeds
    `config.sufficient_fitness`, `config.max_experiments` have run, or
    `max_cpu_seconds` is spent; prints progress to `out` (None: silent).

    With `checkpoint`, the state is saved there (a .npz) after every progress
    line and experiment, and a later call with the same path, config and seed
    resumes it exactly; the config may differ in its `STOP_FIELDS` alone
    (`max_train_steps`, `max_experiments`: the same search run longer).

    The evaluator is compiled first (`compile_evaluator`: a compile, as
    opposed to a load from numba's cache, is announced on `err`), and
    `max_cpu_seconds` counts from after it.

    Raises:
        ConfigError: If a checkpoint belongs to another config or seed.
    """
    compile_evaluator(err)
    run = _Run(config, seed, out, Path(checkpoint) if checkpoint else None)
    return run.go(max_cpu_seconds)


class _Run:
    def __init__(self, config: SearchConfig, seed: int, out: TextIO | None, path: Path | None):
        self.config, self.seed, self.out, self.path = config, seed, out, path
        self.experiment = 0
        self.best: Program | None = None
        self.best_fitness = -1.0
        self.cpu_before = 0.0
        self.totals = dict.fromkeys(_COUNTERS, 0)
        self.evolver: Evolver | None = None
        self.select: TaskSet | None = None
        self.start = time.process_time()
        if path is not None and path.exists():
            self._resume(path)

    def say(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text + "\n")
            self.out.flush()

    def cpu(self) -> float:
        return self.cpu_before + time.process_time() - self.start

    def go(self, max_cpu_seconds: float | None) -> SearchResult:
        c = self.config
        while True:
            if self.evolver is None:
                self._new_experiment()
            assert self.evolver is not None
            done = self._evolve(max_cpu_seconds)
            if not done:
                break
            self._finish_experiment()
            if self.best_fitness > c.sufficient_fitness:
                break
            if c.max_experiments and self.experiment >= c.max_experiments:
                break
            if max_cpu_seconds is not None and self.cpu() >= max_cpu_seconds:
                break
        return self._result()

    def _new_experiment(self) -> None:
        tasks, self.select = _experiment_tasks(self.config, self.seed, self.experiment)
        self.evolver = Evolver(self.config, tasks, seed=self.seed * 1000 + self.experiment)
        self.evolver.initialize()

    def _evolve(self, max_cpu_seconds: float | None) -> bool:
        ev, c = self.evolver, self.config
        assert ev is not None
        every = c.progress_every
        while ev.counter[0] < c.max_train_steps:
            before = int(ev.counter[1])
            ev.step(c.population_size)
            if every and before // every != int(ev.counter[1]) // every:
                self._progress()
                self._save()
            if max_cpu_seconds is not None and self.cpu() >= max_cpu_seconds:
                self._save()
                return False
        return True

    def _progress(self) -> None:
        ev = self.evolver
        assert ev is not None
        fit = ev.pop[3]
        self.say(
            f"experiment={self.experiment} indivs={ev.counter[1]} "
            f"cpu_secs={self.cpu():.1f} mean={fit.mean():.6f} stdev={fit.std():.6f} "
            f"best={fit.max():.6f} fec_hits={ev.counter[2]} train_steps={ev.counter[0]}"
        )

    def _finish_experiment(self) -> None:
        ev = self.evolver
        assert ev is not None and self.select is not None
        program, search_fitness = ev.best()
        select, _ = evaluate_program(
            program, self.select, self.config.memory,
            max_abs_error=self.config.max_abs_error, combine=self.config.combine,
        )  # fmt: skip
        for name, value in ev.counters().items():
            self.totals[name] += value
        self.say(
            f"experiment {self.experiment} done: indivs={ev.counter[1]} "
            f"search_fitness={search_fitness:.6f} select_fitness={select:.6f} "
            f"cpu_secs={self.cpu():.1f}"
        )
        if select > self.best_fitness:
            self.best, self.best_fitness = program, select
        self.evolver = None
        self.experiment += 1  # before saving: a resumed run starts the next one
        self._save()

    def _result(self) -> SearchResult:
        c = self.config
        totals = dict(self.totals)
        if self.evolver is not None:
            for name, value in self.evolver.counters().items():
                totals[name] += value
        if self.best is None:  # stopped inside the first experiment: its current best
            assert self.evolver is not None and self.select is not None
            self.best = self.evolver.best()[0]
            self.best_fitness, _ = evaluate_program(
                self.best, self.select, c.memory, max_abs_error=c.max_abs_error,
                combine=c.combine,
            )  # fmt: skip
        final = None
        if c.final_tasks is not None and self.best_fitness > c.sufficient_fitness:
            final, _ = evaluate_program(
                self.best, c.final_tasks.build(), c.memory, max_abs_error=c.max_abs_error,
                combine=c.combine,
            )  # fmt: skip
        return SearchResult(
            self.best, self.best_fitness, final, self.best_fitness > c.sufficient_fitness,
            self.experiment, self.cpu(), totals,
        )  # fmt: skip

    def _meta(self) -> dict[str, Any]:
        return {
            "config": am.to_json(self.config),
            "seed": self.seed,
            "experiment": self.experiment,
            "best": am.to_json(self.best) if self.best is not None else None,
            "best_fitness": self.best_fitness,
            "cpu": self.cpu(),
            "totals": self.totals,
            "in_experiment": self.evolver is not None,
        }

    def _save(self) -> None:
        if self.path is None:
            return
        arrays = self.evolver.state() if self.evolver is not None else {}
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        arrays["meta"] = np.array(json.dumps(self._meta()))
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
        tmp.replace(self.path)

    def _resume(self, path: Path) -> None:
        with np.load(path) as saved:
            meta = json.loads(str(saved["meta"]))
            state = {k: saved[k] for k in saved.files if k != "meta"}
        if resume_key(am.from_json(meta["config"])) != resume_key(self.config) or (
            meta["seed"] != self.seed
        ):
            raise ConfigError(
                f"checkpoint {path} belongs to another search (config or seed differ: "
                f"seed {meta['seed']} there, {self.seed} here)"
            )
        self.experiment = meta["experiment"]
        self.best = am.from_json(meta["best"]) if meta["best"] is not None else None
        self.best_fitness = meta["best_fitness"]
        self.cpu_before = meta["cpu"]
        self.totals = meta["totals"]
        if meta["in_experiment"]:
            tasks, self.select = _experiment_tasks(self.config, self.seed, self.experiment)
            self.evolver = Evolver(self.config, tasks, seed=self.seed * 1000 + self.experiment)
            self.evolver.load_state(state)
        self.say(f"resumed {path}: experiment {self.experiment}, cpu_secs={self.cpu_before:.1f}")
