"""Engines for SQL stores: making one for a URL (SQLite set up for many
processes: WAL, busy timeout, immediate transactions), ending its
connections with the store, waiting out locks that other processes hold,
and checking that a SQLite file is one before SQLAlchemy opens it."""

from __future__ import annotations

import functools
import logging
import math
import os
import random
import time
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from automorph.storage._sql_schema import NO_SQLALCHEMY
from automorph.utils import StorageError

try:
    import sqlalchemy as sa
    from sqlalchemy import exc
    from sqlalchemy.engine import Connection, Engine
except ImportError as _error:  # pragma: no cover - SQLAlchemy is a base dependency
    raise StorageError(NO_SQLALCHEMY) from _error

logger = logging.getLogger("automorph.storage")

# What to install when a database driver is missing, by backend.
_DRIVER_HINTS = {
    "postgresql": "pip install 'automorph[postgres]' (psycopg)",
    "sqlite": "SQLite is part of Python's standard library; use a Python built with sqlite3",
}


def make_engine(
    url: str, busy_timeout_s: float, echo: bool, connect_timeout_s: float = 5.0
) -> tuple[Engine, str]:
    """The engine for `url`, and how messages name the store. A PostgreSQL
    connection gives up after `connect_timeout_s` (libpq counts whole seconds,
    at least 2) unless the URL sets connect_timeout itself."""
    try:
        parsed = sa.make_url(url)
    except exc.ArgumentError as error:
        raise StorageError(f"cannot read the store URL {url!r}: {error}") from error
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        check_sqlite_version()
        database = parsed.database or ""
        if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
            raise StorageError(
                f"a SQL store needs a SQLite file (sqlite:///path/to/file.db), not {url!r}; "
                "MemoryStorage keeps studies in memory"
            )
        parsed = parsed.set(database=os.path.abspath(database))
        where = f"the SQLite file {parsed.database}"
        connect_args["timeout"] = busy_timeout_s
    elif backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        where = f"the PostgreSQL database {parsed.render_as_string(hide_password=True)}"
        if "options" not in parsed.query:
            # Plans made for each call's values: see `_sql_pg`'s docstring.
            connect_args["options"] = (
                f"-c lock_timeout={max(1, round(busy_timeout_s * 1000))} "
                "-c plan_cache_mode=force_custom_plan"
            )
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = max(2, math.ceil(connect_timeout_s))
    else:
        raise StorageError(
            f"automorph stores studies in SQLite or PostgreSQL, not {backend!r} ({url!r})"
        )
    try:
        engine = sa.create_engine(parsed, echo=echo, connect_args=connect_args)
    except ImportError as error:
        raise StorageError(
            f"{where} needs the database driver {error.name or parsed.drivername!r}, "
            f"which is not installed: {_DRIVER_HINTS[backend]}"
        ) from error
    except exc.NoSuchModuleError as error:
        raise StorageError(f"unknown database driver in {url!r}: {error}") from error
    if backend == "sqlite":
        _set_up_sqlite(engine, busy_timeout_s)
    return engine, where


# `UPDATE ... RETURNING`, which takes a study's event numbers and claims a
# trial in one statement each, came with SQLite 3.35.0 (2021).
MIN_SQLITE = (3, 35, 0)


def check_sqlite_version(version: tuple[int, int, int] | None = None) -> None:
    """Refuses a SQLite library older than `MIN_SQLITE` (the one Python's
    `sqlite3` is linked with, unless `version` is given).

    Raises:
        StorageError: Naming the version found and the one needed.
    """
    import sqlite3

    found = version or sqlite3.sqlite_version_info
    if tuple(found) < MIN_SQLITE:
        raise StorageError(
            f"SQLite stores need SQLite {'.'.join(map(str, MIN_SQLITE))} or newer; this Python's "
            f"sqlite3 module uses SQLite {'.'.join(map(str, found))}: use a newer Python build, "
            "or a PostgreSQL store"
        )


def _set_up_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    """Connections that leave BEGIN to us: `BEGIN IMMEDIATE` for writes."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite would open deferred transactions on its own; we emit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {max(0, round(busy_timeout_s * 1000))}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("automorph_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def release_engine(engine: Engine, pid: int) -> None:
    """Closes the connections of a store that is gone (in the process that made them)."""
    engine.dispose(close=os.getpid() == pid)


# --- waiting out other transactions' locks -----------------------------------------


class LockTimeout(StorageError):
    """A transaction gave up waiting for a lock that another transaction held
    (SQLite's busy timeout, PostgreSQL's `lock_timeout`). It was rolled back
    whole, so nothing of it was written, and it can run again."""


# PostgreSQL errors that end a transaction because of another one:
# lock_not_available (lock_timeout), serialization_failure, deadlock_detected.
PG_TRANSIENT = frozenset({"55P03", "40001", "40P01"})
_SQLITE_BUSY = 5  # the primary result code; extended codes (BUSY_RECOVERY, ...) add high bits


def lock_timed_out(error: exc.DBAPIError) -> bool:
    """Whether `error` is a wait for another transaction's lock that ran out."""
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in PG_TRANSIENT
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == _SQLITE_BUSY
    return "database is locked" in str(orig)


class LockWait:
    """Waits out other transactions' locks for one call of a store, which
    runs again after each `LockTimeout` until `limit_s` have passed.

    Args:
        where: How messages name the store.
        limit_s: How long the call may wait in all.
        holders: Says who holds the store's locks now (looked up only for a
            message).
    """

    #: At most one warning per call in this many seconds.
    WARN_EVERY_S = 10.0

    def __init__(self, where: str, limit_s: float, holders: Callable[[], str]) -> None:
        self._where = where
        self._limit_s = limit_s
        self._holders = holders
        self._start = time.monotonic()
        self._tries = 0
        self._warned = -math.inf

    def again(self, error: LockTimeout) -> None:
        """After a try that gave up waiting: sleeps a little (longer after each
        try, at random so that waiting workers do not all retry at once) and
        logs a warning now and then.

        Raises:
            StorageError: Once `limit_s` have passed, naming the store and
                what holds its lock.
        """
        now = time.monotonic()
        waited = now - self._start
        if waited >= self._limit_s:
            cause = error.__cause__
            raise StorageError(
                f"gave up after waiting {waited:.1f} s for a lock on {self._where} "
                f"(`lock_wait_s` is {self._limit_s:g} s); it is held by {self._holders()}: "
                "a transaction that runs that long is stuck, or its process is stopped "
                f"({cause.orig if isinstance(cause, exc.DBAPIError) else error})"
            ) from error
        if now - self._warned >= self.WARN_EVERY_S:
            self._warned = now
            logger.warning(
                "waiting for a lock on %s held by %s (%.1f s so far; retrying until %g s)",
                self._where,
                self._holders(),
                waited,
                self._limit_s,
            )
        pause = min(1.0, 0.01 * 2**self._tries) * random.uniform(0.5, 1.5)
        self._tries += 1
        time.sleep(max(0.0, min(pause, self._limit_s - waited)))


class _Waits(Protocol):
    def _lock_wait(self) -> LockWait: ...


_S = TypeVar("_S", bound=_Waits)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def retried(method: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
    """Runs a store's `method` again while its transaction gives up waiting
    for another one's lock (`LockTimeout`: rolled back, nothing written),
    pausing between tries, until the store's `LockWait` gives up."""

    def again(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        wait: LockWait | None = None
        while True:
            try:
                return method(self, *args, **kwargs)
            except LockTimeout as error:
                wait = wait or self._lock_wait()
                wait.again(error)

    functools.update_wrapper(again, method)
    return again


def lock_holders(engine: Engine, sqlite_file: str) -> str:
    """Who holds the write lock of a store, as far as this machine can tell:
    for SQLite, the processes that /proc/locks lists on the file (Linux); for
    PostgreSQL, the sessions whose open transactions lock the store's rows."""
    if sqlite_file:
        found = _sqlite_lock_pids(sqlite_file)
        if not found:
            return "another connection (no process on this machine holds it now)"
        return ", ".join(f"process {pid} ({_command(pid)})" for pid in found)
    query = sa.text(
        "SELECT a.pid, a.application_name, host(a.client_addr), a.state, "
        "extract(epoch FROM now() - a.xact_start), left(a.query, 120) "
        "FROM pg_stat_activity a WHERE a.datname = current_database() "
        "AND a.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted "
        "AND l.mode IN ('RowShareLock', 'RowExclusiveLock', 'ExclusiveLock', "
        "'AccessExclusiveLock') AND l.relation IN ("
        "'automorph_studies'::regclass, 'automorph_trials'::regclass)) "
        "ORDER BY a.xact_start LIMIT 3"
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    except exc.SQLAlchemyError as error:
        return f"another session (cannot tell which: {error})"
    if not rows:
        return "another session (none holds it now)"
    return ", ".join(
        f"server process {pid} ({name or 'no application name'} from {client or 'local'}, "
        f"{state}, in a transaction for {float(age):.1f} s, last statement {query!r})"
        for pid, name, client, state, age, query in rows
    )


# SQLite's write locks: in WAL mode the byte WAL_WRITE_LOCK of the -shm file;
# in rollback mode the RESERVED and PENDING bytes of the database file.
_SHM_WRITE_BYTE = 120
_RESERVED_BYTES = (0x40000000, 0x40000001)


def _sqlite_lock_pids(path: str) -> list[int]:
    """The processes holding a SQLite write lock on `path`, from /proc/locks."""
    # By inode alone: on some file systems (overlayfs) stat's device is not the lock's.
    wanted: dict[int, tuple[int, ...]] = {}
    places: list[tuple[str, tuple[int, ...]]] = [
        (path + "-shm", (_SHM_WRITE_BYTE,)),
        (path, _RESERVED_BYTES),
    ]
    for name, offsets in places:
        try:
            wanted[os.stat(name).st_ino] = offsets
        except OSError:
            continue
    pids: list[int] = []
    try:
        with open("/proc/locks") as locks:
            lines = locks.read().splitlines()
    except OSError:
        return pids
    for line in lines:
        fields = line.split()
        if "->" in fields or len(fields) < 8 or fields[3] != "WRITE":
            continue  # a waiter, not a holder; or not a write lock
        try:
            inode = int(fields[5].rsplit(":", 1)[-1])
            start, end = int(fields[6]), fields[7]
            last = 2**63 if end == "EOF" else int(end)
            pid = int(fields[4])
        except ValueError:
            continue
        offsets = wanted.get(inode, ())
        if any(start <= offset <= last for offset in offsets) and pid not in pids:
            pids.append(pid)
    return pids


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            words = f.read().split(b"\0")
    except OSError:
        return "its command line cannot be read"
    text = " ".join(w.decode(errors="replace") for w in words if w)
    return text if len(text) <= 100 else text[:97] + "..."


# The SQLite files (device, inode) that this process has checked or opened.
_CHECKED: set[tuple[int, int]] = set()


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def mark_checked(path: str) -> None:
    key = _file_id(path)
    if key is not None:
        _CHECKED.add(key)


def check_sqlite_file(path: str) -> None:
    """Refuses a file that is not a SQLite database, or one cut short.

    SQLite itself reads a short file as if the missing pages were there,
    until a query reaches them; the header says how long the file must be.

    Reading the header opens and closes a descriptor of the file, and closing
    any descriptor of a file drops every POSIX lock this process holds on it,
    SQLite's included; another process could then take the file for its own,
    checkpoint and delete the write-ahead log under this one's connections, and
    commits would be lost. So the header is read only the first time this
    process meets the file, before any connection of the process can be open
    on it (a store's connections may outlive it until they are collected).
    """
    if os.path.isdir(path):
        raise StorageError(
            f"the store path {path} is a directory, not a SQLite file: give a file in it "
            f"(for example {os.path.join(path, 'automorph.db')}), or a database URL"
        )
    key = _file_id(path)
    if key is None or key in _CHECKED:
        return  # a new store (or SQLite will say why it cannot open it); or seen
    _check_header(path)
    _CHECKED.add(key)


# Other processes may be writing the file while it is read (a checkpoint
# writes the header before it grows the file): a file found damaged is read
# again after each of these pauses, and refused only if it still is.
_RECHECK_PAUSES_S = (0.05, 0.1, 0.2)
_MAGIC = b"SQLite format 3\x00"


def _check_header(path: str) -> None:
    """Raises StorageError if the file at `path` is not a SQLite database or
    is cut short, and stays so for every read over about a third of a second."""
    for pause in _RECHECK_PAUSES_S:
        if _header_problem(path) is None:
            return
        time.sleep(pause)
    problem = _header_problem(path)
    if problem is not None:
        raise StorageError(problem)


def _header_problem(path: str) -> str | None:
    """What is wrong with the file, or None if nothing is (or it is empty).

    Read in an order no writer can make wrong: the header, then the size of
    the write-ahead log, then the file's size. A checkpoint writes the header
    first and grows the file after; the log goes away (or is emptied) only
    once the file holds every page. So when the log is found empty after the
    header was read, the file has grown to what that header says by the time
    its size is read; reading the size first would take a file that a
    checkpoint was growing, its log deleted just after, as truncated.
    """
    with open(path, "rb") as f:
        header = f.read(100)
    if not header:
        return None  # empty: SQLite makes it a database
    if not header.startswith(_MAGIC):
        return f"the file {path} is not a SQLite database (and so not a store)"
    if len(header) < 100:
        return f"the SQLite file {path} is truncated ({os.path.getsize(path)} bytes)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counter_valid = header[24:28] == header[92:96]
    try:
        wal = os.path.getsize(path + "-wal")
    except OSError:
        wal = 0
    size = os.path.getsize(path)
    # With a non-empty write-ahead log, pages may live in the log for now.
    if pages and counter_valid and wal == 0 and size < pages * page_size:
        return (
            f"the SQLite file {path} is truncated: {size} bytes, its header "
            f"says {pages} pages of {page_size}"
        )
    return None
