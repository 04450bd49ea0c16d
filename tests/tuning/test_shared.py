"""Stored studies: resume, several workers, lost workers, conflicts."""

from __future__ import annotations

import threading
import time

import pytest

import automorph as am
from automorph import algorithms
from automorph.storage import MemoryStorage

SPACE = am.Dict(x=am.floatv(0.0, 1.0), k=am.oneof([1, 2, 3]))


def reward(example: dict[str, float]) -> float:
    return example["x"] * example["k"]


def evolution(seed: int | None = 3) -> algorithms.SearchAlgorithm:
    return algorithms.regularized_evolution(population_size=5, tournament_size=2, seed=seed)


def test_a_resumed_study_continues_exactly_as_an_uninterrupted_one() -> None:
    store = MemoryStorage()
    first = am.tune(reward, SPACE, evolution(), 20, name="s", storage=store)
    assert first.num_completed == 20
    resumed = am.tune(reward, SPACE, evolution(seed=None), 30, name="s", storage=store)
    assert resumed.num_completed == 30  # the budget is the study's, not the call's
    alone = am.tune(reward, SPACE, evolution(), 30)
    assert [t.dna for t in resumed.trials] == [t.dna for t in alone.trials]
    assert resumed.best_reward == alone.best_reward


def test_workers_share_a_study_and_run_each_trial_once() -> None:
    store = MemoryStorage()
    seen: list[int] = []

    def work() -> None:
        for example, feedback in am.sample(SPACE, evolution(), 60, name="w", storage=store):
            seen.append(feedback.id)
            time.sleep(0.002)  # an evaluation takes a moment: the workers interleave
            feedback(reward(example))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    trials = store.get_trials("w")
    assert [t.id for t in trials] == list(range(1, 61))
    assert sorted(seen) == list(range(1, 61))  # each trial run by exactly one worker
    assert all(t.status == "completed" for t in trials)
    assert len({t.worker for t in trials}) > 1


def test_a_trial_of_a_lost_worker_is_run_again_by_another() -> None:
    store = MemoryStorage()
    lost = am.sample(
        SPACE,
        evolution(),
        3,
        name="l",
        storage=store,
        worker="lost",
        heartbeat_s=3600,
        timeout_s=0.2,
    )
    next(iter(lost))  # the worker takes trial 1 and never reports
    time.sleep(0.3)
    result = am.tune(
        reward, SPACE, evolution(), 3, name="l", storage=store, worker="rescuer", timeout_s=0.2
    )
    assert result.num_completed == 3
    first = store.get_trial("l", 1)
    assert (first.status, first.worker, first.retries) == ("completed", "rescuer", 1)
    with pytest.raises(am.TrialStateError):
        store.finish_trial("l", 1, "lost", "completed", reward=0.0)
    lost._study.close()  # type: ignore[union-attr]


def test_a_trial_that_keeps_losing_its_workers_fails_at_the_retry_limit() -> None:
    store = MemoryStorage()
    for attempt in range(3):
        loop = am.sample(
            SPACE,
            evolution(),
            1,
            name="r",
            storage=store,
            worker=f"w{attempt}",
            heartbeat_s=3600,
            timeout_s=0.05,
            retry_limit=1,
        )
        next(iter(loop), None)
        loop._study.close()  # type: ignore[union-attr]
        time.sleep(0.1)
    store.requeue_stale("r", 0.05, 1)
    trial = store.get_trial("r", 1)
    assert trial.status == "failed" and "retry limit 1" in (trial.error or "")


def test_a_study_keeps_its_space_and_its_algorithm() -> None:
    store = MemoryStorage()
    am.tune(reward, SPACE, evolution(), 2, name="c", storage=store)
    with pytest.raises(am.StorageError, match="created with another search space"):
        am.sample(am.Dict(x=am.floatv(0.0, 2.0)), evolution(), 2, name="c", storage=store)
    with pytest.raises(am.StorageError, match="searched by Evolution, not Random"):
        am.sample(SPACE, algorithms.Random(), 2, name="c", storage=store)
    with pytest.raises(am.FieldValueError, match="needs a `name`"):
        am.sample(SPACE, evolution(), 2, storage=store)


def test_measurements_and_metadata_are_stored() -> None:
    store = MemoryStorage()
    for example, feedback in am.sample(
        SPACE, algorithms.Random(seed=1), 2, name="m", storage=store
    ):
        feedback.add_measurement(0.1, step=1, metrics={"loss": 2.0})
        feedback.set_metadata("host", "here")
        feedback.add_measurement(reward(example), step=2)
        feedback.done()
    trial = store.get_trial("m", 2)
    assert [m["step"] for m in trial.measurements] == [1, 2]
    assert trial.measurements[0]["metrics"] == {"loss": 2.0}
    assert trial.metadata == {"host": "here"}
    assert trial.reward == trial.measurements[-1]["reward"]
