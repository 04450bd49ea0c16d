"""Island search: several populations evolved at once, in worker processes or
as Ray actors, exchanging their best members around a ring (migration).

A run repeats experiments as `run_search` does. In an experiment every
island evolves its own population on the experiment's search tasks, in
rounds: each round every island takes in the migrants sent to it, evolves
`migrate_every` children (in sweeps of the population, the hurdle updated
after each as in a single search), and sends its `migrants` fittest members
to the next island, where they replace the oldest members. An island stops
evolving once it has used `config.max_train_steps`; when all have, the
fittest member of all the final populations is scored on the selection
tasks, and the next experiment starts unless one has passed
`config.sufficient_fitness` or `config.max_experiments` have run.

The islands are `automorph.tuning.Actors`, the executors of a study's
workers: Ctrl-C (SIGINT) or SIGTERM stops every island's process cleanly,
and the worker processes exit if the caller is killed.

A checkpoint holds every island's population, generators, FEC cache and
hurdle, the migrants in transit and the run's own state; a run resumed from
it evolves exactly what the run would have, had it not stopped. On Ray, an
island whose worker dies (with its node) is started again by Ray where a CPU
is free, from its state at the last checkpoint (kept in Ray's object store
even without a checkpoint file), while the other islands go on; on worker
processes a dead island ends the run with `WorkerDiedError`, and the
checkpoint file resumes it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

import automorph as am
from automorph.tuning import Actors, Progress, WorkerDiedError
from automorph.utils import AutomorphError
from automorph.zero._config import SearchConfig, resume_key
from automorph.zero._errors import ConfigError
from automorph.zero._program import Program
from automorph.zero._search import (
    _COUNTERS,
    Evolver,
    Members,
    _experiment_tasks,
    compile_evaluator,
    evaluate_program,
)
from automorph.zero._tasks import TaskSet

ISLAND_BACKENDS = ("process", "ray")
"""Where `run_islands` runs the islands: worker processes, or Ray actors."""


def island_seed(seed: int, experiment: int, island: int) -> int:
    """The seed of `island`'s population in `experiment`: island 0's is that of
    `run_search`'s population, so that one island evolves what a search does.

    >>> island_seed(1000, 0, 0), island_seed(1000, 2, 0)
    (1000000, 1000002)
    """
    return seed * 1000 + experiment + island * 2**40


def _no_members(length: int) -> Members:
    return (
        np.zeros((0, 3, length, 4), dtype=np.int64),
        np.zeros((0, 3, length, 4)),
        np.zeros((0, 3), dtype=np.int64),
        np.zeros(0),
    )


class _Stored:
    """A value the caller put in Ray's object store once; an island fetches it
    only when it needs it (to start again from a checkpoint)."""

    def __init__(self, value: Any) -> None:
        import ray

        self.ref = ray.put(value)

    def get(self) -> Any:
        import ray

        return ray.get(self.ref)


def _fetch(value: Any) -> Any:
    return value.get() if isinstance(value, _Stored) else value


@dataclass
class _Start:
    """How an island without a population gets one: the experiment's tasks, its
    seed, and the state to restore (None: a new population) with its round."""

    experiment: int
    seed: int
    tasks: Any  # TaskSet, or a _Stored one
    saved: Any  # the arrays of Evolver.state(), a _Stored copy of them, or None
    round: int


@dataclass
class _Order:
    """One call to an island: take in `migrants`, evolve `children` children,
    send back the `n_out` fittest members (and the whole state if asked)."""

    experiment: int
    children: int
    migrants: Members
    n_out: int
    start: _Start | None
    want_state: bool = False


@dataclass
class _Reply:
    """An island's answer: where it started from (None: it went on with its
    population), its fittest members, counters, population statistics,
    whether its budget is used, the CPU seconds of the call, its state."""

    started_from: int | None
    migrants: Members
    best: Members
    counters: dict[str, int]
    stats: tuple[float, float, float]
    done: bool
    cpu: float
    state: dict[str, Any] | None


class _Island:
    """One population: the state a worker process or a Ray actor keeps."""

    def __init__(self, config_json: dict[str, Any], index: int) -> None:
        self.config: SearchConfig = am.from_json(config_json)
        self.index = index
        self.evolver: Evolver | None = None
        self.experiment = -1
        compile_evaluator(None)  # loads the kernels from numba's cache before the first call

    def run(self, order: _Order) -> _Reply:
        """Carries out `order` (see `_Order`)."""
        cpu = time.thread_time()  # the island's own work (not Ray's threads)
        started = None
        if self.evolver is None or self.experiment != order.experiment:
            started = self._start(order)
        evolver = self.evolver
        assert evolver is not None
        evolver.insert_arrays(order.migrants)
        c = self.config
        left = order.children
        while left > 0 and evolver.counter[0] < c.max_train_steps:
            n = min(left, c.population_size)
            evolver.step(n)
            left -= n
        fitness = evolver.pop[3]
        return _Reply(
            started_from=started,
            migrants=evolver.top(order.n_out),
            best=evolver.top(1),
            counters=evolver.counters(),
            stats=(float(fitness.mean()), float(fitness.std()), float(fitness.max())),
            done=bool(evolver.counter[0] >= c.max_train_steps),
            cpu=time.thread_time() - cpu,
            state={k: np.array(v) for k, v in evolver.state().items()}
            if order.want_state
            else None,
        )

    def _start(self, order: _Order) -> int:
        start = order.start
        if start is None or start.experiment != order.experiment:
            raise AutomorphError(
                f"island {self.index} has no population for experiment {order.experiment} "
                "and was not told how to start one"
            )
        tasks: TaskSet = _fetch(start.tasks)
        if isinstance(start.tasks, _Stored):  # Ray's arrays are read-only: numba would compile
            x, y, steps, x_valid, y_valid = (np.array(a) for a in tasks.arrays())  # anew for them
            tasks = TaskSet(x, y, steps.astype(np.int64), x_valid, y_valid, tasks.accuracy)
        evolver = Evolver(self.config, tasks, seed=start.seed)
        saved = _fetch(start.saved)
        if saved is None:
            evolver.initialize()
        else:
            evolver.load_state(saved)
        self.evolver, self.experiment = evolver, order.experiment
        return start.round


@dataclass
class IslandResult:
    """What an island search found.

    Attributes:
        program: The best program (by fitness on the selection tasks).
        select_fitness: Its fitness on the selection tasks.
        final_fitness: Its fitness on the final tasks (None without final
            tasks, or if not solved).
        solved: Whether select_fitness exceeded the config's sufficient_fitness.
        experiments: Experiments finished.
        rounds: Rounds run, over all experiments (and resumes).
        cpu_seconds: CPU time of the islands and the caller (summed over resumes).
        counters: Per island, summed over experiments: train steps, programs,
            FEC hits and misses, hurdle stops.
        restarts: Per island, how many times it was started again from a
            checkpoint after its worker died.
    """

    program: Program
    select_fitness: float
    final_fitness: float | None
    solved: bool
    experiments: int
    rounds: int
    cpu_seconds: float
    counters: list[dict[str, int]]
    restarts: list[int] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        """The counters summed over the islands."""
        return {name: sum(c[name] for c in self.counters) for name in _COUNTERS}


@dataclass(frozen=True)
class _Plan:
    islands: int
    migrate_every: int
    migrants: int
    backend: str
    checkpoint_every: float

    def key(self) -> dict[str, int]:
        """What a checkpoint must agree on to be resumed."""
        return {
            "islands": self.islands,
            "migrate_every": self.migrate_every,
            "migrants": self.migrants,
        }


def run_islands(
    config: SearchConfig,
    seed: int = 1000,
    *,
    islands: int = 2,
    migrate_every: int | None = None,
    migrants: int = 5,
    backend: str = "process",
    rounds: int | None = None,
    max_cpu_seconds: float | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: float = 60.0,
    out: TextIO | None = sys.stdout,
    err: TextIO | None = sys.stderr,
    progress: bool = False,
    ray_address: str | None = None,
    restarts: int = 3,
) -> IslandResult:
    """Regularized evolution on `islands` populations with migration, in worker
    processes (`backend="process"`) or as Ray actors (`backend="ray"`, on the
    cluster at `ray_address`, else RAY_ADDRESS, else a local Ray started for
    the run), repeated in experiments as `run_search` repeats them.

    Each round every island evolves `migrate_every` children (default ten
    sweeps, `10 * config.population_size`), then sends its `migrants` fittest
    members to the next island around the ring. One island evolves exactly
    what `run_search` does with the same seed. The run stops as `run_search`
    does, or after `rounds` rounds or `max_cpu_seconds` of the islands' CPU
    time. Progress lines go to `out` (None: silent): one per island whenever
    it passes a multiple of `config.progress_every` programs, one per
    experiment; with `progress`, a one-line meter of the rounds and every
    island's best fitness goes to `err`.

    With `checkpoint`, the state is saved there (a .npz) at most every
    `checkpoint_every` seconds (0: after every round), at the end of each
    experiment and when the run stops; a later call with the same path,
    config, seed, islands, `migrate_every` and `migrants` resumes it exactly
    (on either backend). The config may differ in its `STOP_FIELDS` alone
    (`max_train_steps`, `max_experiments`): the same search, run longer or
    shorter. A run stopped inside an experiment goes on in it; one whose
    experiments ended goes on to the next, if `max_experiments` allows (an
    ended experiment keeps only its best program). On Ray, an island whose
    worker dies is started again from its last checkpointed state, at most
    `restarts` times.

    Raises:
        ConfigError: For fewer than 1 island, `migrate_every` or round, more
            migrants than a population, an unknown backend, "ray" without Ray
            installed or with fewer CPUs than islands, or a checkpoint of
            another run.
        WorkerDiedError: If an island's worker died (on Ray: more than
            `restarts` times); the checkpoint resumes the run.
    """
    migrate_every = 10 * config.population_size if migrate_every is None else migrate_every
    if islands < 1 or migrate_every < 1 or (rounds is not None and rounds < 1):
        raise ConfigError(
            f"islands, migrate_every and rounds must be >= 1, got {islands}, {migrate_every}, "
            f"{rounds}"
        )
    if not 0 <= migrants <= config.population_size:
        raise ConfigError(
            f"migrants must be in 0..population_size ({config.population_size}), got {migrants}"
        )
    if backend not in ISLAND_BACKENDS:
        raise ConfigError(f"backend must be 'process' or 'ray', got {backend!r}")
    if backend == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError("backend='ray' needs Ray: pip install 'automorph[ray]'")
    if checkpoint_every < 0 or restarts < 0:
        raise ConfigError(
            f"checkpoint_every and restarts must be >= 0, got {checkpoint_every}, {restarts}"
        )
    compile_evaluator(err)
    plan = _Plan(islands, migrate_every, migrants, backend, checkpoint_every)
    run = _IslandRun(config, seed, plan, out, Path(checkpoint) if checkpoint else None)
    meter = Progress(rounds, "islands", stream=err, unit="rounds") if progress else None
    ray_options = {
        "max_restarts": restarts,
        "max_task_retries": -1,  # a call to an island that Ray started again is made again
        "scheduling_strategy": "SPREAD",  # the islands spread over the cluster's nodes
    }
    try:
        with Actors(
            _Island,
            # The config goes with each island's arguments: Ray keeps those (small ones
            # inline) for as long as it may start the island again; `shared` values it
            # puts in its object store only while the islands are being created.
            [(am.to_json(config), i) for i in range(islands)],
            executor=backend,
            ray_address=ray_address,
            ray_options=ray_options,
            interrupt_message="the island search was stopped ({reason})",
        ) as workers:
            if backend == "ray":
                _check_cpus(islands)
            run.workers = workers
            result = run.go(max_cpu_seconds, rounds, meter)
    except WorkerDiedError as error:
        where = f"; `checkpoint` ({checkpoint}) resumes the run" if checkpoint else ""
        raise WorkerDiedError(f"the island search stopped: {error}{where}") from error
    if meter is not None:
        meter.close(result.rounds, run.meter_text(), None)
    return result


def _check_cpus(islands: int) -> None:
    """Refuses more islands than the Ray cluster has CPUs (the others would wait forever)."""
    import ray

    cpus = int(ray.cluster_resources().get("CPU", 0))  # type: ignore[no-untyped-call]
    if cpus < islands:
        raise ConfigError(
            f"the Ray cluster has {cpus} CPUs and each of the {islands} islands needs one: "
            "run fewer islands, or join more nodes to the cluster"
        )


class _IslandRun:
    """The caller's side of an island search: rounds, migration, experiments,
    checkpoints."""

    def __init__(
        self, config: SearchConfig, seed: int, plan: _Plan, out: TextIO | None, path: Path | None
    ) -> None:
        self.config, self.seed, self.plan, self.out, self.path = config, seed, plan, out, path
        self.workers: Actors | None = None
        n = plan.islands
        self.experiment = 0
        self.in_experiment = False
        self.round = 0  # rounds of the current experiment
        self.rounds = 0  # rounds of the run
        self.best: Program | None = None
        self.best_fitness = -1.0
        self.totals = [dict.fromkeys(_COUNTERS, 0) for _ in range(n)]
        self.counters = [dict.fromkeys(_COUNTERS, 0) for _ in range(n)]
        self.stats = [(0.0, 0.0, 0.0)] * n
        self.island_best: list[Members | None] = [None] * n
        self.restarts = [0] * n
        self.inboxes = [_no_members(config.max_size)] * n
        self.fresh = [True] * n  # islands told to start a population in their next call
        self.saved: list[dict[str, Any] | None] = [None] * n  # states to start from
        self.saved_round = 0
        self.stored: list[_Stored | None] | None = None  # on Ray: `saved` and the tasks, put
        self.stored_tasks: _Stored | None = None
        self.tasks: TaskSet | None = None
        self.select: TaskSet | None = None
        self.cpu_before = 0.0
        self.island_cpu = 0.0
        self.start = time.thread_time()  # the caller's own work (not Ray's threads)
        self.last_save = time.monotonic()
        if path is not None and path.exists():
            self._resume(path)

    # --- output ----------------------------------------------------------------------

    def say(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text + "\n")
            self.out.flush()

    def cpu(self) -> float:
        return self.cpu_before + self.island_cpu + time.thread_time() - self.start

    def meter_text(self) -> str:
        """The meter's text: the best search fitness, and every island's."""
        bests = [s[2] for s in self.stats]
        return f"best {max(bests):.6g}; islands " + " ".join(f"{b:.4f}" for b in bests)

    # --- the run ---------------------------------------------------------------------

    def go(
        self, max_cpu_seconds: float | None, max_rounds: int | None, meter: Progress | None
    ) -> IslandResult:
        c = self.config
        while not (
            self.best_fitness > c.sufficient_fitness
            or (c.max_experiments and self.experiment >= c.max_experiments)
            or (max_rounds is not None and self.rounds >= max_rounds)
        ):
            if not self.in_experiment:
                self._new_experiment()
            if not self._evolve(max_cpu_seconds, max_rounds, meter):
                break
            self._finish_experiment()
            if max_cpu_seconds is not None and self.cpu() >= max_cpu_seconds:
                break
        return self._result()

    def _new_experiment(self) -> None:
        n = self.plan.islands
        self.tasks, self.select = _experiment_tasks(self.config, self.seed, self.experiment)
        self.in_experiment = True
        self.round = self.saved_round = 0
        self.counters = [dict.fromkeys(_COUNTERS, 0) for _ in range(n)]
        self.inboxes = [_no_members(self.config.max_size)] * n
        self.fresh = [True] * n
        self.saved = [None] * n
        self.stored = self.stored_tasks = None
        self.island_best = [None] * n

    def _start(self, i: int) -> _Start | None:
        """What island i's next call carries to start a population: on worker
        processes only when it is to start one; on Ray always (Ray may have
        started the island again since its last call), as object-store refs."""
        seed = island_seed(self.seed, self.experiment, i)
        assert self.tasks is not None
        if self.plan.backend == "process":
            if not self.fresh[i]:
                return None
            return _Start(self.experiment, seed, self.tasks, self.saved[i], self.saved_round)
        if self.stored_tasks is None:
            self.stored_tasks = _Stored(self.tasks)
        if self.stored is None:
            self.stored = [None if s is None else _Stored(s) for s in self.saved]
        return _Start(self.experiment, seed, self.stored_tasks, self.stored[i], self.saved_round)

    def _call(self, orders: list[_Order]) -> list[_Reply]:
        assert self.workers is not None
        replies: list[_Reply] = self.workers.call("run", [(o,) for o in orders])
        for i, reply in enumerate(replies):
            if reply.started_from is not None and not self.fresh[i]:
                self.restarts[i] += 1
                origin = (
                    f"its checkpoint of round {reply.started_from}"
                    if reply.started_from
                    else "the start of the experiment"
                )
                self.say(
                    f"island {i} lost its worker and was started again from {origin} "
                    f"(restart {self.restarts[i]})"
                )
        self.fresh = [False] * self.plan.islands
        return replies

    def _evolve(
        self, max_cpu_seconds: float | None, max_rounds: int | None, meter: Progress | None
    ) -> bool:
        """Runs rounds until every island's budget is used (True) or the run's
        budget is (False, after a checkpoint)."""
        plan, n = self.plan, self.plan.islands
        n_out = plan.migrants if n > 1 else 0
        while True:
            orders = [
                _Order(self.experiment, plan.migrate_every, self.inboxes[i], n_out, self._start(i))
                for i in range(n)
            ]
            replies = self._call(orders)
            self.round += 1
            self.rounds += 1
            before = [c["programs"] for c in self.counters]
            for i, reply in enumerate(replies):
                self.counters[i] = reply.counters
                self.stats[i] = reply.stats
                self.island_best[i] = reply.best
                self.island_cpu += reply.cpu
            if n > 1:
                self.inboxes = [replies[(i - 1) % n].migrants for i in range(n)]
            self._progress(before)
            if meter is not None:
                meter.update(self.rounds, self.meter_text(), None)
            if all(reply.done for reply in replies):
                return True
            stop = (max_rounds is not None and self.rounds >= max_rounds) or (
                max_cpu_seconds is not None and self.cpu() >= max_cpu_seconds
            )
            if stop or time.monotonic() - self.last_save >= plan.checkpoint_every:
                self._checkpoint()
            if stop:
                return False

    def _progress(self, before: list[int]) -> None:
        every = self.config.progress_every
        if not every:
            return
        for i, counters in enumerate(self.counters):
            if before[i] // every != counters["programs"] // every:
                mean, stdev, best = self.stats[i]
                self.say(
                    f"experiment={self.experiment} island={i} indivs={counters['programs']} "
                    f"cpu_secs={self.cpu():.1f} mean={mean:.6f} stdev={stdev:.6f} "
                    f"best={best:.6f} fec_hits={counters['fec_hits']} "
                    f"train_steps={counters['train_steps']}"
                )

    def _checkpoint(self) -> None:
        """Takes every island's state: into the file, and on Ray into the
        object store, where an island started again finds it."""
        self.last_save = time.monotonic()
        if self.path is None and self.plan.backend != "ray":
            return
        orders = [
            _Order(self.experiment, 0, _no_members(self.config.max_size), 0, self._start(i), True)
            for i in range(self.plan.islands)
        ]
        states = [reply.state for reply in self._call(orders)]
        self.saved = states
        self.saved_round = self.round
        self.stored = None  # put again when next needed
        self._save()

    def _finish_experiment(self) -> None:
        assert self.select is not None
        found = [b for b in self.island_best if b is not None]
        j = int(np.argmax([b[3][0] for b in found]))  # the first island among equals
        ints, floats, sizes, fitness = found[j]
        program = Program.from_arrays(ints[0], floats[0], sizes[0])
        select, _ = evaluate_program(
            program, self.select, self.config.memory,
            max_abs_error=self.config.max_abs_error, combine=self.config.combine,
        )  # fmt: skip
        for totals, counters in zip(self.totals, self.counters, strict=True):
            for name in _COUNTERS:
                totals[name] += counters[name]
        programs = sum(c["programs"] for c in self.counters)
        self.say(
            f"experiment {self.experiment} done: indivs={programs} "
            f"search_fitness={float(fitness[0]):.6f} select_fitness={select:.6f} "
            f"cpu_secs={self.cpu():.1f}"
        )
        if select > self.best_fitness:
            self.best, self.best_fitness = program, select
        self.in_experiment = False
        self.experiment += 1  # before saving: a resumed run starts the next one
        self.counters = [dict.fromkeys(_COUNTERS, 0) for _ in range(self.plan.islands)]
        self.saved = [None] * self.plan.islands
        self.stored = self.stored_tasks = None
        self._save()

    def _result(self) -> IslandResult:
        c = self.config
        if self.best is None:  # stopped inside the first experiment: its current best
            assert self.select is not None
            found = [b for b in self.island_best if b is not None]
            j = int(np.argmax([b[3][0] for b in found]))
            self.best = Program.from_arrays(found[j][0][0], found[j][1][0], found[j][2][0])
            self.best_fitness, _ = evaluate_program(
                self.best, self.select, c.memory, max_abs_error=c.max_abs_error,
                combine=c.combine,
            )  # fmt: skip
        solved = self.best_fitness > c.sufficient_fitness
        final = None
        if c.final_tasks is not None and solved:
            final, _ = evaluate_program(
                self.best, c.final_tasks.build(), c.memory, max_abs_error=c.max_abs_error,
                combine=c.combine,
            )  # fmt: skip
        counters = [
            {name: t[name] + (cur[name] if self.in_experiment else 0) for name in _COUNTERS}
            for t, cur in zip(self.totals, self.counters, strict=True)
        ]
        return IslandResult(
            self.best, self.best_fitness, final, solved, self.experiment, self.rounds,
            self.cpu(), counters, list(self.restarts),
        )  # fmt: skip

    # --- checkpoints -----------------------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        return {
            "config": am.to_json(self.config),
            "seed": self.seed,
            "plan": self.plan.key(),
            "experiment": self.experiment,
            "in_experiment": self.in_experiment,
            "round": self.round,
            "rounds": self.rounds,
            "best": am.to_json(self.best) if self.best is not None else None,
            "best_fitness": self.best_fitness,
            "totals": self.totals,
            "restarts": self.restarts,
            "cpu": self.cpu(),
        }

    def _save(self) -> None:
        if self.path is None:
            return
        arrays: dict[str, Any] = {"meta": np.array(json.dumps(self._meta()))}
        if self.in_experiment:
            for i, state in enumerate(self.saved):
                assert state is not None
                arrays.update({f"island{i}.{name}": a for name, a in state.items()})
            for i, inbox in enumerate(self.inboxes):
                arrays.update({f"inbox{i}.{k}": a for k, a in enumerate(inbox)})
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(self.path)

    def _resume(self, path: Path) -> None:
        with np.load(path) as saved:
            meta = json.loads(str(saved["meta"]))
            arrays = {k: saved[k] for k in saved.files if k != "meta"}
        # The stop fields may differ (a longer or shorter run of the same search).
        theirs_config = meta.get("config")
        mine = {"config": resume_key(self.config), "seed": self.seed, **self.plan.key()}
        theirs = {
            "config": resume_key(am.from_json(theirs_config)) if theirs_config else None,
            "seed": meta.get("seed"),
            **meta.get("plan", {}),
        }
        differ = [k for k in mine if mine[k] != theirs.get(k)]
        if differ:
            shown = [k if k == "config" else f"{k} {theirs.get(k)} there, {mine[k]} here"
                     for k in differ]  # fmt: skip
            raise ConfigError(
                f"checkpoint {path} belongs to another island search ({'; '.join(shown)})"
            )
        self.experiment, self.round, self.rounds = meta["experiment"], meta["round"], meta["rounds"]
        self.best = am.from_json(meta["best"]) if meta["best"] is not None else None
        self.best_fitness = meta["best_fitness"]
        self.totals, self.restarts = meta["totals"], meta["restarts"]
        self.cpu_before = meta["cpu"]
        if meta["in_experiment"]:
            self._new_experiment()
            self.round = self.saved_round = meta["round"]
            n = self.plan.islands
            self.saved = [
                {k.split(".", 1)[1]: a for k, a in arrays.items() if k.startswith(f"island{i}.")}
                for i in range(n)
            ]
            self.inboxes = [
                (arrays[f"inbox{i}.0"], arrays[f"inbox{i}.1"], arrays[f"inbox{i}.2"],
                 arrays[f"inbox{i}.3"])
                for i in range(n)
            ]  # fmt: skip
            for i, state in enumerate(self.saved):
                assert state is not None
                self.counters[i] = dict(zip(_COUNTERS, map(int, state["counter"]), strict=True))
                fitness = state["pop_fitness"]
                j = int(np.argmax(fitness))
                self.island_best[i] = (
                    state["pop_ints"][j : j + 1], state["pop_floats"][j : j + 1],
                    state["pop_sizes"][j : j + 1], fitness[j : j + 1],
                )  # fmt: skip
                self.stats[i] = (float(fitness.mean()), float(fitness.std()), float(fitness[j]))
        self.say(
            f"resumed {path}: experiment {self.experiment}, round {self.round}, "
            f"cpu_secs={self.cpu_before:.1f}"
        )
