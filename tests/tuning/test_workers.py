"""Several worker processes on one stored study: a process pool, Ray, a killed worker."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph import algorithms
from automorph.storage import open_storage

SPACE = am.Dict(x=am.floatv(0.0, 1.0), k=am.oneof([1, 2, 3]))


def objective(example: Any) -> float:
    time.sleep(0.005)
    return float(example["x"] * example["k"])


def test_a_process_pool_runs_every_trial_once(tmp_path: Path) -> None:
    path = str(tmp_path / "study.db")
    result = am.tune(
        objective,
        SPACE,
        algorithms.Random(seed=4),
        40,
        name="pool",
        storage=path,
        executor="process",
        num_workers=2,
    )
    assert result.num_completed == 40
    trials = open_storage(path).get_trials("pool")
    assert [t.id for t in trials] == list(range(1, 41))
    assert {t.status for t in trials} == {"completed"}
    assert len({t.worker for t in trials}) == 2


def test_workers_need_a_shared_store() -> None:
    with pytest.raises(am.FieldValueError, match="needs a stored study"):
        am.tune(objective, SPACE, algorithms.Random(), 4, executor="process", num_workers=2)
    with pytest.raises(am.FieldValueError, match="not a Storage object"):
        am.tune(
            objective,
            SPACE,
            algorithms.Random(),
            4,
            name="m",
            storage=am_memory(),
            executor="process",
            num_workers=2,
        )


def am_memory() -> Any:
    from automorph.storage import MemoryStorage

    return MemoryStorage()


@pytest.mark.skipif(sys.platform != "linux", reason="Ray is tested on Linux")
def test_ray_tasks_run_the_study(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    path = str(tmp_path / "ray.db")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(sys.path)}},
    )
    try:
        result = am.tune(
            objective,
            SPACE,
            algorithms.Random(seed=5),
            20,
            name="ray",
            storage=path,
            executor="ray",
            num_workers=2,
        )
    finally:
        ray.shutdown()
    assert result.num_completed == 20
    assert [t.id for t in open_storage(path).get_trials("ray")] == list(range(1, 21))
