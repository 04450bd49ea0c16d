"""Faults of a shared study that the defaults must handle, with real processes
and signals: a killed worker's trial is run again within the default timeout,
and workers of different runs never share an id (so a late worker of an old
run cannot store a result into a trial that a new run's worker now owns)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import automorph as am
from automorph import algorithms
from automorph.storage import open_storage
from automorph.tuning import StudyOptions

SPACE = am.Dict(x=am.floatv(0.0, 1.0))


def value(example: Any) -> float:
    return float(example["x"])


def _doomed(path: str, started: Any) -> None:
    """A worker with the default heartbeat and timeout, killed inside its trial."""
    for _, feedback in am.sample(SPACE, algorithms.Random(seed=4), 3, name="s", storage=path):
        started.set()
        time.sleep(600)  # SIGKILL arrives here
        feedback(0.0)


def test_with_the_defaults_a_killed_workers_trial_runs_again_within_half_a_minute(
    tmp_path: Path,
) -> None:
    defaults = StudyOptions()
    assert (defaults.heartbeat_s, defaults.timeout_s) == (2.0, 20.0)
    path = str(tmp_path / "study.db")
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    doomed = context.Process(target=_doomed, args=(path, started))
    doomed.start()
    assert started.wait(120), "the worker never started its trial"
    killed = time.monotonic()
    os.kill(doomed.pid, signal.SIGKILL)  # type: ignore[arg-type]
    doomed.join()
    result = am.tune(value, SPACE, algorithms.Random(seed=4), 3, name="s", storage=path)
    waited = time.monotonic() - killed
    assert result.num_completed == 3
    first = open_storage(path).get_trial("s", 1)
    assert (first.status, first.retries) == ("completed", 1)
    # Requeued after the 20 s timeout (less the time since its last heartbeat), not after 60 s.
    assert 15.0 < waited < 35.0, f"trial 1 ran again after {waited:.1f} s"


def test_workers_of_two_runs_of_a_study_have_different_ids(tmp_path: Path) -> None:
    path = str(tmp_path / "study.db")
    for total in (4, 8):
        am.tune(value, SPACE, algorithms.Random(seed=2), total, name="s", storage=path,
                executor="process", num_workers=2)  # fmt: skip
    trials = open_storage(path).get_trials("s")
    first = {t.worker for t in trials[:4]}
    second = {t.worker for t in trials[4:]}
    assert first and second and not first & second, (first, second)
    host = os.uname().nodename
    assert all(str(w).startswith(f"{host}:") for w in first | second), first | second


def test_running_workers_leaves_the_callers_algorithm_as_it_was(tmp_path: Path) -> None:
    path = str(tmp_path / "study.db")
    search = algorithms.GPBO(num_initial=3)  # no seed: the study picks one, not the caller
    for executor, workers in (("local", 1), ("process", 2)):
        am.tune(value, SPACE, search, 6 * workers, name=executor, storage=path,
                executor=executor, num_workers=workers)  # fmt: skip
        assert search.seed is None and not search.is_set_up, executor
    stored = [open_storage(path).get_study(name).algorithm for name in ("local", "process")]
    assert all(text is not None and '"seed": null' not in text for text in stored), stored
