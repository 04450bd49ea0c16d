"""Running `am.tune` with several workers: local processes, or Ray tasks.

Every worker runs the same search loop against the same stored study (so the
store must be one that processes share: a SQLite file on one machine, or
PostgreSQL across machines). The study lives in the store, not in the
workers: the same code runs on a laptop and on a cluster, and a study that
outlives its workers is resumed by the next run.

"process" starts one spawned process per worker and manages it itself (no
pool): a worker that dies does not abort the others, and every stop is
clean.

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
is shut down. If the caller is killed outright, Ray itself ends the tasks:
a task's owner is the driver, and Ray kills the workers of a driver that
died (a local instance started by the driver goes down with it).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from types import FrameType
from typing import Any

from automorph.storage import Storage, open_storage
from automorph.tuning._direction import best_of
from automorph.tuning._progress import Progress
from automorph.tuning._stored import default_worker_id
from automorph.utils import AutomorphError, FieldValueError, StorageError, TrialStateError

#: Seconds that stopped workers get to record their trials before they are killed.
STOP_GRACE_S = 5.0
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
    (see the module docstring for what SIGINT, SIGTERM and SIGKILL do)."""
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
        study = _Study(store, options.name, workers, progress)
        with _ParentSignals() as signals:
            if executor == "process":
                _run_processes(tasks, study, signals)
            else:
                _run_ray(tasks, ray_address, study, signals)
            if signals.received is not None:
                store.close()
                signals.resend()
    finally:
        store.close()


# --- the caller's side ---------------------------------------------------------------


def _reason(signum: int | None) -> str:
    if signum is None:
        return "interrupted: the calling process stopped the search"
    return f"interrupted by {signal.Signals(signum).name}"


@dataclass
class _Study:
    """The study the workers run, as the caller sees it."""

    store: Storage
    name: str
    workers: list[str]
    progress: Progress | None

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


class _ParentSignals:
    """Catches SIGINT and SIGTERM while the workers run (in the main thread;
    a signal the caller ignores stays ignored), then restores the handlers."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.count = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _ParentSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in _STOP_SIGNALS:
                previous = signal.getsignal(signum)
                if previous in (signal.SIG_IGN, None):
                    continue
                self._previous[signum] = previous
                signal.signal(signum, self._on_signal)
        return self

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.received is None:
            self.received = signum

    def __exit__(self, *exc_info: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def resend(self) -> None:
        """After the workers are stopped: what the signal would have done
        without us (a KeyboardInterrupt for SIGINT, the usual exit for SIGTERM)."""
        signum = self.received
        assert signum is not None
        previous = self._previous.get(signum)
        self.__exit__()
        if previous is signal.default_int_handler:
            raise KeyboardInterrupt(
                f"the study's workers were stopped ({_reason(signum)}); trials they were "
                "running are stored as failed with that reason; rerun to resume the study"
            )
        signal.raise_signal(signum)


@dataclass
class _Process:
    worker: str
    process: Any  # multiprocessing's SpawnProcess
    receive: Connection
    report: tuple[str, Any] | None = None

    def read(self) -> None:
        try:
            while self.report is None and self.receive.poll():
                self.report = self.receive.recv()
        except (EOFError, OSError):  # it exited without a word
            pass


def _run_processes(tasks: list[dict[str, Any]], study: _Study, signals: _ParentSignals) -> None:
    context = multiprocessing.get_context("spawn")
    workers: list[_Process] = []
    try:
        for task in tasks:
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_process_main,
                args=(task, send, os.getpid()),
                name=f"automorph-worker-{task['options'].worker}",
            )
            workers.append(_Process(task["options"].worker, process, receive))
            try:
                process.start()
            finally:
                send.close()
        while signals.received is None and any(w.process.is_alive() for w in workers):
            wait([w.process.sentinel for w in workers if w.process.is_alive()], timeout=0.5)
            for w in workers:
                w.read()
            study.report()
    finally:
        stopped = [w for w in workers if w.process.pid is not None and w.process.is_alive()]
        _stop_processes(workers, signals.received or signal.SIGTERM, signals)
        if stopped or signals.received is not None:
            study.fail_running(_reason(signals.received))
    if signals.received is None:
        _check_reports(workers)


def _stop_processes(workers: list[_Process], signum: int, signals: _ParentSignals) -> None:
    """Passes `signum` to the live workers, waits STOP_GRACE_S, kills the rest."""
    alive = [w for w in workers if w.process.pid is not None and w.process.is_alive()]
    for w in alive:
        try:
            os.kill(w.process.pid, signum)
        except ProcessLookupError:
            continue
    count = signals.count
    deadline = time.monotonic() + STOP_GRACE_S
    while alive and time.monotonic() < deadline and signals.count <= count:
        wait([w.process.sentinel for w in alive], timeout=0.1)
        for w in alive:
            w.read()  # a report larger than the pipe's buffer is read as it comes
        alive = [w for w in alive if w.process.is_alive()]
    for w in alive:
        w.process.kill()
    for w in workers:
        if w.process.pid is not None:
            w.process.join()
            w.read()
        w.receive.close()


def _check_reports(workers: list[_Process]) -> None:
    """Raises the first worker error; warns of workers that died without a word."""
    errors: list[BaseException] = []
    for w in workers:
        if w.report is None or w.report[0] == "interrupted":
            what = (
                f"died with exit code {w.process.exitcode}"
                if w.report is None
                else f"was stopped ({w.report[1]})"
            )
            warnings.warn(
                f"worker {w.worker!r} (pid {w.process.pid}) {what}; the other workers ran "
                "the study on",
                RuntimeWarning,
                stacklevel=4,
            )
        elif w.report[0] == "error":
            error, text = w.report[1]
            if error is None:
                error = AutomorphError(f"worker {w.worker!r} failed:\n{text}")
            else:
                error.add_note(f"in worker {w.worker!r}:\n{text}")
            errors.append(error)
    if errors:
        raise errors[0]


# --- the worker's side ---------------------------------------------------------------


class _WorkerStop:
    """A worker process's SIGINT/SIGTERM handler: a KeyboardInterrupt inside
    the objective (once), else a flag that stops the next trial before it starts."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.in_objective = False
        self.raised = False

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
        if self.in_objective and not self.raised:
            self.raised = True
            raise KeyboardInterrupt(_reason(signum))

    def wrap(self, objective: Callable[..., Any]) -> Callable[..., Any]:
        """`objective`, with the same parameters, interruptible by this handler."""
        from automorph.tuning._worker import takes_feedback_param

        def run(*args: Any) -> Any:
            self.in_objective = True
            try:
                if self.signum is not None:
                    self.raised = True
                    raise KeyboardInterrupt(_reason(self.signum))
                return objective(*args)
            finally:
                self.in_objective = False

        if takes_feedback_param(objective):

            def with_feedback(example: Any, feedback: Any) -> Any:
                return run(example, feedback)

            return with_feedback

        def plain(example: Any) -> Any:
            return run(example)

        return plain


def _watch_parent(parent: int, every: float) -> None:
    """Exits this process as soon as its parent is gone (killed outright)."""

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(70)  # the trial goes back to the queue after its timeout

    threading.Thread(target=watch, name="automorph-parent-watch", daemon=True).start()


def _process_main(payload: dict[str, Any], send: Connection, parent: int) -> None:
    """The body of a worker process: reports ("done", n), ("interrupted",
    reason) or ("error", (exception or None, traceback text)) to the caller."""
    stop = _WorkerStop()
    for signum in _STOP_SIGNALS:
        signal.signal(signum, stop.handler)
    _watch_parent(parent, min(1.0, float(payload["options"].heartbeat_s)))
    report: tuple[str, Any]
    text = ""
    try:
        report = ("done", worker_task(payload, stop))
    except KeyboardInterrupt as e:
        report = ("interrupted", str(e))
    except BaseException as e:  # noqa: BLE001 - handed to the caller, which raises it
        text = traceback.format_exc()
        report = ("error", (e, text))
    try:
        try:
            send.send(report)
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            send.send(("error", (None, text)))
    finally:
        send.close()


# --- Ray --------------------------------------------------------------------------------


def _run_ray(
    tasks: list[dict[str, Any]], address: str | None, study: _Study, signals: _ParentSignals
) -> None:
    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(
            address=address or os.environ.get("RAY_ADDRESS"),
            ignore_reinit_error=True,
            log_to_driver=False,
        )
    refs: list[Any] = []
    finished = False
    try:
        remote = ray.remote(worker_task)
        refs = [remote.remote(task) for task in tasks]
        pending = list(refs)
        while pending and signals.received is None:
            _, pending = ray.wait(pending, timeout=0.5)
            study.report()
        if signals.received is None:
            ray.get(refs)
            finished = True
    finally:
        if not finished:
            for ref in refs:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - it may have ended already
                    continue
            if refs:
                ray.wait(refs, num_returns=len(refs), timeout=STOP_GRACE_S)
            study.fail_running(_reason(signals.received))
            if started:
                ray.shutdown()


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


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise StorageError("executor='ray' needs Ray: pip install 'automorph[ray]'") from e
    return ray
