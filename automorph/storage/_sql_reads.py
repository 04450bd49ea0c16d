"""The reads of `SQLStorage` (a mixin): trials, what changed, events.

Each read is one transaction (on PostgreSQL, one statement without BEGIN and
COMMIT where it can be); the garbage collector is paused while rows become
records, which makes large reads of many small objects markedly faster.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from automorph.storage._base import CONSTRAINTS_KEY, Event, TrialRecord, TrialState
from automorph.storage._json import loads_rows
from automorph.storage._sql_engine import LockWait, retried
from automorph.storage._sql_rows import record, records
from automorph.storage._sql_schema import (
    CHANGED,
    EVENTS,
    GET_TRIAL,
    NEXT_SEQ,
    SELECT_STUDY,
    TRIALS_AFTER,
    TRIALS_OF,
    TRIALS_WITH_STATUS,
)
from automorph.utils import gc_paused

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from automorph.utils import StudyNotFoundError

#: Larger event numbers than any store reaches: "none yet", not an overflow.
MAX_SEQ = 2**62


class ReadMixin:
    """`get_trials`, `iter_trials`, `changed_trials`, `get_trial` and
    `events` on the SQL tables (`SQLStorage` supplies the transactions)."""

    if TYPE_CHECKING:

        def _lock_wait(self) -> LockWait: ...
        def _transaction(self, write: bool) -> AbstractContextManager[Connection]: ...
        def _not_found(self, conn: Connection, name: str) -> StudyNotFoundError: ...
        def _no_trial(self, conn: Connection, study: str, trial_id: int) -> StudyNotFoundError: ...

    @retried
    def get_trials(self, study: str, status: TrialState | None = None) -> list[TrialRecord]:
        with self._transaction(write=False) as conn, gc_paused():
            if status is None:
                rows = conn.execute(TRIALS_OF, {"name": study}).all()
            else:
                rows = conn.execute(TRIALS_WITH_STATUS, {"name": study, "status": status}).all()
            if not rows and conn.execute(SELECT_STUDY, {"name": study}).first() is None:
                raise self._not_found(conn, study)
            return records(study, rows)

    def iter_trials(self, study: str, chunk: int = 1000) -> Iterator[TrialRecord]:
        """The study's trials in id order, read `chunk` at a time (each chunk
        its own transaction, so no transaction stays open while the caller
        works)."""
        after = 0
        while True:
            with self._transaction(write=False) as conn, gc_paused():
                rows = conn.execute(
                    TRIALS_AFTER, {"name": study, "after": after, "limit": chunk}
                ).all()
                if not rows and after == 0:
                    if conn.execute(SELECT_STUDY, {"name": study}).first() is None:
                        raise self._not_found(conn, study)
                chunk_records = records(study, rows)
            yield from chunk_records
            if len(rows) < chunk:
                return
            after = rows[-1][0]

    @retried
    def changed_trials(
        self, study: str, since: int = 0, light: bool = False
    ) -> tuple[int, list[TrialRecord]]:
        with self._transaction(write=False) as conn, gc_paused():
            # The number first: a change made after it is read again next time.
            next_seq = conn.execute(NEXT_SEQ, {"name": study}).scalar()
            if next_seq is None:
                raise self._not_found(conn, study)
            since = min(since, MAX_SEQ)
            rows = conn.execute(CHANGED[since > 0, light], {"name": study, "since": since}).all()
            unique = sorted({row[0]: row for row in rows}.values(), key=lambda row: row[0])
            return int(next_seq) - 1, records(study, unique)

    @retried
    def get_trial(self, study: str, trial_id: int) -> TrialRecord:
        with self._transaction(write=False) as conn:
            row = conn.execute(GET_TRIAL, {"name": study, "tid": trial_id}).first()
            if row is None:
                raise self._no_trial(conn, study, trial_id)
            return record(study, row)

    @retried
    def events(self, study: str, since: int = 0) -> list[Event]:
        with self._transaction(write=False) as conn, gc_paused():
            out = self._events(conn, study, since)
            if not out and conn.execute(SELECT_STUDY, {"name": study}).first() is None:
                raise self._not_found(conn, study)
            return out

    def _events(self, conn: Connection, study: str, since: int) -> list[Event]:
        since = min(since, MAX_SEQ)  # a larger number means "none yet", not an overflow
        rows = sorted(conn.execute(EVENTS, {"name": study, "since": since}), key=lambda r: r[0])
        texts: list[str] = []
        for row in rows:
            has_constraints = row[4] is not None and row[5] and CONSTRAINTS_KEY in row[5]
            texts += (row[3], row[4] or "null", row[5] if has_constraints else "null")

        def where() -> Iterator[tuple[int, str]]:  # (trial id, column) of each text
            return ((row[2], name) for row in rows for name in ("dna", "reward", "metadata"))

        values = iter(loads_rows(texts, study, where))
        out = []
        for seq, kind, tid, _, _, _ in rows:
            dna, reward, metadata = next(values), next(values), next(values)
            constraints = metadata.get(CONSTRAINTS_KEY) if isinstance(metadata, dict) else None
            out.append(
                Event(seq, "finished" if kind else "proposed", tid, dna, reward, constraints)
            )
        return out
