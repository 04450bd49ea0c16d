"""`MemoryStorage`: studies in this process's memory (the default for one process)."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from automorph.storage._base import (
    FINISHED,
    Demand,
    Event,
    Proposer,
    Storage,
    StudyInfo,
    TrialRecord,
    TrialState,
    events_of,
    merged_metadata,
    new_trial,
)
from automorph.storage._json import dumps_metadata, fresh
from automorph.utils import StudyExistsError, StudyNotFoundError, TrialStateError


class MemoryStorage(Storage):
    """Studies kept in memory, shared by the threads of one process.

    Records handed out are copies: changing them does not change the store.

    >>> store = MemoryStorage()
    >>> _ = store.create_study(StudyInfo("demo"))
    >>> trial = store.propose_trial("demo", "w1", 0, lambda events: ({"x": 1}, None))
    >>> trial.id, trial.status, trial.proposed_seq
    (1, 'running', 1)
    >>> store.finish_trial("demo", 1, "w1", "completed", reward=0.5).finished_seq
    2
    >>> [e.kind for e in store.events("demo")]
    ['proposed', 'finished']
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._studies: dict[str, StudyInfo] = {}
        self._trials: dict[str, list[TrialRecord]] = {}
        self._seq: dict[str, int] = {}
        # Per study: the proposer lease (worker, expires) and the exhausted flag.
        self._lease: dict[str, tuple[str | None, float]] = {}
        self._exhausted: dict[str, bool] = {}
        self._waiting: dict[str, dict[str, float]] = {}

    def _study(self, name: str) -> list[TrialRecord]:
        trials = self._trials.get(name)
        if trials is None:
            known = ", ".join(sorted(self._studies)) or "none"
            raise StudyNotFoundError(f"no study named {name!r} (studies: {known})")
        return trials

    def _running(self, study: str, trial_id: int, worker: str) -> TrialRecord:
        trials = self._study(study)
        if not 1 <= trial_id <= len(trials):
            raise StudyNotFoundError(f"study {study!r} has no trial {trial_id}")
        trial = trials[trial_id - 1]
        if trial.status != "running" or trial.worker != worker:
            raise TrialStateError(
                f"trial {trial_id} of {study!r} is {trial.status}"
                f"{' for worker ' + repr(trial.worker) if trial.worker else ''}, "
                f"not running for {worker!r}"
            )
        return trial

    def _next_seq(self, study: str) -> int:
        self._seq[study] += 1
        return self._seq[study]

    # --- studies -----------------------------------------------------------

    def create_study(self, info: StudyInfo, exist_ok: bool = False) -> StudyInfo:
        with self._lock:
            if info.name in self._studies:
                if not exist_ok:
                    raise StudyExistsError(f"a study named {info.name!r} already exists")
                return copy.deepcopy(self._studies[info.name])
            stored = copy.deepcopy(info)
            stored.created = stored.created or time.time()
            self._studies[info.name] = stored
            self._trials[info.name] = []
            self._seq[info.name] = 0
            return copy.deepcopy(stored)

    def update_study_metadata(self, name: str, updates: Mapping[str, Any]) -> StudyInfo:
        with self._lock:
            self._study(name)
            study = self._studies[name]
            metadata = merged_metadata(name, study.metadata, updates)
            study.metadata = fresh(metadata, f"study {name!r}'s metadata") or {}
            return copy.deepcopy(study)

    def get_study(self, name: str) -> StudyInfo:
        with self._lock:
            self._study(name)
            return copy.deepcopy(self._studies[name])

    def list_studies(self) -> list[StudyInfo]:
        with self._lock:
            return [copy.deepcopy(s) for s in self._studies.values()]

    def delete_study(self, name: str) -> None:
        with self._lock:
            self._study(name)
            del self._studies[name], self._trials[name], self._seq[name]
            self._lease.pop(name, None)
            self._exhausted.pop(name, None)
            self._waiting.pop(name, None)

    # --- the proposer lease ---------------------------------------------------------

    def take_lease(self, study: str, worker: str, lease_s: float) -> bool:
        with self._lock:
            self._study(study)
            holder, expires = self._lease.get(study, (None, 0.0))
            now = time.time()
            if holder not in (None, worker) and expires >= now:
                return False
            self._lease[study] = (worker, now + lease_s)
            return True

    def release_lease(self, study: str, worker: str, exhausted: bool = False) -> None:
        with self._lock:
            self._study(study)
            if self._lease.get(study, (None, 0.0))[0] == worker:
                self._lease[study] = (None, 0.0)
                if exhausted:
                    self._exhausted[study] = True

    def add_trials(
        self,
        study: str,
        worker: str,
        made: Sequence[tuple[dict[str, Any], str | None]],
        keep: bool = False,
    ) -> list[TrialRecord] | None:
        with self._lock:
            trials = self._study(study)
            if self._lease.get(study, (None, 0.0))[0] != worker:
                return None
            out = []
            for i, (dna, example) in enumerate(made):
                out.append(
                    self._add(study, trials, dna, example, worker if keep and not i else None)
                )
            return out

    def wait_for_trial(self, study: str, worker: str, waiting: bool = True) -> None:
        with self._lock:
            self._study(study)
            if waiting:
                self._waiting.setdefault(study, {})[worker] = time.time()
            else:
                self._waiting.get(study, {}).pop(worker, None)

    def demand(self, study: str, within_s: float) -> Demand:
        with self._lock:
            trials = self._study(study)
            since = time.time() - within_s
            waiting = sum(1 for t in self._waiting.get(study, {}).values() if t >= since)
            pending = sum(1 for t in trials if t.status == "pending")
            running = sum(1 for t in trials if t.status == "running")
            holder, expires = self._lease.get(study, (None, 0.0))
            return Demand(
                waiting,
                pending,
                running,
                len(trials),
                self._exhausted.get(study, False),
                holder if expires >= time.time() else None,
            )

    # --- trials --------------------------------------------------------------

    def propose_trial(
        self, study: str, worker: str, since: int, make: Proposer
    ) -> TrialRecord | None:
        with self._lock:
            trials = self._study(study)
            made = make(copy.deepcopy(events_of(trials, since)))
            if made is None:
                return None
            dna, example = made
            return self._add(study, trials, dna, example, worker)

    def enqueue_trial(self, study: str, dna: dict[str, Any], example: str | None) -> TrialRecord:
        with self._lock:
            return self._add(study, self._study(study), dna, example, None)

    def _add(
        self,
        study: str,
        trials: list[TrialRecord],
        dna: dict[str, Any],
        example: str | None,
        worker: str | None,
    ) -> TrialRecord:
        """Appends a new trial (under the lock); see `new_trial`."""
        trial = new_trial(
            study, len(trials) + 1, copy.deepcopy(dna), example, self._next_seq(study), worker
        )
        trials.append(trial)
        return copy.deepcopy(trial)

    def claim_trial(self, study: str, worker: str) -> TrialRecord | None:
        with self._lock:
            for trial in self._study(study):
                if trial.status == "pending":
                    self._waiting.get(study, {}).pop(worker, None)
                    now = time.time()
                    trial.status, trial.worker = "running", worker
                    trial.started = trial.heartbeat = now
                    return copy.deepcopy(trial)
            return None

    def heartbeat(self, study: str, trial_id: int, worker: str) -> bool:
        with self._lock:
            try:
                trial = self._running(study, trial_id, worker)
            except TrialStateError:
                return False
            trial.heartbeat = time.time()
            return True

    def add_measurement(
        self, study: str, trial_id: int, worker: str, measurement: dict[str, Any]
    ) -> None:
        with self._lock:
            trial = self._running(study, trial_id, worker)
            trial.measurements.append(copy.deepcopy(measurement))
            trial.heartbeat = time.time()

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
        """See `Storage.finish_trial`.

        Raises:
            SerializationError: If the metadata could not be stored as JSON,
                as in every other store (nothing is changed; the error's
                `path` is the entry's key).
        """
        if status not in FINISHED:
            raise TrialStateError(f"a trial cannot finish as {status!r}")
        if metadata:
            dumps_metadata(metadata, f"trial {trial_id} of {study!r}")
        with self._lock:
            trial = self._running(study, trial_id, worker)
            trial.status = status
            value = list(reward) if isinstance(reward, tuple) else reward  # as JSON would
            trial.reward = copy.deepcopy(value) if status == "completed" else None
            trial.error = error
            if metadata:
                trial.metadata.update(copy.deepcopy(metadata))
            if example is not None:
                trial.example = example
            if measurement is not None:
                trial.measurements.append(copy.deepcopy(measurement))
            trial.finished = time.time()
            trial.finished_seq = self._next_seq(study)
            return copy.deepcopy(trial)

    def requeue_stale(self, study: str, timeout: float, retry_limit: int) -> list[int]:
        with self._lock:
            now, moved = time.time(), []
            for trial in self._study(study):
                if trial.status == "running" and (trial.heartbeat or 0) < now - timeout:
                    moved.append(trial.id)
                    if trial.retries >= retry_limit:
                        trial.status = "failed"
                        trial.error = (
                            f"its worker {trial.worker!r} stopped sending heartbeats "
                            f"{trial.retries + 1} times (retry limit {retry_limit})"
                        )
                        trial.finished = now
                        trial.finished_seq = self._next_seq(study)
                    else:
                        trial.status, trial.retries = "pending", trial.retries + 1
                        trial.measurements = []
            return moved

    def get_trials(self, study: str, status: TrialState | None = None) -> list[TrialRecord]:
        with self._lock:
            return [
                copy.deepcopy(t) for t in self._study(study) if status is None or t.status == status
            ]

    def get_trial(self, study: str, trial_id: int) -> TrialRecord:
        with self._lock:
            trials = self._study(study)
            if not 1 <= trial_id <= len(trials):
                raise StudyNotFoundError(f"study {study!r} has no trial {trial_id}")
            return copy.deepcopy(trials[trial_id - 1])

    def events(self, study: str, since: int = 0) -> list[Event]:
        with self._lock:
            return copy.deepcopy(events_of(self._study(study), since))
