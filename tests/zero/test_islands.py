"""Islands in worker processes exchanging migrants."""

from __future__ import annotations

import os
import sys

import pytest

from automorph.zero import ConfigError, get_config, run_islands


def test_two_islands_in_processes_exchange_migrants() -> None:
    config = get_config("linear-tiny").rebind({"population_size": 40})
    search, select = config.search_tasks.build(), config.select_tasks.build()
    result = run_islands(config, search, select, islands=2, rounds=3, migrants=3, seed=1)
    assert len(result.counters) == 2 and result.rounds == 3
    assert all(c["programs"] == 40 * 4 for c in result.counters)
    assert 0.0 <= result.select_fitness <= 1.0 and result.search_fitness > 0.0
    again = run_islands(config, search, select, islands=2, rounds=3, migrants=3, seed=1)
    assert again.program == result.program and again.counters == result.counters


def test_island_arguments_are_checked() -> None:
    config = get_config("linear-tiny")
    tasks = config.search_tasks.build()
    with pytest.raises(ConfigError, match="islands, rounds and sweeps_per_round must be >= 1"):
        run_islands(config, tasks, tasks, islands=0)
    with pytest.raises(ConfigError, match=r"migrants must be in 0..population_size \(100\)"):
        run_islands(config, tasks, tasks, migrants=101)


@pytest.mark.skipif(sys.platform != "linux", reason="Ray is tested on Linux")
def test_islands_on_ray_actors_migrate_as_processes_do() -> None:
    ray = pytest.importorskip("ray")
    config = get_config("linear-tiny").rebind({"population_size": 40})
    search, select = config.search_tasks.build(), config.select_tasks.build()
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(sys.path)}},
    )
    try:
        on_ray = run_islands(
            config, search, select, islands=2, rounds=3, migrants=3, seed=1, backend="ray"
        )
    finally:
        ray.shutdown()
    local = run_islands(config, search, select, islands=2, rounds=3, migrants=3, seed=1)
    assert on_ray.program == local.program
    assert on_ray.counters == local.counters and on_ray.select_fitness == local.select_fitness


def test_an_unknown_island_backend_is_refused() -> None:
    config = get_config("linear-tiny")
    tasks = config.search_tasks.build()
    with pytest.raises(ConfigError, match="backend must be 'process' or 'ray', got 'mpi'"):
        run_islands(config, tasks, tasks, backend="mpi")
