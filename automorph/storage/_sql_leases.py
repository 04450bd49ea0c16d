"""The proposer lease and the waiting workers of `SQLStorage` (a mixin).

Each method is one short transaction, run again if it gives up waiting for
another transaction's lock (`retried`: rolled back, nothing written). Those
that hand out event numbers (`add_trials`) lock the study row first, as
every other such write does (see `automorph.storage._sql`); the lease row is
read and written under the same lock, so a lease cannot change hands while
proposals are being stored.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from automorph.storage._base import Demand, TrialRecord
from automorph.storage._json import dumps, fresh
from automorph.storage._sql_engine import LockWait, retried
from automorph.storage._sql_pg import LEASE_LOST, Refused
from automorph.storage._sql_schema import (
    DEMAND,
    INSERT_LEASE,
    LEASE,
    RELEASE_LEASE,
    SAY_WAITING,
    SELECT_STUDY,
    SET_LEASE,
    STOP_WAITING,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from automorph.utils import StudyNotFoundError


class _LeaseLost(Exception):
    """`add_trials` by a worker that no longer holds the lease (rolls back)."""


class LeaseMixin:
    """`take_lease`, `release_lease`, `add_trials`, `wait_for_trial` and
    `demand` on the SQL tables (`SQLStorage` supplies the transactions)."""

    if TYPE_CHECKING:
        _fast: bool
        _sqlite: bool

        def _lock_wait(self) -> LockWait: ...
        def _pg_add(
            self, study: str, worker: str, made: Sequence[tuple[str, str | None]], keep: bool
        ) -> list[TrialRecord]: ...
        def _transaction(self, write: bool) -> AbstractContextManager[Connection]: ...
        def _lock_study(self, conn: Connection, name: str) -> tuple[int, int]: ...
        def _not_found(self, conn: Connection, name: str) -> StudyNotFoundError: ...
        def _take_seq(self, conn: Connection, name: str, count: int = 1) -> tuple[int, int]: ...
        def _insert(
            self,
            conn: Connection,
            study: str,
            sid: int,
            seq: int,
            made: Sequence[tuple[dict[str, Any], str | None, str | None]],
        ) -> list[TrialRecord]: ...

    @retried
    def take_lease(self, study: str, worker: str, lease_s: float) -> bool:
        with self._transaction(write=True) as conn:
            sid, _ = self._lock_study(conn, study)
            now = time.time()
            row = conn.execute(LEASE, {"sid": sid}).first()
            if row is None:
                values = {"study_id": sid, "worker": worker, "expires": now + lease_s}
                conn.execute(INSERT_LEASE, {**values, "exhausted": False})
                return True
            holder, expires, _ = row
            if holder not in (None, worker) and expires >= now:
                return False
            conn.execute(SET_LEASE, {"sid": sid, "v_worker": worker, "v_expires": now + lease_s})
            return True

    @retried
    def release_lease(self, study: str, worker: str, exhausted: bool = False) -> None:
        with self._transaction(write=True) as conn:
            sid, _ = self._lock_study(conn, study)
            conn.execute(RELEASE_LEASE, {"sid": sid, "owner": worker, "v_exhausted": exhausted})

    @retried
    def add_trials(
        self,
        study: str,
        worker: str,
        made: Sequence[tuple[dict[str, Any], str | None]],
        keep: bool = False,
    ) -> list[TrialRecord] | None:
        if not made:
            return []
        if self._fast:
            texts = [(dumps(fresh(dna, "the DNA")), example) for dna, example in made]
            try:
                return self._pg_add(study, worker, texts, keep)
            except Refused as refused:
                if refused.code == LEASE_LOST:
                    return None  # (no such study: the statements say so)
        try:
            with self._transaction(write=True) as conn:
                sid, seq = self._take_seq(conn, study, len(made))
                row = conn.execute(LEASE, {"sid": sid}).first()
                if row is None or row[0] != worker:
                    raise _LeaseLost  # rolls the event numbers back
                rows = [
                    (dna, example, worker if keep and i == 0 else None)
                    for i, (dna, example) in enumerate(made)
                ]
                return self._insert(conn, study, sid, seq, rows)
        except _LeaseLost:
            return None

    @retried
    def wait_for_trial(self, study: str, worker: str, waiting: bool = True) -> None:
        # One statement: on PostgreSQL without BEGIN and COMMIT (atomic by itself).
        with self._transaction(write=self._sqlite) as conn:
            if waiting:
                params = {"name": study, "worker": worker, "since": time.time()}
                said = conn.execute(SAY_WAITING, params).rowcount
            else:
                said = conn.execute(STOP_WAITING, {"name": study, "worker": worker}).rowcount
            if not said:
                self._study_id(conn, study)  # raises if there is no such study

    @retried
    def demand(self, study: str, within_s: float) -> Demand:
        with self._transaction(write=False) as conn:
            now = time.time()
            row = conn.execute(DEMAND, {"name": study, "since": now - within_s}).one()
            sid, waiting, pending, running, trials, holder, expires, exhausted = row
            if sid is None:
                raise self._not_found(conn, study)
            return Demand(
                int(waiting),
                int(pending),
                int(running),
                int(trials),
                bool(exhausted),
                holder if expires is not None and expires >= now else None,
            )

    def _study_id(self, conn: Connection, study: str) -> int:
        row = conn.execute(SELECT_STUDY, {"name": study}).first()
        if row is None:
            raise self._not_found(conn, study)
        return int(row.id)
