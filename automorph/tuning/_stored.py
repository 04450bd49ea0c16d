"""A search loop's side of a stored study, shared by any number of workers.

`StoredStudy` joins (or creates) a study in a store. A worker takes a trial
another worker abandoned or the proposer stored for it (`claim_trial`). One
worker at a time is the study's proposer: it holds the study's lease and runs
a background thread that keeps the queue supplied: it reads how many workers
wait, brings its algorithm up to date with the study's new events, proposes
that many DNA outside any transaction, and stores them in one short
transaction. Other workers never fit a model or replay events. If the
proposer dies or is paused past the lease, another waiting worker takes the
lease, rebuilds the algorithm from the events and goes on; the old proposer's
late proposals are refused by the store.

Pending trials are in flight for the algorithm: the proposer replays every
proposal before it proposes again, so model-based algorithms condition on
trials that have no reward yet (each documents how), and no proposal is made
twice. With one worker the proposer proposes only when that worker waits,
after its last trial's result is stored: results are exactly those of the
same search in memory, and a resumed study continues as an uninterrupted one.
With several workers, which trials are pending when a proposal is made
depends on timing.

While a trial runs, a background thread sends heartbeats; results go to the
store, and the algorithm learns them, in study order, at its next proposal.
A proposer that wrote the study's last event (its own proposal or result)
needs no read to know there is nothing new: while it is alone in the study
with nothing pending (as its last look found), it proposes without reading
the events and its worker does not look for queued trials, so one worker
makes two writes per trial and no reads.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import uuid
from typing import Any

from automorph.algorithms import SearchAlgorithm
from automorph.geno import DNA
from automorph.hyper import Template
from automorph.storage import (
    CONSTRAINTS_KEY,
    DIRECTIONS_KEY,
    Demand,
    Event,
    Storage,
    StudyInfo,
    TrialRecord,
)
from automorph.symbolic import from_json_str, sym_eq, to_json_str
from automorph.tuning._backend import Curves, StudyBackend
from automorph.tuning._direction import MAXIMIZE, Directions, for_algorithm
from automorph.tuning._options import StudyOptions
from automorph.tuning._trial import Measurement, Trial, TrialStatus
from automorph.utils import (
    AutomorphError,
    SearchExhaustedError,
    SerializationError,
    StorageError,
    TrialStateError,
)

logger = logging.getLogger("automorph.tuning")

#: The most trials the proposer stores in one round.
MAX_BATCH = 256
# Waiting workers look for a trial this often: from _POLL_S, backing off to _MAX_POLL_S.
_POLL_S = 0.001
_MAX_POLL_S = 0.05
# The proposer looks for waiting workers this often (backing off from _POLL_S) ...
_SERVE_POLL_S = 0.02
# ... and this often while none is there.
_ALONE_POLL_S = 0.25
# The reserve of pending trials covers this long of the workers' claims.
_RESERVE_S = 0.2
# A waiting worker reads the study's demand this often: is it done, is the lease free?
_LOOK_S = 1.0
# The proposer counts other workers as present this long after it last saw one
# (waiting, or running a trial beside its own): a look between their trials
# must not take the study for a lone worker's (no reserve, slow polls).
_CROWD_S = 5.0


def default_worker_id() -> str:
    """`host:pid:random`, unique per process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _json_or_none(value: Any) -> str | None:
    try:
        return to_json_str(value)
    except AutomorphError:
        return None


_NOTHING = "nothing"  # the proposer has nothing to propose (budget reached, or exhausted)


class StoredStudy(StudyBackend):
    """One worker's connection to a stored study (see the module docstring).

    Raises:
        StorageError: If the study was created with another search space,
            algorithm or direction.
    """

    def __init__(
        self,
        storage: Storage,
        template: Template,
        algorithm: SearchAlgorithm,
        options: StudyOptions,
        *,
        owns_storage: bool = False,
    ) -> None:
        name = options.name
        assert name, "a stored study needs a name"
        self.storage = storage
        self._owns_storage = owns_storage  # opened for this study: closed with it
        self.name = name
        self.template = template
        self.worker = options.worker or default_worker_id()
        self.heartbeat_s = options.heartbeat_s
        self.timeout_s = options.timeout_s
        self.retry_limit = options.retry_limit
        self._lease_s = options.timeout_s
        self._lost: set[int] = set()  # trials another worker took over
        self._final: dict[int, Measurement] = {}  # stored with the trial's end
        # Every trial's learning curve as last read, and the event it was read up
        # to: early stopping reads only what changed since (not the whole study).
        self._curves: dict[int, list[tuple[int, float]]] = {}
        self._curves_seq = 0
        # The caller's algorithm stays as it is: the study searches with a copy
        # (or with its own, if it has one), seeded once for all its workers.
        mine = algorithm.clone(deep=True)
        if mine.seed is None:
            mine.rebind(seed=int.from_bytes(os.urandom(4), "little") % 2**31)
        spec_json = to_json_str(template.spec)
        directions = options.directions
        info = StudyInfo(
            name,
            space=_json_or_none(template.space),
            algorithm=to_json_str(mine),
            dna_spec=spec_json,
            multi_objective=bool(mine.multi_objective),
            metadata={DIRECTIONS_KEY: list(directions or MAXIMIZE)},
        )
        stored = storage.create_study(info, exist_ok=True)
        if stored.dna_spec is not None and stored.dna_spec != spec_json:
            raise StorageError(
                f"study {name!r} was created with another search space; use another name "
                "(or delete the study) to search this one"
            )
        #: The study's directions: as stored (given ones must agree with them).
        self.directions: Directions = tuple(stored.directions)
        if directions is not None and tuple(directions) != self.directions:
            raise StorageError(
                f"study {name!r} was created to {' and '.join(self.directions)} its reward, "
                f"not to {' and '.join(directions)}; leave out `minimize`/`direction` to "
                "search it as it was created, or use another name"
            )
        self.algorithm = _adopt(algorithm, mine, stored)
        self.algorithm.setup(template.spec)
        self._seq = 0  # the last event the algorithm has applied
        # The study's next event number as of this worker's last write, when
        # every event before that write was applied: if nobody has written
        # since, the proposer need not read the events before proposing.
        self._next = -1
        self._own: set[int] = set()  # event numbers of proposals this worker stored
        self._budget: int | None = None
        self._proposer: _Proposer | None = None
        self._current: int | None = None
        self._beat_stop = threading.Event()
        self._beat_lock = threading.Lock()
        self._beat = threading.Thread(
            target=self._beat_loop, name="automorph-heartbeat", daemon=True
        )
        self._beat.start()
        self._last_requeue = 0.0

    # --- trials -----------------------------------------------------------------

    def next_trial(self, budget: int | None) -> Trial | None:
        """The next trial for this worker, or None when the study is done.

        With nothing left to propose, the worker waits while other workers'
        trials are running: if one of them stops sending heartbeats, its trial
        comes back to the queue and this worker takes it, so the study
        completes even when a worker dies at the end.
        """
        self._budget = budget
        poll, said_waiting, looked = _POLL_S, 0.0, 0.0
        while True:
            now = time.time()
            if now - self._last_requeue > min(self.timeout_s / 2, 5.0):
                self.storage.requeue_stale(self.name, self.timeout_s, self.retry_limit)
                self._last_requeue = now
            proposer = self._proposer
            # Alone, with no trial pending at the proposer's last look, the
            # study has nothing to claim (new ones show up at its next look).
            if proposer is None or not proposer.alone:
                record = self.storage.claim_trial(self.name, self.worker)
                if record is not None:
                    return self._start(record)
            if proposer is not None and proposer.done:
                proposer.stop()
                proposer.raise_error()
                self._proposer = proposer = None
            if proposer is None and now - looked > _LOOK_S:
                looked = now
                demand = self.storage.demand(self.name, self.timeout_s)
                if self._nothing_left(demand, budget):
                    if not demand.pending and not demand.running:
                        if said_waiting:
                            self.storage.wait_for_trial(self.name, self.worker, waiting=False)
                        return None
                elif demand.proposer in (None, self.worker) and self.storage.take_lease(
                    self.name, self.worker, self._lease_s
                ):
                    if said_waiting:  # it proposes for itself from now on
                        self.storage.wait_for_trial(self.name, self.worker, waiting=False)
                    proposer = self._proposer = _Proposer(self)
                    proposer.start()
            if proposer is not None:
                got = proposer.propose_for_me()
                if isinstance(got, TrialRecord):
                    return self._start(got)
            elif now - said_waiting > self.heartbeat_s / 2:
                self.storage.wait_for_trial(self.name, self.worker)
                said_waiting = now
            time.sleep(poll)
            poll = min(poll * 2, _MAX_POLL_S)

    def _nothing_left(self, demand: Demand, budget: int | None) -> bool:
        if demand.exhausted:
            return True
        if budget is None:
            return False
        return demand.trials >= budget

    def _start(self, record: TrialRecord) -> Trial:
        trial = Trial(record.id, DNA.from_json(record.dna), created=record.created)
        with self._beat_lock:
            self._current = record.id
        return trial

    def wrote(self, first: int, last: int) -> bool:
        """Whether this worker's proposals, events `first` to `last`, came
        right after the last event applied: then the algorithm, which made
        them, is up to date to `last`, and the study's events need no read
        while nobody else writes (see `up_to_date`)."""
        if first != self._seq + 1:
            return False
        self._seq = last
        self._next = last + 1
        return True

    def up_to_date(self) -> bool:
        """Whether no event was written since this worker's last write, as
        far as that write could tell (see `wrote`)."""
        return self._seq == self._next - 1

    def catch_up(self, events: list[Event]) -> None:
        """Applies the study's events, in order, to the algorithm (skipping
        the proposals this worker made, which the algorithm made itself)."""
        algorithm = self.algorithm
        own = self._own
        for event in events:
            self._seq = max(self._seq, event.seq)
            if event.kind == "proposed":
                if event.seq in own:
                    own.discard(event.seq)
                    continue
                algorithm.replay_proposal(DNA.from_json(event.dna))
            elif event.reward is not None:
                reward = event.reward
                value = tuple(reward) if isinstance(reward, list) else reward
                algorithm.feedback(
                    DNA.from_json(event.dna),
                    for_algorithm(value, self.directions),
                    event.constraints,
                )
            else:  # skipped or failed: no longer in flight
                algorithm.discard(DNA.from_json(event.dna))

    def reset(self) -> None:
        """Forgets the algorithm's state (it made proposals the store refused):
        the next proposer rebuilds it from the study's events."""
        self.algorithm.setup(self.template.spec)
        self._seq = 0
        self._own.clear()

    def measured(self, trial: Trial, measurement: Measurement, final: bool = False) -> None:
        """Stores a measurement (a `final` one goes with the trial's end, in
        the same transaction); if the study has given the trial to another
        worker (this one was paused or cut off past `timeout_s`), the trial is
        dropped here: logged once, no error, and its result is not stored."""
        if trial.id in self._lost:
            return
        if final:
            self._final[trial.id] = measurement
            return
        try:
            self.storage.add_measurement(self.name, trial.id, self.worker, measurement.to_json())
        except TrialStateError:
            self._drop(trial)

    def _drop(self, trial: Trial) -> None:
        if trial.id not in self._lost:
            self._lost.add(trial.id)
            logger.warning(
                "study %r: trial %d was taken over by another worker (no heartbeat from %s "
                "for over %g s); this worker drops it and goes on",
                self.name,
                trial.id,
                self.worker,
                self.timeout_s,
            )

    def finish(self, trial: Trial, status: TrialStatus, reward: object, error: str | None) -> None:
        """Stores the trial's end (with its example); if the study had already
        given it to another worker (this worker was presumed dead), the
        result is dropped, as `measured` says."""
        with self._beat_lock:
            self._current = None
        value = list(reward) if isinstance(reward, tuple) else reward
        example = None if trial.example is None else _json_or_none(trial.example)
        final = self._final.pop(trial.id, None)
        try:
            done = self.storage.finish_trial(
                self.name,
                trial.id,
                self.worker,
                status,
                reward=value,  # type: ignore[arg-type]
                error=error,
                metadata=trial.metadata or None,
                example=example,
                measurement=None if final is None else final.to_json(),
            )
        except TrialStateError:
            self._drop(trial)
            return
        except SerializationError as unstorable:
            self._fail_unstorable(trial, unstorable, error)
            raise
        proposer = self._proposer
        seq = done.finished_seq
        if proposer is not None and seq is not None and seq == self._seq + 1:
            with proposer.lock:  # the algorithm learns its own result now, in order
                if seq == self._seq + 1:
                    self.catch_up([_finished_event(done)])
                    self._next = seq + 1

    def _fail_unstorable(
        self, trial: Trial, unstorable: SerializationError, error: str | None
    ) -> None:
        """Ends a trial whose result cannot be stored (its metadata, say) as
        failed, with why, keeping the metadata that can be stored: a trial is
        never left running."""
        reason = f"its result cannot be stored: {unstorable}"
        reason = reason if error is None else f"{error}; {reason}"
        kept = dict(trial.metadata)
        for _ in range(len(kept) + 1):
            try:
                self.storage.finish_trial(
                    self.name, trial.id, self.worker, "failed", error=reason, metadata=kept
                )
                break
            except SerializationError as again:  # another entry: the store names its key
                kept = {k: v for k, v in kept.items() if k != again.path and again.path in kept}
            except TrialStateError:
                break
        trial.status, trial.error, trial.completed = "failed", reason, time.time()

    def curves(self, trial_id: int, sign: float) -> Curves:
        self._curves_seq, changed = self.storage.changed_trials(self.name, self._curves_seq)
        for record in changed:
            points = [
                (int(m["step"]), float(m["reward"]))
                for m in record.measurements
                if not isinstance(m["reward"], list)
            ]
            if points:
                self._curves[record.id] = points
            else:  # requeued: its measurements were cleared
                self._curves.pop(record.id, None)
        return {
            tid: [(step, sign * value) for step, value in points]
            for tid, points in self._curves.items()
            if tid != trial_id
        }

    def trials(self) -> list[Trial]:
        return [trial_from_record(r) for r in self.storage.get_trials(self.name)]

    # --- heartbeats -----------------------------------------------------------------

    def _beat_loop(self) -> None:
        while not self._beat_stop.wait(self.heartbeat_s):
            with self._beat_lock:
                current = self._current
            if current is not None:
                try:
                    self.storage.heartbeat(self.name, current, self.worker)
                except Exception:  # noqa: BLE001 - a missed beat is retried at the next tick
                    pass

    def close(self) -> None:
        proposer, self._proposer = self._proposer, None
        if proposer is not None:
            proposer.stop()
        self._beat_stop.set()
        self._beat.join(timeout=self.heartbeat_s + 1.0)
        if self._owns_storage:
            self.storage.close()


class _Proposer(threading.Thread):
    """The proposer of a study, in the worker that holds the lease.

    The worker proposes its own trials itself (`propose_for_me`), right after
    its last result is stored. This thread serves the other workers: each
    round it reads the demand (workers waiting, plus a reserve (`_reserve`),
    less the trials already pending), catches the algorithm up, proposes
    that many in one batch and stores them. It renews the lease
    every third of it. A lock keeps the two from proposing at once. It stops
    when the lease is lost, when nothing is left to propose, or when its
    worker closes.
    """

    def __init__(self, study: StoredStudy) -> None:
        super().__init__(name="automorph-proposer", daemon=True)
        self.study = study
        self.lock = threading.Lock()  # one proposal round at a time; held to apply events
        # Alone in the study with nothing pending, at the last look (see `_serve`).
        self.alone = False
        self._others_seen = -math.inf  # when another worker last showed (monotonic)
        self._stopping = threading.Event()
        self._error: BaseException | None = None
        self.done = False  # lost the lease, or nothing left to propose

    def propose_for_me(self) -> TrialRecord | str | None:
        """A new trial, running for this worker; `_NOTHING` if nothing is left
        to propose, None if the lease was lost (or the thread failed)."""
        self.raise_error()
        with self.lock:
            if self.done:
                return None
            return self._round(1, keep=True)

    def raise_error(self) -> None:
        """Raises, in the worker's thread, what failed the proposer."""
        error, self._error = self._error, None
        if error is not None:
            raise error

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=30.0)
        with self.lock:
            if not self.done:
                self.done = True
                try:
                    self.study.storage.release_lease(self.study.name, self.study.worker)
                except Exception:  # noqa: BLE001 - the lease expires by itself
                    pass

    def run(self) -> None:
        try:
            self._serve()
        except BaseException as error:  # noqa: BLE001 - raised in the worker's thread
            self._error = error
            with self.lock:
                self.done = True

    def _serve(self) -> None:
        study, store = self.study, self.study.storage
        lease_s = study._lease_s
        renew_at = time.monotonic() + lease_s / 3
        idle = _POLL_S
        rate = _Rate()
        while not self._stopping.is_set():
            if time.monotonic() >= renew_at:
                with self.lock:
                    if self.done:
                        return
                    if not store.take_lease(study.name, study.worker, lease_s):
                        self._lose()
                        return
                renew_at = time.monotonic() + lease_s / 3
            demand = store.demand(study.name, study.timeout_s)
            now = time.monotonic()
            if demand.waiting or demand.running > 1:
                self._others_seen = now
            crowd = now - self._others_seen < _CROWD_S
            self.alone = not (crowd or demand.waiting or demand.pending) and demand.running <= 1
            wanted = demand.waiting + self._reserve(demand, rate, crowd) - demand.pending
            if wanted <= 0:
                self._stopping.wait(idle)
                # Alone in the study (this worker's trial at most): look less often.
                idle = min(idle * 2, _ALONE_POLL_S if self.alone else _SERVE_POLL_S)
                continue
            idle = _POLL_S
            with self.lock:
                if self.done:
                    return
                self._round(min(wanted, MAX_BATCH), keep=False)

    @staticmethod
    def _reserve(demand: Demand, rate: _Rate, crowd: bool) -> int:
        """Trials to keep pending beyond the waiting workers, so that a worker
        finishing a trial claims the next at once: a quarter of the running
        trials, or what the workers claim in `_RESERVE_S`, if more. None
        while this worker is alone (then proposals wait for its results, and
        one worker's search is exactly the search in memory); with `crowd`
        (other workers seen lately) a reserve even when a look finds them
        between trials (short trials: neither waiting nor running)."""
        claimed_per_s = rate.update(demand.trials - demand.pending)
        if demand.waiting + demand.running <= 1 and not crowd:
            return 0
        return min(max(demand.running // 4, math.ceil(claimed_per_s * _RESERVE_S)), MAX_BATCH)

    def _round(self, count: int, keep: bool) -> TrialRecord | str | None:
        """Proposes up to `count` trials and stores them (under `_lock`): the
        first (with `keep`), `_NOTHING` or None, as `propose_for_me` says."""
        study, store = self.study, self.study.storage
        dnas, exhausted = self._propose(count)
        first: TrialRecord | str | None = _NOTHING
        if dnas:
            made = [(dna.to_json(), None) for dna in dnas]
            records = store.add_trials(study.name, study.worker, made, keep=keep)
            if records is None:  # the lease passed to another worker
                self._lose()
                return None
            if not study.wrote(records[0].proposed_seq, records[-1].proposed_seq):
                study._own.update(r.proposed_seq for r in records)  # skipped when read
            first = records[0]
        if exhausted or len(dnas) < count:
            self.done = True
            store.release_lease(study.name, study.worker, exhausted=exhausted)
        return first

    def _lose(self) -> None:
        self.done = True
        self.study.reset()

    def _propose(self, count: int) -> tuple[list[DNA], bool]:
        """Up to `count` new DNA (fewer if the budget or the algorithm runs
        out; then True if the algorithm is exhausted)."""
        study = self.study
        if not (self.alone and study.up_to_date()):  # else nothing new to read
            study.catch_up(study.storage.events(study.name, study._seq))
        algorithm = study.algorithm
        budget = study._budget
        if budget is not None:
            count = min(count, budget - algorithm.num_proposed)
        if count <= 0:
            return [], False
        try:
            dnas = algorithm.propose_batch(count)
        except SearchExhaustedError:
            return [], True
        return dnas, len(dnas) < count


class _Rate:
    """How fast a count grows, per second (smoothed over the last updates)."""

    def __init__(self) -> None:
        self._last: tuple[float, int] | None = None
        self.per_s = 0.0

    def update(self, count: int) -> float:
        now = time.monotonic()
        if self._last is not None and now > self._last[0]:
            then, before = self._last
            current = max(count - before, 0) / (now - then)
            self.per_s += 0.2 * (current - self.per_s)
        self._last = (now, count)
        return self.per_s


def _adopt(given: SearchAlgorithm, mine: SearchAlgorithm, stored: StudyInfo) -> SearchAlgorithm:
    """The study's own algorithm (its seed included), if the study has one;
    else `mine` (a seeded copy of the `given` one)."""
    if stored.algorithm is None:
        return mine
    try:
        theirs = from_json_str(stored.algorithm)
    except AutomorphError as error:  # a store changed outside automorph, say
        error.message = f"the stored algorithm of study {stored.name!r}: {error.message}"
        error.args = (error._compose(),)
        raise
    if type(theirs) is not type(given):
        raise StorageError(
            f"study {stored.name!r} is searched by {type(theirs).__name__}, not "
            f"{type(given).__name__}; every worker of a study uses its algorithm"
        )
    if given.seed is not None and theirs.seed is not None:
        compared = given.clone(deep=True).rebind(seed=theirs.seed)
        if not sym_eq(compared, theirs):
            raise StorageError(f"study {stored.name!r} is searched by {theirs!r}, not {given!r}")
    return theirs


def trial_from_record(record: TrialRecord) -> Trial:
    """A stored trial as the loop's `Trial` (running and pending count as pending)."""
    measurements = [Measurement.from_json(m) for m in record.measurements]
    final = None
    if record.status == "completed" and record.reward is not None:
        reward = tuple(record.reward) if isinstance(record.reward, list) else record.reward
        last = measurements[-1] if measurements else None
        final = Measurement(
            reward,
            last.step if last else 0,
            dict(last.metrics) if last else {},
            last.elapsed if last else 0.0,
        )
    status = record.status if record.status in ("completed", "skipped", "failed") else "pending"
    example = None
    if record.example is not None:
        try:
            example = from_json_str(record.example)
        except AutomorphError:
            example = None
    return Trial(
        id=record.id,
        dna=DNA.from_json(record.dna),
        example=example,
        status=status,
        measurements=measurements,
        final_measurement=final,
        metadata=dict(record.metadata),
        created=record.created,
        completed=record.finished,
        error=record.error,
    )


def _finished_event(record: TrialRecord) -> Event:
    """The "finished" event of a trial this worker has just ended (as the
    store's `events` gives it)."""
    assert record.finished_seq is not None
    constraints = None
    if record.reward is not None:
        constraints = record.metadata.get(CONSTRAINTS_KEY)
    return Event(record.finished_seq, "finished", record.id, record.dna, record.reward, constraints)
