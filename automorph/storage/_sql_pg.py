"""PostgreSQL's hot path: claim, propose and finish as server-side functions.

Each of the three writes a worker makes per trial runs on PostgreSQL as one
call of a PL/pgSQL function (`CREATE FUNCTION`, installed with the tables):
one round trip, outside BEGIN/COMMIT, where the same work written as
statements takes five or six. The locks are those of the statements they
replace, taken in the same order (the study row first, where an event number
is taken), and held only while the server runs the function, never while a
client is descheduled between two statements. A function that cannot do its
work (the study is gone, the trial is not this worker's to finish, the lease
has moved on) raises one of the `AM...` errors below: its transaction rolls
back, event numbers included, and the caller either reports it (a lost lease)
or runs the statement version, which raises the error the store documents.

Every statement here is planned for its call's values (`plan_cache_mode =
force_custom_plan`, set on each function; the store's connections set it too).
PostgreSQL would otherwise cache a generic plan after a few calls, and one made
while the trials table is nearly empty, when every index costs the same, may
read a trial through an index bound on `study_id` alone: a scan of every trial
of the study on each call. That halved a 5,000-trial study's throughput as it
grew; a plan made for the call's values picks the index that fits once the
table has grown.

The functions return `automorph_trials` rows; `ROW_COLUMNS` selects them in
`TRIAL_COLUMNS` order. Finishing with new metadata still runs as statements
(merging JSON objects is done in Python, as on SQLite).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc

from automorph.storage._base import TrialRecord
from automorph.storage._json import dumps
from automorph.storage._sql_engine import PG_TRANSIENT, LockTimeout
from automorph.storage._sql_rows import record, records
from automorph.storage._sql_schema import TRIAL_COLUMNS
from automorph.utils import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: Raised by a function when the named study does not exist.
NO_STUDY = "AM001"
#: Raised by `automorph_add` when the worker does not hold the lease.
LEASE_LOST = "AM002"
#: Raised by `automorph_finish` when the trial is not running for the worker.
NOT_YOURS = "AM003"

ROW_COLUMNS = ", ".join(c.name for c in TRIAL_COLUMNS)

_CLAIM = """
CREATE OR REPLACE FUNCTION automorph_claim(p_name text, p_worker text, p_now double precision)
RETURNS SETOF automorph_trials LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    s integer;
    t automorph_trials;
BEGIN
    SELECT id INTO s FROM automorph_studies WHERE name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no study %', p_name USING ERRCODE = 'AM001';
    END IF;
    -- The oldest pending trial (the index of pending trials holds exactly
    -- those, in trial order), then the row it locked, by its address.
    UPDATE automorph_trials
       SET status = 'running', worker = p_worker, started = p_now, heartbeat = p_now
     WHERE ctid = (
           SELECT ctid FROM automorph_trials
            WHERE study_id = s AND status = 'pending'
            ORDER BY trial_id LIMIT 1 FOR UPDATE SKIP LOCKED)
       AND status = 'pending'
    RETURNING * INTO t;
    IF FOUND THEN
        DELETE FROM automorph_waiting WHERE study_id = s AND worker = p_worker;
        RETURN NEXT t;
    END IF;
END $$
"""

# The study row is locked first (by taking the event numbers), as in every
# write that takes them; trial ids are read after the lock, by a statement of
# their own (a fresh snapshot), so two concurrent calls never pick the same.
_ADD = """
CREATE OR REPLACE FUNCTION automorph_add(
    p_name text, p_worker text, p_now double precision, p_dnas text[], p_examples text[],
    p_keep boolean)
RETURNS SETOF automorph_trials LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    s integer;
    n integer := cardinality(p_dnas);
    after bigint;
    top integer;
BEGIN
    UPDATE automorph_studies SET next_seq = next_seq + n WHERE name = p_name
    RETURNING id, next_seq INTO s, after;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no study %', p_name USING ERRCODE = 'AM001';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM automorph_leases WHERE study_id = s AND worker = p_worker) THEN
        RAISE EXCEPTION 'lease lost' USING ERRCODE = 'AM002';
    END IF;
    -- From the primary key's end: see `_last_trial_id` in _sql_schema.py.
    top := coalesce((SELECT trial_id FROM automorph_trials WHERE study_id = s
                      ORDER BY study_id DESC, trial_id DESC LIMIT 1), 0);
    RETURN QUERY
    INSERT INTO automorph_trials (
        study_id, trial_id, dna, status, measurements, reward, metadata, example, created,
        started, finished, worker, heartbeat, retries, error, proposed_seq, finished_seq)
    SELECT s, top + i, d.dna,
           CASE WHEN p_keep AND i = 1 THEN 'running' ELSE 'pending' END,
           '[]', NULL, '{}', p_examples[i], p_now,
           CASE WHEN p_keep AND i = 1 THEN p_now END, NULL,
           CASE WHEN p_keep AND i = 1 THEN p_worker END,
           CASE WHEN p_keep AND i = 1 THEN p_now END,
           0, NULL, after - n + i - 1, NULL
      FROM unnest(p_dnas) WITH ORDINALITY AS d(dna, i)
     ORDER BY i
    RETURNING *;
END $$
"""

_FINISH = """
CREATE OR REPLACE FUNCTION automorph_finish(
    p_name text, p_tid integer, p_worker text, p_status text, p_reward text, p_error text,
    p_example text, p_measurement text, p_now double precision)
RETURNS SETOF automorph_trials LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    s integer;
    seq bigint;
    t automorph_trials;
BEGIN
    UPDATE automorph_studies SET next_seq = next_seq + 1 WHERE name = p_name
    RETURNING id, next_seq - 1 INTO s, seq;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no study %', p_name USING ERRCODE = 'AM001';
    END IF;
    -- One statement finds, checks and writes the trial; its condition names
    -- the status index's three columns, so that index fits it whole.
    UPDATE automorph_trials
       SET status = p_status, reward = p_reward, error = p_error,
           example = coalesce(p_example, example),
           measurements = CASE
               WHEN p_measurement IS NULL THEN measurements
               WHEN measurements = '[]' THEN '[' || p_measurement || ']'
               ELSE left(measurements, -1) || ',' || p_measurement || ']' END,
           finished = p_now, finished_seq = seq
     WHERE study_id = s AND status = 'running' AND trial_id = p_tid AND worker = p_worker
    RETURNING * INTO t;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not running for %', p_worker USING ERRCODE = 'AM003';
    END IF;
    RETURN NEXT t;
END $$
"""

#: What `install` runs, in order (each is idempotent).
FUNCTIONS = (_CLAIM, _ADD, _FINISH)
#: The pending trials of each study in trial order: `automorph_claim` reads the
#: oldest from it. (PostgreSQL only: SQLite plans that read from the status index.)
PENDING_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_automorph_trials_pending "
    "ON automorph_trials (study_id, trial_id) WHERE status = 'pending'"
)


def install(conn: Any) -> None:
    """Creates (or replaces) the functions and the index of pending trials, in
    `conn`'s transaction (under the store's lock for creating its tables)."""
    conn.execute(sa.text(PENDING_INDEX))
    for ddl in FUNCTIONS:
        conn.execute(sa.text(ddl))


# Run on the driver's own cursor (psycopg and psycopg2 both take `%(name)s`):
# SQLAlchemy's layer would cost more CPU than the call saves.
CLAIM = f"SELECT {ROW_COLUMNS} FROM automorph_claim(%(name)s, %(worker)s, %(now)s)"
ADD = (
    f"SELECT {ROW_COLUMNS} FROM automorph_add(%(name)s, %(worker)s, %(now)s, %(dnas)s, "
    "%(examples)s, %(keep)s)"
)
FINISH = (
    f"SELECT {ROW_COLUMNS} FROM automorph_finish(%(name)s, %(tid)s, %(worker)s, %(status)s, "
    "%(reward)s, %(error)s, %(example)s, %(measurement)s, %(now)s)"
)
#: The drivers the functions are called with (others run the statements).
DRIVERS = ("psycopg", "psycopg2")


class Refused(Exception):
    """A function raised one of the `AM...` errors (`code`): nothing was written."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class PgCalls:
    """The calls of the functions (`SQLStorage` supplies the engine; each
    method's caller runs the statement version on `Refused`)."""

    if TYPE_CHECKING:
        _engine: Engine
        _where: str

        def _check_fork(self) -> None: ...
        def _claim(self, study: str, worker: str) -> TrialRecord | None: ...
        def _fail_unreadable(
            self, study: str, trial_id: int, state: str, worker: str | None, reason: str
        ) -> None: ...

    def _call(self, statement: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Runs one function call without BEGIN/COMMIT (it is one transaction).

        Raises:
            Refused: If the function raised an `AM...` error.
            LockTimeout: If it gave up waiting for a lock (rolled back).
            StorageError: If the database failed otherwise.
        """
        self._check_fork()
        try:
            # The pool's connection, without SQLAlchemy's per-statement layer.
            pooled = self._engine.raw_connection()
        except exc.DBAPIError as error:  # connecting failed
            raise StorageError(f"{self._where}: {error.orig}") from error
        driver: Any = pooled.driver_connection
        try:
            driver.autocommit = True  # idle in the pool: no round trip
            with driver.cursor() as cursor:
                cursor.execute(statement, params)
                return list(cursor.fetchall())
        except self._engine.dialect.dbapi.Error as error:  # type: ignore[union-attr]
            code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
            if code in (NO_STUDY, LEASE_LOST, NOT_YOURS):
                raise Refused(code) from None
            if code in PG_TRANSIENT:
                raise LockTimeout(f"{self._where}: {error}") from error
            raise StorageError(f"{self._where}: {error}") from error
        finally:
            try:
                driver.autocommit = False  # as the pool's other users expect it
            finally:
                pooled.close()

    def _pg_claim(self, study: str, worker: str) -> TrialRecord | None:
        """`claim_trial` in one call (the statements where the study is not found)."""
        try:
            rows = self._call(CLAIM, {"name": study, "worker": worker, "now": time.time()})
        except Refused:  # no such study: the statements say so, naming the others
            return self._claim(study, worker)
        try:
            return record(study, rows[0]) if rows else None
        except StorageError as error:  # not left running: failed, with why
            self._fail_unreadable(study, rows[0][0], "running", worker, str(error))
            raise

    def _pg_add(
        self, study: str, worker: str, made: Sequence[tuple[str, str | None]], keep: bool
    ) -> list[TrialRecord]:
        """Stores proposals (DNA and example as JSON text); raises `Refused`."""
        examples = [example for _, example in made]
        params = {
            "name": study,
            "worker": worker,
            "now": time.time(),
            "dnas": [dna for dna, _ in made],
            "examples": None if all(e is None for e in examples) else examples,
            "keep": keep,
        }
        return records(study, self._call(ADD, params))

    def _pg_finish(
        self,
        study: str,
        trial_id: int,
        worker: str,
        status: str,
        value: Any,
        error: str | None,
        example: str | None,
        measurement: dict[str, Any] | None,
    ) -> TrialRecord | None:
        """`finish_trial` in one call (without new metadata); None if the
        function refused (nothing changed): the statements then raise the
        error that says why, or finish the trial if its state changed since.
        A trial whose stored columns do not read back is finished, then
        failed with why (the statements fail it without storing the result)."""
        params = {
            "name": study,
            "tid": trial_id,
            "worker": worker,
            "status": status,
            "reward": None if value is None else dumps(value),
            "error": error,
            "example": example,
            "measurement": None if measurement is None else dumps(measurement),
            "now": time.time(),
        }
        try:
            row = self._call(FINISH, params)[0]
        except Refused:
            return None
        try:
            return record(study, row)
        except StorageError as unreadable:
            self._fail_unreadable(study, trial_id, status, worker, str(unreadable))
            raise
