"""Migration between islands: several populations evolved in worker processes
(or Ray actors), exchanging their best members in a ring at fixed intervals.

The islands are `automorph.tuning.Actors`, the executors that run a study's
workers: Ctrl-C (SIGINT) or SIGTERM stops every island's process cleanly,
the processes exit if the caller is killed, and a dead island (its
population is lost) ends the search with `WorkerDiedError`."""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

import automorph as am
from automorph.tuning import Actors, Progress
from automorph.zero._config import SearchConfig
from automorph.zero._errors import ConfigError
from automorph.zero._program import Program
from automorph.zero._search import Evolver, evaluate_program
from automorph.zero._tasks import TaskSet

Migrant = tuple[dict[str, Any], float]


class _Island:
    """One population: the state a worker process or a Ray actor keeps."""

    def __init__(self, config_json: dict[str, Any], tasks: TaskSet, seed: int) -> None:
        self.config = am.from_json(config_json)
        self.evolver = Evolver(self.config, tasks, seed=seed)
        self.evolver.initialize()

    def round(
        self, sweeps: int, migrants: list[Migrant], n_out: int
    ) -> tuple[list[Migrant], dict[str, int], float]:
        """Takes in `migrants`, runs `sweeps` sweeps; returns the `n_out` best
        members, the counters and the CPU time the round took."""
        evolver = self.evolver
        for program_json, fitness in migrants:
            evolver.insert(am.from_json(program_json), fitness)
        start = time.process_time()
        for _ in range(sweeps):
            evolver.step(self.config.population_size)
        order = np.argsort(-evolver.pop[3], kind="stable")[:n_out]
        out = [(am.to_json(evolver.member(int(j))), float(evolver.pop[3][j])) for j in order]
        return out, evolver.counters(), time.process_time() - start


@dataclass
class IslandResult:
    """What an island search found.

    Attributes:
        program: The best program over all islands (by search fitness).
        search_fitness: Its fitness on the search tasks.
        select_fitness: Its fitness on the selection tasks.
        rounds: Migration rounds run.
        counters: Per island: train steps, programs, FEC hits and misses, hurdle stops.
        cpu_seconds: CPU time of the workers, summed.
    """

    program: Program
    search_fitness: float
    select_fitness: float
    rounds: int
    counters: list[dict[str, int]]
    cpu_seconds: float


def run_islands(
    config: SearchConfig,
    search_tasks: TaskSet,
    select_tasks: TaskSet,
    *,
    islands: int = 2,
    rounds: int = 10,
    sweeps_per_round: int = 1,
    migrants: int = 5,
    seed: int = 0,
    backend: str = "process",
    progress: bool = False,
) -> IslandResult:
    """Regularized evolution on `islands` populations in worker processes.

    Each round every island runs `sweeps_per_round` sweeps (population_size
    children each), then sends its `migrants` best members to the next island
    in a ring, where they replace the oldest members. The best program found
    is evaluated on `select_tasks`. `backend` is "process" (spawned worker
    processes on this machine) or "ray" (one Ray actor per island, on the
    connected cluster, or a local one started for the search). Runs are
    deterministic given the seed, on either backend. With `progress`, a
    progress line (rounds done, the best search fitness) goes to stderr.

    Raises:
        ConfigError: For fewer than 1 island or round, more migrants than a
            population, an unknown backend, or "ray" without Ray installed.
    """
    if islands < 1 or rounds < 1 or sweeps_per_round < 1:
        raise ConfigError(
            f"islands, rounds and sweeps_per_round must be >= 1, got {islands}, {rounds}, "
            f"{sweeps_per_round}"
        )
    if not 0 <= migrants <= config.population_size:
        raise ConfigError(
            f"migrants must be in 0..population_size ({config.population_size}), got {migrants}"
        )
    if backend not in ("process", "ray"):
        raise ConfigError(f"backend must be 'process' or 'ray', got {backend!r}")
    if backend == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError("backend='ray' needs Ray: pip install 'automorph[ray]'")
    seeds = [seed * 1000 + i for i in range(islands)]
    meter = Progress(rounds, "islands", unit="rounds") if progress else None
    inboxes: list[list[Migrant]] = [[] for _ in range(islands)]
    best: Migrant | None = None
    counters: list[dict[str, int]] = []
    cpu = 0.0
    with Actors(
        _Island,
        [(s,) for s in seeds],
        executor=backend,
        shared=(am.to_json(config), search_tasks),
        interrupt_message="the island search was stopped ({reason})",
    ) as workers:
        for done in range(1, rounds + 1):
            replies = workers.call(
                "round", [(sweeps_per_round, inbox, migrants) for inbox in inboxes]
            )
            inboxes = [replies[(i - 1) % islands][0] for i in range(islands)]
            counters = [reply[1] for reply in replies]
            cpu += sum(reply[2] for reply in replies)
            for out, _, _ in replies:
                if out and (best is None or out[0][1] > best[1]):
                    best = out[0]
            if meter is not None:
                meter.update(done, best[1] if best else None, None)
    if meter is not None:
        meter.close(rounds, best[1] if best else None, None)
    assert best is not None
    program = am.from_json(best[0])
    select, _ = evaluate_program(
        program, select_tasks, config.memory, max_abs_error=config.max_abs_error,
        combine=config.combine,
    )  # fmt: skip
    return IslandResult(program, best[1], select, rounds, counters, cpu)
