"""End to end against real databases: 4 worker processes, 200 trials; a killed worker."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph import algorithms
from automorph.storage import open_storage
from automorph.tuning import Feedback

SPACE = am.Dict(x=am.floatv(0.0, 1.0), k=am.oneof([1, 2, 3]))


def logged_objective(example: Any, feedback: Feedback) -> float:
    """Records every evaluation (process, trial) in the run log, then scores."""
    with open(os.environ["AUTOMORPH_RUN_LOG"], "a") as log:
        log.write(f"{os.getpid()} {feedback.id}\n")
    time.sleep(0.002)
    return float(example["x"] * example["k"])


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "study.db")
    return str(request.getfixturevalue("fresh_postgres_url"))


def test_four_workers_store_and_run_every_trial_exactly_once(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "runs.log"
    monkeypatch.setenv("AUTOMORPH_RUN_LOG", str(log))
    evolution = algorithms.regularized_evolution(population_size=20, tournament_size=5, seed=2)
    result = am.tune(
        logged_objective,
        SPACE,
        evolution,
        200,
        name="four",
        storage=store_url,
        executor="process",
        num_workers=4,
    )
    assert result.num_completed == 200
    trials = open_storage(store_url).get_trials("four")
    assert [t.id for t in trials] == list(range(1, 201))  # stored once, none lost
    runs = Counter(int(line.split()[1]) for line in log.read_text().splitlines())
    assert set(runs) == set(range(1, 201)) and max(runs.values()) == 1  # none run twice
    assert len({t.worker for t in trials}) == 4
    seqs = sorted([t.proposed_seq for t in trials] + [t.finished_seq or 0 for t in trials])
    assert seqs == list(range(1, 401))  # one ordered history that every worker followed


def _doomed(url: str, started: Any) -> None:
    for _, feedback in am.sample(
        SPACE,
        algorithms.Random(seed=8),
        8,
        name="killed",
        storage=url,
        worker="doomed",
        heartbeat_s=0.1,
        timeout_s=1.0,
    ):
        started.set()
        time.sleep(120)  # SIGKILL arrives here, mid-trial
        feedback(0.0)


def test_a_worker_killed_mid_trial_is_replaced_and_the_study_completes(store_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    doomed = context.Process(target=_doomed, args=(store_url, started))
    doomed.start()
    assert started.wait(60), "the worker never started its trial"
    os.kill(doomed.pid, signal.SIGKILL)  # type: ignore[arg-type]
    doomed.join()
    result = am.tune(
        lambda e: float(e["x"]),
        SPACE,
        algorithms.Random(seed=8),
        8,
        name="killed",
        storage=store_url,
        worker="survivor",
        heartbeat_s=0.1,
        timeout_s=1.0,
    )
    assert result.num_completed == 8
    first = open_storage(store_url).get_trial("killed", 1)
    assert (first.status, first.worker, first.retries) == ("completed", "survivor", 1)
