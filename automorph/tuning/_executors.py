"""Running `am.tune` with several workers: local processes, or Ray tasks.

Every worker runs the same search loop against the same stored study (so the
store must be one that processes share: a SQLite file on one machine, or
PostgreSQL across machines). The study lives in the store, not in the
workers: the same code runs on a laptop and on a cluster, and a study that
outlives its workers is resumed by the next run.

The workers run on the executors of `automorph.tuning._pool` (`run_tasks`,
one task per worker, `worker_task`), which spawns, stops and watches them;
what that means for a study:

"process" starts one spawned process per worker.

- SIGINT or SIGTERM to the calling process (alone, or with its process
  group, as Ctrl-C sends it) is passed to every worker. A worker inside the
  objective gets a `KeyboardInterrupt("interrupted by SIGINT")` there, so the
  objective's `finally` blocks run and its trial is stored as failed with
  that reason; a worker between trials stops before it starts another.
  Workers that have not exited after `STOP_GRACE_S` seconds (an objective
  deep in C code) are killed, and their running trials are failed by the
  caller with the same reason. No trial is left running and no worker
  outlives the call; then the signal does what it did before the call (a
  `KeyboardInterrupt` for SIGINT, the usual exit for SIGTERM). A second
  signal skips the grace period.
- A worker that dies (SIGKILL, the out-of-memory killer, a crash in C code)
  does not stop the others, and a replacement worker starts in its place,
  with a new worker id (`PREFIX-N`, N counting on from `num_workers`); the
  dead worker's trial goes back to the queue when its heartbeats are older
  than `timeout_s`, and is run again (up to `retry_limit` times). At most
  `num_workers * max(retry_limit, 1)` replacements start in one call, so
  an objective that always kills its worker cannot loop; past that, the
  surviving workers go on alone. Each death is warned of (RuntimeWarning).
- If the caller is killed outright (SIGKILL), each worker notices within a
  second that its parent is gone and exits at once; its trial stops sending
  heartbeats and goes back to the queue after `timeout_s`, to be run by the
  next worker of the study.
- Rerunning the script resumes the study: its trials are kept, an abandoned
  one is claimed again, and no trial is stored twice.

Ray runs one core task per worker (not one task or actor per trial, whose
start-up would cost more than a trial). `ray_address` (or the RAY_ADDRESS
environment variable) points it at an existing cluster, for example
"ray://head-node:10001"; without it a local Ray instance is started. On
SIGINT or SIGTERM the tasks are cancelled (`ray.cancel(force=True)`), their
running trials failed with the reason, and a Ray instance this call started
is shut down. A task whose Ray worker crashed is replaced as a dead process
is (Ray's own retries are off). If the caller is killed outright, Ray itself
ends the tasks: a task's owner is the driver, and Ray kills the workers of a
driver that died (a local instance started by the driver goes down with it).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from automorph.storage import Storage, open_storage
from automorph.tuning._direction import best_of
from automorph.tuning._pool import STOP_GRACE_S as STOP_GRACE_S
from automorph.tuning._pool import TaskResult, WorkerStop, run_tasks, signal_reason
from automorph.tuning._progress import Progress
from automorph.tuning._stored import default_worker_id
from automorph.utils import FieldValueError, StorageError, TrialStateError

#: A study worker process's stop handler (`worker_task`'s `stop`).
_WorkerStop = WorkerStop

_INTERRUPTED = (
    "the study's workers were stopped ({reason}); trials they were running are stored as "
    "failed with that reason; rerun to resume the study"
)


def worker_task(payload: dict[str, Any], stop: _WorkerStop | None = None) -> int:
    """One worker of a study: runs the worker loop until the study is done.

    With `stop` (a worker process), the objective is interruptible by the
    signals `stop` catches. Returns the number of trials this worker finished.
    """
    from automorph.tuning._worker import run_worker

    objective = payload["objective"]
    loop = run_worker(
        objective if stop is None else stop.wrap(objective),
        payload["space"],
        payload["algorithm"],
        payload["num_trials"],
        payload["options"],
        payload["catch"],
    )
    return loop.num_finished


def check_shared_storage(storage: Any) -> None:
    """Raises unless `storage` names a store that processes share."""
    if not isinstance(storage, (str, os.PathLike)):
        raise FieldValueError(
            "several workers need the study in a store that processes share: give "
            "`storage` as a SQLite file path or a PostgreSQL URL (not a Storage object)"
        )


def run_workers(
    executor: str,
    num_workers: int,
    payload: dict[str, Any],
    ray_address: str | None,
    progress: Progress | None,
) -> None:
    """Runs `num_workers` copies of `worker_task` on `executor` and waits
    (see the module docstring for what SIGINT, SIGTERM and SIGKILL do, and
    for dead workers).

    Raises:
        Exception: The first error a worker raised (the others ran on).
    """
    options = payload["options"]
    storage = options.storage
    check_shared_storage(storage)
    if executor not in ("process", "ray"):
        raise FieldValueError(f"`executor` must be 'local', 'process' or 'ray', got {executor!r}")
    store = open_storage(storage)
    try:
        if not type(store).shared:
            raise StorageError(f"executor={executor!r} needs a shared store, not {storage!r}")
        prefix = options.worker or default_worker_id()
        tasks = [
            dict(payload, options=options.but(worker=f"{prefix}-{i}")) for i in range(num_workers)
        ]
        workers = [task["options"].worker for task in tasks]
        study = _Study(store, options.name, workers, progress, prefix)
        if executor == "process":
            heartbeat_s = float(options.heartbeat_s)
            _run("process", tasks, study, pass_stop=True, parent_poll_s=min(1.0, heartbeat_s))
        else:
            # ray_options: the options of `ray.remote` for the worker tasks.
            _run("ray", tasks, study, ray_address=ray_address, ray_options={})
    finally:
        store.close()


# --- the caller's side ---------------------------------------------------------------


def _reason(signum: int | None) -> str:
    if signum is None:
        return "interrupted: the calling process stopped the search"
    return signal_reason(signum)


@dataclass
class _Study:
    """The study the workers run, as the caller sees it."""

    store: Storage
    name: str
    workers: list[str]
    progress: Progress | None
    prefix: str = ""
    closed: bool = field(default=False, repr=False)

    def report(self) -> None:
        _report(self.store, self.name, self.progress)

    def fail_running(self, reason: str) -> None:
        """Fails the trials that our workers left running (they were stopped)."""
        ours = set(self.workers)
        for record in self.store.get_trials(self.name, status="running"):
            if record.worker in ours:
                try:
                    self.store.finish_trial(
                        self.name, record.id, record.worker, "failed", error=reason
                    )
                except TrialStateError:  # it ended meanwhile
                    continue

    def stopped(self, signum: int | None) -> None:
        """The workers were stopped in the middle of the study: their trials
        are failed with the reason, and the store is closed (a SIGTERM passed
        on next ends this process)."""
        self.fail_running(_reason(signum))
        self.store.close()

    def replacement(self, task: dict[str, Any]) -> dict[str, Any]:
        """The task of a worker that takes a dead one's place: a new worker id."""
        worker = f"{self.prefix}-{len(self.workers)}"
        self.workers.append(worker)
        return dict(task, options=task["options"].but(worker=worker))

    def run(self, results: Generator[TaskResult, None, None]) -> None:
        """Waits for every worker; warns of stopped ones, raises the first error."""
        errors: list[BaseException] = []
        with closing(results):
            for result in results:
                if result.status == "interrupted":
                    warnings.warn(
                        f"{_label(result.task)} was stopped ({result.detail}); the other "
                        "workers ran the study on",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                elif result.status == "error" and result.error is not None:
                    errors.append(result.error)
                # "died": warned of by the pool, and its slot ran out of replacements.
        if errors:
            raise errors[0]


def _label(task: dict[str, Any]) -> str:
    return f"worker {task['options'].worker!r}"


def _restarts(tasks: list[dict[str, Any]]) -> int:
    """How many replacement workers may start: `num_workers * max(retry_limit, 1)`."""
    return len(tasks) * max(int(tasks[0]["options"].retry_limit), 1)


def _run(executor: str, tasks: list[dict[str, Any]], study: _Study, **options: Any) -> None:
    """Runs the study's workers on `executor` ("process" or "ray"), each
    dead one replaced (at most `_restarts` times), and waits for them all."""
    limit = _restarts(tasks)
    study.run(
        run_tasks(
            worker_task,
            tasks,
            executor=executor,
            num_workers=len(tasks),
            tick=study.report,
            on_stop=study.stopped,
            on_retry=study.replacement,
            retries=limit,
            max_restarts=limit,
            label=_label,
            interrupt_message=_INTERRUPTED,
            **options,
        )
    )


def _report(store: Storage, name: str, progress: Progress | None) -> None:
    if progress is None:
        return
    try:
        directions = store.get_study(name).directions
        trials = store.get_trials(name)
    except Exception:  # noqa: BLE001 - the study may not exist yet
        return
    done = [t for t in trials if t.status in ("completed", "skipped", "failed")]
    best = best_of(done, directions)
    progress.update(len(done), best.reward if best else None, best.id if best else None)
