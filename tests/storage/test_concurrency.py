"""Several processes share one study: SQLite file and PostgreSQL.

Four processes (spawned, as on macOS and Windows) open an empty database
together, create the study together (`exist_ok`), then propose, measure
and finish 50 trials each, as fast as they can. Afterwards the
store must hold exactly 200 trials with ids 1..200 and events 1..400, and
every process must have seen the event sequence without a gap: each call of
`make` receives exactly the events after the last one the process saw, so
the number of events a process has seen when it proposes is its trial's
event number minus one.
"""

from __future__ import annotations

import multiprocessing
import traceback
from pathlib import Path
from typing import Any

import pytest

from automorph.storage import Event, StudyInfo
from automorph.storage._sql import SQLStorage

WORKERS = 4
PROPOSALS = 50
STUDY = "shared"


def _propose_and_finish(url: str, worker: str, start: Any, results: Any) -> None:
    """One worker process: reports (worker, the event numbers it saw at each
    proposal, error)."""
    try:
        start.wait(60)
        # All four open the empty database and create the study at once.
        store = SQLStorage(url)
        store.create_study(StudyInfo(STUDY), exist_ok=True)
        seen: list[int] = []  # every event this process knows of, in order
        views: list[list[int]] = []

        def make(events: list[Event]) -> tuple[dict[str, Any], str | None]:
            seen.extend(e.seq for e in events)
            views.append(list(seen))
            return {"seen": len(seen), "worker": worker}, None

        for _ in range(PROPOSALS):
            trial = store.propose_trial(STUDY, worker, seen[-1] if seen else 0, make)
            assert trial is not None
            seen.append(trial.proposed_seq)
            store.add_measurement(STUDY, trial.id, worker, {"reward": 0.5, "step": 1})
            done = store.finish_trial(STUDY, trial.id, worker, "completed", reward=float(trial.id))
            assert done.finished_seq is not None
        store.close()
        results.put((worker, views, None))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((worker, [], traceback.format_exc()))


def _claim_all(url: str, worker: str, start: Any, results: Any) -> None:
    """One worker process: claims pending trials until there are none."""
    try:
        store = SQLStorage(url)
        claimed: list[int] = []
        start.wait(60)
        while (trial := store.claim_trial(STUDY, worker)) is not None:
            assert trial.worker == worker and trial.status == "running"
            claimed.append(trial.id)
        store.close()
        results.put((worker, claimed, None))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((worker, [], traceback.format_exc()))


def _run(target: Any, url: str) -> dict[str, Any]:
    """Runs `target` in WORKERS spawned processes that start together; their results."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(WORKERS), context.Queue()
    processes = [
        context.Process(target=target, args=(url, f"w{i}", start, results)) for i in range(WORKERS)
    ]
    for process in processes:
        process.start()
    out: dict[str, Any] = {}
    for _ in processes:
        worker, value, error = results.get(timeout=120)
        assert error is None, f"worker {worker} failed:\n{error}"
        out[worker] = value
    for process in processes:
        process.join(30)
        assert process.exitcode == 0, f"a worker exited with {process.exitcode}"
    return out


def _url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_concurrent_proposals_form_one_sequence(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(kind, tmp_path, request)
    seen = _run(_propose_and_finish, url)
    store = SQLStorage(url)

    trials = store.get_trials(STUDY)
    total = WORKERS * PROPOSALS
    assert [t.id for t in trials] == list(range(1, total + 1))
    assert all(t.status == "completed" and len(t.measurements) == 1 for t in trials)
    numbers = sorted([t.proposed_seq for t in trials] + [t.finished_seq or 0 for t in trials])
    assert numbers == list(range(1, 2 * total + 1)), "event numbers are not 1..400, once each"
    # Each trial was made after seeing every earlier event: the sequence has no gaps.
    for t in trials:
        assert t.dna["seen"] == t.proposed_seq - 1, (
            f"trial {t.id} (event {t.proposed_seq}) was made after seeing {t.dna['seen']} events"
        )
    for worker, views in seen.items():
        assert len(views) == PROPOSALS
        for view in views:
            assert view == list(range(1, len(view) + 1)), f"{worker} saw a gap: {view}"
    assert [e.seq for e in store.events(STUDY)] == list(range(1, 2 * total + 1))
    store.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_each_pending_trial_is_claimed_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _url(kind, tmp_path, request)
    store = SQLStorage(url)
    store.create_study(StudyInfo(STUDY))
    for _ in range(30):
        store.propose_trial(STUDY, "lost", 0, lambda events: ({}, None))
    assert store.requeue_stale(STUDY, -1.0, retry_limit=3) == list(range(1, 31))

    claimed = _run(_claim_all, url)

    ids = sorted(i for got in claimed.values() for i in got)
    assert ids == list(range(1, 31)), f"claims: {claimed}"
    owners = {t.id: t.worker for t in store.get_trials(STUDY)}
    assert all(owners[i] == worker for worker, got in claimed.items() for i in got)
    assert store.get_trials(STUDY, "pending") == []
    store.close()
