"""A search loop's side of a stored study, shared by any number of workers.

`SharedStudy` joins (or creates) a study in a store, and for each trial
either claims one that another worker abandoned or, holding the study's lock,
brings the algorithm up to date with every event of the study and proposes
the next DNA (see `automorph.storage` for the event design). While a trial
runs, a background thread sends heartbeats; results go to the store, and the
algorithm learns them, in study order, at its next proposal.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from automorph.algorithms import SearchAlgorithm
from automorph.geno import DNA
from automorph.hyper import Template
from automorph.storage import DIRECTIONS_KEY, Event, Storage, StudyInfo, TrialRecord
from automorph.symbolic import from_json_str, sym_eq, to_json_str
from automorph.tuning._direction import MAXIMIZE, Directions, for_algorithm
from automorph.tuning._trial import Measurement, Trial
from automorph.utils import (
    AutomorphError,
    SearchExhaustedError,
    SerializationError,
    StorageError,
    TrialStateError,
)

logger = logging.getLogger("automorph.tuning")


def default_worker_id() -> str:
    """`host:pid:random`, unique per process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _json_or_none(value: Any) -> str | None:
    try:
        return to_json_str(value)
    except AutomorphError:
        return None


class SharedStudy:
    """One worker's connection to a stored study (used by `SearchLoop`)."""

    def __init__(
        self,
        storage: Storage,
        name: str,
        template: Template,
        algorithm: SearchAlgorithm,
        *,
        worker: str | None = None,
        heartbeat_s: float = 10.0,
        timeout_s: float = 60.0,
        retry_limit: int = 2,
        owns_storage: bool = False,
        directions: Directions | None = None,
    ) -> None:
        self.storage = storage
        self._owns_storage = owns_storage  # opened for this study: closed with it
        self.name = name
        self.template = template
        self.worker = worker or default_worker_id()
        self.heartbeat_s = heartbeat_s
        self.timeout_s = timeout_s
        self.retry_limit = retry_limit
        self._lost: set[int] = set()  # trials another worker took over
        spec_json = to_json_str(template.spec)
        info = StudyInfo(
            name,
            space=_json_or_none(template.space),
            algorithm=to_json_str(algorithm),
            dna_spec=spec_json,
            multi_objective=bool(algorithm.multi_objective),
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
        self.algorithm = self._adopt(algorithm, stored)
        self.algorithm.setup(template.spec)
        self._seq = 0
        self._current: int | None = None
        self._beat_stop = threading.Event()
        self._beat_lock = threading.Lock()
        self._beat = threading.Thread(
            target=self._beat_loop, name="automorph-heartbeat", daemon=True
        )
        self._beat.start()
        self._last_requeue = 0.0

    @staticmethod
    def _adopt(algorithm: SearchAlgorithm, stored: StudyInfo) -> SearchAlgorithm:
        """The study's own algorithm (its seed included), if the study has one."""
        if stored.algorithm is None:
            return algorithm
        try:
            theirs = from_json_str(stored.algorithm)
        except AutomorphError as error:  # a store changed outside automorph, say
            error.message = f"the stored algorithm of study {stored.name!r}: {error.message}"
            error.args = (error._compose(),)
            raise
        if type(theirs) is not type(algorithm):
            raise StorageError(
                f"study {stored.name!r} is searched by {type(theirs).__name__}, not "
                f"{type(algorithm).__name__}; every worker of a study uses its algorithm"
            )
        if algorithm.seed is not None and theirs.seed is not None:
            mine = algorithm.clone(deep=True).rebind(seed=theirs.seed)
            if not sym_eq(mine, theirs):
                raise StorageError(
                    f"study {stored.name!r} is searched by {theirs!r}, not {algorithm!r}"
                )
        return theirs

    # --- trials -----------------------------------------------------------------

    def next_trial(self, budget: int | None) -> tuple[Trial, TrialRecord] | None:
        """The next trial for this worker, or None when the study is done.

        With nothing left to propose, the worker waits while other workers'
        trials are running: if one of them stops sending heartbeats, its trial
        comes back to the queue and this worker takes it, so the study
        completes even when a worker dies at the end.
        """
        while True:
            now = time.time()
            if now - self._last_requeue > min(self.timeout_s / 2, 5.0):
                self.storage.requeue_stale(self.name, self.timeout_s, self.retry_limit)
                self._last_requeue = now
            record = self.storage.claim_trial(self.name, self.worker)
            if record is None:
                record = self.storage.propose_trial(
                    self.name, self.worker, self._seq, lambda events: self._propose(events, budget)
                )
                if record is not None:
                    self._seq = record.proposed_seq
            if record is not None:
                break
            if not self.storage.get_trials(self.name, status="running"):
                return None
            time.sleep(min(self.heartbeat_s, self.timeout_s / 4, 0.5))
        dna = DNA.from_json(record.dna)
        trial = Trial(record.id, dna, created=record.created)
        with self._beat_lock:
            self._current = record.id
        return trial, record

    def _propose(
        self, events: list[Event], budget: int | None
    ) -> tuple[dict[str, Any], str | None] | None:
        self.catch_up(events)
        if budget is not None and self.algorithm.num_proposed >= budget:
            return None
        try:
            dna = self.algorithm.propose()
        except SearchExhaustedError:
            return None
        example = self.template.materialize(dna, validate=False)
        return dna.to_json(), _json_or_none(example)

    def catch_up(self, events: list[Event]) -> None:
        """Applies the study's events, in order, to the algorithm."""
        algorithm = self.algorithm
        for event in events:
            dna = DNA.from_json(event.dna)
            if event.kind == "proposed":
                algorithm.replay_proposal(dna)
            elif event.reward is not None:
                reward = event.reward
                value = tuple(reward) if isinstance(reward, list) else reward
                algorithm.feedback(dna, for_algorithm(value, self.directions))
            self._seq = max(self._seq, event.seq)

    def measured(self, trial: Trial, measurement: Measurement) -> None:
        """Stores a measurement; if the study has given the trial to another
        worker (this one was paused or cut off past `timeout_s`), the trial is
        dropped here: logged once, no error, and its result is not stored."""
        if trial.id in self._lost:
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

    def finish(self, trial: Trial, status: str, reward: Any, error: str | None) -> bool:
        """Stores the trial's end; False if the study had already given it to
        another worker (this worker was presumed dead): the result is dropped."""
        with self._beat_lock:
            self._current = None
        value = list(reward) if isinstance(reward, tuple) else reward
        try:
            self.storage.finish_trial(
                self.name,
                trial.id,
                self.worker,
                status,  # type: ignore[arg-type]
                reward=value,
                error=error,
                metadata=trial.metadata or None,
            )
        except TrialStateError:
            self._drop(trial)
            return False
        except SerializationError as unstorable:
            self._fail_unstorable(trial, unstorable, error)
            raise
        return True

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

    def others(self, trial_id: int) -> dict[int, list[tuple[int, float]]]:
        """The other trials' (step, reward) curves, for early stopping (rewards
        as the algorithm sees them: higher is better)."""
        out: dict[int, list[tuple[int, float]]] = {}
        sign = -1.0 if self.directions[0] == "minimize" else 1.0
        for record in self.storage.get_trials(self.name):
            if record.id != trial_id and record.measurements:
                out[record.id] = [
                    (int(m["step"]), sign * float(m["reward"]))
                    for m in record.measurements
                    if not isinstance(m["reward"], list)
                ]
        return out

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
        self._beat_stop.set()
        self._beat.join(timeout=self.heartbeat_s + 1.0)
        if self._owns_storage:
            self.storage.close()


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
