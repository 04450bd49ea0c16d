"""The storage interface: studies and their trials, as data.

A store keeps studies; a study keeps its name, its search space, algorithm
and DNASpec (serialized JSON text), and its trials. Storage knows nothing of
algorithms: it stores DNA and measurements as JSON data.

Every study has an event sequence shared by all its workers: proposing a
trial and finishing a trial each take the next number. A worker rebuilds its
algorithm by applying the events in that order (proposals with
`replay_proposal`, completions with `feedback`); because a new proposal is
made while holding the study's lock right after reading every earlier event
(`propose_trial`), all workers hold the same algorithm state and no proposal
is made twice.

A trial enqueued by the user (`enqueue_trial`, a warm start) starts as
`pending`: it is claimed before anything new is proposed.

Proposals at scale: one worker at a time holds a study's proposer lease
(`take_lease`). It proposes for the workers that wait for a trial
(`wait_for_trial`, counted by `demand`) outside any transaction, and stores
its proposals in one short transaction (`add_trials`), which refuses them if
the lease has passed to another worker. Waiting workers claim them
(`claim_trial`). So the lock covers only claiming, recording proposals and
finishing; model fitting and proposing run outside it, and every proposal
still takes the next event number, so replaying the events in order rebuilds
the proposer's algorithm on any worker. `propose_trial` (propose under the
lock) stays for stores' users that want one atomic step.

Trial lifecycle: `running` (claimed by a worker, which sends heartbeats) ->
`completed` | `skipped` | `failed`. A running trial whose heartbeat is older
than the timeout goes back to `pending` (`requeue_stale`), to be claimed by
another worker (`claim_trial`), until its retries reach the limit; then it
is `failed`.
"""

from __future__ import annotations

import abc
import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from automorph.utils import FieldValueError

TrialState = Literal["pending", "running", "completed", "skipped", "failed"]
"""Where a trial is in its life: queued, being evaluated, or finished one of three ways."""
FINISHED: tuple[TrialState, ...] = ("completed", "skipped", "failed")
"""The states a trial does not leave."""

DIRECTIONS: tuple[str, ...] = ("maximize", "minimize")
"""The directions a study can search in."""
DIRECTIONS_KEY = "directions"
"""Where `StudyInfo.metadata` keeps a study's directions."""

CONSTRAINTS_KEY = "constraints"
"""Where `TrialRecord.metadata` keeps a trial's constraint values (a list of
floats, each <= 0 when met), written with the trial's end like the rest of
its metadata, so every store keeps them without a column of their own."""

SCHEMA_VERSION = 4
"""The layout of stored data, bumped when it changes; stores of other versions are
refused, except older ones that are brought up to date when opened."""
# Stores of these versions are brought up to SCHEMA_VERSION when opened (2 added
# tables; 3 added PostgreSQL's functions and 4 its index of pending trials and
# per-call plans, see `automorph.storage._sql_pg`).
MIGRATES_FROM: tuple[int, ...] = (1, 2, 3)


@dataclass
class StudyInfo:
    """A study, as stored.

    Attributes:
        name: Unique in its store.
        space: The search space as automorph JSON text, or None if it could
            not be serialized (a define-by-run function, say).
        algorithm: The algorithm as automorph JSON text (with its seed).
        dna_spec: The DNASpec as automorph JSON text.
        multi_objective: Whether rewards are tuples.
        created: When it was created (`time.time()`).
        metadata: Free-form JSON values; `metadata["directions"]` holds the
            study's directions (see `directions`).
    """

    name: str
    space: str | None = None
    algorithm: str | None = None
    dna_spec: str | None = None
    multi_objective: bool = False
    created: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def directions(self) -> list[str]:
        """ "maximize" or "minimize" for each objective (one entry applies to
        every objective), from `metadata["directions"]`; `["maximize"]` for a
        study that stores none (one written before directions were stored).

        >>> low = StudyInfo("b", metadata={"directions": ["minimize"]})
        >>> StudyInfo("a").directions, low.directions
        (['maximize'], ['minimize'])
        """
        stored = self.metadata.get(DIRECTIONS_KEY)
        if isinstance(stored, list) and stored and all(d in DIRECTIONS for d in stored):
            return [str(d) for d in stored]
        return ["maximize"]


def direction_signs(directions: Sequence[str], width: int) -> list[float]:
    """1.0 for each maximized objective, -1.0 for each minimized one, for
    `width` objectives (a single direction applies to all of them).

    >>> direction_signs(["minimize"], 2), direction_signs(["maximize", "minimize"], 2)
    ([-1.0, -1.0], [1.0, -1.0])
    """
    if len(directions) == 1:
        return [-1.0 if directions[0] == "minimize" else 1.0] * width
    return [-1.0 if d == "minimize" else 1.0 for d in list(directions)[:width]] + [1.0] * max(
        0, width - len(directions)
    )


@dataclass
class TrialRecord:
    """A trial, as stored.

    Attributes:
        study: Name of its study.
        id: Its number in the study, from 1, in proposal order.
        dna: The DNA's JSON (`DNA.to_json()`).
        status: See the module docstring.
        measurements: Reports, each `{"reward", "step", "metrics", "elapsed"}`.
        reward: The final reward (a float, or a list for several objectives)
            of a completed trial; None otherwise.
        metadata: Free-form JSON values; `metadata["constraints"]`
            (`CONSTRAINTS_KEY`) holds the constraint values of a trial of a
            constrained search.
        example: The materialized program as automorph JSON text, if it
            could be serialized.
        created, started, finished: Timestamps (`time.time()`); `started` is
            the last claim.
        worker: The worker that runs (or ran) it.
        heartbeat: The last heartbeat of its worker.
        retries: How many times it went back to the queue.
        error: Why it failed, or why it was skipped.
        proposed_seq, finished_seq: Its two events in the study's sequence.
    """

    study: str
    id: int
    dna: dict[str, Any]
    status: TrialState = "running"
    measurements: list[dict[str, Any]] = field(default_factory=list)
    reward: float | list[float] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    example: str | None = None
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    worker: str | None = None
    heartbeat: float | None = None
    retries: int = 0
    error: str | None = None
    proposed_seq: int = 0
    finished_seq: int | None = None


def new_trial(
    study: str,
    trial_id: int,
    dna: dict[str, Any],
    example: str | None,
    proposed_seq: int,
    worker: str | None = None,
) -> TrialRecord:
    """A trial as a store records it when it is made: `running` for the
    `worker` that proposed it, or `pending` (enqueued) without one."""
    now = time.time()
    if worker is None:
        return TrialRecord(
            study, trial_id, dna, "pending", example=example, created=now, proposed_seq=proposed_seq
        )
    return TrialRecord(
        study, trial_id, dna, "running", example=example, created=now, started=now,
        worker=worker, heartbeat=now, proposed_seq=proposed_seq,
    )  # fmt: skip


@dataclass(frozen=True)
class Event:
    """One entry of a study's event sequence.

    `kind` is "proposed" (a new trial, `dna` set) or "finished" (a trial
    ended: `reward` is its final reward if it completed, else None;
    `constraints` its constraint values, `metadata["constraints"]`, if it
    reported any).
    """

    seq: int
    kind: Literal["proposed", "finished"]
    trial_id: int
    dna: dict[str, Any]
    reward: float | list[float] | None = None
    constraints: list[float] | None = None


@dataclass(frozen=True)
class Demand:
    """What a study's proposer reads before each round (see `Storage.demand`).

    Attributes:
        waiting: Workers that wait for a trial (seen within the window).
        pending: Trials stored and not yet claimed.
        running: Trials claimed and not finished.
        trials: Trials in the study (the highest trial id).
        exhausted: Whether a proposer found nothing left to propose.
        proposer: The worker that holds an unexpired lease, if any.
    """

    waiting: int
    pending: int
    running: int
    trials: int = 0
    exhausted: bool = False
    proposer: str | None = None


# make(events) -> (dna JSON, example JSON text or None) of the new trial, or None to stop.
Proposer = Callable[[list[Event]], "tuple[dict[str, Any], str | None] | None"]


class Storage(abc.ABC):
    """Where studies live; every method is atomic (and safe across processes
    for stores that several processes open).

    Implementations pass the contract suite in `automorph.testing`.
    """

    #: Whether several processes can share the store (a file or a server).
    shared: ClassVar[bool] = False

    # --- studies -----------------------------------------------------------

    @abc.abstractmethod
    def create_study(self, info: StudyInfo, exist_ok: bool = False) -> StudyInfo:
        """Creates a study; with `exist_ok`, returns the existing one of that name.

        Raises:
            StudyExistsError: If the name is taken and `exist_ok` is False.
        """

    @abc.abstractmethod
    def update_study_metadata(self, name: str, updates: Mapping[str, Any]) -> StudyInfo:
        """Sets entries of a study's metadata (a value of None removes its
        key) in one step, and returns the study as stored after it.

        Raises:
            StudyNotFoundError: If there is no such study.
            FieldValueError: If `updates` would change the study's directions.
            SerializationError: If a value is not JSON data, naming its key.
        """

    @abc.abstractmethod
    def get_study(self, name: str) -> StudyInfo:
        """The study called `name`.

        Raises:
            StudyNotFoundError: If there is none (the message lists the names).
        """

    @abc.abstractmethod
    def list_studies(self) -> list[StudyInfo]:
        """Every study, oldest first."""

    @abc.abstractmethod
    def delete_study(self, name: str) -> None:
        """Deletes a study and its trials.

        Raises:
            StudyNotFoundError: If there is none.
        """

    # --- trials --------------------------------------------------------------

    @abc.abstractmethod
    def propose_trial(
        self, study: str, worker: str, since: int, make: Proposer
    ) -> TrialRecord | None:
        """Under the study's lock: calls `make` with the events after `since`,
        and stores the trial it returns as `running` for `worker` (taking the
        next event number). Returns None (storing nothing) if `make` does.
        """

    # --- the proposer lease ---------------------------------------------------------

    @abc.abstractmethod
    def take_lease(self, study: str, worker: str, lease_s: float) -> bool:
        """Makes `worker` the study's proposer for `lease_s` seconds from now
        if no other worker holds an unexpired lease (or renews its own);
        returns whether `worker` holds the lease.

        Raises:
            StudyNotFoundError: If there is no such study.
        """

    @abc.abstractmethod
    def release_lease(self, study: str, worker: str, exhausted: bool = False) -> None:
        """Gives the lease up if `worker` holds it; with `exhausted`, records
        that the study's algorithm has nothing left to propose."""

    @abc.abstractmethod
    def add_trials(
        self,
        study: str,
        worker: str,
        made: Sequence[tuple[dict[str, Any], str | None]],
        keep: bool = False,
    ) -> list[TrialRecord] | None:
        """Stores proposals `(dna JSON, example JSON text or None)` as new
        trials, in order, each taking the next event number, if `worker` holds
        the study's lease; with `keep` the first is `running` for `worker`,
        the others `pending`. Returns None, storing nothing, if the lease is
        another worker's.
        """

    @abc.abstractmethod
    def wait_for_trial(self, study: str, worker: str, waiting: bool = True) -> None:
        """Records that `worker` waits for a trial (until it claims one), so
        the proposer counts it in `demand`; call again to say it still waits,
        or with `waiting=False` when it stops waiting (it is done)."""

    @abc.abstractmethod
    def demand(self, study: str, within_s: float) -> Demand:
        """The workers waiting (those that said so within `within_s`
        seconds), the pending and running trials, how many trials there are,
        the exhausted flag and the current proposer."""

    @abc.abstractmethod
    def enqueue_trial(self, study: str, dna: dict[str, Any], example: str | None) -> TrialRecord:
        """Stores a trial given by the user (a warm start) as `pending`, taking
        the next event number for its proposal: workers claim it before they
        propose anything new, and replay it as a proposal made elsewhere.

        Raises:
            StudyNotFoundError: If there is no such study.
        """

    @abc.abstractmethod
    def claim_trial(self, study: str, worker: str) -> TrialRecord | None:
        """Atomically takes the oldest `pending` trial for `worker` (now
        `running`; the worker no longer waits), or returns None if there is none."""

    @abc.abstractmethod
    def heartbeat(self, study: str, trial_id: int, worker: str) -> bool:
        """Records that `worker` is alive on the trial; False if the trial is
        no longer its own (it went back to the queue, or ended)."""

    @abc.abstractmethod
    def add_measurement(
        self, study: str, trial_id: int, worker: str, measurement: dict[str, Any]
    ) -> None:
        """Appends a measurement to a running trial of `worker`.

        Raises:
            TrialStateError: If the trial is not running for `worker`.
        """

    @abc.abstractmethod
    def finish_trial(
        self,
        study: str,
        trial_id: int,
        worker: str,
        status: TrialState,
        reward: float | list[float] | None = None,
        error: str | None = None,
        metadata: dict[str, Any] | None = None,
        example: str | None = None,
        measurement: dict[str, Any] | None = None,
    ) -> TrialRecord:
        """Ends a running trial of `worker` (taking the next event number);
        `example`, if given, becomes its stored example (the worker that
        materialized it sends it with the result), and `measurement`, if
        given, is appended to its measurements first (the final one, stored
        in the same transaction).

        Raises:
            TrialStateError: If the trial is not running for `worker` (it was
                requeued, or it has ended): its result is not stored.
        """

    @abc.abstractmethod
    def requeue_stale(self, study: str, timeout: float, retry_limit: int) -> list[int]:
        """Running trials whose last heartbeat is older than `timeout` seconds
        go back to `pending` (retries + 1), or become `failed` once their
        retries reach `retry_limit`; returns the ids requeued or failed."""

    @abc.abstractmethod
    def get_trials(self, study: str, status: TrialState | None = None) -> list[TrialRecord]:
        """The study's trials in id order (of one status, if given)."""

    @abc.abstractmethod
    def get_trial(self, study: str, trial_id: int) -> TrialRecord:
        """One trial.

        Raises:
            StudyNotFoundError: If there is no such study or trial.
        """

    @abc.abstractmethod
    def events(self, study: str, since: int = 0) -> list[Event]:
        """The study's events numbered after `since`, in order."""

    def close(self) -> None:  # noqa: B027 - a no-op unless a store holds connections
        """Releases connections; the store stays as it is."""

    def iter_trials(self, study: str) -> Iterator[TrialRecord]:
        """The study's trials in id order (backends may stream them)."""
        yield from self.get_trials(study)

    def changed_trials(
        self, study: str, since: int = 0, light: bool = False
    ) -> tuple[int, list[TrialRecord]]:
        """What changed in a study after event `since`, for readers that keep a copy.

        Returns the study's latest event number and, in id order, its trials
        proposed or finished after event `since` together with every trial
        still pending or running (their states and measurements change
        without an event). Their `example` is left out (None): `get_trial`
        reads it; with `light`, their `dna` and `measurements` too (read as
        {} and []), for a quick first look at a large study. Called again
        with the number returned, it gives the next changes: a change made
        during a call may come twice, never not at all.

        Raises:
            StudyNotFoundError: If there is no such study.
        """
        trials = self.get_trials(study)
        latest = max((max(t.proposed_seq, t.finished_seq or 0) for t in trials), default=0)
        leave_out: dict[str, Any] = {"example": None}
        if light:
            leave_out.update(dna={}, measurements=[])
        changed = [
            dataclasses.replace(t, **leave_out)
            for t in trials
            if t.proposed_seq > since
            or (t.finished_seq or 0) > since
            or t.status in ("pending", "running")
        ]
        return latest, changed


def merged_metadata(
    name: str, current: Mapping[str, Any], updates: Mapping[str, Any]
) -> dict[str, Any]:
    """`current` with `updates` applied (None removes a key), for
    `update_study_metadata`; the directions cannot change.

    >>> merged_metadata("s", {"directions": ["maximize"], "a": 1}, {"a": None, "b": 2})
    {'directions': ['maximize'], 'b': 2}
    """
    if DIRECTIONS_KEY in updates and updates[DIRECTIONS_KEY] != current.get(DIRECTIONS_KEY):
        raise FieldValueError(
            f"study {name!r}: its metadata's {DIRECTIONS_KEY!r} are the study's directions, "
            "set when it was created; they cannot change"
        )
    out = dict(current)
    for key, value in updates.items():
        if not isinstance(key, str):
            raise FieldValueError(f"study {name!r}: metadata keys are strings, got {key!r}")
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def events_of(trials: list[TrialRecord], since: int) -> list[Event]:
    """The events after `since` implied by stored trials, in order."""
    out: list[Event] = []
    for t in trials:
        if t.proposed_seq > since:
            out.append(Event(t.proposed_seq, "proposed", t.id, t.dna))
        if t.finished_seq is not None and t.finished_seq > since:
            constraints = t.metadata.get(CONSTRAINTS_KEY) if t.reward is not None else None
            out.append(Event(t.finished_seq, "finished", t.id, t.dna, t.reward, constraints))
    out.sort(key=lambda e: e.seq)
    return out
