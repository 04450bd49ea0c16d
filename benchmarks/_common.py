"""Pieces shared by the stored-study benchmarks (`storage.py`, `scale.py`).

- `start_postgres`: the tests' throwaway PostgreSQL server (Debian's
  binaries), or None when there are none here.
- `ConnectionPeak`: the most connections a database had while a run went on.
- `steady_window`: completed trials per second in the steady state of a run
  with several workers, from each worker's first start and its finish times.
- The objectives the workers run (here, so that worker processes can import
  them however the benchmark was loaded), and Optuna's worker.

Everything uses automorph's public API only (`am.tune`, `open_storage`).
"""

from __future__ import annotations

import bisect
import json
import os
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import automorph as am

ROOT = Path(__file__).resolve().parent.parent


# --- the database -------------------------------------------------------------------


def start_postgres(directory: Path, max_connections: int = 200) -> Any:
    """A PostgreSQL server of the benchmark's own (the tests' `PostgresServer`),
    or None, after saying why, when none can be started here."""
    sys.path.insert(0, str(ROOT / "tests" / "storage"))
    try:
        from postgres import PostgresServer  # type: ignore[import-not-found]

        return PostgresServer(directory, max_connections=max_connections)
    except Exception as error:  # noqa: BLE001 - no PostgreSQL here: say so and go on
        print(f"PostgreSQL skipped: {error}", flush=True)
        return None


class ConnectionPeak:
    """Counts the connections to one database of `server` every `every_s`
    seconds, on a thread, while the `with` block runs; `peak` is the most seen
    (the monitor's own connection, to another database, is not counted)."""

    def __init__(self, server: Any, url: str, every_s: float = 0.25) -> None:
        self.server = server
        self.database = url.rsplit("/", 1)[-1].split("?", 1)[0]
        self.every_s = every_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="connection-peak", daemon=True)

    def _watch(self) -> None:
        import psycopg

        conninfo = f"host=127.0.0.1 port={self.server.port} user=automorph dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (self.database,)
                ).fetchone()
                self.peak = max(self.peak, int(row[0]) if row else 0)
                self._stop.wait(self.every_s)

    def __enter__(self) -> ConnectionPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)


# --- the steady state -----------------------------------------------------------------


@dataclass
class Window:
    """The steady state of a run: from when its last worker started its first
    trial (`start`) to when its first worker to stop finished its last one
    (`end`), every worker busy in between (timestamps as `time.time()`).

    Attributes:
        start, end: The window.
        completed: Trials completed in it; a trial that straddles an edge
            counts for the part of it inside (see `steady_window`).
        workers: How many workers ran a trial.
        before: Trials completed before it (counted the same way).
    """

    start: float
    end: float
    completed: float
    workers: int
    before: float = 0.0

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def rate(self) -> float:
        """Completed trials per second in the window."""
        return self.completed / self.seconds


def _count_at(first_start: float, finishes: list[float], t: float) -> float:
    """How many trials a worker had completed at `t`: its completions, a step
    at each finish, drawn as straight lines from its first start through
    each finish, so that a window's edge between two finishes counts the
    part of the trial that went on before it."""
    if t <= first_start:
        return 0.0
    done = bisect.bisect_right(finishes, t)
    if done == len(finishes):
        return float(done)
    before = first_start if done == 0 else finishes[done - 1]
    after = finishes[done]
    return done + ((t - before) / (after - before) if after > before else 0.0)


def steady_window(runs: Mapping[str, tuple[float, Iterable[float]]]) -> Window | None:
    """Completed trials per second while every worker was running, from each
    worker's `(first start, finish times of its completed trials)`.

    The window opens when the last worker starts its first trial (all process
    start-up is over) and closes when the first worker finishes its last one
    (the study runs out of trials). A worker's completions are counted by
    linear interpolation between its finishes, which removes the error of up
    to one trial per worker at each edge that a plain count would have.

    Returns:
        The window, or None if it is empty (a worker finished all its trials
        before another started its first) or no worker completed a trial.

    >>> w = steady_window({"a": (0.0, [1.0, 2.0, 3.0, 4.0]), "b": (1.5, [2.5, 3.5, 4.5])})
    >>> (w.start, w.end, w.completed, w.rate)
    (1.5, 4.0, 5.0, 2.0)
    """
    workers = {w: (first, sorted(f)) for w, (first, f) in runs.items()}
    workers = {w: run for w, run in workers.items() if run[1]}
    if not workers:
        return None
    start = max(first for first, _ in workers.values())
    end = min(finishes[-1] for _, finishes in workers.values())
    if end <= start:
        return None
    before = sum(_count_at(first, finishes, start) for first, finishes in workers.values())
    completed = sum(_count_at(first, finishes, end) for first, finishes in workers.values())
    return Window(start, end, completed - before, len(workers), before)


def automorph_runs(records: Iterable[Any]) -> dict[str, tuple[float, list[float]]]:
    """Each worker's first start and the finish times of its completed trials,
    from a stored study's trial records (`open_storage(url).get_trials(name)`)."""
    first: dict[str, float] = {}
    finishes: dict[str, list[float]] = {}
    for record in records:
        if record.worker is None:
            continue
        began = record.started if record.started is not None else record.created
        first[record.worker] = min(first.get(record.worker, began), began)
        done = finishes.setdefault(record.worker, [])
        if record.status == "completed" and record.finished is not None:
            done.append(record.finished)
    return {w: (first[w], sorted(finishes[w])) for w in first}


# --- objectives -------------------------------------------------------------------------


def space() -> Any:
    """Four floats and a categorical."""
    floats = {f"x{i}": am.floatv(0.0, 1.0) for i in range(4)}
    return am.Dict(**floats, kind=am.oneof(["a", "b", "c"]))


def _reward(example: Any) -> float:
    bonus = {"a": 0.0, "b": 0.1, "c": 0.2}[example["kind"]]
    return float(bonus - sum((example[f"x{i}"] - 0.3) ** 2 for i in range(4)))


def trivial_objective(example: Any) -> float:
    """No work: the store and the search loop are all there is to time."""
    return _reward(example)


class Sleep:
    """An objective that takes `seconds` (asleep: no CPU) and then rewards the example."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, example: Any) -> float:
        time.sleep(self.seconds)
        return _reward(example)


# --- Optuna ---------------------------------------------------------------------------


def optuna_objective(trial: Any) -> float:
    """The trivial objective over the same space, for Optuna."""
    example = {f"x{i}": trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(4)}
    example["kind"] = trial.suggest_categorical("kind", ["a", "b", "c"])
    return _reward(example)


def optuna_worker(url: str, name: str, trials: int, log: str | None = None) -> None:
    """One Optuna worker: `trials` trials of random search in the stored study
    `name`. With `log`, writes there (JSON) its first trial's start and its
    trials' finish times, kept in memory meanwhile, not in the store."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=url, sampler=optuna.samplers.RandomSampler())
    starts: list[float] = []
    finishes: list[float] = []

    def record(_study: Any, trial: Any) -> None:
        if not starts and trial.datetime_start is not None:
            starts.append(trial.datetime_start.timestamp())
        if trial.datetime_complete is not None:
            finishes.append(trial.datetime_complete.timestamp())

    study.optimize(optuna_objective, n_trials=trials, callbacks=[record] if log else None)
    if log:
        Path(log).write_text(
            json.dumps({"pid": os.getpid(), "first": starts, "finishes": finishes})
        )
