"""What the dashboard shows, read from a store and kept up to date.

The dashboard never reads a whole study twice: `StudyData` holds a study's
trials as columns and refreshes them with `Storage.changed_trials`, which
gives only the trials proposed or finished since the last event read (and
the few still pending or running). So a page of a 100,000-trial study costs
one full read when first opened and a few rows per poll after that; every
view (history, tables, plots) is computed from the columns in memory.

Nothing here writes to the store.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from automorph.storage import (
    CONSTRAINTS_KEY,
    Storage,
    StudyInfo,
    TrialRecord,
    direction_signs,
)
from automorph.tuning import STOPPED_EARLY_KEY
from automorph.utils import FieldValueError, gc_paused
from automorph.viz import Decision, decisions_of
from automorph.viz._data import TrialTable

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

STATES: tuple[str, ...] = ("pending", "running", "completed", "skipped", "failed")
"""Every trial state, in the order pages list them."""
REFRESH_S = 0.5
"""A study is read again at most this often, however many pages poll it."""


def _reward_tuple(record: TrialRecord) -> tuple[float, ...] | None:
    reward = record.reward
    if record.status != "completed" or reward is None:
        return None
    if type(reward) is float:  # the common case, kept fast for 100,000 trials
        return (reward,) if reward - reward == 0.0 else None
    if isinstance(reward, (int, float)):
        values: tuple[float, ...] = (float(reward),)
    else:
        values = tuple(float(r) for r in reward)
    return values if all(math.isfinite(v) for v in values) else None


def _violation(record: TrialRecord) -> float:
    metadata = record.metadata
    if not metadata or CONSTRAINTS_KEY not in metadata:
        return 0.0
    values = metadata.get(CONSTRAINTS_KEY)
    if not isinstance(values, list):
        return 0.0
    return float(sum(max(float(v), 0.0) for v in values if isinstance(v, (int, float))))


def curve_of(measurements: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """A trial's learning curve from its stored measurements: (steps, rewards),
    single-objective finite rewards only."""
    steps: list[float] = []
    values: list[float] = []
    for m in measurements:
        reward = m.get("reward")
        if isinstance(reward, (int, float)) and math.isfinite(reward):
            steps.append(float(m.get("step", len(steps))))
            values.append(float(reward))
    return steps, values


# The columns beside `ids`, in the order `_fields` gives a trial's values.
COLUMNS = (
    "status",
    "values",
    "created",
    "started",
    "finished",
    "worker",
    "measurements",
    "stopped",
    "violation",
    "dna",
    "error",
)


def _fields(r: TrialRecord) -> tuple[Any, ...]:
    """A trial's values for the `COLUMNS`."""
    metadata = r.metadata
    stopped = metadata.get(STOPPED_EARLY_KEY) if metadata else None
    return (
        r.status,
        _reward_tuple(r),
        r.created,
        r.started,
        r.finished,
        r.worker,
        r.measurements,
        float(stopped) if isinstance(stopped, (int, float)) else None,
        _violation(r) if metadata else 0.0,
        r.dna,
        r.error,
    )


@dataclass
class StudyData:
    """One study's trials as columns, brought up to date by `refresh`.

    Row `i` of every column is the trial `ids[i]`; rows are in id order.

    Attributes:
        info: The study as stored.
        seq: The last event read.
        read_at: When the store was last read (`time.time()`).
        complete: Whether the trials' DNA and measurements were read (a
            first read for a first paint leaves them out).
    """

    info: StudyInfo
    seq: int = 0
    read_at: float = 0.0
    ids: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    values: list[tuple[float, ...] | None] = field(default_factory=list)
    created: list[float] = field(default_factory=list)
    started: list[float | None] = field(default_factory=list)
    finished: list[float | None] = field(default_factory=list)
    worker: list[str | None] = field(default_factory=list)
    measurements: list[list[dict[str, Any]]] = field(default_factory=list)
    stopped: list[float | None] = field(default_factory=list)
    violation: list[float] = field(default_factory=list)
    dna: list[dict[str, Any]] = field(default_factory=list)
    error: list[str | None] = field(default_factory=list)
    _row: dict[int, int] = field(default_factory=dict)
    _changed: dict[int, int] = field(default_factory=dict)  # trial id -> the read it changed in
    reads: int = 0
    complete: bool = True  # False after a light first read: no DNA, no measurements

    @property
    def name(self) -> str:
        """The study's name."""
        return self.info.name

    @property
    def directions(self) -> list[str]:
        """'maximize' or 'minimize' per objective (as stored)."""
        return self.info.directions

    @property
    def objectives(self) -> int:
        """How many objectives a reward has."""
        width = len(self.directions)
        for v in self.values:
            if v is not None:
                return len(v)
        return width

    def apply(self, records: Iterable[TrialRecord]) -> None:
        """Puts `records` (new or changed trials) into the columns; counts a
        read (`reads`) only when something changed."""
        records = list(records)
        if not records:
            return
        self.reads += 1
        if not self.ids:
            self._first(records)
            return
        unsorted = False
        columns = self._columns()
        appends = [column.append for column in columns]
        with gc_paused():
            for r in records:
                fields = _fields(r)
                row = self._row.get(r.id)
                if row is None:
                    unsorted = unsorted or (bool(self.ids) and r.id < self.ids[-1])
                    self._row[r.id] = len(self.ids)
                    self.ids.append(r.id)
                    for append, value in zip(appends, fields):  # noqa: B905 - same length
                        append(value)
                else:
                    for column, value in zip(columns, fields):  # noqa: B905 - same length
                        column[row] = value
                self._changed[r.id] = self.reads
        if unsorted:
            order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
            self.ids = [self.ids[i] for i in order]
            for column in self._columns():
                column[:] = [column[i] for i in order]
            self._row = {tid: i for i, tid in enumerate(self.ids)}

    def _first(self, records: list[TrialRecord]) -> None:
        """The columns of a first read, built whole (a third of the time of
        putting 100,000 trials in row by row)."""
        with gc_paused():
            records = sorted(records, key=lambda r: r.id)
            self.ids = [r.id for r in records]
            for name, column in zip(COLUMNS, zip(*map(_fields, records))):  # noqa: B905
                setattr(self, name, list(column))
            self._row = {tid: i for i, tid in enumerate(self.ids)}
            self._changed = dict.fromkeys(self.ids, self.reads)

    def _columns(self) -> tuple[list[Any], ...]:
        return tuple(getattr(self, name) for name in COLUMNS)

    def row(self, trial_id: int) -> int | None:
        """The row of a trial, or None if the study has no such trial (yet)."""
        return self._row.get(trial_id)

    def changed_since(self, read: int) -> list[int]:
        """The rows that changed after read number `read` (0: every row)."""
        if read <= 0:
            return list(range(len(self.ids)))
        return sorted(self._row[t] for t, at in self._changed.items() if at > read)

    # --- views of the columns ----------------------------------------------------

    def rewards(self) -> FloatArray:
        """Shape (trials, objectives): final rewards, NaN unless completed."""
        width = self.objectives
        out = np.full((len(self.ids), width), np.nan)
        for i, v in enumerate(self.values):
            if v is not None and len(v) == width:
                out[i] = v
        return out

    def table(self) -> TrialTable:
        """The columns as the plots' `TrialTable`."""
        violations = np.asarray(self.violation, dtype=float)
        constrained = bool(violations.size and violations.any())
        return TrialTable(
            ids=np.asarray(self.ids, dtype=np.int64),
            status=list(self.status),
            rewards=self.rewards(),
            dna=list[Mapping[str, Any]](self.dna),
            multi_objective=self.info.multi_objective or self.objectives > 1,
            directions=tuple(self.directions) or ("maximize",),
            violations=violations if constrained else None,
            constrained=constrained,
        )

    def counts(self) -> dict[str, int]:
        """How many trials are in each state."""
        out = dict.fromkeys(STATES, 0)
        for s in self.status:
            out[s] = out.get(s, 0) + 1
        return out

    def last_activity(self) -> float | None:
        """When a trial of the study last started, ended or was proposed."""
        times = [t for column in (self.created, self.started, self.finished) for t in column if t]
        return max(times) if times else None

    def decisions(self) -> dict[str, Decision]:
        """The study's decisions, from its DNASpec (or what the trials show)."""
        found = decisions_of(self.info.dna_spec, label_width=200)
        for dna in self.dna[:200]:
            for key in dna:
                if key not in found:
                    found[key] = Decision(key, "custom")
        return found


def best_of(data: StudyData) -> dict[str, Any] | None:
    """The best trial (objective 0, feasible first) as {"trial", "value"}, or
    None before any trial completes. For several objectives, the size of
    the Pareto front instead: {"front": n}."""
    table = data.table()
    if table.num_objectives > 1:
        from automorph.algorithms import pareto_mask

        leading = table.leading()
        if not leading.any():
            return None
        front = int(pareto_mask(table.signed[leading]).sum())
        return {"front": front}
    index = table.best_index()
    if index is None:
        return None
    return {"trial": int(table.ids[index]), "value": float(table.rewards[index, 0])}


def robust_range(values: Sequence[float] | FloatArray, minimize: bool) -> list[float] | None:
    """A y-range that a few outliers on the bad side do not squash.

    The bad side (low values when maximizing, high ones when minimizing) is
    cut at the 2nd percentile when the values beyond it stretch the range
    more than threefold; the good side is never cut (the best stays in view).
    None when there is nothing to show.
    """
    array = np.asarray(values, dtype=float)
    array = array[np.isfinite(array)]
    if array.size == 0:
        return None
    signed = -array if minimize else array
    low, high = float(signed.min()), float(signed.max())
    if signed.size >= 50:
        floor = float(np.percentile(signed, 2))
        if floor - low > 3 * (high - floor) > 0:
            low = floor
    pad = (high - low) * 0.05 or max(abs(high) * 0.05, 0.5)
    low, high = low - pad, high + pad
    return [-high, -low] if minimize else [low, high]


class Reader:
    """The dashboard's view of one store: every study it has opened, as
    `StudyData`, read again at most every `refresh_s` seconds.

    Safe to use from several threads (a server's workers): each study has a
    lock, held while it is read.
    """

    def __init__(self, storage: Storage, refresh_s: float = REFRESH_S) -> None:
        self.storage = storage
        self.refresh_s = refresh_s
        self._studies: dict[str, StudyData] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._whole_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """The names of the store's studies, in the order they were made."""
        return [info.name for info in self.storage.list_studies()]

    def study(self, name: str, complete: bool = True) -> StudyData:
        """A study's columns, read again if the last read is older than
        `refresh_s`.

        Args:
            name: The study.
            complete: Whether the trials' DNA and measurements are needed.
                Without, a study not read yet is read without them (a third
                of the time on a large study: what a first paint needs). The
                first call that needs them reads every trial whole, while
                calls that do not go on with the light copy.

        Raises:
            StudyNotFoundError: If the store has no such study (any more).
        """
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
            whole_lock = self._whole_locks.setdefault(name, threading.Lock())
        if complete:
            with whole_lock:  # one whole read at a time; the others wait for it
                current = self._studies.get(name)
                if current is not None and not current.complete:
                    self._read_whole(name, lock)
        with lock:
            data = self._studies.get(name)
            now = time.time()
            if data is not None and now - data.read_at < self.refresh_s:
                return data
            if data is None:
                data = StudyData(self.storage.get_study(name), complete=complete)
            try:
                light = not data.complete and data.seq == 0
                seq, changed = self.storage.changed_trials(name, data.seq, light=light)
            except Exception:
                with self._lock:
                    self._studies.pop(name, None)
                raise
            data.apply(changed)
            data.seq, data.read_at = seq, now
            with self._lock:
                self._studies[name] = data
            return data

    def _read_whole(self, name: str, lock: threading.Lock) -> None:
        """Reads every trial of a study whole, without holding the study's
        lock (pages go on with the light copy meanwhile), then puts the
        whole copy in its place; its every row counts as changed, so pages
        that poll get them again, measurements included."""
        info = self.storage.get_study(name)
        seq, trials = self.storage.changed_trials(name)
        whole = StudyData(info, complete=True)
        with lock:
            current = self._studies.get(name)
            whole.reads = current.reads if current is not None else 0
            whole.apply(trials)
            whole.seq, whole.read_at = seq, time.time()
            with self._lock:
                self._studies[name] = whole

    def forget(self, name: str) -> None:
        """Drops a study's columns (after it is deleted, say)."""
        with self._lock:
            self._studies.pop(name, None)


# --- what the pages ask for ---------------------------------------------------------


def summary_of(data: StudyData) -> dict[str, Any]:
    """A study's line on the studies page."""
    info = data.info
    return {
        "name": info.name,
        "directions": data.directions,
        "objectives": data.objectives,
        "created": info.created,
        "trials": len(data.ids),
        "states": data.counts(),
        "best": best_of(data),
        "last_activity": data.last_activity(),
    }


STATE_CODES = {s: i for i, s in enumerate(STATES)}


def columns_since(data: StudyData, read: int) -> dict[str, Any]:
    """The trials that changed after read `read`, as columns (what the study
    page merges into its copy; `read` 0 gives every trial).

    Times are seconds after the study was created, rounded to milliseconds;
    values are rounded to 7 significant digits (the plots' precision; the
    table and the trial page show them whole); `state` holds indices into
    `states`; `worker` indices into `workers`; `stopped` (early) and
    `infeasible` are 0 or 1.
    """
    rows = data.changed_since(read)
    origin = data.info.created or (min(data.created) if data.created else 0.0)
    workers: dict[str, int] = {}

    def when(t: float | None) -> float | None:
        return None if t is None else round(t - origin, 3)

    width = data.objectives
    chosen = [data.values[i] for i in rows]
    values: list[list[float | None]] = [
        [float(f"{v[k]:.7g}") if v is not None and len(v) == width else None for v in chosen]
        for k in range(width)
    ]
    return {
        "read": data.reads,
        "seq": data.seq,
        "origin": origin,
        "states": list(STATES),
        "id": [data.ids[i] for i in rows],
        "state": [STATE_CODES.get(data.status[i], 0) for i in rows],
        "value": values,
        "start": [when(data.started[i]) for i in rows],
        "end": [when(data.finished[i]) for i in rows],
        "worker": [
            None if data.worker[i] is None else workers.setdefault(data.worker[i], len(workers))  # type: ignore[arg-type]
            for i in rows
        ],
        "workers": list(workers),
        "steps": [len(data.measurements[i]) for i in rows],
        "stopped": [0 if data.stopped[i] is None else 1 for i in rows],
        "infeasible": [1 if data.violation[i] > 0 else 0 for i in rows],
    }


def study_view(data: StudyData) -> dict[str, Any]:
    """What the study page shows above its plots: the summary, the y-range
    of each objective, and which read of the store it comes from."""
    rewards = data.rewards()
    minimized = [d == "minimize" for d in direction_signs_text(data)]
    return {
        **summary_of(data),
        "multi_objective": data.objectives > 1,
        "y_range": [robust_range(rewards[:, k], minimized[k]) for k in range(rewards.shape[1])],
        "seq": data.seq,
        "read": data.reads,
    }


def direction_signs_text(data: StudyData) -> list[str]:
    """'maximize' or 'minimize' for each objective (one stored direction applies to all)."""
    signs = direction_signs(data.directions or ["maximize"], data.objectives)
    return ["minimize" if s < 0 else "maximize" for s in signs]


# --- the trial table ------------------------------------------------------------------

SORT_KEYS = ("id", "state", "value", "duration", "worker", "steps")


def trial_rows(
    data: StudyData,
    *,
    offset: int = 0,
    limit: int = 50,
    sort: str = "id",
    descending: bool = False,
    states: Sequence[str] = (),
    worker: str | None = None,
    param: str | None = None,
    param_value: str | None = None,
    objective: int = 0,
) -> dict[str, Any]:
    """One page of the trial table, sorted and filtered here (not in the browser).

    Args:
        data: The study.
        offset: Rows to skip (after filtering and sorting).
        limit: Rows to return (1 to 500).
        sort: One of `SORT_KEYS`, or `param:<decision id>`.
        descending: Whether to sort the other way.
        states: Only trials in these states (all if empty).
        worker: Only this worker's trials.
        param: With `param_value`, only trials whose decision `param` shows
            as `param_value` (as the table writes it).
        param_value: See `param`.
        objective: Which objective `value` sorts by.

    Raises:
        FieldValueError: If an argument is out of range, naming it.
    """
    if not 1 <= limit <= 500:
        raise FieldValueError(f"limit must be in 1..500, got {limit}")
    if offset < 0:
        raise FieldValueError(f"offset must be >= 0, got {offset}")
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise FieldValueError(f"unknown state {unknown[0]!r}; the states are {', '.join(STATES)}")
    width = data.objectives
    if not 0 <= objective < max(width, 1):
        raise FieldValueError(f"objective must be in 0..{max(width, 1) - 1}, got {objective}")
    decisions = data.decisions()
    if sort.startswith("param:"):
        if sort[6:] not in decisions:
            raise FieldValueError(f"no decision {sort[6:]!r} to sort by")
    elif sort not in SORT_KEYS:
        raise FieldValueError(f"cannot sort by {sort!r}; sort by one of {', '.join(SORT_KEYS)}")
    if param is not None and param not in decisions:
        raise FieldValueError(f"no decision {param!r} to filter by")
    rows = range(len(data.ids))
    keep = [
        i
        for i in rows
        if (not states or data.status[i] in states)
        and (worker is None or data.worker[i] == worker)
        and (param is None or shown(data.dna[i].get(param), decisions[param]) == param_value)
    ]
    keep.sort(key=_sort_key(data, sort, objective, decisions), reverse=descending)
    page = keep[offset : offset + limit]
    shown_ids = list(decisions)
    return {
        "total": len(keep),
        "offset": offset,
        "limit": limit,
        "decisions": shown_ids,
        "rows": [_row(data, i, shown_ids, decisions) for i in page],
    }


def _sort_key(data: StudyData, sort: str, objective: int, decisions: dict[str, Decision]) -> Any:
    if sort == "id":
        return data.ids.__getitem__
    if sort == "state":
        return lambda i: (STATE_CODES.get(data.status[i], 0), data.ids[i])
    if sort == "worker":
        return lambda i: (data.worker[i] or "", data.ids[i])
    if sort == "steps":
        return lambda i: (len(data.measurements[i]), data.ids[i])
    if sort == "duration":

        def duration(i: int) -> tuple[bool, float, int]:
            d = _duration(data, i)
            return (d is None, d or 0.0, data.ids[i])

        return duration
    if sort == "value":

        def value(i: int) -> tuple[bool, float, int]:
            v = data.values[i]
            return (v is None, v[objective] if v is not None else 0.0, data.ids[i])

        return value
    name = sort[6:]

    def by_param(i: int) -> tuple[int, Any, int]:
        raw = data.dna[i].get(name)
        if isinstance(raw, (int, float)):
            return (0, float(raw), data.ids[i])
        return (1 if raw is None else 0, shown(raw, decisions[name]), data.ids[i])

    return by_param


def _duration(data: StudyData, i: int) -> float | None:
    start, end = data.started[i], data.finished[i]
    return None if start is None or end is None else end - start


def shown(value: Any, decision: Decision) -> str:
    """A decision's value as the table writes it: a choice by its candidate's
    label, a number in short form, anything else as JSON-like text."""
    if value is None:
        return ""
    if decision.kind == "choice" and isinstance(value, int) and 0 <= value < len(decision.labels):
        return decision.labels[value]
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _row(
    data: StudyData, i: int, shown_ids: list[str], decisions: dict[str, Decision]
) -> dict[str, Any]:
    return {
        "id": data.ids[i],
        "state": data.status[i],
        "value": None if data.values[i] is None else list(data.values[i]),  # type: ignore[arg-type]
        "duration": _duration(data, i),
        "worker": data.worker[i],
        "steps": len(data.measurements[i]),
        "stopped": data.stopped[i],
        "infeasible": data.violation[i] > 0,
        "error": data.error[i],
        "params": [shown(data.dna[i].get(d), decisions[d]) for d in shown_ids],
    }
