"""A lock held past the busy timeout: the store waits it out and loses nothing.

Another process (SQLite) or session (PostgreSQL) holds the store's write
lock longer than a small busy timeout, as a proposal that fits a model under
the study's lock does; calls of this process wait it out, warning, and
complete once the lock is let go. Past `lock_wait_s` a call fails, naming
the store and what holds the lock. Under contention with a 1 ms busy
timeout, every call is retried many times and still stores exactly once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph import algorithms
from automorph.storage import StudyInfo
from automorph.storage._sql import SQLStorage
from automorph.utils import StorageError

HOLD_S = 1.5
# Where the process holding a SQLite lock is found (Linux); elsewhere it is "another connection".
PROC_LOCKS = os.path.exists("/proc/locks")


def held_by(pid: int | None) -> str:
    return f"held by process {pid} (" if PROC_LOCKS else "held by another connection"


SPACE = am.Dict(x=am.floatv(0.0, 1.0))


@contextmanager
def sqlite_write_lock(path: Path, hold_s: float) -> Iterator[subprocess.Popen[str]]:
    """Another process takes the file's write lock (BEGIN IMMEDIATE) and keeps
    it `hold_s` seconds; yields once it holds the lock."""
    script = textwrap.dedent(
        f"""
        import sqlite3, sys, time
        conn = sqlite3.connect({str(path)!r}, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        time.sleep({hold_s})
        conn.execute("ROLLBACK")
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.wait(60)


@contextmanager
def postgres_study_lock(url: str, study: str, hold_s: float) -> Iterator[None]:
    """Another session locks the study's row (as a proposal does) for `hold_s` seconds."""
    import psycopg

    locked = threading.Event()
    failed: list[BaseException] = []

    def hold() -> None:
        try:
            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
                conn.execute(
                    "SELECT id FROM automorph_studies WHERE name = %s FOR UPDATE", (study,)
                )
                locked.set()
                time.sleep(hold_s)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            failed.append(error)
            locked.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(30) and not failed, f"the lock holder failed: {failed}"
        yield
    finally:
        thread.join(60)


def _proposer(events: Any) -> tuple[dict[str, Any], None]:
    return {"n": len(events)}, None


def _waited_for(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "automorph.storage"]


def test_a_sqlite_lock_held_past_the_busy_timeout_is_waited_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "store.db"
    store = SQLStorage(f"sqlite:///{path}", busy_timeout_s=0.1)
    store.create_study(StudyInfo("s"))
    first = store.propose_trial("s", "w", 0, _proposer)
    assert first is not None
    caplog.set_level(logging.WARNING, "automorph.storage")
    with sqlite_write_lock(path, HOLD_S) as holder:
        start = time.monotonic()
        done = store.finish_trial("s", 1, "w", "completed", reward=1.0)
        waited = time.monotonic() - start
        # A study run in this process waits too, and completes.
        result = am.tune(
            lambda e: float(e["x"]), SPACE, algorithms.Random(seed=1), 3, name="t", storage=store
        )
    assert waited > 0.5 and done.finished_seq == 2
    assert result.num_completed == 3
    warnings = _waited_for(caplog)
    assert warnings and held_by(holder.pid) in warnings[0], warnings
    assert str(path) in warnings[0]
    # Stored once: two events for the one trial, three trials for the study run.
    assert [(e.seq, e.kind) for e in store.events("s")] == [(1, "proposed"), (2, "finished")]
    assert [t.status for t in store.get_trials("t")] == ["completed"] * 3
    store.close()


def test_a_postgres_lock_held_past_the_lock_timeout_is_waited_out(
    fresh_postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLStorage(fresh_postgres_url, busy_timeout_s=0.1)
    store.create_study(StudyInfo("s"))
    assert store.propose_trial("s", "w", 0, _proposer) is not None
    caplog.set_level(logging.WARNING, "automorph.storage")
    with postgres_study_lock(fresh_postgres_url, "s", HOLD_S):
        start = time.monotonic()
        done = store.finish_trial("s", 1, "w", "completed", reward=1.0)
        second = store.propose_trial("s", "w", 2, _proposer)
        waited = time.monotonic() - start
    assert waited > 0.5 and done.finished_seq == 2
    assert second is not None and (second.id, second.proposed_seq) == (2, 3)
    warnings = _waited_for(caplog)
    assert warnings and "held by server process" in warnings[0], warnings
    assert "FOR UPDATE" in warnings[0]
    assert [e.seq for e in store.events("s")] == [1, 2, 3]
    store.close()


def test_a_lock_held_past_lock_wait_s_is_an_error_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = SQLStorage(f"sqlite:///{path}", busy_timeout_s=0.1, lock_wait_s=0.5)
    store.create_study(StudyInfo("s"))
    with sqlite_write_lock(path, HOLD_S) as holder:
        with pytest.raises(StorageError) as info:
            store.propose_trial("s", "w", 0, _proposer)
        assert store.get_trials("s") == []  # readers do not wait
    message = str(info.value)
    assert f"for a lock on the SQLite file {path}" in message
    assert held_by(holder.pid) in message and "database is locked" in message
    assert store.propose_trial("s", "w", 0, _proposer) is not None  # once it is let go
    store.close()


def test_a_postgres_lock_held_past_lock_wait_s_names_the_session(fresh_postgres_url: str) -> None:
    store = SQLStorage(fresh_postgres_url, busy_timeout_s=0.1, lock_wait_s=0.5)
    store.create_study(StudyInfo("s"))
    with postgres_study_lock(fresh_postgres_url, "s", HOLD_S):
        with pytest.raises(StorageError, match=r"held by server process \d+ .*FOR UPDATE"):
            store.propose_trial("s", "w", 0, _proposer)
    assert store.get_trials("s") == []
    store.close()


# --- contention: every call retried, each stored once --------------------------------------

WORKERS = 4
TRIALS_EACH = 25


def _contend(url: str, worker: str, start: Any, results: Any) -> None:
    """One process: proposes, measures and finishes TRIALS_EACH trials with a
    1 ms busy timeout; reports the ids it stored."""
    try:
        store = SQLStorage(url, busy_timeout_s=0.001)
        store.create_study(StudyInfo("busy"), exist_ok=True)
        start.wait(60)
        mine = []
        for _ in range(TRIALS_EACH):
            trial = store.propose_trial("busy", worker, 10**12, _proposer)
            assert trial is not None
            store.add_measurement("busy", trial.id, worker, {"reward": 0.5, "step": 1})
            store.heartbeat("busy", trial.id, worker)
            store.finish_trial("busy", trial.id, worker, "completed", reward=float(trial.id))
            store.requeue_stale("busy", 3600.0, 1)
            mine.append(trial.id)
        store.close()
        results.put((worker, mine, None))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((worker, [], traceback.format_exc()))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_calls_retried_under_contention_store_each_trial_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'busy.db'}"
    else:
        url = str(request.getfixturevalue("fresh_postgres_url"))
    SQLStorage(url).close()  # the schema, made once
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(WORKERS), context.Queue()
    processes = [
        context.Process(target=_contend, args=(url, f"w{i}", start, results))
        for i in range(WORKERS)
    ]
    for process in processes:
        process.start()
    stored: list[int] = []
    for _ in processes:
        worker, ids, error = results.get(timeout=120)
        assert error is None, f"worker {worker} failed:\n{error}"
        stored += ids
    for process in processes:
        process.join(30)
    total = WORKERS * TRIALS_EACH
    assert sorted(stored) == list(range(1, total + 1))
    store = SQLStorage(url)
    trials = store.get_trials("busy")
    assert [t.id for t in trials] == list(range(1, total + 1))
    assert all(t.status == "completed" and len(t.measurements) == 1 for t in trials)
    assert all(t.reward == float(t.id) for t in trials)
    assert [e.seq for e in store.events("busy")] == list(range(1, 2 * total + 1))
    store.close()


def test_a_store_pickles_with_its_lock_wait(tmp_path: Path) -> None:
    import pickle

    store = SQLStorage(f"sqlite:///{tmp_path / 's.db'}", busy_timeout_s=0.5, lock_wait_s=7.0)
    again = pickle.loads(pickle.dumps(store))
    assert again.__getstate__()["lock_wait_s"] == 7.0
    store.close()
    again.close()
