"""Work on worker processes or Ray: independent tasks, or long-lived actors.

One facility runs everything automorph runs in parallel: the workers of a
study (`am.tune(executor=...)`), the runs of a benchmark experiment and the
islands of an AutoML-Zero search. It is internal (exported by
`automorph.tuning` for the layers above, not part of the public API).

`run_tasks(function, tasks, executor=..., num_workers=N)` runs
`function(task)` for every task and yields a `TaskResult` for each as it
finishes (never raises a task's error; `TaskResult.get` does):

- "local": one after another, in this process.
- "process": N spawned worker processes, each taking the next task when it
  has finished one (a process serves many tasks: spawning one costs its
  imports).
- "ray": Ray tasks, at most N at a time, on the cluster at `ray_address`
  (else RAY_ADDRESS, else a local Ray instance started for the call).

`Actors(cls, args, executor=...)` keeps one instance of `cls` in each worker
process (or Ray actor) and calls a method of every instance in rounds
(`Actors.call`), for work whose state must stay in the worker.

Stops are clean, on processes and on Ray:

- SIGINT or SIGTERM to the calling process (alone, or with its process group
  as Ctrl-C sends it) is passed to every worker process. A worker inside a
  task gets `KeyboardInterrupt("interrupted by SIGINT")` there, so the
  task's `finally` blocks run (a function run with `pass_stop=True` gets a
  `WorkerStop` and says itself where it may be interrupted); an idle worker
  exits at once. Workers still alive after `STOP_GRACE_S` seconds (deep in C
  code) are killed; then `on_stop(signum)` is called (to record what the
  stopped tasks left behind), and the signal does what it did before: a
  `KeyboardInterrupt` for SIGINT, the usual exit for SIGTERM. A second signal
  skips the grace period. On Ray the running tasks are cancelled
  (`ray.cancel(force=True)`), actors are killed, and a Ray instance that the
  call started is shut down.
- If the caller is killed outright (SIGKILL), each worker process notices
  within `parent_poll_s` seconds that its parent is gone and exits. Ray ends
  the tasks and actors of a driver that died by itself.
- A worker process that dies (SIGKILL, the out-of-memory killer, a crash in C
  code) does not stop the others. Its task goes back to the front of the
  queue, as `on_retry(task)` returns it (the same task by default), and a
  new worker process starts in its place. A task runs at most `retries + 1`
  times, and at most `max_restarts` replacement processes are started in a
  call (by default `num_workers * (retries + 1)`), so a task that always
  kills its worker cannot loop; past either limit the task is reported with
  status "died" (a `WorkerDiedError`), and the remaining workers go on. Each
  death is warned of (RuntimeWarning). On Ray, Ray's own task retries are
  off and a task whose worker crashed is handled the same way.
- An actor's state dies with it: a dead actor makes `Actors.call` raise
  `WorkerDiedError`.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from types import FrameType
from typing import Any

from automorph.tuning._progress import Progress
from automorph.utils import AutomorphError, FieldValueError

#: Seconds that stopped workers get to finish their task's cleanup before they are killed.
STOP_GRACE_S = 5.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXECUTORS = ("local", "process", "ray")
_POLL_S = 0.5


class WorkerDiedError(AutomorphError):
    """A worker process (or Ray worker or actor) died while it ran a task."""


def signal_reason(signum: int) -> str:
    """`"interrupted by SIGINT"`: what a stopped task is told."""
    return f"interrupted by {signal.Signals(signum).name}"


@dataclass
class TaskResult:
    """How one task ended.

    Attributes:
        index: The task's position in the list given to `run_tasks`.
        task: The task as it last ran (`on_retry` may have changed it).
        status: "done", "error" (it raised), "interrupted" (a stop signal
            reached it) or "died" (its worker died, and it was not run again).
        value: What `function` returned ("done" only).
        error: The exception ("error"), or why it did not finish.
        detail: The worker's traceback ("error"), or the reason.
    """

    index: int
    task: Any
    status: str
    value: Any = None
    error: BaseException | None = None
    detail: str = ""

    def get(self) -> Any:
        """The task's value; raises its error if it did not finish."""
        if self.status == "done":
            return self.value
        assert self.error is not None
        raise self.error


# --- the worker's side ---------------------------------------------------------------


class WorkerStop:
    """A worker process's SIGINT/SIGTERM handler.

    Inside `interruptible()` a stop signal raises `KeyboardInterrupt` (once);
    elsewhere it only sets `signum`, and the next `interruptible()` raises at
    once. Tasks of `run_tasks(..., pass_stop=True)` get this object and choose
    where they may be interrupted; other tasks are interruptible throughout.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.raised = False
        self._interruptible = False

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
        if self._interruptible and not self.raised:
            self.raised = True
            raise KeyboardInterrupt(signal_reason(signum))

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """A block that a stop signal interrupts with KeyboardInterrupt."""
        previous = self._interruptible
        self._interruptible = True
        try:
            if self.signum is not None:
                self.raised = True
                raise KeyboardInterrupt(signal_reason(self.signum))
            yield
        finally:
            self._interruptible = previous

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """`function`, interruptible by this handler; `inspect.signature`
        sees `function`'s parameters (through `__wrapped__`)."""

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self.interruptible():
                return function(*args, **kwargs)

        return run


def watch_parent(parent: int, every: float) -> None:
    """Exits this process as soon as its parent `parent` is gone (killed outright)."""

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(70)

    threading.Thread(target=watch, name="automorph-parent-watch", daemon=True).start()


@dataclass(frozen=True)
class _Target:
    """What a worker process serves: `function(*args)` calls, or an instance of `cls`."""

    function: Callable[..., Any] | None = None
    pass_stop: bool = False
    cls: type | None = None
    args: tuple[Any, ...] = ()


def _child_main(conn: Connection, target: _Target, parent: int, poll_s: float) -> None:
    """The body of a worker process. It reads `(method, args)` messages (None
    ends it) and answers each with ("done", value), ("interrupted", reason) or
    ("error", (exception or None, traceback text)); an actor first answers
    its construction."""
    stop = WorkerStop()
    for signum in STOP_SIGNALS:
        signal.signal(signum, stop.handler)
    watch_parent(parent, poll_s)
    try:
        instance: Any = None
        if target.cls is not None:
            cls, args = target.cls, target.args
            reply = _call(stop, lambda: cls(*args), interruptible=True)
            _send(conn, ("done", None) if reply[0] == "done" else reply)
            if reply[0] != "done":
                return
            instance = reply[1]
        while stop.signum is None:
            with stop.interruptible():  # an idle worker stops at once
                message = conn.recv()
            if message is None:
                return
            method, args = message
            if instance is not None:
                bound = getattr(instance, method)
                reply = _call(stop, functools.partial(bound, *args), interruptible=True)
            else:
                assert target.function is not None
                if target.pass_stop:
                    call = functools.partial(target.function, *args, stop)
                else:
                    call = functools.partial(target.function, *args)
                reply = _call(stop, call, interruptible=not target.pass_stop)
            _send(conn, reply)
    except (KeyboardInterrupt, EOFError, OSError):
        return  # stopped while idle, or the caller is gone
    finally:
        conn.close()


def _call(stop: WorkerStop, call: Callable[[], Any], interruptible: bool) -> tuple[str, Any]:
    try:
        if interruptible:
            with stop.interruptible():
                return ("done", call())
        return ("done", call())
    except KeyboardInterrupt as e:
        return ("interrupted", str(e) or "interrupted")
    except BaseException as e:  # noqa: BLE001 - handed to the caller
        return ("error", (e, traceback.format_exc()))


def _send(conn: Connection, reply: tuple[str, Any]) -> None:
    """Sends `reply`; one that does not pickle goes as an error with the traceback text."""
    try:
        conn.send(reply)
    except (OSError, EOFError):
        raise
    except Exception as e:  # noqa: BLE001 - something in the reply does not pickle
        text = reply[1][1] if reply[0] == "error" else ""
        problem = f"the worker's reply does not pickle ({type(e).__name__}: {e})"
        conn.send(("error", (None, f"{text}\n{problem}" if text else problem)))


# --- the caller's side ---------------------------------------------------------------


class ParentSignals:
    """Catches SIGINT and SIGTERM while workers run (in the main thread only;
    a signal the caller ignores stays ignored), then restores the handlers.

    Args:
        message: The text of the KeyboardInterrupt that `resend` raises for
            SIGINT; "{reason}" in it is replaced by "interrupted by SIGINT".
    """

    def __init__(self, message: str = "the workers were stopped ({reason})") -> None:
        self.received: int | None = None
        self.count = 0
        self.message = message
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> ParentSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
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
            raise KeyboardInterrupt(self.message.format(reason=signal_reason(signum)))
        signal.raise_signal(signum)


class _Child:
    """The caller's handle on one worker process (a duplex pipe to it)."""

    def __init__(self, context: Any, target: _Target, poll_s: float, name: str) -> None:
        self.conn, child_end = context.Pipe()
        self.process = context.Process(
            target=_child_main, args=(child_end, target, os.getpid(), poll_s), name=name
        )
        self.job: _Job | None = None
        try:
            self.process.start()
        finally:
            child_end.close()

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def alive(self) -> bool:
        return bool(self.process.is_alive())

    def send(self, message: Any) -> bool:
        """Sends `message`; False if the worker is gone."""
        try:
            self.conn.send(message)
        except (OSError, EOFError):
            return False
        return True

    def receive(self) -> tuple[str, Any] | None:
        """The reply waiting in the pipe; None if there is none (or the pipe is closed)."""
        try:
            if self.conn.poll():
                reply: tuple[str, Any] = self.conn.recv()
                return reply
        except (EOFError, OSError):
            pass
        return None


def _stop_children(children: list[_Child], signum: int | None, signals: ParentSignals) -> None:
    """Ends the worker processes: `signum` to each live one (None: the exit
    message), STOP_GRACE_S seconds to exit (less on a second signal to the
    caller), then a kill; replies that come meanwhile are read and dropped
    (a large one would block its worker's exit)."""
    alive = [c for c in children if c.alive()]
    for child in alive:
        if signum is None:
            child.send(None)
        else:
            try:
                os.kill(child.pid, signum)
            except ProcessLookupError:
                continue
    count = signals.count
    deadline = time.monotonic() + STOP_GRACE_S
    while alive and time.monotonic() < deadline and signals.count <= count:
        wait([c.process.sentinel for c in alive], timeout=0.1)
        for child in alive:
            while child.receive() is not None:
                pass
        alive = [c for c in alive if c.alive()]
    for child in alive:
        child.process.kill()
    for child in children:
        child.process.join()
        child.conn.close()


@dataclass
class _Job:
    index: int
    task: Any
    attempt: int = 1


@dataclass
class _Spec:
    """What `run_tasks` was asked to do."""

    function: Callable[..., Any]
    tasks: list[Any]
    num_workers: int
    pass_stop: bool
    ray_address: str | None
    ray_options: dict[str, Any]
    tick: Callable[[], None]
    on_stop: Callable[[int | None], None]
    on_retry: Callable[[Any], Any]
    retries: int
    max_restarts: int
    label: Callable[[Any], str] | None
    parent_poll_s: float
    restarts: int = 0
    queue: deque[_Job] = field(default_factory=deque)

    def name(self, job: _Job) -> str:
        """How warnings and errors name `job`'s task."""
        return self.label(job.task) if self.label is not None else f"task {job.index}"

    def result(self, job: _Job, kind: str, value: Any) -> TaskResult:
        """The TaskResult of a worker's reply `(kind, value)`."""
        what = self.name(job)
        if kind == "done":
            return TaskResult(job.index, job.task, "done", value=value)
        if kind == "interrupted":
            error = AutomorphError(f"{what} was stopped ({value})")
            return TaskResult(job.index, job.task, "interrupted", error=error, detail=str(value))
        exception, text = value
        if exception is None:
            exception = AutomorphError(f"{what} failed:\n{text}")
        else:
            exception.add_note(f"in {what}:\n{text}")
        return TaskResult(job.index, job.task, "error", error=exception, detail=text)

    def lost(self, job: _Job, how: str) -> TaskResult | None:
        """Its worker died while running `job` (`how`: "(pid 12) died with exit
        code -9"): requeues it (and returns None) if the limits allow, else
        returns its "died" result. Warns either way."""
        what = f"{self.name(job)} {how}"
        if job.attempt <= self.retries and self.restarts < self.max_restarts:
            self.restarts += 1
            again = _Job(job.index, self.on_retry(job.task), job.attempt + 1)
            self.queue.appendleft(again)
            warnings.warn(
                f"{what}; restarted as {self.name(again)} in a new worker process (restart "
                f"{self.restarts} of at most {self.max_restarts}); the other workers go on",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
        why = (
            f"it ran {job.attempt} times"
            if job.attempt > self.retries
            else f"all {self.max_restarts} restarts were used"
        )
        warnings.warn(
            f"{what}; not run again ({why}); the other workers go on", RuntimeWarning, stacklevel=2
        )
        error = WorkerDiedError(f"{what}; not run again ({why})")
        return TaskResult(job.index, job.task, "died", error=error, detail=str(error))


def run_tasks(
    function: Callable[..., Any],
    tasks: Sequence[Any],
    *,
    executor: str = "process",
    num_workers: int = 1,
    pass_stop: bool = False,
    progress: Progress | None = None,
    tick: Callable[[], None] | None = None,
    on_stop: Callable[[int | None], None] | None = None,
    on_retry: Callable[[Any], Any] | None = None,
    retries: int = 1,
    max_restarts: int | None = None,
    label: Callable[[Any], str] | None = None,
    interrupt_message: str = "the workers were stopped ({reason})",
    ray_address: str | None = None,
    ray_options: dict[str, Any] | None = None,
    parent_poll_s: float = 1.0,
) -> Generator[TaskResult, None, None]:
    """Runs `function(task)` for each of `tasks`; yields their results as they finish.

    Use it in a `with contextlib.closing(...)` block (or iterate it to the
    end): leaving early stops the workers. See the module docstring for
    stops and dead workers.

    Args:
        function: A module-level function (it must pickle) of one task.
        tasks: Picklable tasks.
        executor: "local", "process" or "ray".
        num_workers: Worker processes ("process"), or Ray tasks at a time.
        pass_stop: Call `function(task, stop)` in worker processes, with this
            process's `WorkerStop` (it is interruptible only where it says);
            "local" and "ray" call `function(task)`.
        progress: Counts the finished tasks; closed when all are done.
        tick: Called about twice a second while tasks run.
        on_stop: Called with the signal (or None, when the iteration was left
            early) after workers were stopped in the middle of their tasks.
        on_retry: The task to run in place of one whose worker died (by
            default the same task).
        retries: Times a task whose worker died is run again.
        max_restarts: Replacement workers at most (default
            `num_workers * (retries + 1)`).
        label: How warnings and errors name a task (default "task 3").
        interrupt_message: The KeyboardInterrupt's text after SIGINT
            ("{reason}": "interrupted by SIGINT").
        ray_address: The Ray cluster (else RAY_ADDRESS, else a local instance).
        ray_options: Options of `ray.remote` for the tasks (`num_cpus`, ...).
        parent_poll_s: How often a worker process checks that its parent lives.

    Raises:
        FieldValueError: For an unknown executor, fewer than one worker, or
            negative `retries`/`max_restarts`.
    """
    if executor not in EXECUTORS:
        raise FieldValueError(f"`executor` must be 'local', 'process' or 'ray', got {executor!r}")
    if num_workers < 1 or retries < 0 or (max_restarts is not None and max_restarts < 0):
        raise FieldValueError(
            f"need num_workers >= 1, retries >= 0 and max_restarts >= 0, got {num_workers}, "
            f"{retries}, {max_restarts}"
        )
    items = list(tasks)
    spec = _Spec(
        function=function,
        tasks=items,
        num_workers=num_workers,
        pass_stop=pass_stop,
        ray_address=ray_address,
        ray_options=dict(ray_options or {}),
        tick=tick or (lambda: None),
        on_stop=on_stop or (lambda signum: None),
        on_retry=on_retry or (lambda task: task),
        retries=retries,
        max_restarts=num_workers * (retries + 1) if max_restarts is None else max_restarts,
        label=label,
        parent_poll_s=parent_poll_s,
    )
    return _results(spec, executor, progress, interrupt_message)


def _results(
    spec: _Spec, executor: str, progress: Progress | None, message: str
) -> Generator[TaskResult, None, None]:
    done = 0
    if executor == "local":
        for index, task in enumerate(spec.tasks):
            try:
                result = TaskResult(index, task, "done", value=spec.function(task))
            except Exception as e:  # noqa: BLE001 - the caller decides
                result = TaskResult(index, task, "error", error=e, detail=traceback.format_exc())
            done += 1
            if progress is not None:
                progress.update(done, None, None)
            yield result
        if progress is not None:
            progress.close(done, None, None)
        return
    runner = _ProcessTasks(spec) if executor == "process" else _RayTasks(spec)
    with ParentSignals(message) as signals:
        try:
            for result in runner.results(signals):
                done += 1
                if progress is not None:
                    progress.update(done, None, None)
                yield result
        finally:
            runner.shutdown(signals)
        if signals.received is not None:
            signals.resend()
    if progress is not None:
        progress.close(done, None, None)


class _ProcessTasks:
    """Tasks on spawned worker processes that serve one task at a time."""

    def __init__(self, spec: _Spec) -> None:
        self.spec = spec
        self.context = multiprocessing.get_context("spawn")
        self.target = _Target(function=spec.function, pass_stop=spec.pass_stop)
        self.children: list[_Child] = []
        self.finished = False
        self._started = 0

    def _start(self) -> None:
        name = f"automorph-worker-{self._started}"
        self._started += 1
        self.children.append(_Child(self.context, self.target, self.spec.parent_poll_s, name))

    def results(self, signals: ParentSignals) -> Iterator[TaskResult]:
        spec = self.spec
        queue = spec.queue
        queue.extend(_Job(i, task) for i, task in enumerate(spec.tasks))
        outstanding = len(queue)
        for _ in range(min(spec.num_workers, outstanding)):
            self._start()
        while outstanding and signals.received is None:
            for child in self.children:
                if child.job is None and queue:
                    child.job = queue.popleft()
                    child.send((None, (child.job.task,)))  # a dead one is seen below
            busy = [c.conn for c in self.children if c.job is not None]
            wait(busy + [c.process.sentinel for c in self.children], timeout=_POLL_S)
            for child in list(self.children):
                reply = child.receive() if child.job is not None else None
                if reply is not None:
                    job, child.job = child.job, None
                    assert job is not None
                    outstanding -= 1
                    yield spec.result(job, *reply)
                elif not child.alive():
                    for result in self._lost(child):
                        outstanding -= 1
                        yield result
            if not self.children:  # every worker died, and none may be replaced
                while queue:
                    job = queue.popleft()
                    outstanding -= 1
                    error = WorkerDiedError(
                        f"{spec.name(job)} was not run: every worker process died "
                        f"and all {spec.max_restarts} restarts were used"
                    )
                    yield TaskResult(job.index, job.task, "died", error=error, detail=str(error))
            spec.tick()
        self.finished = outstanding == 0

    def _lost(self, child: _Child) -> list[TaskResult]:
        """A worker process ended: its task is requeued or reported, and a
        replacement starts if there is work left and the limit allows."""
        spec = self.spec
        child.process.join()
        self.children.remove(child)
        child.conn.close()
        results = []
        if child.job is not None:
            how = f"(pid {child.pid}) died with exit code {child.process.exitcode}"
            result = spec.lost(child.job, how)
            if result is None:  # requeued, with a restart counted
                self._start()
                return []
            results.append(result)
        if spec.queue and spec.restarts < spec.max_restarts:
            spec.restarts += 1
            self._start()
        return results

    def shutdown(self, signals: ParentSignals) -> None:
        if self.finished and signals.received is None:
            _stop_children(self.children, None, signals)
            return
        stopped = any(c.alive() for c in self.children)
        _stop_children(self.children, signals.received or signal.SIGTERM, signals)
        if stopped or signals.received is not None:
            self.spec.on_stop(signals.received)


# --- Ray --------------------------------------------------------------------------------


def import_ray(what: str = "executor='ray'") -> Any:
    """The `ray` module, or a clear error naming `what` needed it."""
    try:
        import ray
    except ImportError as e:
        raise FieldValueError(f"{what} needs Ray: pip install 'automorph[ray]'") from e
    return ray


def start_ray(ray: Any, address: str | None) -> bool:
    """Connects to Ray unless it is already; True if this call started it."""
    if ray.is_initialized():
        return False
    ray.init(
        address=address or os.environ.get("RAY_ADDRESS"),
        ignore_reinit_error=True,
        log_to_driver=False,
    )
    return True


def _ray_deaths(ray: Any) -> tuple[type[BaseException], ...]:
    """Ray's errors for a task whose worker (or node) died, not one that raised."""
    names = ("WorkerCrashedError", "OutOfMemoryError", "NodeDiedError", "LocalRayletDiedError")
    return tuple(getattr(ray.exceptions, n) for n in names if hasattr(ray.exceptions, n))


class _RayTasks:
    """Tasks as Ray tasks, at most `num_workers` in flight."""

    def __init__(self, spec: _Spec) -> None:
        self.spec = spec
        self.ray: Any = None
        self.started = False
        self.in_flight: dict[Any, _Job] = {}
        self.finished = False

    def results(self, signals: ParentSignals) -> Iterator[TaskResult]:
        spec = self.spec
        self.ray = ray = import_ray()
        self.started = start_ray(ray, spec.ray_address)
        remote = ray.remote(**{"max_retries": 0, **spec.ray_options})(spec.function)
        deaths = _ray_deaths(ray)
        queue = spec.queue
        queue.extend(_Job(i, task) for i, task in enumerate(spec.tasks))
        outstanding = len(queue)
        while outstanding and signals.received is None:
            while queue and len(self.in_flight) < spec.num_workers:
                job = queue.popleft()
                self.in_flight[remote.remote(job.task)] = job
            ready, _ = ray.wait(list(self.in_flight), num_returns=1, timeout=_POLL_S)
            for ref in ready:
                job = self.in_flight.pop(ref)
                try:
                    result: TaskResult | None = spec.result(job, "done", ray.get(ref))
                except ray.exceptions.TaskCancelledError as e:
                    result = spec.result(job, "interrupted", f"cancelled: {e}")
                except deaths as e:
                    result = spec.lost(job, f"(a Ray task) died: {type(e).__name__}: {e}")
                except Exception as e:  # noqa: BLE001 - the task's error, raised by Ray
                    result = TaskResult(job.index, job.task, "error", error=e, detail=str(e))
                if result is not None:
                    outstanding -= 1
                    yield result
            spec.tick()
        self.finished = outstanding == 0

    def shutdown(self, signals: ParentSignals) -> None:
        if self.finished and signals.received is None:
            return
        ray, refs = self.ray, list(self.in_flight)
        if ray is None:
            return
        for ref in refs:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - it may have ended already
                continue
        if refs:
            ray.wait(refs, num_returns=len(refs), timeout=STOP_GRACE_S)
        self.spec.on_stop(signals.received)
        if self.started:
            ray.shutdown()
