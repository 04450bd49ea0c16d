"""Several worker processes on one stored study: a process pool, Ray, a killed worker."""

from __future__ import annotations

import os
import signal
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


def wait_for_the_other_worker() -> None:
    """In a worker process's first trial, waits (a minute at most) until a
    second worker process has started one (marks in $AUTOMORPH_TEST_MARK)."""
    folder = Path(os.environ["AUTOMORPH_TEST_MARK"])
    mine = folder / str(os.getpid())
    if not mine.exists():
        mine.write_text("")
        deadline = time.monotonic() + 60
        while len(list(folder.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)


def together(example: Any) -> float:
    """`objective`; each worker's first trial waits (a minute at most) for the other's."""
    wait_for_the_other_worker()
    return objective(example)


def test_a_process_pool_runs_every_trial_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "workers").mkdir()
    monkeypatch.setenv("AUTOMORPH_TEST_MARK", str(tmp_path / "workers"))
    path = str(tmp_path / "study.db")
    handlers = [signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)]
    result = am.tune(
        together,
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
    assert [signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)] == handlers


def failing(example: Any) -> float:
    raise ValueError(f"no good: {example['k']}")


def test_an_error_in_a_worker_is_raised_by_the_caller(tmp_path: Path) -> None:
    path = str(tmp_path / "study.db")
    with pytest.raises(ValueError, match="no good") as caught:
        am.tune(failing, SPACE, algorithms.Random(seed=1), 4, name="e", storage=path,
                executor="process", num_workers=2)  # fmt: skip
    assert any("in worker" in note for note in getattr(caught.value, "__notes__", []))
    trials = open_storage(path).get_trials("e")
    # Trials the proposer queued for a second worker may be left pending (never
    # started): a later run of the study takes them first.
    ran = [t for t in trials if t.status != "pending"]
    assert ran and all(t.status == "failed" and "no good" in str(t.error) for t in ran)
    assert all(t.started is None for t in trials if t.status == "pending")


def dies_once(example: Any, feedback: Any) -> float:
    """Trial 1 kills its worker process, the first time it runs. After that,
    each process's first trial waits (half a minute at most) until two live
    worker processes have run one: the survivor and the dead one's replacement."""
    folder = Path(os.environ["AUTOMORPH_TEST_MARK"])
    killed, mine = folder / "killed", folder / f"pid-{os.getpid()}"
    if feedback.id == 1 and not killed.exists():
        killed.write_text("")
        os.kill(os.getpid(), signal.SIGKILL)
    if killed.exists() and not mine.exists():
        mine.write_text("")
        deadline = time.monotonic() + 30
        while len(list(folder.glob("pid-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    time.sleep(0.01)
    return float(example["x"])


def test_a_dead_worker_is_replaced_and_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mark").mkdir()
    monkeypatch.setenv("AUTOMORPH_TEST_MARK", str(tmp_path / "mark"))
    path = str(tmp_path / "study.db")
    with pytest.warns(
        RuntimeWarning, match=r"died with exit code -9; restarted as worker "
    ) as caught:
        result = am.tune(dies_once, SPACE, algorithms.Random(seed=2), 12, name="d",
                         storage=path, executor="process", num_workers=2, worker="w",
                         heartbeat_s=0.1, timeout_s=1.0)  # fmt: skip
    assert (tmp_path / "mark" / "killed").exists()
    assert len(caught) == 1 and "restarted as worker 'w-2'" in str(caught[0].message)
    assert result.num_completed == 12  # trial 1 was run again, after its timeout
    trials = open_storage(path).get_trials("d")
    first = trials[0]
    assert (first.id, first.status, first.retries) == (1, "completed", 1)
    # The replacement worker ("w-2", after "w-0" and "w-1") ran trials, in a
    # third process: the survivor's trials waited for a second live process.
    workers = {t.worker for t in trials}
    assert "w-2" in workers and len(workers) == 2, workers
    assert len(list((tmp_path / "mark").glob("pid-*"))) == 2


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
