"""Workers SIGKILLed during a run: every trial is stored and evaluated once.

Eight worker processes (spawned) run one stored study of 500 trials of a few
milliseconds (`am.tune`, heartbeats every 0.1 s, a trial requeued after 5 s
without one: a live worker whose trial were taken over would evaluate it
twice, and on a loaded machine SQLite's write lock can keep a worker's
heartbeat and result waiting for over a second). A killer SIGKILLs a random
worker at 12 points of the run's progress, wherever it is (evaluating, in a
transaction, opening the store), and starts a replacement each time. At the
end, on SQLite and PostgreSQL:

- trials 1..500 are stored, every one completed: none pending or running;
- the result stored for each trial comes from one evaluation, logged once
  by the process that stored it;
- every other evaluation was lost with a killed process: a process that
  lived to the end never evaluated a trial whose result it did not store,
  and a killed one lost at most the one evaluation it was killed after.

The objective appends "pid trial" to a run log after evaluating and before
returning its reward: a logged evaluation may not reach the store only if
its process was killed between the two.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph import algorithms
from automorph.storage import open_storage
from automorph.tuning import Feedback

TRIALS = 500
WORKERS = 8
KILL_AT = [35 * (i + 1) for i in range(12)]  # completed evaluations; the last at 420
SPACE = am.Dict(x=am.floatv(0.0, 1.0), k=am.oneof([1, 2, 3]))


def _objective(example: Any, feedback: Feedback) -> float:
    time.sleep(0.003)
    with open(os.environ["AUTOMORPH_RUN_LOG"], "a") as log:
        log.write(f"{os.getpid()} {feedback.id}\n")
    return float(example["x"] * example["k"])


def _worker(url: str, log: str) -> None:
    os.environ["AUTOMORPH_RUN_LOG"] = log
    am.tune(
        _objective,
        SPACE,
        algorithms.Random(seed=5),
        TRIALS,
        name="kills",
        storage=url,
        worker=f"kill-test:{os.getpid()}:{uuid.uuid4().hex[:6]}",
        heartbeat_s=0.1,
        timeout_s=5.0,
        retry_limit=50,
    )


def _evaluations(log: Path) -> list[tuple[int, int]]:
    if not log.exists():
        return []
    lines = log.read_text().splitlines()
    return [(int(pid), int(trial)) for pid, trial in (line.split() for line in lines)]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "study.db")
    return str(request.getfixturevalue("fresh_postgres_url"))


def test_workers_killed_during_a_run_lose_and_double_nothing(
    store_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    context = multiprocessing.get_context("spawn")
    rng = random.Random(11)

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(store_url, str(log)))
        process.start()
        return process

    workers = [start() for _ in range(WORKERS)]
    killed: set[int] = set()
    deadline = time.monotonic() + 240
    try:
        for point in KILL_AT:
            while len(_evaluations(log)) < point:
                assert time.monotonic() < deadline, f"the run stalled before {point} trials"
                assert any(w.is_alive() for w in workers), "every worker exited early"
                time.sleep(0.02)
            alive = [w for w in workers if w.is_alive()]
            victim = rng.choice(alive)
            os.kill(victim.pid, signal.SIGKILL)  # type: ignore[arg-type]
            victim.join(30)
            killed.add(victim.pid)  # type: ignore[arg-type]
            workers[workers.index(victim)] = start()
        for worker in workers:
            worker.join(max(1.0, deadline - time.monotonic()))
            assert worker.exitcode == 0, f"a worker exited with {worker.exitcode}"
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
                worker.join()

    assert len(killed) == len(KILL_AT) >= 10
    store = open_storage(store_url)
    trials = store.get_trials("kills")
    store.close()
    assert [t.id for t in trials] == list(range(1, TRIALS + 1)), "trials lost or stored twice"
    states = Counter(t.status for t in trials)
    assert states == {"completed": TRIALS}, f"trials not completed: {states}"

    evaluations = _evaluations(log)
    assert len(set(evaluations)) == len(evaluations), "a process evaluated a trial twice"
    stored = {t.id: int(str(t.worker).split(":")[1]) for t in trials}  # trial -> its pid
    assert set(stored.values()) <= {pid for pid, _ in evaluations}
    for trial, pid in stored.items():
        assert (pid, trial) in evaluations, f"trial {trial}'s stored result was not evaluated"
    unstored = [(pid, trial) for pid, trial in evaluations if stored[trial] != pid]
    lost: defaultdict[int, list[int]] = defaultdict(list)
    for pid, trial in unstored:
        lost[pid].append(trial)
    survivors = {pid: ids for pid, ids in lost.items() if pid not in killed}
    assert not survivors, f"live workers evaluated trials another worker stored: {survivors}"
    twice = {pid: ids for pid, ids in lost.items() if len(ids) > 1}
    assert not twice, f"killed workers lost more than their last evaluation: {twice}"
    assert len(evaluations) <= TRIALS + len(killed)
