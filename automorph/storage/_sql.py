"""`SQLStorage`: studies in a SQLite file or a PostgreSQL database.

Written with SQLAlchemy Core; `_sql_schema` holds the tables and statements.

Every write is one transaction. Writes that take an event number (propose, finish, a retry limit
reached) lock the study row first, so event numbers are handed out one at a time and commit in
order: a reader never sees a gap. Most take theirs with the lock, in one `UPDATE ... RETURNING`,
and roll back if they then write nothing. PostgreSQL reads, each one statement, run without
BEGIN and COMMIT (one round trip each). On SQLite every write transaction is `BEGIN IMMEDIATE`
(the database's write lock is taken at the start, so two writers never deadlock on an upgrade
from a read lock) and the journal is a write-ahead log, so readers never wait for writers. On
PostgreSQL the study lock is `SELECT ... FOR UPDATE` on the study row and `claim_trial` takes a
pending trial with `FOR UPDATE SKIP LOCKED`. There, the three writes a worker makes per trial
(claim, store proposals, finish) are calls of server-side functions (`_sql_pg`), one round trip
each, with the same locks held only while the server runs them.

A transaction that waits for another one's lock longer than the busy
timeout (a proposal that fits a model under the study's lock, say) is
rolled back whole and run again, after a short pause, until `lock_wait_s`
have passed; only then does the call fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from automorph.storage._base import (
    FINISHED,
    MIGRATES_FROM,
    SCHEMA_VERSION,
    Proposer,
    Storage,
    StudyInfo,
    TrialRecord,
    TrialState,
    merged_metadata,
    new_trial,
)
from automorph.storage._json import dumps, dumps_metadata, fresh
from automorph.storage._sql_engine import (
    LockTimeout,
    LockWait,
    check_sqlite_file,
    lock_holders,
    lock_timed_out,
    make_engine,
    mark_checked,
    release_engine,
    retried,
)
from automorph.storage._sql_leases import LeaseMixin
from automorph.storage._sql_pg import DRIVERS, PgCalls, install
from automorph.storage._sql_reads import ReadMixin
from automorph.storage._sql_rows import (
    Unreadable,
    not_running,
    record,
    study_info,
    trial_row,
)
from automorph.storage._sql_schema import (
    ALL_STUDIES,
    ANY_PENDING,
    ANY_STALE,
    APPEND,
    CLAIM_OLDEST,
    DELETE_LEASE,
    DELETE_STUDY,
    DELETE_TRIALS,
    DELETE_WAITING,
    FAIL,
    FINISH,
    GET_TRIAL,
    HEARTBEAT,
    INSERT_STUDY,
    INSERT_TRIAL,
    LOCK_STALE,
    LOCK_STUDY,
    LOCK_TRIAL,
    MEASUREMENTS,
    META,
    NEXT_TRIAL_ID,
    NO_SQLALCHEMY,
    NOT_WAITING,
    REQUEUE,
    SCHEMA,
    SELECT_STUDY,
    SET_SEQ,
    SET_STUDY_METADATA,
    STUDIES,
    STUDY_NAMES,
    TAKE_SEQ,
    TRIAL_FIELDS,
    TRIALS,
)
from automorph.utils import (
    StorageError,
    StudyExistsError,
    StudyNotFoundError,
    TrialStateError,
)

try:
    import sqlalchemy as sa
    from sqlalchemy import exc
    from sqlalchemy.engine import Connection
except ImportError as _error:  # pragma: no cover - SQLAlchemy is a base dependency
    raise StorageError(NO_SQLALCHEMY) from _error

_STATUS_AT = TRIAL_FIELDS.index("status")
_WORKER_AT = TRIAL_FIELDS.index("worker")
_STORE_MARK = "automorph"
# Any constant: serializes schema creation by concurrent openers on PostgreSQL.
_INIT_LOCK_KEY = 0x6175746F6D6F7270

# --- the store ----------------------------------------------------------------------


class SQLStorage(LeaseMixin, PgCalls, ReadMixin, Storage):
    """Studies in a SQLite file or a PostgreSQL database, shared by processes.

    Args:
        url: A SQLAlchemy URL: `sqlite:///path/to/file.db`, or
            `postgresql+psycopg://user@host/database` (plain `postgresql://`
            means psycopg too).
        busy_timeout_s: How long a transaction waits for another one's lock
            (SQLite's busy timeout, PostgreSQL's `lock_timeout`) before it
            gives up, is rolled back, and runs again (a warning is logged).
        lock_wait_s: How long a call waits for other transactions' locks in
            all, over its tries (about: a try that starts in time may wait
            its whole busy timeout), before it fails with a `StorageError`
            that names what holds the lock.
        connect_timeout_s: How long connecting to a PostgreSQL server may take
            (libpq's `connect_timeout`, in whole seconds, at least 2; a
            `connect_timeout=` in the URL wins) before opening fails with a
            `StorageError`; a server that does not answer never hangs a worker.
        echo: Log every SQL statement (SQLAlchemy's `echo`).

    Opening an empty database creates the tables. A database that is not an
    automorph store, a store of another schema version, a damaged SQLite
    file or a missing driver is refused with a `StorageError`, and nothing
    in it is written. SQLite stores use a write-ahead log with
    `synchronous=NORMAL`: a commit survives the crash of its process; a
    power loss can undo the last commits, never corrupt the file.

    Records handed out are fresh objects: changing them does not change the
    store. Values go through JSON, so a tuple reward reads back as a list.
    A store can be pickled (it reopens by URL) and used after `os.fork`.

    >>> import os, tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> store = SQLStorage(f"sqlite:///{os.path.join(folder.name, 'studies.db')}")
    >>> _ = store.create_study(StudyInfo("demo"))
    >>> trial = store.propose_trial("demo", "w1", 0, lambda events: ({"x": 1}, None))
    >>> trial.id, trial.status, trial.proposed_seq
    (1, 'running', 1)
    >>> store.finish_trial("demo", 1, "w1", "completed", reward=(0.5, 2.0)).reward
    [0.5, 2.0]
    >>> [(e.seq, e.kind) for e in store.events("demo")]
    [(1, 'proposed'), (2, 'finished')]
    >>> store.close(); folder.cleanup()
    """

    shared: ClassVar[bool] = True

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_s: float = 30.0,
        lock_wait_s: float = 600.0,
        connect_timeout_s: float = 5.0,
        echo: bool = False,
    ) -> None:
        self._url = str(url)
        self._busy_timeout_s = float(busy_timeout_s)
        self._lock_wait_s = float(lock_wait_s)
        self._connect_timeout_s = float(connect_timeout_s)
        self._echo = bool(echo)
        self._engine, self._where = make_engine(
            self._url, self._busy_timeout_s, self._echo, self._connect_timeout_s
        )
        self._sqlite = self._engine.dialect.name == "sqlite"
        # PostgreSQL's hot path runs as functions (`_sql_pg`) with these drivers.
        self._fast = not self._sqlite and self._engine.dialect.driver in DRIVERS
        self._writer = self._engine.execution_options(automorph_write=True)
        # PostgreSQL reads are single statements, each consistent by itself:
        # without BEGIN and COMMIT they take one round trip instead of three.
        self._reader = (
            self._engine
            if self._sqlite
            else self._engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._pid = os.getpid()
        self._file = ""
        self._migrates = False  # the store has an older layout, to bring up to date
        # Connections end with the store: an engine holds reference cycles, and
        # would otherwise keep its connections (and their descriptors) open until
        # the garbage collector gets to it, long after the store is gone.
        self._release = weakref.finalize(self, release_engine, self._engine, self._pid)
        try:
            self._open()
        except BaseException:
            self._engine.dispose()
            raise

    # --- opening ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """The store's URL, its password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"SQLStorage({self.url!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {
            "url": self._url,
            "busy_timeout_s": self._busy_timeout_s,
            "lock_wait_s": self._lock_wait_s,
            "connect_timeout_s": self._connect_timeout_s,
            "echo": self._echo,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["url"],
            busy_timeout_s=state["busy_timeout_s"],
            lock_wait_s=state.get("lock_wait_s", 600.0),
            connect_timeout_s=state.get("connect_timeout_s", 5.0),
            echo=state["echo"],
        )

    def _open(self) -> None:
        if self._sqlite:
            path = self._engine.url.database or ""
            self._file = os.path.realpath(path) if path and path != ":memory:" else ""
            check_sqlite_file(self._file)
        try:
            empty = self._read_layout()
            if self._sqlite:
                # After the checks: switching to WAL writes the file's header.
                self._switch_to_wal()
            if empty or self._migrates:
                self._create_schema()
        except exc.DBAPIError as error:
            if not self._sqlite and "timeout" in str(error.orig).lower():
                raise StorageError(
                    f"cannot open {self._where}: no answer within the connect timeout "
                    f"({self._connect_timeout_s:g} s; `connect_timeout_s`, or connect_timeout= "
                    f"in the URL): is the server running and reachable? ({error.orig})"
                ) from error
            raise StorageError(f"cannot open {self._where}: {error.orig}") from error
        if self._sqlite:
            mark_checked(self._file)  # a file SQLite has just created, too

    def _switch_to_wal(self) -> None:
        """Sets WAL mode, retrying while other processes opening the same new
        file hold it: SQLite answers this pragma's lock conflict at once,
        without waiting for the busy timeout."""
        deadline = time.monotonic() + self._busy_timeout_s
        while True:
            try:
                with contextlib.closing(self._engine.raw_connection()) as raw:
                    raw.cursor().execute("PRAGMA journal_mode=WAL")
                return
            except Exception as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise StorageError(f"cannot open {self._where}: {error}") from error
                time.sleep(0.02)

    def _read_layout(self, conn: Connection | None = None) -> bool:
        """True if the database is empty; raises StorageError unless it is a
        store this automorph reads."""
        if conn is None:
            with self._engine.connect() as fresh:
                return self._read_layout(fresh)
        tables = set(sa.inspect(conn).get_table_names())
        if not tables:
            return True
        if META.name not in tables:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise StorageError(
                f"{self._where} is not an automorph store: it has tables ({shown}) "
                f"but no {META.name} table; automorph will not write into it"
            )
        meta = {k: v for k, v in conn.execute(sa.select(META.c.key, META.c.value))}
        if meta.get("store") != _STORE_MARK:
            raise StorageError(
                f"{self._where} is not an automorph store: its {META.name} table "
                "does not mark it as one"
            )
        version = meta.get("schema_version")
        if version in {str(v) for v in MIGRATES_FROM}:
            self._migrates = True
        elif version != str(SCHEMA_VERSION):
            raise StorageError(
                f"{self._where} was written by automorph schema {version}; "
                f"this automorph reads schema {SCHEMA_VERSION}"
            )
        missing = {STUDIES.name, TRIALS.name} - tables
        if missing:
            raise StorageError(f"{self._where} is damaged: tables {sorted(missing)} are missing")
        return False

    def _create_schema(self) -> None:
        with self._writer.begin() as conn:
            if not self._sqlite:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_INIT_LOCK_KEY)))
            # Another process may have created it meanwhile: look again, under the lock.
            self._migrates = False
            if self._read_layout(conn):
                SCHEMA.create_all(conn)
                conn.execute(
                    sa.insert(META),
                    [
                        {"key": "store", "value": _STORE_MARK},
                        {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                    ],
                )
            elif self._migrates:
                # An older layout: add the tables it lacks (create_all skips the others).
                SCHEMA.create_all(conn)
                conn.execute(
                    sa.update(META)
                    .where(META.c.key == "schema_version")
                    .values(value=str(SCHEMA_VERSION))
                )
                self._migrates = False
            if not self._sqlite:
                install(conn)

    # --- transactions ----------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, write: bool) -> Iterator[Connection]:
        self._check_fork()
        try:
            with (self._writer if write else self._reader).begin() as conn:
                yield conn
        except exc.DBAPIError as error:
            if lock_timed_out(error):
                raise LockTimeout(f"{self._where}: {error.orig}") from error
            raise StorageError(f"{self._where}: {error.orig}") from error

    def _check_fork(self) -> None:
        if os.getpid() != self._pid:
            # A forked child: leave the parent's connections to the parent.
            self._engine.dispose(close=False)
            self._pid = os.getpid()
            self._release.detach()
            self._release = weakref.finalize(self, release_engine, self._engine, self._pid)

    def _lock_wait(self) -> LockWait:
        """Waits out other transactions' locks for one call (see `retried`)."""
        return LockWait(
            self._where, self._lock_wait_s, lambda: lock_holders(self._engine, self._file)
        )

    def _not_found(self, conn: Connection, name: str) -> StudyNotFoundError:
        known = ", ".join(conn.execute(STUDY_NAMES).scalars()) or "none"
        return StudyNotFoundError(f"no study named {name!r} (studies: {known})")

    def _lock_study(self, conn: Connection, name: str) -> tuple[int, int]:
        """(id, next event number) of the study, its row locked until commit."""
        row = conn.execute(LOCK_STUDY, {"name": name}).first()
        if row is None:
            raise self._not_found(conn, name)
        return row[0], row[1]

    def _take_seq(self, conn: Connection, name: str, count: int = 1) -> tuple[int, int]:
        """(id, first of `count` event numbers taken) of the study, its row
        locked until commit. A caller that then writes nothing must roll
        back (raise), or the numbers would be lost from the sequence."""
        row = conn.execute(TAKE_SEQ, {"b_name": name, "count": count}).first()
        if row is None:
            raise self._not_found(conn, name)
        return row[0], row[1] - count

    def _not_running(
        self, conn: Connection, study: str, trial_id: int, worker: str
    ) -> StudyNotFoundError | TrialStateError:
        """Why trial `trial_id` is not running for `worker` (read by id)."""
        row = conn.execute(GET_TRIAL, {"name": study, "tid": trial_id}).first()
        if row is None:
            return self._no_trial(conn, study, trial_id)
        status, owner = row[_STATUS_AT], row[_WORKER_AT]
        return TrialStateError(not_running(study, trial_id, status, owner, worker))

    def _no_trial(self, conn: Connection, study: str, trial_id: int) -> StudyNotFoundError:
        if conn.execute(SELECT_STUDY, {"name": study}).first() is None:
            return self._not_found(conn, study)
        return StudyNotFoundError(f"study {study!r} has no trial {trial_id}")

    def close(self) -> None:
        if os.getpid() == self._pid:
            self._engine.dispose()

    # --- studies -----------------------------------------------------------------

    @retried
    def create_study(self, info: StudyInfo, exist_ok: bool = False) -> StudyInfo:
        try:
            with self._transaction(write=True) as conn:
                row = conn.execute(SELECT_STUDY, {"name": info.name}).first()
                if row is not None:
                    if not exist_ok:
                        raise StudyExistsError(f"a study named {info.name!r} already exists")
                    return study_info(row)
                stored = StudyInfo(
                    info.name,
                    info.space,
                    info.algorithm,
                    info.dna_spec,
                    bool(info.multi_objective),
                    info.created or time.time(),
                    fresh(info.metadata, "the study's metadata") or {},
                )
                conn.execute(
                    INSERT_STUDY,
                    {
                        "name": stored.name,
                        "space": stored.space,
                        "algorithm": stored.algorithm,
                        "dna_spec": stored.dna_spec,
                        "multi_objective": stored.multi_objective,
                        "created": stored.created,
                        "metadata": dumps(stored.metadata),
                        "next_seq": 1,
                    },
                )
                return stored
        except StorageError as error:
            # PostgreSQL: another process created it between our look and our insert.
            if not isinstance(error.__cause__, exc.IntegrityError):
                raise
            if not exist_ok:
                raise StudyExistsError(f"a study named {info.name!r} already exists") from None
            return self.get_study(info.name)

    @retried
    def update_study_metadata(self, name: str, updates: Mapping[str, Any]) -> StudyInfo:
        with self._transaction(write=True) as conn:
            sid, _ = self._lock_study(conn, name)
            info = study_info(conn.execute(SELECT_STUDY, {"name": name}).one())
            info.metadata = merged_metadata(name, info.metadata, updates)
            text = dumps_metadata(info.metadata, f"study {name!r}'s metadata")
            conn.execute(SET_STUDY_METADATA, {"sid": sid, "v_metadata": text})
            info.metadata = fresh(info.metadata) or {}
            return info

    @retried
    def get_study(self, name: str) -> StudyInfo:
        with self._transaction(write=False) as conn:
            row = conn.execute(SELECT_STUDY, {"name": name}).first()
            if row is None:
                raise self._not_found(conn, name)
            return study_info(row)

    @retried
    def list_studies(self) -> list[StudyInfo]:
        with self._transaction(write=False) as conn:
            return [study_info(row) for row in conn.execute(ALL_STUDIES)]

    @retried
    def delete_study(self, name: str) -> None:
        with self._transaction(write=True) as conn:
            sid, _ = self._lock_study(conn, name)
            conn.execute(DELETE_TRIALS, {"sid": sid})
            conn.execute(DELETE_LEASE, {"sid": sid})
            conn.execute(DELETE_WAITING, {"sid": sid})
            conn.execute(DELETE_STUDY, {"sid": sid})

    # --- trials --------------------------------------------------------------------

    @retried
    def propose_trial(
        self, study: str, worker: str, since: int, make: Proposer
    ) -> TrialRecord | None:
        called = False
        try:
            with self._transaction(write=True) as conn:
                sid, seq = self._lock_study(conn, study)
                called = True
                made = make(self._events(conn, study, since))
                if made is None:
                    return None
                dna, example = made
                conn.execute(SET_SEQ, {"sid": sid, "seq": seq + 1})
                return self._insert(conn, study, sid, seq, [(dna, example, worker)])[0]
        except LockTimeout as error:
            if called:  # `make` ran: running it again would propose twice (never seen)
                raise StorageError(str(error)) from error.__cause__
            raise

    @retried
    def enqueue_trial(self, study: str, dna: dict[str, Any], example: str | None) -> TrialRecord:
        with self._transaction(write=True) as conn:
            sid, seq = self._take_seq(conn, study)
            return self._insert(conn, study, sid, seq, [(dna, example, None)])[0]

    def _insert(
        self,
        conn: Connection,
        study: str,
        sid: int,
        seq: int,
        made: Sequence[tuple[dict[str, Any], str | None, str | None]],
    ) -> list[TrialRecord]:
        """Stores new trials, each (DNA, example, worker or None; see
        `new_trial`), with event numbers from `seq` on, which the caller has
        taken with the study locked; one statement for all of them."""
        first = conn.execute(NEXT_TRIAL_ID, {"sid": sid}).scalar_one()
        trials = [
            new_trial(study, first + i, fresh(dna, "the DNA"), example, seq + i, worker)
            for i, (dna, example, worker) in enumerate(made)
        ]
        conn.execute(INSERT_TRIAL, [trial_row(sid, trial) for trial in trials])
        return trials

    @retried
    def claim_trial(self, study: str, worker: str) -> TrialRecord | None:
        return self._pg_claim(study, worker) if self._fast else self._claim(study, worker)

    def _claim(self, study: str, worker: str) -> TrialRecord | None:
        with self._transaction(write=False) as conn:
            # An idle worker's calls mostly find nothing: look without the write lock.
            row = conn.execute(ANY_PENDING, {"name": study}).first()
            if row is None:
                raise self._not_found(conn, study)
            sid, pending_id = row
            if pending_id is None:
                return None
        try:
            with self._transaction(write=True) as conn:
                now = time.time()
                params = {"sid": sid, "v_worker": worker, "v_now": now}
                row = conn.execute(CLAIM_OLDEST, params).first()
                if row is None:  # another worker was first
                    return None
                try:
                    trial = record(study, row)
                except StorageError as error:
                    raise Unreadable(error, row[0]) from error
                conn.execute(NOT_WAITING, {"sid": sid, "worker": worker})
                return trial
        except Unreadable as failure:
            # Not left pending for every worker to stumble on: failed, with why.
            self._fail_unreadable(study, failure.trial_id, "pending", None, str(failure.error))
            raise failure.error from None

    @retried
    def heartbeat(self, study: str, trial_id: int, worker: str) -> bool:
        with self._transaction(write=True) as conn:
            params = {"name": study, "tid": trial_id, "owner": worker, "now": time.time()}
            if conn.execute(HEARTBEAT, params).rowcount == 1:
                return True
            if conn.execute(GET_TRIAL, {"name": study, "tid": trial_id}).first() is None:
                raise self._no_trial(conn, study, trial_id)
            return False

    @retried
    def add_measurement(
        self, study: str, trial_id: int, worker: str, measurement: dict[str, Any]
    ) -> None:
        item = dumps(measurement, "the measurement")
        with self._transaction(write=True) as conn:
            row = conn.execute(MEASUREMENTS, {"name": study, "tid": trial_id}).first()
            if row is None or row[0] != worker:
                raise self._not_running(conn, study, trial_id, worker)
            measurements = row[1]
            # Stored arrays are compact JSON written here: append without parsing.
            text = f"[{item}]" if measurements == "[]" else f"{measurements[:-1]},{item}]"
            conn.execute(
                APPEND,
                {"name": study, "tid": trial_id, "v_measurements": text, "v_now": time.time()},
            )

    @retried
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
            SerializationError: If the reward or the metadata cannot be stored
                as JSON (nothing is changed; for metadata, the error's `path`
                is the entry's key).
            StorageError: If the trial's stored columns cannot be read (the
                store was changed outside automorph): the trial is failed,
                with why, and its columns are left as they are.
        """
        if status not in FINISHED:
            raise TrialStateError(f"a trial cannot finish as {status!r}")
        where = f"trial {trial_id} of {study!r}"
        value = fresh(reward, f"the reward of {where}") if status == "completed" else None
        added = json.loads(dumps_metadata(metadata, where)) if metadata else None
        if measurement is not None:
            dumps(measurement, "the measurement")  # a value JSON cannot store: refused here
        if self._fast and not added:
            args = (status, value, error, example, measurement)
            if (done := self._pg_finish(study, trial_id, worker, *args)) is not None:
                return done
        try:
            return self._finish(
                study, trial_id, worker, status, value, error, added, example, measurement
            )
        except Unreadable as failure:
            unreadable = failure.error
        reason = str(unreadable) if error is None else f"{error}; then {unreadable}"
        self._fail_unreadable(study, trial_id, "running", worker, reason)
        raise unreadable

    def _finish(
        self,
        study: str,
        trial_id: int,
        worker: str,
        status: TrialState,
        value: Any,
        error: str | None,
        added: dict[str, Any] | None,
        example: str | None,
        measurement: dict[str, Any] | None,
    ) -> TrialRecord:
        """`finish_trial`'s transaction: one event number taken with the study
        locked, the trial checked and written (rolled back if it raises)."""
        with self._transaction(write=True) as conn:
            sid, seq = self._take_seq(conn, study)
            params = {"sid": sid, "state": "running", "tid": trial_id}
            row = conn.execute(LOCK_TRIAL, params).first()
            if row is None or row[_WORKER_AT] != worker:
                raise self._not_running(conn, study, trial_id, worker)
            try:
                trial = record(study, row)
            except StorageError as failure:
                raise Unreadable(failure) from failure
            else:
                trial.status, trial.reward, trial.error = status, value, error
                if added:
                    trial.metadata.update(added)
                if example is not None:
                    trial.example = example
                if measurement is not None:
                    trial.measurements.append(measurement)
                trial.finished, trial.finished_seq = time.time(), seq
                conn.execute(
                    FINISH,
                    {
                        **params,
                        "v_status": status,
                        "v_reward": None if value is None else dumps(value),
                        "v_error": error,
                        "v_metadata": dumps(trial.metadata),
                        "v_example": trial.example,
                        "v_measurements": dumps(trial.measurements),
                        "v_now": trial.finished,
                        "v_seq": seq,
                    },
                )
                return trial

    def _fail_unreadable(
        self, study: str, trial_id: int, state: str, worker: str | None, reason: str
    ) -> None:
        """Fails a trial whose stored columns cannot be read, if it is still
        in `state` (for `worker`), recording `reason` and leaving its columns."""
        with self._transaction(write=True) as conn:
            sid, seq = self._lock_study(conn, study)
            where = {"sid": sid, "state": state, "tid": trial_id}
            row = conn.execute(LOCK_TRIAL, where).first()
            if row is None or (worker is not None and row[_WORKER_AT] != worker):
                return
            params = {**where, "v_error": reason, "v_now": time.time()}
            conn.execute(FAIL, {**params, "v_seq": seq})
            conn.execute(SET_SEQ, {"sid": sid, "seq": seq + 1})

    @retried
    def requeue_stale(self, study: str, timeout: float, retry_limit: int) -> list[int]:
        now = time.time()
        cutoff = now - timeout
        with self._transaction(write=False) as conn:
            # Most calls find nothing: look without taking the write lock.
            row = conn.execute(SELECT_STUDY, {"name": study}).first()
            if row is None:
                raise self._not_found(conn, study)
            if conn.execute(ANY_STALE, {"sid": row.id, "cutoff": cutoff}).first() is None:
                return []
        with self._transaction(write=True) as conn:
            sid, seq = self._lock_study(conn, study)
            stale = conn.execute(LOCK_STALE, {"sid": sid, "cutoff": cutoff}).all()
            requeued = [tid for tid, retries, _ in stale if retries < retry_limit]
            if requeued:
                conn.execute(REQUEUE, {"sid": sid, "tids": requeued})
            for tid, retries, worker in stale:
                if retries < retry_limit:
                    continue
                message = (
                    f"its worker {worker!r} stopped sending heartbeats "
                    f"{retries + 1} times (retry limit {retry_limit})"
                )
                conn.execute(
                    FAIL,
                    {
                        "sid": sid,
                        "state": "running",
                        "tid": tid,
                        "v_error": message,
                        "v_now": now,
                        "v_seq": seq,
                    },
                )
                seq += 1
            conn.execute(SET_SEQ, {"sid": sid, "seq": seq})
            return [tid for tid, _, _ in stale]


# --- engines ------------------------------------------------------------------------
