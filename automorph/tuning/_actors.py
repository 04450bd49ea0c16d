"""Long-lived stateful workers (actors) on worker processes or Ray.

`Actors(cls, args, executor=...)` builds `cls(*shared, *args[i])` in worker
i, a spawned process ("process") or a Ray actor with one CPU ("ray"), and
`call(method, args)` calls `method` on every instance at once, each with its
own arguments, returning the results in order: the rounds of an island
search, whose populations stay in their workers between rounds.

Stops are those of `run_tasks` (see `automorph.tuning._pool`): SIGINT or
SIGTERM to the caller while the actors are up is passed to every worker
process (an actor inside a method gets a KeyboardInterrupt there; an idle
one exits), stragglers are killed after `STOP_GRACE_S` seconds, and the
signal then does what it did before (a KeyboardInterrupt for SIGINT, the
usual exit for SIGTERM). Ray actors are killed, and a Ray instance that the
actors started is shut down. Worker processes exit when the caller is killed
outright. An actor's state cannot be rebuilt: an actor that dies makes
`call` raise `WorkerDiedError` (and the others are stopped when the block
ends).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Sequence
from multiprocessing.connection import wait
from types import TracebackType
from typing import Any

from automorph.tuning._pool import (
    _POLL_S,
    ParentSignals,
    WorkerDiedError,
    _Child,
    _stop_children,
    _Target,
    import_ray,
    start_ray,
)
from automorph.utils import AutomorphError, FieldValueError


class Actors:
    """One instance of `cls` in each worker; its methods called in rounds.

    Use it as a context manager: the workers start on entry (the caller's
    SIGINT and SIGTERM handlers are replaced until exit) and end on exit.

    Args:
        cls: A module-level class (it must pickle by reference).
        args: One tuple of constructor arguments per actor (after `shared`).
        executor: "process" or "ray".
        shared: Constructor arguments common to every actor, first (on Ray
            they are put in the object store once).
        ray_address: The Ray cluster (else RAY_ADDRESS, else a local instance).
        ray_options: Options of `ray.remote` for the actor class (default
            one CPU each).
        parent_poll_s: How often a worker process checks that its parent lives.
        interrupt_message: The KeyboardInterrupt's text after SIGINT
            ("{reason}": "interrupted by SIGINT").

    Raises:
        FieldValueError: For an unknown executor or no actor.

    >>> from automorph.tuning import Actors
    >>> with Actors(dict, [((("a", 1),),), ((("a", 2),),)]) as actors:
    ...     actors.call("get", [("a",), ("a",)])
    [1, 2]
    """

    def __init__(
        self,
        cls: type,
        args: Sequence[tuple[Any, ...]],
        *,
        executor: str = "process",
        shared: tuple[Any, ...] = (),
        ray_address: str | None = None,
        ray_options: dict[str, Any] | None = None,
        parent_poll_s: float = 1.0,
        interrupt_message: str = "the actors were stopped ({reason})",
    ) -> None:
        if executor not in ("process", "ray"):
            raise FieldValueError(f"`executor` must be 'process' or 'ray', got {executor!r}")
        if not args:
            raise FieldValueError("`args` must have one tuple per actor, got none")
        self.cls = cls
        self.args = [tuple(a) for a in args]
        self.executor = executor
        self.shared = tuple(shared)
        self.ray_address = ray_address
        self.ray_options = dict(ray_options or {})
        self.parent_poll_s = parent_poll_s
        self._signals = ParentSignals(interrupt_message)
        self._backend: _ProcessActors | _RayActors | None = None
        self._closed = False

    def __len__(self) -> int:
        return len(self.args)

    def __enter__(self) -> Actors:
        self._signals.__enter__()
        try:
            if self.executor == "process":
                self._backend = _ProcessActors(self)
            else:
                self._backend = _RayActors(self)
            self._backend.start(self._signals)
            self._check_signal()
        except BaseException:
            self._close(stop=True)
            raise
        return self

    def call(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Calls `method(*args[i])` on actor i, for every actor at once.

        Returns:
            The results, in the actors' order.

        Raises:
            WorkerDiedError: If an actor died (its state is lost).
            Exception: The first error an actor raised, with a note naming it.
        """
        if self._backend is None or self._closed:
            raise AutomorphError("Actors.call needs the actors running: use them in a `with` block")
        if len(args) != len(self.args):
            raise FieldValueError(
                f"`args` needs one tuple per actor ({len(self.args)}), got {len(args)}"
            )
        self._check_signal()
        try:
            values = self._backend.call(method, [tuple(a) for a in args], self._signals)
        except BaseException:
            self._close(stop=True)
            raise
        self._check_signal()
        return values

    def _check_signal(self) -> None:
        """After a stop signal to the caller: stops the actors, then resends it."""
        if self._signals.received is not None:
            self._close(stop=True, resend=True)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        failed = exc_type is not None
        self._close(stop=failed, resend=not failed and self._signals.received is not None)

    def _close(self, stop: bool, resend: bool = False) -> None:
        if not self._closed:
            self._closed = True
            if self._backend is not None:
                self._backend.close(stop or self._signals.received is not None, self._signals)
        if resend:
            self._signals.resend()
        self._signals.__exit__()


class _ProcessActors:
    def __init__(self, actors: Actors) -> None:
        self.actors = actors
        self.children: list[_Child] = []

    def start(self, signals: ParentSignals) -> None:
        context = multiprocessing.get_context("spawn")
        a = self.actors
        for i, own in enumerate(a.args):
            target = _Target(cls=a.cls, args=a.shared + own)
            self.children.append(_Child(context, target, a.parent_poll_s, f"automorph-actor-{i}"))
        self._collect(f"{a.cls.__name__}()", signals)

    def call(self, method: str, args: list[tuple[Any, ...]], signals: ParentSignals) -> list[Any]:
        for child, own in zip(self.children, args, strict=True):
            child.send((method, own))  # a dead one is seen below
        return self._collect(f"{method}()", signals)

    def _collect(self, what: str, signals: ParentSignals) -> list[Any]:
        """Every actor's reply to its last message (none if a stop signal came)."""
        children = self.children
        replies: list[tuple[str, Any] | None] = [None] * len(children)
        while signals.received is None and any(r is None for r in replies):
            pending = [c for c, r in zip(children, replies, strict=True) if r is None]
            wait([c.conn for c in pending] + [c.process.sentinel for c in pending], _POLL_S)
            for i, child in enumerate(children):
                if replies[i] is None:
                    replies[i] = child.receive()
                    if replies[i] is None and not child.alive():
                        raise WorkerDiedError(
                            f"actor {i} (pid {child.pid}) died with exit code "
                            f"{child.process.exitcode} in {what}; its state is lost"
                        )
        if signals.received is not None:
            return []
        values = []
        for i, reply in enumerate(replies):
            assert reply is not None
            kind, value = reply
            if kind == "interrupted":
                raise KeyboardInterrupt(f"actor {i} was stopped in {what} ({value})")
            if kind == "error":
                error, text = value
                if error is None:
                    raise AutomorphError(f"actor {i} failed in {what}:\n{text}")
                error.add_note(f"in actor {i}, {what}:\n{text}")
                raise error
            values.append(value)
        return values

    def close(self, stop: bool, signals: ParentSignals) -> None:
        signum = (signals.received or signal.SIGTERM) if stop else None
        _stop_children(self.children, signum, signals)


class _RayActors:
    def __init__(self, actors: Actors) -> None:
        self.actors = actors
        self.ray: Any = None
        self.started = False
        self.handles: list[Any] = []

    def start(self, signals: ParentSignals) -> None:
        a = self.actors
        self.ray = ray = import_ray("executor='ray'")
        self.started = start_ray(ray, a.ray_address)
        remote = ray.remote(**{"num_cpus": 1, "max_restarts": 0, **a.ray_options})(a.cls)
        shared = [ray.put(value) for value in a.shared]
        self.handles = [remote.remote(*shared, *own) for own in a.args]

    def call(self, method: str, args: list[tuple[Any, ...]], signals: ParentSignals) -> list[Any]:
        ray = self.ray
        refs = [getattr(h, method).remote(*own) for h, own in zip(self.handles, args, strict=True)]
        pending = list(refs)
        while pending and signals.received is None:
            _, pending = ray.wait(pending, num_returns=len(pending), timeout=_POLL_S)
        if signals.received is not None:
            return []
        values = []
        for i, ref in enumerate(refs):
            try:
                values.append(ray.get(ref))
            except ray.exceptions.RayActorError as e:
                raise WorkerDiedError(
                    f"actor {i} died in {method}(): {e}; its state is lost"
                ) from e
        return values

    def close(self, stop: bool, signals: ParentSignals) -> None:
        ray = self.ray
        if ray is None:
            return
        for handle in self.handles:
            try:
                ray.kill(handle)
            except Exception:  # noqa: BLE001 - it may be gone already
                continue
        if stop and self.started:
            ray.shutdown()
